"""Retention of citizens' personal data (UU 27/2022, Pelindungan Data Pribadi).

A ticket closed longer than the retention period (RETENTION_YEARS, 5 by default) loses the
citizen's number, name and home address, its messages lose their sender's number, name and raw
form, the messages to the citizen their address, and its attachments their files. What the recap
counts stays: the ticket, its agency, line, dates, states and text, and its audit trail, which
gets a line saying what was removed and why. Messages that became no ticket (thanks, help, a
number no line takes) lose their number and text after the same period. A citizen who asks to be
erased is one command for an admin (`flask --app app erase-citizen`), for every ticket of theirs.

The worker runs `daily` once a day (RQ's scheduled job, queued by the sweeper: store.queues).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from store.db import now
from store.models import Attachment, InboundMessage, OutboundMessage, Ticket, TicketEvent

log = logging.getLogger(__name__)
ACTION = "hapus_data"
BATCH = 500  # tickets a transaction


@dataclass
class Erased:
    tickets: int = 0
    messages: int = 0
    attachments: int = 0

    def __add__(self, other: "Erased") -> "Erased":
        return Erased(self.tickets + other.tickets, self.messages + other.messages,
                      self.attachments + other.attachments)


def cutoff(years: int, moment: datetime | None = None) -> datetime:
    moment = moment or now()
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


_HOLDS_DATA = or_(Ticket.phone.is_not(None), Ticket.citizen_address != "", Ticket.citizen_name != "",
                  Ticket.citizen_home != "")


def due_tickets(s: Session, before: datetime, limit: int | None = None) -> list[int]:
    """Tickets closed (last changed) before then that still hold personal data."""
    query = select(Ticket.id).where(Ticket.is_open.is_(False), Ticket.updated_at < before, _HOLDS_DATA) \
        .order_by(Ticket.id)
    return list(s.scalars(query.limit(limit) if limit else query))


def erase_tickets(s: Session, ticket_ids: list[int], media_dir: Path, note: str,
                  officer_id: int | None = None) -> Erased:
    """Remove the personal data of these tickets and of their messages; say so in their audit trail."""
    if not ticket_ids:
        return Erased()
    moment = now()
    tickets = s.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))).all()
    for ticket in tickets:
        ticket.phone, ticket.citizen_address, ticket.citizen_name, ticket.citizen_home = None, "", "", ""
        s.add(TicketEvent(ticket_id=ticket.id, officer_id=officer_id, action=ACTION, agency=ticket.agency,
                          note=note, created_at=moment))
    # The history's record of corrected names and addresses holds them too.
    s.execute(update(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.action == "ubah_data")
              .values(note="data warga diperbaiki (isi lama dan baru dihapus)"))
    inbound = list(s.scalars(select(InboundMessage.id).where(InboundMessage.ticket_id.in_(ticket_ids))))
    messages = _erase_messages(s, inbound, keep_body=True)
    s.execute(update(OutboundMessage).where(OutboundMessage.ticket_id.in_(ticket_ids)).values(to_address=""))
    files = _erase_attachments(s, media_dir, or_(Attachment.ticket_id.in_(ticket_ids),
                                                 Attachment.inbound_id.in_(inbound)))
    return Erased(len(tickets), messages, files)


def _erase_messages(s: Session, ids: list[int], *, keep_body: bool) -> int:
    if not ids:
        return 0
    values = {"from_address": "", "phone": None, "profile_name": "", "params": {}}
    if not keep_body:
        values["body"] = ""
    s.execute(update(InboundMessage).where(InboundMessage.id.in_(ids)).values(**values))
    return len(ids)


def _erase_attachments(s: Session, media_dir: Path, which) -> int:
    rows = s.scalars(select(Attachment).where(which)).all()
    for row in rows:
        if row.path:
            (media_dir / row.path).unlink(missing_ok=True)
    s.execute(delete(Attachment).where(Attachment.id.in_([row.id for row in rows])))
    return len(rows)


def _untied_messages(s: Session, before: datetime, phone: str | None = None) -> list[int]:
    """Messages that became no ticket and still hold a number or text."""
    query = select(InboundMessage.id).where(
        InboundMessage.ticket_id.is_(None), InboundMessage.processed_at.is_not(None),
        or_(InboundMessage.from_address != "", InboundMessage.body != ""))
    if phone is not None:
        query = query.where(InboundMessage.phone == phone)
    else:
        query = query.where(InboundMessage.received_at < before)
    return list(s.scalars(query))


def _erase_untied(s: Session, media_dir: Path, inbound: list[int], replies) -> Erased:
    """Erase messages that became no ticket (their text too: no ticket keeps it) with their
    attachments, and the address of the replies of no ticket that `replies` selects."""
    messages = _erase_messages(s, inbound, keep_body=False)
    files = _erase_attachments(s, media_dir, Attachment.inbound_id.in_(inbound))
    s.execute(update(OutboundMessage).where(OutboundMessage.ticket_id.is_(None), OutboundMessage.to_address != "",
                                            replies).values(to_address=""))
    return Erased(0, messages, files)


def run(services, *, dry_run: bool = False, moment: datetime | None = None) -> Erased:
    """Apply the retention period once; with dry_run, only count what it would remove."""
    years = services.settings.retention_years
    before = cutoff(years, moment)
    note = (f"Data pribadi warga dihapus: lebih dari {years} tahun sejak ditutup (retensi, UU 27/2022)")
    total = Erased()
    with services.db.transaction() as s:
        untied = _untied_messages(s, before)
        if dry_run:
            due = due_tickets(s, before)
            inbound = s.scalars(select(InboundMessage.id).where(InboundMessage.ticket_id.in_(due))).all() if due else []
            attachments = s.scalars(select(Attachment.id).where(or_(
                Attachment.ticket_id.in_(due), Attachment.inbound_id.in_(list(inbound) + untied)))).all()
            return Erased(len(due), len(inbound) + len(untied), len(attachments))
        total += _erase_untied(s, services.settings.media_dir, untied,
                               OutboundMessage.created_at < before)
    while True:  # in batches, so that a first run over years of tickets holds no lock for long
        with services.db.transaction() as s:
            batch = due_tickets(s, before, BATCH)
            total += erase_tickets(s, batch, services.settings.media_dir, note)
        if len(batch) < BATCH:
            break
    if total.tickets or total.messages:
        log.info("retention: %d tickets, %d messages, %d attachments erased (closed before %s)",
                 total.tickets, total.messages, total.attachments, before.date())
    return total


def erase_citizen(services, phone: str, officer_id: int) -> tuple[Erased, list[str]]:
    """Erase a number's personal data from every ticket and message of it, at the citizen's request;
    return what was erased and the codes of the tickets still open (which can no longer be answered
    by SMS or WhatsApp)."""
    note = "Data pribadi warga dihapus atas permintaan warga (UU 27/2022)"
    with services.db.transaction() as s:
        tickets = s.execute(select(Ticket.id, Ticket.code, Ticket.is_open).where(Ticket.phone == phone)).all()
        erased = erase_tickets(s, [t.id for t in tickets], services.settings.media_dir, note, officer_id)
        erased += _erase_untied(s, services.settings.media_dir, _untied_messages(s, now(), phone),
                                OutboundMessage.to_address.in_([phone, f"whatsapp:{phone}"]))
    return erased, [t.code for t in tickets if t.is_open]


def daily() -> None:
    """The worker's daily job."""
    from handlers import runtime

    run(runtime.current())

