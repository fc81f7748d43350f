"""Write outbound messages as rows before anything is sent."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Service
from store.db import now
from store.models import OPTED_OUT_CODE, DeliveryStatus, OutboundMessage

# What START sends again of the messages STOP withheld: a request's code and what officers wrote about
# it (not the answers to commands sent meanwhile, which would be stale); within a month, five at most.
RESENT_ON_START = ("ack", "answer", "question", "forwarded")
WITHHELD_RESENT_FOR = timedelta(days=30)
WITHHELD_RESENT_MAX = 5


def write(s: Session, *, key: str, purpose: str, channel: str, to: str, from_: str, body: str,
          ticket_id: int | None = None, inbound_id: int | None = None, content_sid: str = "",
          content_variables: str = "", held: bool = False) -> OutboundMessage:
    """Add one outbound row; key makes a retried job or a double click write it once.

    content_sid: an approved WhatsApp template sent instead of body (body keeps its text for the inbox);
    held: the row waits for the citizen to open WhatsApp's window (release_held() sends it).
    """
    status = DeliveryStatus.HELD if held else DeliveryStatus.PENDING
    row = OutboundMessage(idempotency_key=key, purpose=purpose, channel=channel, to_address=to,
                          from_address=from_, body=body, ticket_id=ticket_id, inbound_id=inbound_id,
                          content_sid=content_sid, content_variables=content_variables,
                          status=status.value, status_rank=status.rank)
    s.add(row)
    s.flush()
    return row


def sms_sender(service: Service, agency: str) -> str | None:
    """The number an agency's messages go out from by SMS when no citizen's message came to one (tickets
    registered by hand, officers' notices): its SMS line's, else any SMS line's; None without one."""
    lines = [line for line in service.lines if line.channel == "sms"]
    line = next((line for line in lines if line.agency == agency), lines[0] if lines else None)
    return (line.send_from or line.sandbox_to) if line else None


def suppress(row: OutboundMessage, why: str) -> None:
    """Keep a row from being sent, saying why (the inbox shows it)."""
    row.status, row.status_rank = DeliveryStatus.SUPPRESSED.value, DeliveryStatus.SUPPRESSED.rank
    row.error_message, row.updated_at = why, now()


def release_held(s: Session, *, to: str, from_: str) -> list[OutboundMessage]:
    """Make sendable the rows held for WhatsApp's window between these two addresses: the citizen
    has just written to that number, which opens it."""
    rows = s.scalars(select(OutboundMessage).where(
        OutboundMessage.to_address == to, OutboundMessage.from_address == from_,
        OutboundMessage.status == DeliveryStatus.HELD.value).order_by(OutboundMessage.id)).all()
    for row in rows:
        row.status, row.updated_at = DeliveryStatus.PENDING.value, now()
    s.flush()
    return list(rows)


def withheld_by_stop(s: Session, *, to: str, from_: str) -> list[OutboundMessage]:
    """The messages about the citizen's tickets from this number that were not sent because they had
    sent STOP (or the provider refused them for it), not sent again yet: for each ticket its first
    acknowledgement (a resend's says only "sudah kami terima sebelumnya") and the latest of each
    officer's kind, oldest first."""
    rows = s.scalars(select(OutboundMessage).where(
        OutboundMessage.to_address == to, OutboundMessage.from_address == from_,
        OutboundMessage.error_code == OPTED_OUT_CODE, OutboundMessage.purpose.in_(RESENT_ON_START),
        OutboundMessage.ticket_id.is_not(None), OutboundMessage.created_at >= now() - WITHHELD_RESENT_FOR,
    ).order_by(OutboundMessage.id)).all()
    chosen: dict[tuple[int, str], OutboundMessage] = {}
    for row in rows:
        if row.purpose != "ack" or (row.ticket_id, row.purpose) not in chosen:
            chosen[row.ticket_id, row.purpose] = row
    pending = sorted(_not_written_again(s, list(chosen.values()), "start"), key=lambda row: row.id)
    return pending[-WITHHELD_RESENT_MAX:]


def _not_written_again(s: Session, rows: list[OutboundMessage], key: str) -> list[OutboundMessage]:
    """The rows that write_again has not copied under this key yet."""
    done = set(s.scalars(select(OutboundMessage.idempotency_key).where(
        OutboundMessage.idempotency_key.in_([f"{key}:{row.id}" for row in rows]))))
    return [row for row in rows if f"{key}:{row.id}" not in done]


def write_again(s: Session, rows: list[OutboundMessage], key: str) -> list[OutboundMessage]:
    """A pending copy of each row, keyed key:<its id> (once each)."""
    return [write(s, key=f"{key}:{row.id}", purpose=row.purpose, channel=row.channel, to=row.to_address,
                  from_=row.from_address, body=row.body, ticket_id=row.ticket_id, inbound_id=row.inbound_id,
                  content_sid=row.content_sid, content_variables=row.content_variables) for row in rows]


def resend_failed(s: Session, since: datetime, codes: Collection[str]) -> list[int]:
    """Write again, once each, the automatic replies that failed since then with one of these error
    codes (the provider refused the account: a wrong auth token, a suspended account); return the
    new rows' ids, pending. Officers' messages are not among them: the inbox sends those again."""
    failed = s.scalars(select(OutboundMessage).where(
        OutboundMessage.status == DeliveryStatus.FAILED.value, OutboundMessage.error_code.in_(list(codes)),
        OutboundMessage.created_at >= since, OutboundMessage.inbound_id.is_not(None),
    ).order_by(OutboundMessage.id)).all()
    return [row.id for row in write_again(s, _not_written_again(s, failed, "resend"), "resend")]
