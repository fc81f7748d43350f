"""The daily work of the service standard's clock, each morning (the worker's scheduler, or
`flask --app app daily` by hand); it does nothing twice:
- a sent answer the citizen has not written about for AUTO_CLOSE closes by itself;
- on working days, a ticket overdue by the configured margin is reported to its agency's heads
  (once, and once more a week later if still overdue);
- on working days, every officer with something waiting gets one digest a day, on the inbox and by
  SMS to their phone."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handlers import clock, outbox, tasks, workflow
from handlers.deadlines import due_at, is_working_day
from handlers.runtime import Services, current
from parsers import codes
from replies.render import date as day_month_year, day_starts, in_kupang, render
from store.db import now
from store.models import Digest, InboundMessage, Officer, Role, Ticket, TicketEvent, TicketState
from store.queries import overdue

log = logging.getLogger(__name__)
# What a citizen sends that is no news about an answered ticket: it neither asks nor adds anything.
NOT_NEWS = ("StatusCheck", "MyTickets", "Thanks", "AutoReply", "Resend")
# A ticket still overdue this long after it was reported is reported once more; twice in all.
ESCALATE_AGAIN = timedelta(days=7)
ESCALATIONS = 2
# Codes a digest names, the most pressing first; the inbox holds the rest.
DIGEST_CODES = 3


@dataclass(frozen=True)
class Report:
    closed: tuple[str, ...] = ()     # the codes of the tickets closed by themselves
    escalated: tuple[str, ...] = ()  # the codes of the tickets reported to their heads
    digests: int = 0                 # officers who got their digest now
    working_day: bool = True


def run(services: Services | None = None, moment: datetime | None = None) -> Report:
    """Do the day's work as of moment (default now)."""
    services = services or current()
    moment = moment or now()
    closed = tuple(auto_close(services, moment))
    if not is_working_day(local_day(moment), services.settings.service.holidays):
        return Report(closed=closed, working_day=False)
    report = Report(closed, tuple(escalate(services, moment)), send_digests(services, moment))
    log.info("daily: %d closed by themselves, %d escalated, %d digests", len(report.closed),
             len(report.escalated), report.digests)
    return report


def local_day(moment: datetime) -> date:
    return in_kupang(moment).date()


def auto_close(services: Services, moment: datetime) -> list[str]:
    """Close (Selesai) each Terkirim ticket whose answer went out AUTO_CLOSE ago or more and whose
    citizen has not written about it since; return their codes. A CEK or thanks is no writing about it."""
    service = services.settings.service
    # Working days are at least as long as calendar days: the query finds every candidate, clock decides.
    earliest = moment - timedelta(days=clock.AUTO_CLOSE.amount)
    with services.db.transaction() as s:
        candidates = s.execute(select(Ticket.id, Ticket.answered_at).where(
            Ticket.state == TicketState.TERKIRIM.value, Ticket.answered_at <= earliest)).all()
    closed = []
    for ticket_id, answered_at in candidates:
        if clock.auto_close_at(service, answered_at) > moment:
            continue
        with services.db.transaction() as s:
            # Locked and read again: a run beside this one (a second worker, the command by hand) closes it once.
            ticket = s.scalar(select(Ticket).where(Ticket.id == ticket_id, Ticket.state == TicketState.TERKIRIM.value)
                              .with_for_update())
            if ticket is None or _citizen_wrote(s, ticket):
                continue
            workflow.tutup_otomatis(s, ticket)
            closed.append(ticket.code)
    return closed


def _citizen_wrote(s, ticket: Ticket) -> bool:
    """Whether the citizen wrote about the ticket since its answer went out (a follow-up, a reply)."""
    return s.scalar(select(InboundMessage.id).where(
        InboundMessage.ticket_id == ticket.id, InboundMessage.received_at > ticket.answered_at,
        InboundMessage.intent.not_in(NOT_NEWS)).limit(1)) is not None


