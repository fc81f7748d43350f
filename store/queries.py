"""Small queries shared by the gateway and the handlers."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (and_, bindparam, case, false, func, literal, literal_column, null, or_, select, text, tuple_,
                        union_all)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from parsers import codes
from parsers.phone import to_e164
from store.db import TEXT_INDEX, has_text_index, now
from store.models import (OPTED_OUT_CODE, Contact, DeliveryStatus, Officer, OutboundMessage, StateCount, Ticket,
                          TicketEvent, TicketState, WhatsAppWindow)


_OPTED_OUT = select(Contact.__table__.c.opted_out).where(Contact.__table__.c.phone == bindparam("phone"))


# Advisory locks on PostgreSQL: the first key says what is locked (phones), the second which one.
_LOCK_PHONE = select(func.pg_advisory_xact_lock(1709, bindparam("key")))


def lock_phone(s: Session, phone: str) -> None:
    """Make other transactions about this phone wait until this one ends.

    One citizen's messages are then applied one after the other even when several
    workers take them at once (a resend must find the ticket its twin just made).
    SQLite needs nothing: a transaction that writes holds the only write lock.
    """
    connection = s.connection()  # not through the ORM: nothing pending is flushed for this
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(phone.encode()).digest()[:4], "big", signed=True)
        connection.execute(_LOCK_PHONE, {"key": key})


def is_opted_out(s: Session, phone: str) -> bool:
    """Tell whether a number asked to receive nothing more (STOP)."""
    return bool(s.execute(_OPTED_OUT, {"phone": phone}).scalar())


def contact(s: Session, phone: str) -> Contact:
    """The contact row of a number, added to the session when there is none yet."""
    found = s.get(Contact, phone)
    if found is None:
        found = Contact(phone=phone)
        s.add(found)
    return found


def saw_on_whatsapp(s: Session, phone: str, line_address: str, at: datetime) -> None:
    """Remember that the citizen wrote to this WhatsApp number at that time (it opens the window)."""
    window = s.get(WhatsAppWindow, (phone, line_address))
    if window is None:
        s.add(WhatsAppWindow(phone=phone, line_address=line_address, last_at=at))
    elif window.last_at < at:  # a message processed late does not move the window back
        window.last_at = at


def last_on_whatsapp(s: Session, phone: str, line_address: str) -> datetime | None:
    """When the citizen last wrote to this WhatsApp number, if ever."""
    return s.scalar(select(WhatsAppWindow.last_at).where(WhatsAppWindow.phone == phone,
                                                         WhatsAppWindow.line_address == line_address))


def set_opt_out(s: Session, phone: str, opted_out: bool) -> None:
    """Record a number's choice to stop or start receiving messages."""
    contact(s, phone).opted_out = opted_out


@dataclass(frozen=True)
class QueueFilter:
    agency: str
    state: str = ""        # a TicketState value, "terlambat", "semua", or "" for every open ticket
    channel: str = ""
    line: str = ""
    assignee_id: int | None = None
    q: str = ""
    category: str = ""


@dataclass(frozen=True)
class QueueRow:
    id: int
    code: str
    channel: str
    line_id: str
    state: str
    excerpt: str  # the start of the text, its lines joined with ' / '
    created_at: datetime
    due_at: datetime
    is_open: bool
    last_inbound_at: datetime | None
    new_since: datetime | None
    agency: str
    held_state: str
    paused_at: datetime | None
    verify_due_at: datetime | None
    follow_up_due_at: datetime | None
    answered_at: datetime | None
    review_note: str  # why the head returned the draft


def forwarded_by(agency: str):
    """The ids of the tickets an agency forwarded to another (bukan wewenang), as a subquery."""
    return select(TicketEvent.ticket_id).where(TicketEvent.action == "teruskan", TicketEvent.agency == agency)


def overdue(moment: datetime):
    """The condition of a ticket past its deadline: open and not answered, and not waiting for the
    citizen since before its deadline (its clock stands still, handlers/clock.py)."""
    t = Ticket
    return and_(t.is_open.is_(True), t.due_at < moment, t.state != TicketState.TERKIRIM.value,
                or_(t.state != TicketState.DITUNDA.value, t.paused_at >= t.due_at))


_CODE = re.compile(r"^\s*\d{4}[\s\-.]*\d{4}\s*$")
_LAPOR_ID = re.compile(r"^\s*(?:lapor!?\s*[:#]?|#)\s*(\d{5,12})\s*$", re.IGNORECASE)  # "#1234567", "LAPOR 1234567"


