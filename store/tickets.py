"""The only places a ticket is created or changes state, so the per-state counts stay true."""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from parsers import codes
from store.models import OPEN_STATES, StateCount, Ticket, TicketState


_NOT_WORDS = re.compile(r"[\W_]+")
_COUNTS = StateCount.__table__
# Built once: every new ticket and every transition runs these.
_BUMP = (update(_COUNTS).where(_COUNTS.c.agency == bindparam("a"), _COUNTS.c.state == bindparam("st"))
         .values(n=_COUNTS.c.n + bindparam("d")))
_CODE_TAKEN = select(Ticket.__table__.c.id).where(Ticket.__table__.c.code == bindparam("code"))


def text_hash(text: str) -> str:
    """Hash a complaint so that a resend with other spacing, case or punctuation matches."""
    return hashlib.sha256(_NOT_WORDS.sub(" ", text.lower()).strip().encode()).hexdigest()


def _bump(s: Session, agency: str, state: str, delta: int) -> None:
    changed = s.execute(_BUMP, {"a": agency, "st": state, "d": delta}).rowcount
    if not changed:
        s.add(StateCount(agency=agency, state=state, n=delta))
        s.flush()


def add_ticket(s: Session, ticket: Ticket) -> Ticket:
    """Insert a new ticket and count it."""
    ticket.state = ticket.state or TicketState.BARU.value
    ticket.is_open = TicketState(ticket.state) in OPEN_STATES
    s.add(ticket)
    s.flush()
    _bump(s, ticket.agency, ticket.state, +1)
    return ticket


def set_state(s: Session, ticket: Ticket, state: TicketState, agency: str | None = None) -> None:
    """Move a ticket to a state (and, when forwarded, to another agency), keeping the counts."""
    _bump(s, ticket.agency, ticket.state, -1)
    ticket.state = state.value
    ticket.is_open = state in OPEN_STATES
    if agency is not None:
        ticket.agency = agency
    _bump(s, ticket.agency, ticket.state, +1)


def seed_counts(s: Session, agencies: list[str]) -> None:
    """Create the zero counts of every agency and state, so concurrent first tickets never race.

    Several processes start at once: a row another one created first is left as it is.
    """
    dialect_insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"agency": a, "state": st.value, "n": 0} for a in agencies for st in TicketState]
    if rows:
        s.execute(dialect_insert(StateCount).values(rows).on_conflict_do_nothing())


def unused_code(s: Session) -> str:
    """Draw random tracking codes until one is free."""
    while True:
        code = codes.new_code()
        if s.execute(_CODE_TAKEN, {"code": code}).first() is None:
            return code
