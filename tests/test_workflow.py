"""Every workflow transition, allowed and refused: wrong role, wrong agency, wrong state."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from config import Settings
from handlers import officers, outbox, workflow
from handlers.deadlines import due_at
from handlers.workflow import ACTIONS, Forbidden, NotFound, WorkflowError
from parsers import codes
from replies.render import date
from store.db import now
from store.models import InboundMessage, OutboundMessage, Role, Ticket, TicketEvent, TicketState as S
from store.queries import saw_on_whatsapp, state_counts
from store.tickets import add_ticket, set_state

SERVICE = Settings.from_env({}).service
ALL = list(Role)


class World:
    def __init__(self, s):
        self.s = s
        self.n = 0

    def officer(self, *roles: Role, agency: str = "biro-organisasi"):
        self.n += 1
        return officers.add(self.s, SERVICE, username=f"petugas{self.n}", agency=agency, roles=list(roles),
                            password="kata-sandi-panjang")

    def ticket(self, state: S = S.BARU, channel: str = "sms", phone: str | None = "+6281234567890", **kw):
        t = add_ticket(self.s, Ticket(
            code=f"{10_000_000 + self.n * 7:08d}", agency="biro-organisasi", line_id="lapor-sms", channel=channel,
            kind="pengaduan", phone=phone, citizen_address=phone or "", line_address="+621708",
            body="jalan rusak", created_at=now(), due_at=now() + timedelta(days=8), last_inbound_at=now(), **kw))
        self.n += 1
        if state is not S.BARU:
            set_state(self.s, t, state)
        return t


def run(s, name: str, officer, ticket, assignee=None):
    """Call a transition with plausible arguments."""
    match name:
        case "telaah": return workflow.telaah(s, officer, ticket, SERVICE, "sudah dibaca")
        case "disposisi": return workflow.disposisi(s, officer, ticket, assignee.id if assignee else 0, "tolong jawab")
        case "draf": return workflow.draf(s, officer, ticket, SERVICE, "Jalan akan diperbaiki bulan depan.")
        case "ajukan": return workflow.ajukan(s, officer, ticket, SERVICE, "Jalan akan diperbaiki bulan depan.")
        case "setujui": return workflow.setujui(s, officer, ticket, SERVICE)
        case "kembalikan": return workflow.kembalikan(s, officer, ticket, "perbaiki tanggalnya")
        case "kirim": return workflow.kirim(s, officer, ticket, SERVICE)
        case "kirim_ulang": return workflow.kirim_ulang(s, officer, ticket, SERVICE)
        case "selesai": return workflow.selesai(s, officer, ticket)
        case "tunda": return workflow.tunda(s, officer, ticket, SERVICE, "Di RT berapa tepatnya?")
        case "lanjutkan": return workflow.lanjutkan(s, officer, ticket, SERVICE)
        case "arsipkan": return workflow.arsipkan(s, officer, ticket, "spam")
        case "teruskan": return workflow.teruskan(s, officer, ticket, SERVICE, "bppd", "urusan perbatasan")
        case "batalkan": return workflow.batalkan(s, officer, ticket)
        case "jawab_langsung": return workflow.jawab_langsung(s, officer, ticket, "Sudah dijelaskan di loket.")
        case "catatan": return workflow.catatan(s, officer, ticket, "Sudah ditelepon, warga setuju menunggu.")
        case "ubah_data": return workflow.ubah_data(s, officer, ticket, "Maria Goreti Ndun", "RT 05 Oesapa")
        case "lapor": return workflow.lapor(s, officer, ticket, "#3187561")
        case "rahasia": return workflow.rahasia(s, officer, ticket, True)
        case "pisahkan":
            added = _added(s, ticket)
            return workflow.pisahkan(s, officer, ticket, SERVICE, added[0].id if added else 0)
    raise AssertionError(name)


def _added(s, ticket) -> list[InboundMessage]:
    return workflow.added_messages(workflow.messages_of(s, ticket))


def prepared(world, action, officer):
    """A ticket in the action's first allowed state, set up so only role/agency/state can refuse."""
    state = action.states[0]
    t = world.ticket(state, channel="tatap_muka" if action.name == "jawab_langsung" else "sms", draft="Jawaban siap.",
                     held_state="ditelaah")
    if action.role is Role.OFFICIAL:
        t.assignee_id = officer.id
    if state is S.DISETUJUI:
        t.approved_by_id = officer.id
    if action.name == "batalkan":
        workflow.minta_batal(world.s, t, SERVICE)
    if action.name == "pisahkan":  # the request, then another problem added to it
        t.body = "jalan rusak\nlampu jalan mati"
        for body in ("NTT jalan rusak", "lampu jalan mati"):
            world.s.add(InboundMessage(message_sid=f"SM{world.n}{body[:4]}", channel="sms", from_address=t.phone,
                                       phone=t.phone, to_address="+621708", body=body, params={},
                                       received_at=now(), ticket_id=t.id))
        world.s.flush()
    return t


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_allowed(db, action):
    with db.transaction() as s:
        w = World(s)
        me = w.officer(action.role or Role.OFFICIAL)  # a note: any officer of the agency
        official = w.officer(Role.OFFICIAL)
        t = prepared(w, action, me)
        if action.name == "setujui":
            t.draft_author_id = official.id
        done = run(s, action.name, me, t, assignee=official)
        if action.name == "kirim_ulang":  # the state stays: the answer goes out again
            assert done.outbound_ids and done.ticket.state == S.TERKIRIM.value
        elif action.name == "pisahkan":  # the state stays: the message leaves for a ticket of its own
            assert done.outbound_ids and t.body == "jalan rusak" and _added(s, t) == []
        elif action.name in ("catatan", "ubah_data", "lapor", "rahasia"):  # the state stays: in the history
            assert done.ticket.state == action.states[0].value and not done.outbound_ids
        else:
            assert (done.ticket.state, done.ticket.agency) != (action.states[0].value, "biro-organisasi")
        event = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                          .order_by(TicketEvent.id.desc())).first()
        assert event.officer_id == me.id


