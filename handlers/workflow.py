"""The approval workflow of the service standard: every transition is one function here.

Each checks the officer's agency, role and the ticket's state, changes the ticket,
writes the audit entry, and returns the outbound rows to send after commit. The
web inbox and the command line both call these; nothing else changes a ticket's state.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from config import Service
from handlers import clock, notices, outbox
from parsers import codes
from parsers import lapor as lapor_ids
from parsers.intent import clean, text_with_location
from parsers.phone import address_for, valid_number
from replies.render import date, render, stamp
from store.db import now
from store.models import (Attachment, DeliveryStatus, InboundMessage, Officer, OutboundMessage, Role, Ticket,
                          TicketEvent, TicketState as S)
from store.queries import forwarded_by, last_on_whatsapp
from store.tickets import add_ticket, set_state, text_hash, unused_code

WHATSAPP_WINDOW = timedelta(hours=24)
# The most characters one message to a phone may hold: Twilio refuses a longer body (21617).
MESSAGE_LIMIT = 1600
REOPENABLE = (S.BARU, S.DITELAAH, S.DIDISPOSISI, S.DRAF, S.MENUNGGU_PERSETUJUAN, S.DISETUJUI, S.TERKIRIM)
# Where a ticket the citizen took back can be closed at once: not yet answered (an answer sent is
# closed with Selesai).
UNANSWERED = (S.BARU, S.DITELAAH, S.DIDISPOSISI, S.DRAF, S.MENUNGGU_PERSETUJUAN, S.DISETUJUI, S.DITUNDA)
MANUAL_CHANNELS = {"tatap_muka": "Tatap muka", "surat": "Surat", "kotak_saran": "Kotak saran"}
# Manual intake: a receipt this far back needs a note why; a little ahead is a clock off by a minute.
LATE_INTAKE = timedelta(days=30)
CLOCK_SKEW = timedelta(minutes=5)
# How an approved answer reached a citizen without a phone.
GIVEN = {"surat": "lewat surat", "langsung": "langsung kepada warga", "telepon": "lewat telepon"}


class WorkflowError(Exception):
    """An action that is not allowed; the message is for the officer, in Bahasa Indonesia."""


class NotFound(WorkflowError):
    """No such ticket for this officer's agency (another agency's ticket is 'not found', not 'forbidden')."""


class Forbidden(WorkflowError):
    """The officer's roles do not allow this action."""


@dataclass(frozen=True)
class Done:
    ticket: Ticket
    outbound_ids: tuple[int, ...] = ()
    waits_for_reply: bool = False  # the message waits for the citizen's reply to the WhatsApp template


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    role: Role | None  # None: any officer of the agency
    states: tuple[S, ...]


# What the inbox offers: an action shows only to an officer with the role, in one of the states.
ACTIONS = (
    Action("telaah", "Telaah", Role.LIAISON, (S.BARU,)),
    Action("disposisi", "Disposisi", Role.HEAD, (S.DITELAAH,)),
    Action("draf", "Simpan draf jawaban", Role.OFFICIAL, (S.DIDISPOSISI, S.DRAF)),
    Action("ajukan", "Ajukan untuk persetujuan", Role.OFFICIAL, (S.DIDISPOSISI, S.DRAF)),
    Action("setujui", "Setujui jawaban", Role.HEAD, (S.MENUNGGU_PERSETUJUAN,)),
    Action("kembalikan", "Kembalikan dengan catatan", Role.HEAD, (S.MENUNGGU_PERSETUJUAN,)),
    Action("kirim", "Kirim jawaban ke warga", Role.LIAISON, (S.DISETUJUI,)),
    Action("kirim_ulang", "Kirim ulang jawaban", Role.LIAISON, (S.TERKIRIM,)),
    Action("selesai", "Selesai", Role.LIAISON, (S.TERKIRIM, S.DISETUJUI)),
    Action("tunda", "Minta keterangan warga (tunda)", Role.LIAISON, REOPENABLE),
    Action("lanjutkan", "Lanjutkan (keterangan sudah ada)", Role.LIAISON, (S.DITUNDA,)),
    Action("arsipkan", "Arsipkan (tidak jelas / spam)", Role.LIAISON, (S.BARU, S.DITELAAH)),
    Action("teruskan", "Bukan wewenang: teruskan", Role.LIAISON, (S.BARU, S.DITELAAH)),
    Action("batalkan", "Tutup: dibatalkan atas permintaan warga", Role.LIAISON, UNANSWERED),
    Action("pisahkan", "Jadikan tiket baru", Role.LIAISON, (S.BARU, S.DITELAAH)),
    Action("jawab_langsung", "Jawab langsung dan selesai", Role.LIAISON, UNANSWERED),
    Action("catatan", "Catatan internal", None, tuple(S)),
    Action("ubah_data", "Perbaiki data warga", Role.LIAISON, tuple(S)),
    Action("lapor", "Nomor tracking SP4N-LAPOR!", Role.LIAISON, tuple(S)),
    Action("rahasia", "Rahasia (identitas pelapor)", Role.LIAISON, tuple(S)),
)
BY_NAME = {a.name: a for a in ACTIONS}


