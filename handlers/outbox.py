"""Write outbound messages as rows before anything is sent."""
from __future__ import annotations

from sqlalchemy.orm import Session

from store.models import OutboundMessage


def write(s: Session, *, key: str, purpose: str, channel: str, to: str, from_: str, body: str,
          ticket_id: int | None = None, inbound_id: int | None = None) -> OutboundMessage:
    """Add one outbound row; key makes a retried job or a double click write it once."""
    row = OutboundMessage(idempotency_key=key, purpose=purpose, channel=channel, to_address=to,
                          from_address=from_, body=body, ticket_id=ticket_id, inbound_id=inbound_id)
    s.add(row)
    s.flush()
    return row