@pytest.mark.parametrize("action", [a for a in ACTIONS if a.role is not None], ids=lambda a: a.name)
def test_wrong_role(db, action):
    with db.transaction() as s:
        w = World(s)
        me = w.officer(*[r for r in ALL if r is not action.role])
        t = prepared(w, action, me)
        with pytest.raises(Forbidden):
            run(s, action.name, me, t, assignee=w.officer(Role.OFFICIAL))


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_wrong_agency_is_not_found(db, action):
    with db.transaction() as s:
        w = World(s)
        stranger = w.officer(*ALL, agency="bppd")
        t = prepared(w, action, stranger)
        with pytest.raises(NotFound):
            run(s, action.name, stranger, t, assignee=w.officer(Role.OFFICIAL, agency="bppd"))
        with pytest.raises(NotFound):
            workflow.find(s, stranger, t.code)


@pytest.mark.parametrize("action", [a for a in ACTIONS if set(a.states) != set(S)], ids=lambda a: a.name)
def test_wrong_state(db, action):
    """(A note and a correction fit every state.)"""
    wrong = next(st for st in S if st not in action.states)
    with db.transaction() as s:
        w = World(s)
        me = w.officer(*ALL)
        t = w.ticket(wrong, draft="x", assignee_id=None)
        t.assignee_id = me.id
        with pytest.raises(WorkflowError) as info:
            run(s, action.name, me, t, assignee=w.officer(Role.OFFICIAL))
        assert not isinstance(info.value, (Forbidden, NotFound))


def test_full_path_sends_the_approved_answer(db):
    with db.transaction() as s:
        w = World(s)
        liaison, head, official = w.officer(Role.LIAISON), w.officer(Role.HEAD), w.officer(Role.OFFICIAL)
        t = w.ticket()
        workflow.telaah(s, liaison, t, SERVICE)
        workflow.disposisi(s, head, t, official.id, "Mohon dijawab")
        workflow.draf(s, official, t, SERVICE, "Draf pertama")
        workflow.ajukan(s, official, t, SERVICE)
        workflow.kembalikan(s, head, t, "Tambahkan jadwal")
        assert t.state == S.DRAF and t.review_note == "Tambahkan jadwal"
        workflow.ajukan(s, official, t, SERVICE, "Perbaikan dijadwalkan 3 Desember.")
        workflow.setujui(s, head, t, SERVICE)
        done = workflow.kirim(s, liaison, t, SERVICE)
        workflow.selesai(s, liaison, t)
        [out_id] = done.outbound_ids
        out = s.get(OutboundMessage, out_id)
        # The answer names its ticket and the agency: a citizen with two complaints knows which is answered.
        assert (out.to_address, out.from_address, out.body) == (
            "+6281234567890", "+621708", f"[{codes.display(t.code)}] Biro Organisasi: Perbaikan dijadwalkan 3 Desember.")
        actions = s.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == t.id)
                            .order_by(TicketEvent.id)).all()
        assert actions == ["telaah", "disposisi", "draf", "ajukan", "kembalikan", "ajukan", "setujui", "kirim",
                           "selesai"]
        assert t.state == S.SELESAI and not t.is_open