def allowed(officer: Officer, ticket: Ticket, service: Service) -> list[Action]:
    """The actions this officer may take on this ticket now: what the inbox offers is what the
    transitions accept, by the same checks."""
    return [a for a in ACTIONS if _permits(officer, ticket, a)
            and not (a.name == "setujui" and _own_draft(officer, ticket, service))]


def level_name(service: Service, agency: str, level: str) -> str:
    """How a level of approval is called (its position in service.toml); "" for the single level."""
    return service.agencies[agency].levels.get(level, level)


def approvers(s: Session, ticket: Ticket) -> list[int]:
    """The heads of the ticket's agency who may approve its draft where it waits now."""
    return [o.id for o in s.scalars(select(Officer).where(Officer.agency == ticket.agency, Officer.active))
            if o.has(Role.HEAD) and _at_its_level(o, ticket)]


def _at_its_level(officer: Officer, ticket: Ticket) -> bool:
    """The officer approves at the level the draft waits at (any level, where it waits at none)."""
    return not ticket.approval_level or officer.approval_level == ticket.approval_level


def _own_draft(officer: Officer, ticket: Ticket, service: Service) -> bool:
    """The officer drafted the answer, and the agency wants another head to approve it."""
    return ticket.draft_author_id == officer.id and not service.agencies[ticket.agency].self_approval


def _permits(officer: Officer, ticket: Ticket, action: Action) -> bool:
    if (action.role is not None and not officer.has(action.role)) or S(ticket.state) not in action.states:
        return False
    if action.role is Role.OFFICIAL and ticket.assignee_id != officer.id:
        return False  # only the official the ticket was assigned to drafts its answer
    if action.name == "selesai" and ticket.state == S.DISETUJUI and ticket.phone:
        return False  # an answer that can go by SMS/WhatsApp must be sent first
    if action.name == "kirim" and not ticket.phone:
        return False  # nobody to send it to: Selesai, saying how it was given
    if action.name == "batalkan" and not asked_to_withdraw(ticket):
        return False
    if action.name == "jawab_langsung" and ticket.channel != "tatap_muka":
        return False  # the answer given on the spot is face to face's
    if action.name in ("setujui", "kembalikan") and not _at_its_level(officer, ticket):
        return False  # the draft waits at another level of the hierarchy
    return True


def asked_to_withdraw(ticket: Ticket) -> bool:
    """Whether the citizen asked to take the ticket back ("Batal") since it was last opened
    (received, opened again or forwarded in), and did not take that back. Read in the ticket's
    own session."""
    s = object_session(ticket)
    if s is None:
        return False
    return s.scalar(select(TicketEvent.action).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(("minta_batal", "batal_dicabut")),
        TicketEvent.created_at >= (ticket.new_since or ticket.created_at))
        .order_by(TicketEvent.id.desc()).limit(1)) == "minta_batal"  # not taken back since ("Tidak jadi batal")


def find(s: Session, officer: Officer, code: str) -> Ticket:
    """Load a ticket of the officer's agency by tracking code, or raise NotFound."""
    ticket = s.scalar(select(Ticket).where(Ticket.code == codes.normalize(code)))
    if ticket is None or ticket.agency != officer.agency or not officer.active:
        raise NotFound("Tiket tidak ditemukan.")
    return ticket


def find_to_read(s: Session, officer: Officer, code: str) -> Ticket:
    """Load a ticket the officer may read: their agency's, or one it forwarded to another (read-only
    there: no transition accepts it, find() refuses it); else raise NotFound."""
    try:
        return find(s, officer, code)
    except NotFound:
        ticket = s.scalar(select(Ticket).where(Ticket.code == codes.normalize(code)))
        if ticket is None or not officer.active or s.scalar(
                forwarded_by(officer.agency).where(TicketEvent.ticket_id == ticket.id).limit(1)) is None:
            raise
        return ticket


def _check(officer: Officer, ticket: Ticket, name: str) -> None:
    action = BY_NAME[name]
    if ticket.agency != officer.agency or not officer.active:
        raise NotFound("Tiket tidak ditemukan.")
    if action.role is not None and not officer.has(action.role):
        raise Forbidden(f"Tindakan '{action.label}' hanya untuk peran {action.role.value}.")
    if S(ticket.state) not in action.states:
        raise WorkflowError(f"Tindakan '{action.label}' tidak bisa dilakukan pada status {ticket.state}.")
    if not _permits(officer, ticket, action):
        if name == "batalkan":  # role and state are right: nobody asked for it
            raise WorkflowError("Warga tidak meminta laporan ini dibatalkan.")
        if name == "kirim" and not ticket.phone:
            raise WorkflowError("Tiket ini tidak punya nomor ponsel: sampaikan jawaban dengan cara lain, lalu "
                                "Selesai dengan cara itu.")
        raise Forbidden(f"Tindakan '{action.label}' tidak diizinkan untuk Anda pada tiket ini.")


