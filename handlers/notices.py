"""Immediate notices to officers by SMS: a draft waits for their approval, their draft was returned,
a ticket was disposed to them. At most one SMS an officer per GAP, grouping what came meanwhile;
an officer may switch them off. The workflow records them; every worker's sweeper sends what is due."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import outbox
from handlers.runtime import Services
from parsers import codes
from replies.render import notice_list, render
from store.db import now
from store.models import Notice, Officer, Ticket

log = logging.getLogger(__name__)
GAP = timedelta(minutes=15)
KINDS = ("approve", "returned", "disposed")


def add(s: Session, ticket: Ticket, kind: str, officer_ids) -> None:
    """Record that the ticket now waits for these officers (in the workflow's transaction)."""
    assert kind in KINDS, kind
    for officer_id in dict.fromkeys(officer_ids):
        s.add(Notice(officer_id=officer_id, ticket_id=ticket.id, kind=kind))


def send_due(services: Services, moment: datetime | None = None) -> list[int]:
    """Write one SMS for each officer whose notices wait and who had none in the last GAP, naming what
    waits; return the rows written (queued for sending). Notices for an officer with no phone, or who
    switched them off, are dropped: the inbox shows the same."""
    moment = moment or now()
    with services.db.transaction() as s:
        waiting = s.scalars(select(Notice.officer_id).where(Notice.sent_at.is_(None)).distinct()).all()
    written = []
    for officer_id in waiting:
        with services.db.transaction() as s:
            # One sender at a time for an officer: two workers' sweepers never both tell them.
            officer = s.scalar(select(Officer).where(Officer.id == officer_id).with_for_update())
            pending = s.execute(select(Notice, Ticket.code).join(Ticket, Ticket.id == Notice.ticket_id).where(
                Notice.officer_id == officer_id, Notice.sent_at.is_(None)).order_by(Notice.id)).all()
            if not pending:
                continue
            reachable = officer.active and officer.notify and officer.phone
            sender = outbox.sms_sender(services.settings.service, officer.agency) if reachable else None
            if sender is None:  # nobody to tell, or no SMS line to tell them from: dropped, the inbox shows it
                for notice, _ in pending:
                    notice.sent_at = moment
                continue
            last = s.scalar(select(func.max(Notice.sent_at)).where(Notice.officer_id == officer_id,
                                                                   Notice.outbound_id.is_not(None)))
            if last is not None and moment - last < GAP:
                continue  # grouped into the next one
            items = list(dict.fromkeys((notice.kind, codes.display(code)) for notice, code in pending))
            row = outbox.write(s, key=f"notice:{officer_id}:{pending[0][0].id}", purpose="notice", channel="sms",
                               to=officer.phone, from_=sender, body=render("notice", items=notice_list(items)))
            for notice, _ in pending:
                notice.sent_at, notice.outbound_id = moment, row.id
            written.append(row.id)
    for outbound_id in written:
        services.queues.send(outbound_id)
    if written:
        log.info("notices: %d officers told by SMS", len(written))
    return written
