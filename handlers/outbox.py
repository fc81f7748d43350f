"""Write outbound messages as rows before anything is sent."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

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


def resend_failed(s: Session, since: datetime, codes: Collection[str]) -> list[int]:
    """Write again, once each, the automatic replies that failed since then with one of these error
    codes (the provider refused the account: a wrong auth token, a suspended account); return the
    new rows' ids, pending. Officers' messages are not among them: the inbox sends those again."""
    failed = s.scalars(select(OutboundMessage).where(
        OutboundMessage.status == DeliveryStatus.FAILED.value, OutboundMessage.error_code.in_(list(codes)),
        OutboundMessage.created_at >= since, OutboundMessage.inbound_id.is_not(None),
    ).order_by(OutboundMessage.id)).all()
    done = set(s.scalars(select(OutboundMessage.idempotency_key).where(
        OutboundMessage.idempotency_key.in_([f"resend:{row.id}" for row in failed]))))
    return [write(s, key=f"resend:{row.id}", purpose=row.purpose, channel=row.channel, to=row.to_address,
                  from_=row.from_address, body=row.body, ticket_id=row.ticket_id, inbound_id=row.inbound_id,
                  content_sid=row.content_sid, content_variables=row.content_variables).id
            for row in failed if f"resend:{row.id}" not in done]