def _event(s: Session, ticket: Ticket, officer: Officer | None, action: str, before: str, note: str = "") -> None:
    s.add(TicketEvent(ticket_id=ticket.id, officer_id=officer.id if officer else None, action=action,
                      from_state=before, to_state=ticket.state, agency=ticket.agency, note=note.strip()))


def _move(s: Session, officer: Officer | None, ticket: Ticket, action: str, to: S, note: str = "",
          agency: str | None = None) -> None:
    before = ticket.state
    set_state(s, ticket, to, agency)
    _event(s, ticket, officer, action, before, note)


def _plain(text: str) -> str:
    """A text as compared: a browser sends a textarea's lines ended by CRLF."""
    return text.replace("\r\n", "\n").strip()


def _required(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise WorkflowError(f"{what} wajib diisi.")
    return text


def prefix(service: Service, ticket: Ticket, agency: str | None = None) -> str:
    """What begins every message an officer sends a citizen, so that one with two complaints knows which
    is answered: the code and the short name of the agency writing (by default the one holding it)."""
    return f"[{codes.display(ticket.code)}] {service.agencies[agency or ticket.agency].short_name}: "


def body_limit(service: Service, ticket: Ticket) -> int:
    """The most characters an officer may write to the citizen: one message, the prefix included."""
    return MESSAGE_LIMIT - len(prefix(service, ticket))


def _to_send(text: str, what: str, service: Service, ticket: Ticket) -> str:
    """A message for the citizen's phone: required, and within what one message may hold."""
    text = _required(text, what)
    length, limit = len(text.encode("utf-16-le")) // 2, body_limit(service, ticket)  # as Twilio counts
    if length > limit:
        raise WorkflowError(f"{what} terlalu panjang: {length} karakter, paling banyak {limit} "
                            "dalam satu pesan. Ringkas isinya.")
    return text


def telaah(s: Session, officer: Officer, ticket: Ticket, service: Service, note: str = "",
           category: str = "") -> Done:
    """The liaison has read and reviewed the ticket (menelaah), and says what it is about where the
    agency keeps categories (one that fits none stays without): its follow-up stage starts."""
    _check(officer, ticket, "telaah")
    categories = service.agencies[ticket.agency].categories
    if category:
        if category not in categories:
            raise WorkflowError("Kategori itu tidak ada: pilih dari daftar.")
        ticket.category = category
        note = "; ".join(filter(None, (f"kategori: {categories[category]}", note.strip())))
    clock.reviewed(service, ticket, now())
    _move(s, officer, ticket, "telaah", S.DITELAAH, note)
    return Done(ticket)


def disposisi(s: Session, officer: Officer, ticket: Ticket, assignee_id: int, instruction: str) -> Done:
    """The head assigns an official of the agency, with an instruction."""
    _check(officer, ticket, "disposisi")
    assignee = s.get(Officer, assignee_id)
    if assignee is None or assignee.agency != officer.agency or not assignee.active \
            or not assignee.has(Role.OFFICIAL):
        raise WorkflowError("Pilih pejabat yang ditugaskan dari instansi ini.")
    ticket.assignee_id = assignee.id
    ticket.instruction = _required(instruction, "Arahan disposisi")
    _move(s, officer, ticket, "disposisi", S.DIDISPOSISI, f"kepada {assignee.full_name or assignee.username}: "
          f"{ticket.instruction}")
    _tell(s, officer, ticket, "disposed", [assignee.id])
    return Done(ticket)


def draf(s: Session, officer: Officer, ticket: Ticket, service: Service, text: str) -> Done:
    """The assigned official saves the answer being prepared."""
    _check(officer, ticket, "draf")
    ticket.draft = _to_send(text, "Jawaban", service, ticket)
    ticket.draft_author_id = officer.id
    _move(s, officer, ticket, "draf", S.DRAF)
    return Done(ticket)


def ajukan(s: Session, officer: Officer, ticket: Ticket, service: Service, text: str | None = None) -> Done:
    """The assigned official submits the draft up for approval."""
    _check(officer, ticket, "ajukan")
    if text is not None:
        ticket.draft = text
        ticket.draft_author_id = officer.id
    ticket.draft = _to_send(ticket.draft, "Jawaban", service, ticket)
    chain = service.agencies[ticket.agency].chain(ticket.channel)
    ticket.approval_level = chain[0] if chain else ""  # up the hierarchy from its first level
    _move(s, officer, ticket, "ajukan", S.MENUNGGU_PERSETUJUAN,
          f"menunggu persetujuan {level_name(service, ticket.agency, chain[0])}" if chain else "")
    _tell(s, officer, ticket, "approve", approvers(s, ticket))
    return Done(ticket)


def setujui(s: Session, officer: Officer, ticket: Ticket, service: Service, note: str = "",
            text: str | None = None) -> Done:
    """The head approves the answer, with their corrections when the text differs; one's own draft
    only where the agency allows it. Up the hierarchy (service.toml), each level approves in turn:
    the draft goes on to the next, and is approved once the last level has."""
    _check(officer, ticket, "setujui")
    if _own_draft(officer, ticket, service):
        raise Forbidden("Jawaban yang Anda susun sendiri harus disetujui pimpinan lain.")
    said = []
    if text is not None and _plain(text) != _plain(ticket.draft):
        ticket.draft = _to_send(text, "Jawaban", service, ticket)
        said.append("dengan perbaikan")
    chain, here = service.agencies[ticket.agency].chain(ticket.channel), ticket.approval_level
    higher = chain[chain.index(here) + 1:] if here in chain else ()
    if higher:
        ticket.approval_level = higher[0]
        said.append(f"disetujui {level_name(service, ticket.agency, here)}, diteruskan ke "
                    f"{level_name(service, ticket.agency, ticket.approval_level)}")
        _event(s, ticket, officer, "setujui", ticket.state, "; ".join(filter(None, said + [note.strip()])))
        _tell(s, officer, ticket, "approve", approvers(s, ticket))
        return Done(ticket)
    ticket.approved_by_id = officer.id
    ticket.review_note = ticket.approval_level = ""
    _move(s, officer, ticket, "setujui", S.DISETUJUI, "; ".join(filter(None, said + [note.strip()])))
    return Done(ticket)


def kembalikan(s: Session, officer: Officer, ticket: Ticket, note: str) -> Done:
    """A head returns the draft with a note, at whatever level it waits: it goes back to its author,
    and up from the first level again once submitted."""
    _check(officer, ticket, "kembalikan")
    ticket.review_note = _required(note, "Catatan")
    ticket.approval_level = ""
    _move(s, officer, ticket, "kembalikan", S.DRAF, ticket.review_note)
    _tell(s, officer, ticket, "returned", [ticket.draft_author_id or ticket.assignee_id])
    return Done(ticket)


def _tell(s: Session, officer: Officer, ticket: Ticket, kind: str, officer_ids: list[int | None]) -> None:
    """The ticket now waits for these officers: an immediate notice for each but the one who acted."""
    notices.add(s, ticket, kind, [i for i in officer_ids if i is not None and i != officer.id])


def _to_citizen(s: Session, ticket: Ticket, service: Service, body: str, purpose: str,
                key: str) -> tuple[int, bool] | None:
    """Write a message to the citizen on the ticket's channel; return the row to send now and whether
    the message waits for the reply to the template (below); None when the ticket has no phone.
    What an officer writes comes with prefix() before it; an acknowledgement does not.

    Once WhatsApp's 24-hour window has closed (free text is refused, 63016), as the line says: by
    SMS from its sms_fallback_from; else the message waits and its template_sid, an approved
    template, asks the citizen to reply, which opens the window and sends it (release_held).
    """
    if not ticket.phone:
        return None
    channel, sender = ticket.channel, ticket.line_address
    line = service.line(ticket.line_id)
    route = late_route(s, ticket, service)
    if channel not in ("sms", "whatsapp"):
        channel, sender = "sms", _sms_sender(service, ticket.agency)
    elif route == "sms":
        channel, sender = "sms", line.sms_fallback_from
    to = address_for(channel, ticket.phone)
    template = route == "template"
    row = outbox.write(s, key=key, purpose=purpose, channel=channel, to=to, from_=sender, body=body,
                       ticket_id=ticket.id, held=template)
    if template:
        code = codes.display(ticket.code)
        row = outbox.write(s, key=f"{key}:notice", purpose="window_notice", channel=channel, to=to, from_=sender,
                           body=render("window_notice", code=code), ticket_id=ticket.id,
                           content_sid=line.template_sid, content_variables=json.dumps({"1": code}))
    return row.id, template


def _done(ticket: Ticket, sent: tuple[int, bool] | None) -> Done:
    """What an action did that wrote to the citizen (_to_citizen's answer)."""
    return Done(ticket, (sent[0],), sent[1]) if sent else Done(ticket)


def _sms_sender(service: Service, agency: str) -> str:
    """The number a ticket without a line of its own (registered by hand) is answered from."""
    sender = outbox.sms_sender(service, agency)
    if sender is None:
        raise WorkflowError("Tidak ada layanan SMS untuk mengirim jawaban.")
    return sender


def outside_window(s: Session, ticket: Ticket) -> bool:
    """Tell whether WhatsApp's 24-hour window for free text has closed for this ticket's citizen:
    the window is the number's, opened by any message to it (a CEK, a greeting, another ticket)."""
    if ticket.channel != "whatsapp":
        return False
    # The ticket's own last message counts too: messages stored before a release that kept the window.
    last = max(filter(None, (ticket.last_inbound_at, last_on_whatsapp(s, ticket.phone, ticket.line_address))),
               default=None)
    return last is None or now() - last > WHATSAPP_WINDOW


def late_route(s: Session, ticket: Ticket, service: Service) -> str:
    """How a message to the citizen goes once WhatsApp's window has closed, as the ticket's line says:
    "sms", "template" (it waits for the reply a template asks for) or "refused" (WhatsApp will
    refuse it); "" while the window is open or the ticket is no WhatsApp one."""
    line = service.line(ticket.line_id)
    if line is None or not outside_window(s, ticket):
        return ""
    return "sms" if line.sms_fallback_from else "template" if line.template_sid else "refused"


def kirim(s: Session, officer: Officer, ticket: Ticket, service: Service) -> Done:
    """The liaison sends the approved answer to the citizen's phone."""
    _check(officer, ticket, "kirim")
    if ticket.approved_by_id is None:
        raise WorkflowError("Jawaban belum disetujui.")
    sent = _to_citizen(s, ticket, service, prefix(service, ticket) + ticket.draft, "answer", f"answer:{ticket.id}")
    ticket.answered_at = now()
    _move(s, officer, ticket, "kirim", S.TERKIRIM)
    return _done(ticket, sent)


def kirim_ulang(s: Session, officer: Officer, ticket: Ticket, service: Service) -> Done:
    """The liaison sends the answer again: it failed, or the citizen says it never came.

    Not while the last one is still being sent; one that waits for the citizen's reply to the
    WhatsApp template is replaced (the template is sent again), so that the reply releases one.
    """
    _check(officer, ticket, "kirim_ulang")
    answers = s.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id,
                                                      OutboundMessage.purpose == "answer")
                        .order_by(OutboundMessage.id.desc())).all()
    if answers and answers[0].status in (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value):
        raise WorkflowError("Jawaban sebelumnya sedang dikirim: tunggu hasilnya.")
    for row in answers:
        if row.status == DeliveryStatus.HELD.value:
            outbox.suppress(row, "diganti kiriman ulang")
    sent = _to_citizen(s, ticket, service, prefix(service, ticket) + ticket.draft, "answer",
                       f"answer:{ticket.id}:{len(answers) + 1}")
    _event(s, ticket, officer, "kirim_ulang", ticket.state)
    return _done(ticket, sent)