def escalate(services: Services, moment: datetime) -> list[str]:
    """Report each ticket overdue by the margin (ESCALATE_AFTER) to its agency's heads, in its history:
    once, and once more when it is still overdue ESCALATE_AGAIN later; return the codes reported now."""
    service, margin = services.settings.service, services.settings.escalate_after
    with services.db.transaction() as s:
        candidates = s.execute(select(Ticket.id, Ticket.due_at).where(overdue(moment))).all()
    reported = []
    for ticket_id, due in candidates:
        if due_at(due, margin, service.holidays) > moment:
            continue
        with services.db.transaction() as s:
            ticket = s.scalar(select(Ticket).where(Ticket.id == ticket_id, overdue(moment)).with_for_update())
            if ticket is None:
                continue
            earlier = s.scalars(select(TicketEvent.created_at).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.action == "eskalasi",
                TicketEvent.created_at >= (ticket.new_since or ticket.created_at))).all()
            if len(earlier) >= ESCALATIONS or (earlier and moment - max(earlier) < ESCALATE_AGAIN):
                continue
            workflow.eskalasi(s, ticket, f"terlambat sejak {day_month_year(ticket.due_at)}; dilaporkan kepada"
                                         f" kepala instansi{' untuk kedua kalinya' if earlier else ''}", moment)
            reported.append(ticket.code)
    return reported


def send_digests(services: Services, moment: datetime) -> int:
    """Give each active officer with something waiting (a head: or a ticket reported to them today)
    the day's digest, once a day: on the inbox, and by SMS when they gave a phone; return how many
    got it now."""
    service, day = services.settings.service, local_day(moment)
    start = day_starts(day)
    with services.db.transaction() as s:
        officer_ids = s.scalars(select(Officer.id).where(Officer.active.is_(True)).order_by(Officer.id)).all()
    sent, to_send = 0, []
    for officer_id in officer_ids:
        with services.db.transaction() as s:
            officer = s.get(Officer, officer_id)
            waiting = tasks.of(s, officer, service, moment)
            escalated = _escalated_today(s, officer, start) if officer.has(Role.HEAD) else []
            if not waiting and not escalated:
                continue
            body = _digest_text(waiting, escalated, moment)
            if not _claim_digest(s, officer.id, day, body):
                continue  # another run gave it already
            sender = outbox.sms_sender(service, officer.agency)
            if officer.phone and sender:
                row = outbox.write(s, key=f"digest:{officer.id}:{day.isoformat()}", purpose="digest", channel="sms",
                                   to=officer.phone, from_=sender, body=body)
                s.get(Digest, (officer.id, day)).outbound_id = row.id
                to_send.append(row.id)
            sent += 1
    for outbound_id in to_send:
        services.queues.send(outbound_id)
    return sent


def _escalated_today(s, officer: Officer, start: datetime) -> list[str]:
    """The codes of the officer's agency's tickets reported to its heads since the day began."""
    return list(s.scalars(select(Ticket.code).join(TicketEvent, TicketEvent.ticket_id == Ticket.id).where(
        Ticket.agency == officer.agency, TicketEvent.action == "eskalasi", TicketEvent.created_at >= start)
        .order_by(Ticket.due_at)).unique())


def _digest_text(waiting: list[tasks.Task], escalated: list[str], moment: datetime) -> str:
    today = local_day(moment)

    def day_of(task: tasks.Task) -> date:
        return local_day(task.due)

    late = sum(1 for t in waiting if t.due < moment)
    named = list(dict.fromkeys(escalated + [t.row.code for t in waiting]))[:DIGEST_CODES]
    return render("digest", day=f"{today:%d-%m}", waiting=str(len(waiting)), overdue=str(late),
                  today=str(sum(1 for t in waiting if t.due >= moment and day_of(t) == today)),
                  tomorrow=str(sum(1 for t in waiting if day_of(t) == today + timedelta(days=1))),
                  escalated=f", {len(escalated)} eskalasi" if escalated else "",
                  codes=", ".join(codes.display(c) for c in named))


def _claim_digest(s, officer_id: int, day: date, body: str) -> bool:
    """Record the officer's digest of the day; False when one is recorded already (the row is the lock:
    a second worker's insert waits for the first's commit, then finds it)."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    return s.execute(insert(Digest).values(officer_id=officer_id, day=day, body=body, created_at=now())
                     .on_conflict_do_nothing().returning(Digest.officer_id)).first() is not None
