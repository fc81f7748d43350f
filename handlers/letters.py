"""The answer letter (surat jawaban): the approved answer on the agency's letterhead, under a number of
its own. The number is the agency's next of the year; the letters' unique key on (agency, year, counter)
makes sure no two letters share one, even when two officers print at the same moment."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Service
from handlers import workflow
from handlers.workflow import WorkflowError
from replies.render import in_kupang
from store.db import Database, now
from store.models import Letter, Officer, Ticket, TicketEvent

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
TRIES = 20  # a number another letter took meanwhile: the next try takes the next one


def long_date(moment: datetime) -> str:
    """A date as letters write it, in Kupang: 8 Desember 2026."""
    local = in_kupang(moment)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}"


def of_ticket(s: Session, ticket: Ticket) -> list[Letter]:
    return list(s.scalars(select(Letter).where(Letter.ticket_id == ticket.id).order_by(Letter.id)))


def printable(ticket: Ticket) -> bool:
    """A letter carries an approved answer."""
    return ticket.approved_by_id is not None and bool(ticket.draft.strip())


def issue(db: Database, officer_id: int, code: str, service: Service) -> int:
    """The id of the letter of the ticket's approved answer: the one already numbered for this answer
    (printed again, it keeps its number), else a new one under the agency's next number of the year.
    Each try is a transaction of its own: one whose number another letter took meanwhile is undone
    whole (the unique key refuses it) and the next try takes the next number."""
    for _ in range(TRIES):
        try:
            with db.transaction() as s:
                officer = s.get(Officer, officer_id)
                ticket = workflow.find(s, officer, code)
                return _letter(s, officer, ticket, service).id
        except IntegrityError:
            continue
    raise WorkflowError("Nomor surat tidak dapat diambil sekarang: coba lagi.")


def _letter(s: Session, officer: Officer, ticket: Ticket, service: Service) -> Letter:
    if not printable(ticket):
        raise WorkflowError("Surat jawaban dicetak setelah jawaban disetujui pimpinan.")
    for letter in of_ticket(s, ticket):
        if letter.body == ticket.draft:
            return letter
    agency = service.agencies[ticket.agency]
    approver = s.get(Officer, ticket.approved_by_id)
    moment = now()
    local = in_kupang(moment)  # the year and month of the number are Kupang's
    seq = (s.scalar(select(func.max(Letter.seq)).where(Letter.agency == agency.code, Letter.year == local.year))
           or 0) + 1
    letter = Letter(ticket_id=ticket.id, agency=agency.code, year=local.year, seq=seq,
                    number=agency.letter_number.format(n=seq, month=ROMAN[local.month - 1], year=local.year),
                    body=ticket.draft, approver_name=approver.full_name or approver.username,
                    approver_position=approver.position or agency.levels.get(approver.approval_level, ""),
                    officer_id=officer.id, created_at=moment)
    s.add(letter)
    s.flush()  # the unique key speaks here (or, on SQLite, at the write lock's turn)
    s.add(TicketEvent(ticket_id=ticket.id, officer_id=officer.id, action="surat", from_state=ticket.state,
                      to_state=ticket.state, agency=ticket.agency, note=f"surat jawaban nomor {letter.number}"))
    return letter