def selesai(s: Session, officer: Officer, ticket: Ticket, note: str = "", given: str = "") -> Done:
    """The liaison closes a ticket whose answer went out; an approved answer to a ticket without a
    phone closes saying how it was given (GIVEN: by letter, in person, by telephone), answered now."""
    _check(officer, ticket, "selesai")
    if ticket.state == S.DISETUJUI:
        if given not in GIVEN:
            raise WorkflowError("Pilih cara jawaban disampaikan: surat, langsung, atau telepon.")
        ticket.answered_at = now()
        note = "; ".join(filter(None, (f"jawaban disampaikan {GIVEN[given]}", note.strip())))
    _move(s, officer, ticket, "selesai", S.SELESAI, note)
    return Done(ticket)


def tunda(s: Session, officer: Officer, ticket: Ticket, service: Service, question: str) -> Done:
    """The liaison asks the citizen for missing information; the ticket waits (Ditunda)."""
    _check(officer, ticket, "tunda")
    question = _to_send(question, "Pertanyaan untuk warga", service, ticket)
    ticket.held_state = ticket.state
    ticket.paused_at = now()  # the clock stands still until the citizen answers (clock.resume)
    sent = _to_citizen(s, ticket, service, prefix(service, ticket) + question, "question",
                       f"question:{ticket.id}:{_event_count(s, ticket)}")
    _move(s, officer, ticket, "tunda", S.DITUNDA, question)
    return _done(ticket, sent)


