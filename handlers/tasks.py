"""What waits for an officer ("Tugas saya"), by their roles, most pressing first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_
from sqlalchemy.orm import Session

from config import Service
from handlers import clock
from store.models import DeliveryStatus, Officer, OutboundMessage, Role, Ticket, TicketState as S
from store.queries import QueueRow, citizen_wrote_since, officers_message_not_read, queue_rows

# The most tickets a list holds; the queue holds the rest.
LIMIT = 200
# Where the citizen wrote, or an officer's message did not reach them: the liaison's to read or redo.
_UNDELIVERED = (DeliveryStatus.FAILED.value, DeliveryStatus.UNDELIVERED.value, DeliveryStatus.SUPPRESSED.value,
                DeliveryStatus.HELD.value)
# Each waiting step as the page says it.
WHAT = {
    "telaah": "Telaah laporan baru", "kirim": "Kirim jawaban ke warga", "new": "Baca pesan baru dari warga",
    "withdrawal": "Warga minta laporan dibatalkan", "failed": "Pesan ke warga gagal",
    "unopened": "Pesan belum dibuka warga", "disposisi": "Disposisi", "setujui": "Setujui jawaban",
    "draf": "Susun jawaban", "dikembalikan": "Draf dikembalikan",
}


@dataclass(frozen=True)
class Task:
    row: QueueRow
    what: str  # a key of WHAT
    due: datetime  # the deadline as it stands now (clock.current_due)


def of(s: Session, officer: Officer, service: Service, moment: datetime) -> list[Task]:
    """Every ticket that waits for this officer, once each (for its first reason in their roles' order),
    by deadline."""
    agency, t = officer.agency, Ticket
    found: dict[int, tuple[QueueRow, str]] = {}

    def add(rows: list[QueueRow], what) -> None:
        for row in rows:
            found.setdefault(row.id, (row, what(row) if callable(what) else what))

    mine = (t.agency == agency, t.is_open.is_(True))
    if officer.has(Role.LIAISON):  # what only the liaison can settle first, then the steps of the flow
        wrote = queue_rows(s, *mine, t.last_inbound_at > t.created_at, limit=LIMIT)
        marks = citizen_wrote_since(s, wrote)
        add([r for r in wrote if marks.get(r.id) == "withdrawal"], "withdrawal")
        o = OutboundMessage
        troubled = queue_rows(s, *mine, exists().where(o.ticket_id == t.id, o.status.in_(_UNDELIVERED)), limit=LIMIT)
        not_read = officers_message_not_read(s, troubled)
        add([r for r in troubled if r.id in not_read], lambda r: not_read[r.id])
        add(queue_rows(s, *mine, t.state == S.BARU.value, limit=LIMIT), "telaah")
        add(queue_rows(s, *mine, t.state == S.DISETUJUI.value, limit=LIMIT), "kirim")
        add([r for r in wrote if marks.get(r.id) == "new"], "new")
    if officer.has(Role.HEAD):
        add(queue_rows(s, *mine, t.state == S.DITELAAH.value, limit=LIMIT), "disposisi")
        own_drafts = service.agencies[agency].self_approval
        # At the level the draft waits at (approval up the hierarchy), or any head's where it waits at none.
        approvable = and_(t.state == S.MENUNGGU_PERSETUJUAN.value,
                          t.approval_level.in_(("", officer.approval_level)))
        if not own_drafts:  # a head never approves their own draft: it waits for another head
            approvable = and_(approvable, or_(t.draft_author_id.is_(None), t.draft_author_id != officer.id))
        add(queue_rows(s, *mine, approvable, limit=LIMIT), "setujui")
    if officer.has(Role.OFFICIAL):
        assigned = queue_rows(s, *mine, t.assignee_id == officer.id,
                              t.state.in_((S.DIDISPOSISI.value, S.DRAF.value)), limit=LIMIT)
        add(assigned, lambda r: "dikembalikan" if r.state == S.DRAF.value and r.review_note else "draf")
    tasks = [Task(row, what, clock.current_due(service, row, moment)) for row, what in found.values()]
    return sorted(tasks, key=lambda task: (task.due, task.row.id))


def count(s: Session, officer: Officer, service: Service, moment: datetime) -> int:
    return len(of(s, officer, service, moment))
