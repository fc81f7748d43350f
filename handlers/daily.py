"""The daily work of the service standard's clock: a sent answer the citizen has not written about
for AUTO_CLOSE closes by itself. Run each working morning by the worker's scheduler and by
`flask --app app daily`; idempotent: what is done is not done again."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from handlers import clock, workflow
from handlers.runtime import Services, current
from store.db import now
from store.models import InboundMessage, Ticket, TicketState

log = logging.getLogger(__name__)
# What a citizen sends that is no news about an answered ticket: it neither asks nor adds anything.
NOT_NEWS = ("StatusCheck", "MyTickets", "Thanks", "AutoReply", "Resend")


@dataclass(frozen=True)
class Report:
    closed: tuple[str, ...] = ()  # the codes of the tickets closed by themselves


def run(services: Services | None = None, moment: datetime | None = None) -> Report:
    """Do the day's work as of moment (default now)."""
    services = services or current()
    report = Report(closed=tuple(auto_close(services, moment or now())))
    if report.closed:
        log.info("daily: %d answered tickets closed by themselves", len(report.closed))
    return report


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