def lanjutkan(s: Session, officer: Officer | None, ticket: Ticket, service: Service, note: str = "") -> Done:
    """Resume a ticket that waited for the citizen (an officer, or the citizen's reply); the time it
    waited is added to its deadlines, and the history says by how much.

    An officer goes on with what was asked at hand: a question still waiting for the citizen's reply
    to the WhatsApp template is not sent any more (their next message would release it)."""
    if officer is not None:
        _check(officer, ticket, "lanjutkan")
        _drop_held(s, ticket, "tidak diperlukan lagi: dilanjutkan petugas", "question")
    elif ticket.state != S.DITUNDA:
        return Done(ticket)
    moved = clock.resume(service, ticket, now())
    note = "; ".join(filter(None, (note.strip(), moved)))
    _move(s, officer, ticket, "lanjutkan", S(ticket.held_state or S.DITELAAH.value), note)
    ticket.held_state = ""
    return Done(ticket)


def minta_batal(s: Session, ticket: Ticket, service: Service) -> Done:
    """The citizen asked to take the open ticket back ("Batal", "Maaf salah kirim"). It stays open
    until an officer closes it (batalkan, in any step before an answer): a message misread must not
    end a complaint. One that waited for the citizen goes on, to be seen."""
    lanjutkan(s, None, ticket, service)
    _event(s, ticket, None, "minta_batal", ticket.state)
    return Done(ticket)