def test_nobody_sends_an_unapproved_answer(db):
    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(*ALL)
        t = w.ticket(S.MENUNGGU_PERSETUJUAN, draft="belum disetujui")
        with pytest.raises(WorkflowError):
            workflow.kirim(s, liaison, t, SERVICE)
        assert s.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_own_draft_needs_another_head_unless_the_agency_allows(db):
    with db.transaction() as s:
        w = World(s)
        both = w.officer(Role.HEAD, Role.OFFICIAL)
        t = w.ticket(S.DRAF, draft="x")
        t.assignee_id = both.id
        workflow.ajukan(s, both, t, SERVICE, "Jawaban saya")
        with pytest.raises(Forbidden):
            workflow.setujui(s, both, t, SERVICE)
        small_office = dataclasses.replace(
            SERVICE, agencies={**SERVICE.agencies, "biro-organisasi": dataclasses.replace(
                SERVICE.agencies["biro-organisasi"], self_approval=True)})
        workflow.setujui(s, both, t, small_office)
        assert t.state == S.DISETUJUI


def test_only_the_assigned_official_drafts(db):
    with db.transaction() as s:
        w = World(s)
        assigned, other = w.officer(Role.OFFICIAL), w.officer(Role.OFFICIAL)
        t = w.ticket(S.DIDISPOSISI)
        t.assignee_id = assigned.id
        with pytest.raises(Forbidden):
            workflow.draf(s, other, t, SERVICE, "bukan tugas saya")
        workflow.draf(s, assigned, t, SERVICE, "tugas saya")


def test_disposisi_only_to_an_official_of_the_agency(db):
    with db.transaction() as s:
        w = World(s)
        head = w.officer(Role.HEAD)
        t = w.ticket(S.DITELAAH)
        for wrong in (w.officer(Role.OFFICIAL, agency="bppd"), w.officer(Role.LIAISON)):
            with pytest.raises(WorkflowError):
                workflow.disposisi(s, head, t, wrong.id, "jawab")


def test_forward_moves_the_ticket_with_its_history(db):
    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(Role.LIAISON)
        there = w.officer(Role.LIAISON, agency="bppd")
        t = w.ticket(S.DITELAAH)
        done = workflow.teruskan(s, liaison, t, SERVICE, "bppd", "wilayah perbatasan")
        assert (t.agency, t.state) == ("bppd", S.BARU)
        with pytest.raises(NotFound):
            workflow.find(s, liaison, t.code)
        assert workflow.find(s, there, t.code) is t
        notes = s.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)).all()
        assert notes[-2].startswith("ke Badan Pengelola Perbatasan") and notes[-1].startswith("dari Biro Organisasi")
        assert state_counts(s, "bppd")["baru"] == 1 and state_counts(s, "biro-organisasi")["ditelaah"] == 0
        # The citizen is told where it went: CEK would say "menunggu ditelaah" again, with no reason
        [notice] = s.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == t.id)).all()
        assert done.outbound_ids == (notice.id,) and notice.purpose == "forwarded"
        assert (notice.to_address, notice.from_address) == ("+6281234567890", "+621708")  # the line they wrote to
        # from the agency forwarding it, naming the receiving one by its short name, with the deadline that
        # starts there (bppd: "lapor", 8 days)
        assert notice.body.startswith(f"[{codes.display(t.code)}] Biro Organisasi: Diteruskan ke BPPD NTT yang")
        assert t.due_at == t.new_since + timedelta(days=8) and f"paling lambat {date(t.due_at)}." in notice.body


def test_ask_the_citizen_then_resume(db):
    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(Role.LIAISON)
        t = w.ticket(S.DIDISPOSISI)
        done = workflow.tunda(s, liaison, t, SERVICE, "Mohon kirim foto lokasi.")
        assert t.state == S.DITUNDA and len(done.outbound_ids) == 1
        workflow.lanjutkan(s, None, t, SERVICE, "warga membalas")
        assert t.state == S.DIDISPOSISI


@pytest.mark.parametrize("channel, agency, minutes", [
    ("tatap_muka", "biro-organisasi", 15), ("surat", "biro-organisasi", 7 * 24 * 60),
    ("kotak_saran", "biro-organisasi", 7 * 24 * 60),
])
def test_manual_intake_gets_a_code_and_the_channel_deadline(db, channel, agency, minutes):
    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(Role.LIAISON)
        done = workflow.register(s, liaison, SERVICE, channel=channel, name="Yohanes Lede", phone="0813 3900 1122",
                                 home="Jl. Timor Raya 12, Oesapa", text="Pelayanan KTP lambat")
        t = done.ticket
        assert len(t.code) == 8 and t.phone == "+6281339001122" and t.channel == channel
        assert t.due_at - t.created_at == timedelta(minutes=minutes)
        t.draft, t.approved_by_id = "Sudah ditindaklanjuti.", liaison.id
        set_state(s, t, S.DISETUJUI)
        [out] = workflow.kirim(s, liaison, t, SERVICE).outbound_ids
        row = s.get(OutboundMessage, out)
        assert (row.channel, row.to_address, row.from_address) == ("sms", "+6281339001122", "1708")