def queue_page(s: Session, f: QueueFilter, after: tuple[datetime, int] | None = None,
               limit: int = 50) -> list[QueueRow]:
    """One page of an agency's queue, by deadline; keyset pagination on (due_at, id). The tickets the
    agency forwarded to another stay findable there, read-only (the Diteruskan list, all, a search):
    read by a query of their own, each on its index, rather than one OR that would read every ticket."""
    t = Ticket
    where = []
    if f.state == "terlambat":
        where.append(overdue(now()))
    elif f.state in (TicketState.DITERUSKAN.value, "semua"):
        pass
    elif f.state:
        where.append(t.state == f.state)
    else:
        where.append(t.is_open.is_(True))
    if f.channel:
        where.append(t.channel == f.channel)
    if f.line:
        where.append(t.line_id == f.line)
    if f.assignee_id is not None:
        where.append(t.assignee_id == f.assignee_id)
    if f.category:
        where.append(t.category == f.category)
    if after is not None:
        where.append(tuple_(t.due_at, t.id) > tuple_(*after))
    search = _search(s, f.q) if f.q.strip() else None
    rows = [] if f.state == TicketState.DITERUSKAN.value else _found(s, (t.agency == f.agency, *where), search, limit)
    if f.state in (TicketState.DITERUSKAN.value, "semua") or f.q.strip():
        rows += _found(s, (t.id.in_(forwarded_by(f.agency)), t.agency != f.agency, *where), search, limit)
        rows.sort(key=lambda r: (r.due_at, r.id))
    return rows[:limit]


# A PostgreSQL search by words first reads this many tickets of the queue in its order (15 ms).
CHUNK = 10_000


@dataclass(frozen=True)
class _Words:
    """A search by words on PostgreSQL: its condition, answered as _found() says."""
    condition: ColumnElement


def _found(s: Session, where: tuple, search, limit: int) -> list[QueueRow]:
    """The queue's tickets that meet the conditions and the search. PostgreSQL guesses how many tickets
    hold a word's beginning far from the truth (400 for 42,000), and its plan of one query can read
    every ticket's text (2.6 s for a word in none of a million). So: first the queue's next CHUNK
    tickets, in its order, the stored words checked on each: a word in more than one ticket of 200
    fills the page from them. Else the word is rarer: the tickets that hold it and meet the
    conditions come from the indexes, made once, then in the queue's order."""
    if not isinstance(search, _Words):
        return queue_rows(s, *where, *(() if search is None else (search,)), limit=limit)
    # Materialized, so that the planner cannot read the index first instead, on its guess.
    first = (select(Ticket.id.label("id"), search.condition.label("hit")).where(*where)
             .order_by(Ticket.due_at, Ticket.id).limit(CHUNK).cte("first").prefix_with("MATERIALIZED"))
    rows = queue_rows(s, Ticket.id.in_(select(first.c.id).where(first.c.hit)), limit=limit)
    if len(rows) == limit:
        return rows
    matches = (select(Ticket.id.label("id")).where(search.condition, *where).cte("matches")
               .prefix_with("MATERIALIZED"))
    return queue_rows(s, Ticket.id.in_(select(matches.c.id)), *where, limit=limit)


_QUEUE_ROW = select(Ticket.id, Ticket.code, Ticket.channel, Ticket.line_id, Ticket.state,
                    func.substr(Ticket.body, 1, 160), Ticket.created_at, Ticket.due_at, Ticket.is_open,
                    Ticket.last_inbound_at, Ticket.new_since, Ticket.agency, Ticket.held_state, Ticket.paused_at,
                    Ticket.verify_due_at, Ticket.follow_up_due_at, Ticket.answered_at, Ticket.review_note)


def queue_rows(s: Session, *where, limit: int) -> list[QueueRow]:
    """The tickets that meet the conditions, as the queue shows them, by deadline."""
    rows = s.execute(_QUEUE_ROW.where(*where).order_by(Ticket.due_at, Ticket.id).limit(limit)).all()
    return [QueueRow(r[0], r[1], r[2], r[3], r[4], " / ".join((r[5] or "").split("\n")), *r[6:]) for r in rows]


