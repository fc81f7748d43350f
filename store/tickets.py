"""The only places a ticket is created or changes state, so the per-state counts stay true."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from parsers import codes
from store.models import OPEN_STATES, StateCount, Ticket, TicketState


def _bump(s: Session, agency: str, state: str, delta: int) -> None:
    changed = s.execute(update(StateCount).where(StateCount.agency == agency, StateCount.state == state)
                        .values(n=StateCount.n + delta)).rowcount
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
    """Create the zero counts of every agency and state, so concurrent first tickets never race."""
    have = {(a, st) for a, st in s.query(StateCount.agency, StateCount.state)}
    s.add_all(StateCount(agency=a, state=st.value, n=0)
              for a in agencies for st in TicketState if (a, st.value) not in have)


def unused_code(s: Session) -> str:
    """Draw random tracking codes until one is free."""
    while True:
        code = codes.new_code()
        if s.scalar(select(Ticket.id).where(Ticket.code == code)) is None:
            return code