def test_manual_intake_without_phone_closes_in_person(db):
    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(Role.LIAISON)
        t = workflow.register(s, liaison, SERVICE, channel="surat", name="Maria", phone="", home="Kupang",
                              text="Surat pengaduan").ticket
        t.draft, t.approved_by_id = "Dijawab dengan surat.", liaison.id
        set_state(s, t, S.DISETUJUI)
        with pytest.raises(WorkflowError, match="tidak punya nomor"):
            workflow.kirim(s, liaison, t, SERVICE)
        workflow.selesai(s, liaison, t, "", given="langsung")
        assert t.state == S.SELESAI


def test_manual_intake_is_for_liaisons(db):
    with db.transaction() as s:
        head = World(s).officer(Role.HEAD)
        with pytest.raises(Forbidden):
            workflow.register(s, head, SERVICE, channel="surat", name="", phone="", home="", text="x")


def test_counts_follow_every_change(db):
    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(Role.LIAISON)
        tickets = [w.ticket() for _ in range(3)]
        workflow.telaah(s, liaison, tickets[0], SERVICE)
        workflow.arsipkan(s, liaison, tickets[1], "spam")
        counts = state_counts(s, "biro-organisasi")
        real = dict(s.execute(select(Ticket.state, func.count()).where(Ticket.agency == "biro-organisasi")
                              .group_by(Ticket.state)).all())
        assert {k: v for k, v in counts.items() if v} == real == {"baru": 1, "ditelaah": 1, "diarsipkan": 1}


TEMPLATE = "HX" + "0123456789abcdef" * 2


def helpdesk_answer(w: World, hours_ago: float, **line):
    """An approved answer on the Dinsos WhatsApp line with these settings, whose citizen last wrote
    hours_ago: (the service, the liaison, the ticket)."""
    service = dataclasses.replace(SERVICE, lines=tuple(dataclasses.replace(l, **line) if l.channel == "whatsapp"
                                                       else l for l in SERVICE.lines))
    liaison = w.officer(Role.LIAISON, agency="dinsos-kupang")
    t = w.ticket(S.DISETUJUI, channel="whatsapp", draft="Bantuan cair minggu depan.")
    t.agency, t.line_id, t.line_address = "dinsos-kupang", "dinsos-wa", "whatsapp:+6282147626662"
    t.last_inbound_at = now() - timedelta(hours=hours_ago)
    t.approved_by_id = liaison.id
    return service, liaison, t


@pytest.mark.parametrize("hours_ago, fallback, template, channel, sender, route", [
    (2, "", "", "whatsapp", "whatsapp:+6282147626662", ""),
    (30, "", "", "whatsapp", "whatsapp:+6282147626662", "refused"),  # refused by WhatsApp (63016), shown
    (30, "+6281100001708", "", "sms", "+6281100001708", "sms"),      # configured: by SMS instead
    (2, "+6281100001708", "", "whatsapp", "whatsapp:+6282147626662", ""),
    (30, "+6281100001708", TEMPLATE, "sms", "+6281100001708", "sms"),  # SMS first: it needs no reply
    (2, "", TEMPLATE, "whatsapp", "whatsapp:+6282147626662", ""),
])
def test_whatsapp_answer_after_the_window(db, hours_ago, fallback, template, channel, sender, route):
    with db.transaction() as s:
        service, liaison, t = helpdesk_answer(World(s), hours_ago, sms_fallback_from=fallback, template_sid=template)
        assert workflow.outside_window(s, t) is (hours_ago > 24)
        assert workflow.late_route(s, t, service) == route
        [out] = workflow.kirim(s, liaison, t, service).outbound_ids
        row = s.get(OutboundMessage, out)
        assert (row.channel, row.from_address, row.body, row.status) == (
            channel, sender, f"[{codes.display(t.code)}] Dinsos Kota Kupang: Bantuan cair minggu depan.", "pending")
        assert row.to_address == ("whatsapp:" if channel == "whatsapp" else "") + "+6281234567890"
        assert s.scalar(select(func.count()).select_from(OutboundMessage)) == 1