def batal_dicabut(s: Session, ticket: Ticket) -> Done:
    """The citizen takes back a request to take the ticket back ("Tidak jadi batal"): on the record,
    when there was one to take back."""
    if asked_to_withdraw(ticket):
        _event(s, ticket, None, "batal_dicabut", ticket.state)
    return Done(ticket)


def buka_kembali(s: Session, ticket: Ticket, service: Service, received: datetime) -> Done:
    """The citizen wrote more about a closed ticket (Selesai, Diarsipkan): it is open again as
    Baru, with the deadline of its service standard counted anew from that message, so that
    what they wrote is read and answered rather than kept where nobody looks."""
    if S(ticket.state) not in (S.SELESAI, S.DIARSIPKAN):
        return Done(ticket)
    clock.start(service, ticket, received)
    ticket.approved_by_id = None  # an answer to the new message needs its own approval
    ticket.new_since = received
    _move(s, None, ticket, "buka_kembali", S.BARU, "warga mengirim tambahan keterangan")
    return Done(ticket)


def batalkan(s: Session, officer: Officer, ticket: Ticket, note: str = "") -> Done:
    """The liaison closes a ticket the citizen took back, in whatever step it was, without an answer.
    Nothing more is sent: the citizen was told at once that an officer would close it. A question
    still waiting for WhatsApp's window is not sent any more."""
    _check(officer, ticket, "batalkan")
    _drop_held(s, ticket, "tidak diperlukan lagi: laporan dibatalkan warga")
    ticket.held_state = ""
    _move(s, officer, ticket, "batalkan", S.DIARSIPKAN, note)
    return Done(ticket)


def _drop_held(s: Session, ticket: Ticket, reason: str, *purposes: str) -> None:
    """Stop the ticket's messages held for WhatsApp's window (those of the purposes; all without)."""
    query = select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id,
                                          OutboundMessage.status == DeliveryStatus.HELD.value)
    if purposes:
        query = query.where(OutboundMessage.purpose.in_(purposes))
    for row in s.scalars(query):
        outbox.suppress(row, reason)


def arsipkan(s: Session, officer: Officer, ticket: Ticket, note: str) -> Done:
    """The liaison archives an unintelligible or spam ticket."""
    _check(officer, ticket, "arsipkan")
    _move(s, officer, ticket, "arsipkan", S.DIARSIPKAN, _required(note, "Alasan"))
    return Done(ticket)


def teruskan(s: Session, officer: Officer, ticket: Ticket, service: Service, agency: str, note: str) -> Done:
    """Not this agency's authority (bukan wewenang): the ticket moves to the other agency's queue as Baru,
    and the citizen is told where it went."""
    _check(officer, ticket, "teruskan")
    if agency not in service.agencies or agency == ticket.agency:
        raise WorkflowError("Pilih instansi tujuan yang lain.")
    note = _required(note, "Alasan")
    before, source = ticket.state, ticket.agency
    # One entry in each queue's history: this agency forwarded it; the other received it.
    set_state(s, ticket, S.DITERUSKAN)
    _event(s, ticket, officer, "teruskan", before, f"ke {service.agencies[agency].name}: {note}")
    ticket.assignee_id = None
    ticket.instruction = ticket.draft = ticket.review_note = ""
    ticket.draft_author_id = ticket.approved_by_id = None
    ticket.approval_level = ""
    ticket.new_since = now()  # new to the agency that receives it: its clock starts here, by its rule
    clock.start(service, ticket, ticket.new_since, clock.rule_of(service, ticket, agency))
    _move(s, officer, ticket, "diterima", S.BARU, f"dari {service.agencies[source].name}: {note}; "
          f"batas waktu {date(ticket.due_at)}", agency=agency)
    told = _to_citizen(s, ticket, service, prefix(service, ticket, source) + render(
        "forwarded", code=codes.display(ticket.code), agency=service.agencies[agency].short_name,
        due=date(ticket.due_at)), "forwarded", f"forwarded:{ticket.id}:{_event_count(s, ticket)}")
    return _done(ticket, told)


def messages_of(s: Session, ticket: Ticket) -> list[InboundMessage]:
    """The citizen's messages on the ticket's conversation, in the order they came."""
    return list(s.scalars(select(InboundMessage).where(InboundMessage.ticket_id == ticket.id)
                          .order_by(InboundMessage.id)))


def added_messages(messages: list[InboundMessage]) -> list[InboundMessage]:
    """Of a ticket's messages in the order they came (by id), those added after the one that began it
    (a phone's automatic answers and status checks aside): what pisahkan may make a ticket of its own."""
    return [m for m in messages[1:] if m.intent not in ("AutoReply", "StatusCheck")]