def citizen_wrote_since(s: Session, rows: list[QueueRow]) -> dict[int, str]:
    """The tickets among rows whose citizen wrote after an officer last acted on them (or, with
    no officer action yet, after the ticket began): "new", something to read; "withdrawal" when
    what they wrote since asks to take the ticket back ("Batal") and they did not take that back
    ("Tidak jadi batal"). One query a page."""
    ids = [r.id for r in rows]
    if not ids:
        return {}
    e = TicketEvent
    events = {ticket_id: (acted, withdrawn, kept) for ticket_id, acted, withdrawn, kept in s.execute(
        select(e.ticket_id, func.max(case((e.officer_id.is_not(None), e.created_at))),
               func.max(case((e.action == "minta_batal", e.created_at))),
               func.max(case((e.action == "batal_dicabut", e.created_at))))
        .where(e.ticket_id.in_(ids)).group_by(e.ticket_id))}
    marks = {}
    for r in rows:
        acted, withdrawn, kept = events.get(r.id, (None, None, None))
        acted = acted or r.created_at
        if withdrawn and withdrawn > acted and not (kept and kept > withdrawn):
            marks[r.id] = "withdrawal"
        elif r.last_inbound_at and r.last_inbound_at > acted:
            marks[r.id] = "new"
    return marks


# What officers write to a citizen (the template that stands for one after WhatsApp's window too).
_TO_CITIZEN = ("answer", "question", "window_notice")
_NOT_ARRIVED = (DeliveryStatus.FAILED.value, DeliveryStatus.UNDELIVERED.value)
# A message held for WhatsApp's window this long has not been read: the template asked for a reply
# that has not come, and the citizen may never send one.
UNOPENED_AFTER = timedelta(hours=24)


def officers_message_not_read(s: Session, rows: list[QueueRow]) -> dict[int, str]:
    """The tickets among rows whose latest message from an officer to the citizen did not reach them:
    "failed" (refused, never arrived, or not sent because the citizen sent STOP) or "unopened"
    (still waiting, a day after WhatsApp's template, for the reply that would send it). Someone must
    send it again or reach the citizen otherwise. Two small queries a page."""
    ids = [r.id for r in rows]
    if not ids:
        return {}
    o = OutboundMessage
    # The latest ids first, as numbers: with a subquery in their place SQLite walked every failed
    # message ever sent (the status index) instead of looking these few up.
    latest = s.scalars(select(func.max(o.id)).where(o.ticket_id.in_(ids), o.purpose.in_(_TO_CITIZEN))
                       .group_by(o.ticket_id)).all()
    stopped = and_(o.status == DeliveryStatus.SUPPRESSED.value, o.error_code == OPTED_OUT_CODE)
    unopened = and_(o.status == DeliveryStatus.HELD.value, o.ticket_id.in_(ids), o.created_at < now() - UNOPENED_AFTER)
    found = s.execute(select(o.ticket_id, o.status).where(
        or_(and_(o.id.in_(latest), or_(o.status.in_(_NOT_ARRIVED), stopped)), unopened)))
    marks: dict[int, str] = {}
    for ticket_id, status in found:
        if status == DeliveryStatus.HELD.value:
            marks.setdefault(ticket_id, "unopened")
        else:
            marks[ticket_id] = "failed"  # says more: the template that asked for the reply never arrived
    return marks


# A search's words in fewer tickets than this are looked up by their ids; in more, the queue is read in its
# order, each ticket looked up in the set of those that match, and a page of them comes at once.
MANY = 5000
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as both indexes cut a text into words
# PostgreSQL's words of a ticket's text, stored beside it and indexed (migration 0005): runs of letters
# and digits, as FTS5 cuts them (PostgreSQL's own parser keeps "Jl.Sudirman" one word).
WORDS_OF_TEXT = "tickets.body_words"


def _search(s: Session, q: str):
    """A tracking code, a phone number in any format, a SP4N-LAPOR! tracking ID ("#1234567", "LAPOR
    1234567"), or words of the text: tickets holding each word,
    or a word beginning with it ("jalan" finds Jalan and jalanan), whatever the case. A word of one
    letter or digit is itself only ("RT 5" is not RT 50): as a beginning, it would find most tickets."""
    if _CODE.match(q):
        return Ticket.code == codes.normalize(q)
    if lapor := _LAPOR_ID.match(q):
        return Ticket.lapor_id == lapor.group(1)
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 8 and not re.search(r"[^\d\s+\-().]", q.removeprefix("whatsapp:")):
        phone = to_e164(q)
        if phone:
            return Ticket.phone == phone
    words = [w.lower() for w in _WORD.findall(q)][:5]
    if not words:
        return false()
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":  # the stored words and their GIN index (migration 0005)
        terms = " & ".join(w if len(w) == 1 else f"{w}:*" for w in words)
        return _Words(literal_column(WORDS_OF_TEXT).op("@@")(
            func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("words", terms, unique=True))))
    if dialect == "sqlite" and has_text_index(s):  # FTS5 (migration 0005)
        match = " ".join(f'"{w}"' if len(w) == 1 else f'"{w}"*' for w in words)
        ids = s.scalars(text(f"SELECT rowid FROM {TEXT_INDEX} WHERE {TEXT_INDEX} MATCH :match LIMIT :most"),
                        {"match": match, "most": MANY}).all()
        if len(ids) < MANY:
            return Ticket.id.in_(ids)
        # "+": not by the id's index, so that the queue's own index gives the order; the set of matches
        # is made once for the query.
        return text(f"+tickets.id IN (SELECT rowid FROM {TEXT_INDEX} WHERE {TEXT_INDEX} MATCH :match)"
                    ).bindparams(match=match)
    # SQLite without FTS5: each word anywhere in the text, by reading it.
    return and_(*(Ticket.body.ilike("%" + w + "%") for w in words))