def test_the_window_is_the_numbers_opened_by_any_message_to_it(db):
    # A CEK, a greeting or another ticket's message opens WhatsApp's window as this ticket's would.
    with db.transaction() as s:
        service, liaison, t = helpdesk_answer(World(s), 30, template_sid=TEMPLATE)
        saw_on_whatsapp(s, t.phone, "whatsapp:+6282147626662", now() - timedelta(hours=2))
        saw_on_whatsapp(s, t.phone, "whatsapp:+6282147626662", now() - timedelta(hours=40))  # processed late
        saw_on_whatsapp(s, t.phone, "whatsapp:+6281111111111", now())  # another number's window is its own
        assert not workflow.outside_window(s, t) and workflow.late_route(s, t, service) == ""
        done = workflow.kirim(s, liaison, t, service)
        assert not done.waits_for_reply
        assert [(r.status, r.purpose) for r in s.scalars(select(OutboundMessage))] == [("pending", "answer")]


@pytest.mark.parametrize("action", ["kirim", "tunda"])
def test_after_the_window_a_template_asks_for_a_reply_and_the_message_waits(db, action):
    with db.transaction() as s:
        service, liaison, t = helpdesk_answer(World(s), 30, template_sid=TEMPLATE)
        assert workflow.late_route(s, t, service) == "template"
        done = (workflow.kirim(s, liaison, t, service) if action == "kirim"
                else workflow.tunda(s, liaison, t, service, "Di kelurahan mana?"))
        [notice_id] = done.outbound_ids
        assert done.waits_for_reply
        rows = s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        message, notice = rows
        assert notice.id == notice_id and (notice.purpose, notice.status) == ("window_notice", "pending")
        assert (notice.content_sid, notice.content_variables) == (TEMPLATE, f'{{"1": "{codes.display(t.code)}"}}')
        assert codes.display(t.code) in notice.body and "Balas pesan ini" in notice.body
        assert (message.status, message.channel, message.purpose) == ("held", "whatsapp",
                                                                       "answer" if action == "kirim" else "question")
        assert message.body == workflow.prefix(service, t) + (
            "Bantuan cair minggu depan." if action == "kirim" else "Di kelurahan mana?")
        assert {r.to_address for r in rows} == {"whatsapp:+6281234567890"}
        assert {r.from_address for r in rows} == {"whatsapp:+6282147626662"}


@pytest.mark.parametrize("state", [S.SELESAI, S.DIARSIPKAN])
def test_a_citizen_writing_about_a_closed_ticket_opens_it_again(db, state):
    with db.transaction() as s:
        t = World(s).ticket(state)
        t.due_at, t.approved_by_id = now() - timedelta(days=20), 1
        workflow.buka_kembali(s, t, SERVICE, now())
        assert (t.state, t.is_open, t.approved_by_id) == ("baru", True, None)
        assert t.due_at > now() + timedelta(days=7)  # the line's 8 days, counted from the citizen's message
        counts = state_counts(s, "biro-organisasi")
        assert counts["baru"] == 1 and counts[state.value] == 0
        [event] = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)).all()
        assert (event.action, event.officer_id, event.from_state, event.to_state) == (
            "buka_kembali", None, state.value, "baru")


@pytest.mark.parametrize("state", [S.BARU, S.TERKIRIM, S.DITUNDA])
def test_an_open_ticket_is_not_opened_again(db, state):
    with db.transaction() as s:
        t = World(s).ticket(state)
        due = t.due_at
        workflow.buka_kembali(s, t, SERVICE, now() + timedelta(days=3))
        assert (t.state, t.due_at) == (state.value, due)
        assert s.scalar(select(func.count()).select_from(TicketEvent)) == 0


def test_a_ticket_registered_by_hand_opens_again_with_its_channels_deadline(db):
    with db.transaction() as s:
        t = World(s).ticket(S.SELESAI, channel="surat")
        t.line_id, t.due_at = "", now() - timedelta(days=20)
        received = now()
        workflow.buka_kembali(s, t, SERVICE, received)
        rule = SERVICE.agencies["biro-organisasi"].deadlines["surat"]
        assert (t.state, t.due_at) == ("baru", due_at(received, rule, SERVICE.holidays))


# One message holds 1,600 characters (Twilio refuses more, 21617), the prefix "[1000-0007] Biro Organisasi: "
# (29) included.
BODY_LIMIT = 1600 - 29


