"""Write outbound messages as rows before anything is sent."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.db import now
from store.models import DeliveryStatus, OutboundMessage


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