def pisahkan(s: Session, officer: Officer, ticket: Ticket, service: Service, inbound_id: int) -> Done:
    """A message added to this request is another one (a second problem sent just after the first):
    it becomes a ticket of its own, received when the message was, with its text and attachments;
    the citizen is told its code as a request is acknowledged."""
    _check(officer, ticket, "pisahkan")
    msg = next((m for m in added_messages(messages_of(s, ticket)) if m.id == inbound_id), None)
    if msg is None:
        raise WorkflowError("Pilih pesan warga yang ditambahkan ke tiket ini (bukan pesan pertamanya).")
    line = service.line(ticket.line_id)
    if line is None:
        raise WorkflowError(f"Layanan {ticket.line_id} tidak ada lagi (service.toml): catat laporan itu dengan tangan.")
    text = clean(text_with_location(msg.body, msg.params or {}))  # as it was added to the ticket's text
    lines = ticket.body.split("\n")
    for i in range(len(lines) - 1, 0, -1):  # the line it added to the ticket's text (never the first)
        if lines[i] == text:
            ticket.body = "\n".join(lines[:i] + lines[i + 1:])
            break
    new = Ticket(
        code=unused_code(s), agency=ticket.agency, line_id=ticket.line_id, channel=ticket.channel, kind=ticket.kind,
        phone=ticket.phone, citizen_address=ticket.citizen_address, line_address=ticket.line_address,
        citizen_name=ticket.citizen_name, body=text, body_hash=text_hash(text) if text else "",
        created_at=msg.received_at, last_inbound_at=msg.received_at)
    clock.start(service, new, msg.received_at)
    add_ticket(s, new)
    msg.ticket_id = new.id
    for attachment in s.scalars(select(Attachment).where(Attachment.inbound_id == msg.id)):
        attachment.ticket_id = new.id
    _event(s, ticket, officer, "pisahkan", ticket.state, f"pesan warga dipindah ke tiket {codes.display(new.code)}")
    _event(s, new, officer, "pisahkan", new.state, f"dari tiket {codes.display(ticket.code)}")
    template = "ack_information" if new.kind == "informasi" else "ack_complaint"
    told = _to_citizen(s, new, service, render(template, code=codes.display(new.code), due=date(new.due_at)),
                       "ack", f"split:{msg.id}")
    return _done(ticket, told)


def register(s: Session, officer: Officer, service: Service, *, channel: str, name: str, phone: str,
             home: str, text: str, kind: str = "pengaduan", received: datetime | None = None,
             agreed: datetime | None = None, note: str = "", confidential: bool = False) -> Done:
    """Manual intake: a complaint that came face to face, by letter or through the suggestion box.

    Its clock starts when it was received (the letter's stamp, the day the box was opened; default
    now), never in the future, and more than LATE_INTAKE back only with a note saying why. Face to
    face, the time agreed with the citizen ("sesuai waktu yang disepakati") replaces the standard's
    minutes."""
    if not officer.has(Role.LIAISON):
        raise Forbidden("Pencatatan pengaduan hanya untuk pejabat penghubung.")
    if channel not in MANUAL_CHANNELS:
        raise WorkflowError("Pilih saluran: tatap muka, surat, atau kotak saran.")
    # A number that cannot be dialled (12345) would be "answered" into the void and counted as answered.
    e164 = valid_number(phone) if phone.strip() else None
    if phone.strip() and e164 is None:
        raise WorkflowError(f"Nomor ponsel {phone.strip()[:20]} tidak valid. Tulis nomor lengkap, misalnya "
                            "0812-3456-7890, atau kosongkan bila warga tidak punya.")
    agency = service.agencies[officer.agency]
    rule = agency.deadlines.get(channel)
    if rule is None:
        raise WorkflowError(f"Instansi ini tidak punya batas waktu untuk saluran {channel}.")
    moment, note = now(), note.strip()
    received = received or moment
    if received > moment + CLOCK_SKEW:
        raise WorkflowError("Waktu diterima tidak boleh di masa depan.")
    if received < moment - LATE_INTAKE and not note:
        raise WorkflowError(f"Diterima lebih dari {LATE_INTAKE.days} hari yang lalu: tulis catatan alasannya.")
    if agreed is not None and (channel != "tatap_muka" or agreed <= received):
        raise WorkflowError("Waktu yang disepakati hanya untuk tatap muka, dan sesudah waktu diterima.")
    ticket = Ticket(
        code=unused_code(s), agency=agency.code, line_id="", channel=channel,
        kind=kind if kind in ("pengaduan", "informasi") else "pengaduan", phone=e164,
        citizen_address=address_for("sms", e164) if e164 else "", line_address="",
        citizen_name=name.strip()[:120], citizen_home=home.strip()[:255], body=_required(text, "Isi pengaduan"),
        created_at=received, last_inbound_at=None, lapor_id=lapor_ids.tracking_id(text), confidential=confidential,
    )
    clock.start(service, ticket, received, rule)
    if agreed is not None:
        ticket.due_at = agreed
    add_ticket(s, ticket)
    said = [f"dicatat dari {MANUAL_CHANNELS[channel].lower()}, diterima {stamp(received)}"]
    if agreed is not None:
        said.append(f"dijawab sesuai waktu yang disepakati: {stamp(agreed)}")
    if confidential:
        said.append("identitas pelapor dirahasiakan")
    _event(s, ticket, officer, "catat", "", "; ".join(said + ([note] if note else [])))
    # With a phone, the citizen gets the acknowledgement and its code by SMS, as from every other channel.
    template = "ack_information" if ticket.kind == "informasi" else "ack_complaint"
    told = _to_citizen(s, ticket, service, render(template, code=codes.display(ticket.code), due=date(ticket.due_at)),
                       "ack", f"intake:{ticket.id}")
    return _done(ticket, told)