@pytest.mark.parametrize("text, fits", [
    ("a" * BODY_LIMIT, True),
    ("a" * (BODY_LIMIT + 1), False),
    ("  " + "a" * BODY_LIMIT + "\n", True),  # the spaces around it are not sent
    ("🙏" * 785 + "a", True),                 # an emoji counts twice, as Twilio and the counter count it
    ("🙏" * 786, False),
])
@pytest.mark.parametrize("action", ["draf", "ajukan", "tunda"])
def test_a_message_for_the_phone_must_fit_one_message(db, action, text, fits):
    with db.transaction() as s:
        w = World(s)
        officer = w.officer(Role.LIAISON, Role.OFFICIAL)
        t = w.ticket(S.DIDISPOSISI, assignee_id=officer.id)
        call = {"draf": lambda: workflow.draf(s, officer, t, SERVICE, text),
                "ajukan": lambda: workflow.ajukan(s, officer, t, SERVICE, text),
                "tunda": lambda: workflow.tunda(s, officer, t, SERVICE, text)}[action]
        if fits:
            call()
            return
        with pytest.raises(WorkflowError, match=rf"terlalu panjang: \d+ karakter, paling banyak {BODY_LIMIT}"):
            call()
        assert t.state == S.DIDISPOSISI.value


def sms_answer(w: World):
    """An approved answer to an SMS complaint: (the liaison, the ticket)."""
    liaison = w.officer(Role.LIAISON)
    t = w.ticket(S.DISETUJUI, draft="Jalan diperbaiki 3 Desember.")
    t.approved_by_id = liaison.id
    return liaison, t


def test_the_answer_is_sent_again_once_the_last_try_has_come_to_an_end(db):
    with db.transaction() as s:
        liaison, t = sms_answer(World(s))
        [first] = workflow.kirim(s, liaison, t, SERVICE).outbound_ids
        with pytest.raises(WorkflowError, match="sedang dikirim"):  # a second click, or too soon
            workflow.kirim_ulang(s, liaison, t, SERVICE)
        s.get(OutboundMessage, first).status = "failed"
        [second] = workflow.kirim_ulang(s, liaison, t, SERVICE).outbound_ids
        again = s.get(OutboundMessage, second)
        assert (again.body, again.purpose, again.to_address, again.status) == (
            workflow.prefix(SERVICE, t) + "Jalan diperbaiki 3 Desember.", "answer", "+6281234567890", "pending")
        assert t.state == S.TERKIRIM.value
        assert s.scalars(select(TicketEvent.action).order_by(TicketEvent.id.desc())).first() == "kirim_ulang"


def test_an_answer_waiting_for_the_reply_to_the_template_is_replaced_when_sent_again(db):
    with db.transaction() as s:
        service, liaison, t = helpdesk_answer(World(s), 30, template_sid=TEMPLATE)
        workflow.kirim(s, liaison, t, service)
        [notice] = workflow.kirim_ulang(s, liaison, t, service).outbound_ids  # the template failed, say
        answers = s.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "answer")
                            .order_by(OutboundMessage.id)).all()
        assert [a.status for a in answers] == ["suppressed", "held"]  # the reply releases one answer, not two
        assert answers[0].error_message == "diganti kiriman ulang"
        assert s.get(OutboundMessage, notice).purpose == "window_notice"


def test_a_question_waiting_for_the_reply_to_the_template_is_dropped_when_the_officer_goes_on(db):
    # "Lanjutkan (keterangan sudah ada)": the officer has what was asked (by telephone, say), and the
    # citizen's next message must not release a question nobody needs answered any more.
    with db.transaction() as s:
        service, liaison, t = helpdesk_answer(World(s), 30, template_sid=TEMPLATE)
        workflow.tunda(s, liaison, t, service, "Di kelurahan mana?")
        workflow.lanjutkan(s, liaison, t, SERVICE, "sudah dijawab lewat telepon")
        question = s.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "question"))
        assert (question.status, question.error_message) == ("suppressed", "tidak diperlukan lagi: dilanjutkan petugas")
        assert outbox.release_held(s, to=question.to_address, from_=question.from_address) == []


def offered(officer, ticket) -> set[str]:
    return {a.name for a in workflow.allowed(officer, ticket, SERVICE)}


@pytest.mark.parametrize("state", workflow.UNANSWERED)
def test_a_ticket_the_citizen_took_back_is_closed_in_any_step_before_an_answer(db, state):
    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(Role.LIAISON)
        t = w.ticket(state, draft="Jawaban setengah jadi", held_state="didisposisi")
        assert "batalkan" not in offered(liaison, t)
        with pytest.raises(WorkflowError, match="Warga tidak meminta"):
            workflow.batalkan(s, liaison, t)
        workflow.minta_batal(s, t, SERVICE)
        assert "batalkan" in offered(liaison, t)
        workflow.batalkan(s, liaison, t, "warga: sudah diperbaiki sendiri")
        assert (t.state, t.is_open, t.held_state) == ("diarsipkan", False, "")
        last = s.scalars(select(TicketEvent).order_by(TicketEvent.id.desc())).first()
        assert (last.action, last.officer_id, last.note) == ("batalkan", liaison.id, "warga: sudah diperbaiki sendiri")
        assert s.scalar(select(func.count()).select_from(OutboundMessage)) == 0  # told when they asked


