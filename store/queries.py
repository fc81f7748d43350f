"""Small queries shared by the gateway and the handlers."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Contact


def is_opted_out(s: Session, phone: str) -> bool:
    """Tell whether a number asked to receive nothing more (STOP)."""
    return bool(s.scalar(select(Contact.opted_out).where(Contact.phone == phone)))


def set_opt_out(s: Session, phone: str, opted_out: bool) -> None:
    """Record a number's choice to stop or start receiving messages."""
    contact = s.get(Contact, phone)
    if contact is None:
        s.add(Contact(phone=phone, opted_out=opted_out))
    else:
        contact.opted_out = opted_out