def state_counts(s: Session, agency: str) -> dict[str, int]:
    """Tickets per state for an agency, from the counts kept in step with every change; Diteruskan: the
    tickets it forwarded to another agency and that are there now."""
    counts = {state: n for state, n in s.execute(
        select(StateCount.state, StateCount.n).where(StateCount.agency == agency))}
    counts[TicketState.DITERUSKAN.value] = s.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.id.in_(forwarded_by(agency)), Ticket.agency != agency))
    return counts


@dataclass(frozen=True)
class RecapRow:
    code: str
    created_at: datetime
    channel: str
    line_id: str
    kind: str
    citizen_name: str
    phone: str | None
    citizen_home: str
    body: str
    state: str  # "diteruskan" for a ticket the agency forwarded
    due_at: datetime
    answered_at: datetime | None  # the answer sent (or the ticket closed) since it was last opened
    assignee: str | None
    forwarded_to: str  # the agency that holds a forwarded ticket now; "" for the agency's own
    withdrawn: bool = False  # archived at the citizen's request (Tutup: dibatalkan), since it was last opened
    category: str = ""  # a key of the agency's categories; "" none, or forwarded to another agency
    lapor_id: str = ""  # the national SP4N-LAPOR! tracking ID; "" none
    confidential: bool = False  # rahasia: the printed register does not name the citizen


def recap(s: Session, agency: str, start: datetime, end: datetime) -> Iterator[RecapRow]:
    """The tickets received in [start, end) that the agency holds, or forwarded to another (bukan
    wewenang), oldest first, for its recap book; streamed."""
    t, e, opened = Ticket, TicketEvent, aliased(TicketEvent)
    reopened = (select(func.max(opened.created_at)).where(opened.ticket_id == t.id, opened.action == "buka_kembali")
                .correlate(t).scalar_subquery())
    answered = (select(func.min(e.created_at))
                .where(e.ticket_id == t.id, e.action.in_(("kirim", "selesai", "jawab_langsung")),
                       e.created_at >= func.coalesce(reopened, t.created_at))
                .correlate(t).scalar_subquery())
    closed = aliased(TicketEvent)
    withdrawn = case((t.state == TicketState.DIARSIPKAN.value, select(closed.id).where(
        closed.ticket_id == t.id, closed.action == "batalkan",
        closed.created_at >= func.coalesce(reopened, t.created_at)).correlate(t).exists()), else_=False)
    received = (t.created_at >= start, t.created_at < end)
    described = (t.id, t.code, t.created_at, t.channel, t.line_id, t.kind, t.citizen_name, t.phone, t.citizen_home,
                 t.body)
    held = (select(*described, t.state, t.due_at, answered.label("answered_at"),
                   func.coalesce(Officer.full_name, Officer.username).label("assignee"),
                   literal("").label("forwarded_to"), withdrawn.label("withdrawn"), t.category, t.lapor_id, t.confidential)
            .outerjoin(Officer, Officer.id == t.assignee_id).where(t.agency == agency, *received))
    forwarded_ids = select(e.ticket_id).where(e.action == "teruskan", e.agency == agency)
    forwarded = (select(*described, literal(TicketState.DITERUSKAN.value), t.due_at, null(), null(), t.agency,
                        literal(False), literal(""), t.lapor_id, t.confidential)
                 .where(t.id.in_(forwarded_ids), t.agency != agency, *received))
    both = union_all(held, forwarded).subquery()
    query = (select(*(c for c in both.c if c.name != "id")).order_by(both.c.created_at, both.c.id)
             .execution_options(yield_per=500))
    for row in s.execute(query):
        yield RecapRow(*row)