def test_a_withdrawal_counts_until_the_ticket_is_opened_again(db):
    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(Role.LIAISON)
        t = w.ticket()
        workflow.minta_batal(s, t, SERVICE)
        workflow.batalkan(s, liaison, t)
        workflow.buka_kembali(s, t, SERVICE, now() + timedelta(seconds=1))  # "eh, jalannya rusak lagi"
        assert t.state == "baru" and "batalkan" not in offered(liaison, t)
        assert "batalkan" not in offered(liaison, w.ticket(S.TERKIRIM))  # answered: Selesai closes it


def test_a_question_waiting_for_the_template_is_dropped_when_a_withdrawn_ticket_is_closed(db):
    with db.transaction() as s:
        service, liaison, t = helpdesk_answer(World(s), 30, template_sid=TEMPLATE)
        workflow.tunda(s, liaison, t, service, "Di kelurahan mana?")
        workflow.minta_batal(s, t, SERVICE)
        workflow.batalkan(s, liaison, t)
        question = s.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "question"))
        assert (question.status, question.error_message) == ("suppressed",
                                                             "tidak diperlukan lagi: laporan dibatalkan warga")


def test_the_recap_counts_the_answer_given_since_a_ticket_was_last_opened(db):
    from inbox.recap import outcome
    from store.queries import recap

    with db.transaction() as s:
        liaison, t = sms_answer(World(s))
        workflow.kirim(s, liaison, t, SERVICE)
        start, end = now() - timedelta(days=1), now() + timedelta(days=1)
        [row] = recap(s, "biro-organisasi", start, end)
        assert row.answered_at is not None and outcome(row, now()) == "tepat_waktu"
        workflow.selesai(s, liaison, t)
        workflow.buka_kembali(s, t, SERVICE, now())  # the citizen wrote again: the answer is still to come
        [row] = recap(s, "biro-organisasi", start, end)
        assert row.answered_at is None and outcome(row, now()) == "proses"
        assert outcome(row, now() + timedelta(days=9)) == "lewat_batas"
        assert list(recap(s, "bppd", start, end)) == [] and list(recap(s, "biro-organisasi", end, end)) == []


def test_the_recap_tells_a_ticket_taken_back_from_one_archived(db):
    from inbox.recap import outcome
    from store.queries import recap

    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(Role.LIAISON)
        t = w.ticket(S.DIDISPOSISI)
        workflow.minta_batal(s, t, SERVICE)
        workflow.batalkan(s, liaison, t)
        start, end = now() - timedelta(days=1), now() + timedelta(days=1)
        [row] = recap(s, "biro-organisasi", start, end)
        assert row.withdrawn and outcome(row, now()) == "dibatalkan"
        workflow.buka_kembali(s, t, SERVICE, now() + timedelta(seconds=1))  # written to again, then archived
        workflow.arsipkan(s, liaison, t, "tidak jelas")
        [row] = recap(s, "biro-organisasi", start, end)
        assert not row.withdrawn and outcome(row, now()) == "diarsipkan"


@pytest.mark.parametrize("state, answered_after_hours, due_in_hours, forwarded_to, expected", [
    (S.TERKIRIM, 1, 24, "", "tepat_waktu"),
    (S.SELESAI, 30, 24, "", "terlambat"),      # closed after its deadline
    (S.DITELAAH, None, 24, "", "proses"),
    (S.DITUNDA, None, -1, "", "lewat_batas"),  # waiting for the citizen, and late all the same
    (S.DIARSIPKAN, None, 24, "", "diarsipkan"),
    (S.DITERUSKAN, None, -1, "bppd", "diteruskan"),  # the other agency's deadline now, not this one's
])
def test_what_became_of_a_ticket_against_its_deadline(state, answered_after_hours, due_in_hours, forwarded_to,
                                                      expected):
    from inbox.recap import outcome
    from store.queries import RecapRow

    received = now() - timedelta(hours=48)
    answered = received + timedelta(hours=answered_after_hours) if answered_after_hours is not None else None
    row = RecapRow("12345671", received, "sms", "lapor-sms", "pengaduan", "", None, "", "jalan rusak", state.value,
                   received + timedelta(hours=due_in_hours) if answered else now() + timedelta(hours=due_in_hours),
                   answered, None, forwarded_to)
    assert outcome(row, now()) == expected