def jawab_langsung(s: Session, officer: Officer, ticket: Ticket, answer: str) -> Done:
    """Face to face: the liaison records the answer given on the spot and closes the ticket in one step;
    it counts as answered now."""
    _check(officer, ticket, "jawab_langsung")
    ticket.draft = _required(answer, "Jawaban yang diberikan")
    ticket.answered_at = now()
    ticket.paused_at, ticket.held_state = None, ""
    _move(s, officer, ticket, "jawab_langsung", S.SELESAI, ticket.draft)
    return Done(ticket)


def catatan(s: Session, officer: Officer, ticket: Ticket, note: str) -> Done:
    """An officer writes an internal note on the ticket, for colleagues: its history keeps it, the
    citizen never sees it, the state stays."""
    _check(officer, ticket, "catatan")
    _event(s, ticket, officer, "catatan", ticket.state, _required(note, "Catatan"))
    return Done(ticket)


def ubah_data(s: Session, officer: Officer, ticket: Ticket, name: str, home: str) -> Done:
    """The liaison corrects the citizen's name and address; the history keeps what they were."""
    _check(officer, ticket, "ubah_data")
    name, home = name.strip()[:120], home.strip()[:255]
    changed = [f"{what}: \u201c{old or '-'}\u201d menjadi \u201c{new or '-'}\u201d"
               for what, old, new in (("nama", ticket.citizen_name, name), ("alamat", ticket.citizen_home, home))
               if old != new]
    if not changed:
        raise WorkflowError("Data warga tidak berubah.")
    ticket.citizen_name, ticket.citizen_home = name, home
    _event(s, ticket, officer, "ubah_data", ticket.state, "; ".join(changed))
    return Done(ticket)


def lapor(s: Session, officer: Officer, ticket: Ticket, typed: str) -> Done:
    """The liaison types or pastes the ticket's national SP4N-LAPOR! tracking ID (empty: none)."""
    _check(officer, ticket, "lapor")
    found = lapor_ids.typed_id(typed)
    if found is None:
        raise WorkflowError("Nomor tracking LAPOR! berisi 5 sampai 12 angka, misalnya 1234567.")
    if found == ticket.lapor_id:
        raise WorkflowError("Nomor tracking LAPOR! tidak berubah.")
    before, ticket.lapor_id = ticket.lapor_id, found
    _event(s, ticket, officer, "lapor", ticket.state, f"nomor tracking LAPOR!: {before or '-'} menjadi {found or '-'}")
    return Done(ticket)


def rahasia(s: Session, officer: Officer, ticket: Ticket, secret: bool) -> Done:
    """The liaison marks the ticket confidential (rahasia: the export to SP4N-LAPOR! leaves out who
    the citizen is), or no longer; the history keeps it."""
    _check(officer, ticket, "rahasia")
    if secret == ticket.confidential:
        raise WorkflowError("Tiket ini sudah " + ("dirahasiakan." if secret else "tidak dirahasiakan."))
    ticket.confidential = secret
    _event(s, ticket, officer, "rahasia", ticket.state, "identitas pelapor dirahasiakan" if secret
           else "identitas pelapor tidak lagi dirahasiakan")
    return Done(ticket)


def eskalasi(s: Session, ticket: Ticket, note: str, at: datetime) -> Done:
    """Report an overdue ticket to its agency's heads, in its history, as of the daily work's moment."""
    s.add(TicketEvent(ticket_id=ticket.id, action="eskalasi", from_state=ticket.state, to_state=ticket.state,
                      agency=ticket.agency, note=note, created_at=at))
    return Done(ticket)


def tutup_otomatis(s: Session, ticket: Ticket) -> Done:
    """Close a sent answer's ticket the citizen has not written about since (the daily work decides when)."""
    _move(s, None, ticket, "tutup_otomatis", S.SELESAI,
          f"tidak ada tanggapan warga {clock.AUTO_CLOSE.amount} hari kerja sejak jawaban dikirim")
    return Done(ticket)


def _event_count(s: Session, ticket: Ticket) -> int:
    return s.scalar(select(func.count()).where(TicketEvent.ticket_id == ticket.id))