def test_a_message_of_a_line_no_longer_configured_is_not_split(db):
    """Its deadline rule is gone with the line: the liaison is told to register it by hand."""
    action = workflow.BY_NAME["pisahkan"]
    with db.transaction() as s:
        w = World(s)
        me = w.officer(Role.LIAISON)
        t = prepared(w, action, me)
        t.line_id = "sms-lama"
        with pytest.raises(WorkflowError, match="tidak ada lagi"):
            run(s, "pisahkan", me, t)
        assert t.body == "jalan rusak\nlampu jalan mati"


@pytest.mark.parametrize("state", list(S), ids=lambda s: s.value)
@pytest.mark.parametrize("drafted_it", [False, True])
def test_every_action_offered_is_one_the_workflow_accepts(db, state, drafted_it):
    """The same checks decide the buttons and the transitions: an officer with every role, the assigned
    official and (or not) the draft's author, is offered nothing that would be refused."""
    with db.transaction() as s:
        w = World(s)
        me = w.officer(*ALL)
        for action in ACTIONS:
            t = w.ticket(state, draft="Jawaban siap.", held_state="ditelaah", assignee_id=me.id,
                         draft_author_id=me.id if drafted_it else None, approved_by_id=me.id)
            if action.name == "batalkan":
                workflow.minta_batal(s, t, SERVICE)
            if action.name not in offered(me, t):
                continue
            with s.begin_nested():  # each tried alone; a refusal would raise out of the test
                try:
                    run(s, action.name, me, t, assignee=me)
                except WorkflowError as exc:
                    # Nothing to take apart (pisahkan) is the ticket's content, not the officer's right.
                    assert not isinstance(exc, Forbidden) and action.name == "pisahkan", (action.name, exc)


def test_a_head_who_drafted_the_answer_is_not_offered_its_approval(db):
    with db.transaction() as s:
        w = World(s)
        everything = w.officer(*ALL)
        t = w.ticket(S.MENUNGGU_PERSETUJUAN, draft="Jawaban saya.", draft_author_id=everything.id)
        assert "setujui" not in offered(everything, t)
        with pytest.raises(Forbidden, match="disetujui pimpinan lain"):
            workflow.setujui(s, everything, t, SERVICE)
        assert "setujui" in offered(w.officer(Role.HEAD), t)


def test_an_answer_to_a_citizen_without_a_phone_closes_saying_how_it_was_given(db):
    with db.transaction() as s:
        w = World(s)
        liaison = w.officer(Role.LIAISON)
        t = w.ticket(S.DISETUJUI, phone=None, channel="surat", draft="Papan diganti bulan ini.")
        t.approved_by_id = liaison.id
        assert offered(liaison, t) >= {"selesai"} and "kirim" not in offered(liaison, t)
        with pytest.raises(WorkflowError, match="cara jawaban disampaikan"):
            workflow.selesai(s, liaison, t)
        workflow.selesai(s, liaison, t, "diantar staf", given="surat")
        assert (t.state, t.answered_at is not None) == (S.SELESAI.value, True)
        note = s.scalars(select(TicketEvent.note).order_by(TicketEvent.id.desc())).first()
        assert note == "jawaban disampaikan lewat surat; diantar staf"
        assert s.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_notes_and_corrections_stay_in_the_history_and_the_retention_clears_them(db, tmp_path):
    from handlers import retention

    with db.transaction() as s:
        w = World(s)
        liaison, official = w.officer(Role.LIAISON), w.officer(Role.OFFICIAL)
        t = w.ticket(S.SELESAI, citizen_name="Maria", citizen_home="Oesapa")
        workflow.catatan(s, official, t, "Sudah ditelepon: warga setuju menunggu.")
        with pytest.raises(Forbidden):
            workflow.ubah_data(s, official, t, "Maria Goreti", "RT 05 Oesapa")  # the liaison's
        with pytest.raises(WorkflowError, match="tidak berubah"):
            workflow.ubah_data(s, liaison, t, "Maria", "Oesapa")
        workflow.ubah_data(s, liaison, t, "Maria Goreti Ndun", "Oesapa")
        notes = s.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)).all()
        assert notes == ["Sudah ditelepon: warga setuju menunggu.", "nama: \u201cMaria\u201d menjadi \u201cMaria Goreti Ndun\u201d"]
        assert (t.state, t.citizen_name) == (S.SELESAI.value, "Maria Goreti Ndun")
        retention.erase_tickets(s, [t.id], tmp_path, "Data pribadi warga dihapus")
        assert "Maria" not in " ".join(s.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == t.id)))
