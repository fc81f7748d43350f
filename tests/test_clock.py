"""The service standard's clock: pauses, forwarding, receipt by hand, answered tickets, auto-close.

Times are UTC, as stored; the comments say them in WITA (UTC+8), as Kupang reads them.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from config import DEFAULT_SERVICE_FILE as SERVICE_TOML, ConfigError, Deadline, Settings, load_service
from handlers import clock, daily, officers, workflow
from handlers.deadlines import due_at, extended, is_working_day, paused_time
from handlers.workflow import WorkflowError
from inbox.recap import outcome
from store.db import now
from store.models import InboundMessage, Role, Ticket, TicketEvent, TicketState as S
from store.queries import recap
from store.tickets import add_ticket, set_state

SERVICE = Settings.from_env({}).service
NONE = frozenset()


def utc(*wita) -> datetime:
    """A moment given in WITA, as stored."""
    return datetime(*wita) - timedelta(hours=8)


@pytest.mark.parametrize("rule, due, paused, resumed, expected", [
    # Paused Friday 20 Nov 10:00 to Monday 23 Nov 10:00: three calendar days,
    ("8d", utc(2026, 11, 28, 10), utc(2026, 11, 20, 10), utc(2026, 11, 23, 10), utc(2026, 12, 1, 10)),
    # one working day (14 hours of Friday, 10 of Monday): Wednesday 2 Dec becomes Thursday 3 Dec.
    ("8wd", utc(2026, 12, 2, 10), utc(2026, 11, 20, 10), utc(2026, 11, 23, 10), utc(2026, 12, 3, 10)),
    # Paused Tuesday 17 March 10:00 to Wednesday 25 March 10:00 2026, over Nyepi, Idulfitri and their
    # cuti bersama (18-24 March): eight calendar days,
    ("8d", utc(2026, 3, 18, 10), utc(2026, 3, 17, 10), utc(2026, 3, 25, 10), utc(2026, 3, 26, 10)),
    # and again one working day: Friday 27 March becomes Monday 30 March.
    ("8wd", utc(2026, 3, 27, 10), utc(2026, 3, 17, 10), utc(2026, 3, 25, 10), utc(2026, 3, 30, 10)),
    # Paused from Friday 16:59 to Monday 08:00: 7 h 01 of Friday and 8 h of Monday, so Wednesday 2 Dec
    # 16:59 becomes Thursday 3 Dec 08:00.
    ("8wd", utc(2026, 12, 2, 16, 59), utc(2026, 11, 20, 16, 59), utc(2026, 11, 23, 8), utc(2026, 12, 3, 8)),
    # A pause within a weekend costs a working-day rule nothing.
    ("8wd", utc(2026, 12, 2, 10), utc(2026, 11, 21, 9), utc(2026, 11, 22, 17), utc(2026, 12, 2, 10)),
])
def test_a_pause_moves_the_deadline(rule, due, paused, resumed, expected):
    rule = Deadline.parse(rule)
    assert extended(due, rule, paused_time(rule, paused, resumed, NONE), NONE) == expected


@pytest.mark.parametrize("received, rule, expected", [
    # Friday 20 Nov 16:59: 8 working days is Wednesday 2 Dec 16:59; verification (3) Wednesday 25 Nov.
    (utc(2026, 11, 20, 16, 59), "8wd", utc(2026, 12, 2, 16, 59)),
    (utc(2026, 11, 20, 16, 59), "3wd", utc(2026, 11, 25, 16, 59)),
    (utc(2026, 11, 20, 16, 59), "8d", utc(2026, 11, 28, 16, 59)),
    # Tuesday 10 March 2026: 8 working days skip Nyepi, Idulfitri and cuti bersama (18-24 March).
    (utc(2026, 3, 10, 10), "8wd", utc(2026, 3, 27, 10)),
])
def test_deadlines_from_receipt(received, rule, expected):
    assert due_at(received, Deadline.parse(rule), NONE) == expected


def test_the_provinces_own_holidays_are_no_working_days(tmp_path):
    toml = (tmp_path / "service.toml")
    toml.write_text(SERVICE_TOML.read_text().replace(
        "[holidays]\n", '[holidays]\n"2026-11-23" = "Cuti bersama HUT Provinsi (contoh)"\n', 1))
    service = load_service(toml)
    assert service.holidays == {datetime(2026, 11, 23).date()}
    assert is_working_day(datetime(2026, 11, 23).date(), NONE)
    assert not is_working_day(datetime(2026, 11, 23).date(), service.holidays)
    # Friday + 1 working day: Tuesday, not Monday
    assert due_at(utc(2026, 11, 20, 10), Deadline(1, "wd"), service.holidays) == utc(2026, 11, 24, 10)
    toml.write_text('[holidays]\n"23-11-2026" = "salah tulis"\n')
    with pytest.raises(ConfigError, match="2026-12-31"):
        load_service(toml)


def _officer(s, *roles: Role, agency: str = "biro-organisasi", name: str = "yohanes"):
    return officers.add(s, SERVICE, username=name, agency=agency, roles=list(roles), password="kata-sandi-panjang")


def _ticket(s, received: datetime, state: S = S.BARU, line: str = "lapor-sms", channel: str = "sms",
            agency: str = "biro-organisasi") -> Ticket:
    t = Ticket(code=f"{10_000_000 + s.query(Ticket).count() * 7:08d}", agency=agency, line_id=line, channel=channel,
               kind="pengaduan", phone="+6281234567890", citizen_address="+6281234567890", line_address="+621708",
               body="jalan rusak", created_at=received, last_inbound_at=received)
    clock.start(SERVICE, t, received)
    add_ticket(s, t)
    if state is not S.BARU:
        set_state(s, t, state)
    return t


def test_waiting_for_the_citizen_adds_the_time_waited_and_says_so(db):
    with db.transaction() as s:
        liaison = _officer(s, Role.LIAISON)
        t = _ticket(s, now() - timedelta(days=2))  # SP4N-LAPOR! SMS: 8 calendar days, verification 3 working
        due, verify = t.due_at, t.verify_due_at
        workflow.tunda(s, liaison, t, SERVICE, "Di RT berapa tepatnya?")
        assert t.paused_at is not None
        t.paused_at -= timedelta(days=3)  # the citizen answers three days later
        paused, before = t.paused_at, now()
        workflow.lanjutkan(s, None, t, SERVICE, "warga membalas")
        after = now()
        assert due + (before - paused) <= t.due_at <= due + (after - paused)  # calendar days: all of it
        # Waiting before the review moves the verification too, by the working time paused.
        rule, local = SERVICE.line("lapor-sms").verify, SERVICE.holidays
        assert (extended(verify, rule, paused_time(rule, paused, before, local), local) <= t.verify_due_at
                <= extended(verify, rule, paused_time(rule, paused, after, local), local))
        assert (t.state, t.paused_at) == (S.BARU.value, None)
        note = s.scalars(select(TicketEvent.note).order_by(TicketEvent.id.desc())).first()
        assert note.startswith("warga membalas; waktu menunggu keterangan warga (3 hari")
        assert note.endswith(f"batas waktu menjadi {(t.due_at + timedelta(hours=8)):%d-%m-%Y}")


def test_the_deadline_shown_while_waiting_is_the_one_an_answer_now_would_give(db):
    with db.transaction() as s:
        t = _ticket(s, now() - timedelta(days=1), S.DITUNDA)
        t.held_state, t.paused_at = "ditelaah", now() - timedelta(days=2)
        assert clock.current_due(SERVICE, t, now()) - t.due_at >= timedelta(days=2)


def test_review_starts_the_follow_up_stage(db):
    with db.transaction() as s:
        liaison = _officer(s, Role.LIAISON)
        t = _ticket(s, now())
        assert clock.stage(SERVICE, t).name == "verifikasi"
        before = now()
        workflow.telaah(s, liaison, t, SERVICE)
        stage = clock.stage(SERVICE, t)
        assert stage.name == "tindak lanjut" and stage.due == t.follow_up_due_at
        five = Deadline(5, "wd")  # SP4N-LAPOR!'s follow-up, from the review
        assert due_at(before, five, SERVICE.holidays) <= stage.due <= due_at(now(), five, SERVICE.holidays)


def test_forwarding_restarts_the_clock_by_the_receiving_agencys_rule(db):
    with db.transaction() as s:
        liaison = _officer(s, Role.LIAISON)
        t = _ticket(s, now() - timedelta(days=6))  # Biro Organisasi: 8 calendar days, 2 left
        workflow.teruskan(s, liaison, t, SERVICE, "dinsos-kupang", "bansos")
        # Dinas Sosial: 8 working days from the forwarding; its verification starts there too
        assert t.due_at == due_at(t.new_since, Deadline(8, "wd"), SERVICE.holidays)
        assert t.verify_due_at == due_at(t.new_since, Deadline(3, "wd"), SERVICE.holidays)
        assert clock.rule_of(SERVICE, t) == Deadline(8, "wd")


def test_a_letter_received_on_friday_and_registered_on_monday_counts_from_friday(db):
    with db.transaction() as s:
        liaison = _officer(s, Role.LIAISON, agency="dinsos-kupang")
        friday = now() - timedelta(days=3)
        done = workflow.register(s, liaison, SERVICE, channel="surat", name="Maria", phone="", home="Oebobo",
                                 text="Bantuan PKH belum cair", received=friday)
        t = done.ticket
        assert t.created_at == friday
        assert t.due_at == due_at(friday, Deadline(7, "wd"), SERVICE.holidays)  # Dinsos: 7 working days
        note = s.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == t.id)).one()
        assert note.startswith("dicatat dari surat, diterima ")


@pytest.mark.parametrize("received, note, error", [
    (timedelta(hours=1), "", "masa depan"),  # in the future
    (-timedelta(days=31), "", "lebih dari 30 hari"),  # long ago, without a note
    (-timedelta(days=31), "surat tertahan di bagian umum", None),
])
def test_receipt_by_hand_is_never_in_the_future_and_long_ago_only_with_a_note(db, received, note, error):
    with db.transaction() as s:
        liaison = _officer(s, Role.LIAISON)
        register = lambda: workflow.register(s, liaison, SERVICE, channel="surat", name="", phone="", home="",  # noqa: E731
                                             text="Lampu jalan mati", received=now() + received, note=note)
        if error:
            with pytest.raises(WorkflowError, match=error):
                register()
        else:
            assert register().ticket.created_at < now() - timedelta(days=30)
            assert note in s.scalars(select(TicketEvent.note)).one()


def test_face_to_face_may_agree_a_time_instead_of_fifteen_minutes(db):
    with db.transaction() as s:
        liaison = _officer(s, Role.LIAISON)
        agreed = now() + timedelta(days=2)
        t = workflow.register(s, liaison, SERVICE, channel="tatap_muka", name="Yakobus", phone="", home="",
                              text="Minta salinan SK", agreed=agreed).ticket
        assert t.due_at == agreed
        with pytest.raises(WorkflowError, match="tatap muka"):
            workflow.register(s, liaison, SERVICE, channel="surat", name="", phone="", home="", text="x", agreed=agreed)
        plain = workflow.register(s, liaison, SERVICE, channel="tatap_muka", name="", phone="", home="", text="y").ticket
        assert plain.due_at - plain.created_at == timedelta(minutes=15)


def test_an_answer_given_face_to_face_closes_the_ticket_and_counts_as_answered(db):
    with db.transaction() as s:
        liaison = _officer(s, Role.LIAISON)
        t = workflow.register(s, liaison, SERVICE, channel="tatap_muka", name="Yakobus", phone="", home="",
                              text="Kapan pendaftaran CPNS dibuka?").ticket
        workflow.jawab_langsung(s, liaison, t, "Dijelaskan: pengumuman di situs BKN bulan Maret.")
        assert (t.state, t.is_open) == (S.SELESAI.value, False) and t.answered_at is not None
        event = s.scalars(select(TicketEvent).order_by(TicketEvent.id.desc())).first()
        assert (event.action, event.note) == ("jawab_langsung", "Dijelaskan: pengumuman di situs BKN bulan Maret.")
        s.flush()
        [row] = recap(s, "biro-organisasi", now() - timedelta(hours=1), now() + timedelta(hours=1))
        assert row.answered_at == event.created_at and outcome(row, now()) == "tepat_waktu"
        sms = _ticket(s, now())  # only face to face answers on the spot
        assert "jawab_langsung" not in {a.name for a in workflow.allowed(liaison, sms, SERVICE)}


def _services(db):
    return SimpleNamespace(settings=SimpleNamespace(service=SERVICE), db=db)


def _answered(db, answered_at: datetime, *later_intents: str) -> int:
    with db.transaction() as s:
        t = _ticket(s, answered_at - timedelta(days=3), S.TERKIRIM)
        t.answered_at = answered_at
        for n, intent in enumerate(later_intents):
            s.add(InboundMessage(message_sid=f"SM{t.id}{n}", channel="sms", from_address=t.phone, phone=t.phone,
                                 to_address="+621708", body="...", params={}, received_at=answered_at + timedelta(days=1),
                                 ticket_id=t.id, intent=intent))
        return t.id


def test_a_sent_answer_closes_by_itself_after_exactly_ten_working_days(db):
    answered = utc(2026, 11, 2, 10)  # Monday 2 November; ten working days later: Monday 16 November, 10:00
    ticket_id = _answered(db, answered)
    assert daily.auto_close(_services(db), utc(2026, 11, 13, 10)) == []  # nine
    assert daily.auto_close(_services(db), utc(2026, 11, 16, 9, 59)) == []
    [code] = daily.auto_close(_services(db), utc(2026, 11, 16, 10))
    assert daily.auto_close(_services(db), utc(2026, 11, 17, 10)) == []  # done once
    with db.transaction() as s:
        t = s.get(Ticket, ticket_id)
        assert (t.code, t.state) == (code, S.SELESAI.value)
        event = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)).one()
        assert (event.action, event.officer_id) == ("tutup_otomatis", None)
        assert "10 hari kerja" in event.note


@pytest.mark.parametrize("intents, closes", [
    (("StatusCheck", "Thanks", "AutoReply"), True),  # a CEK or thanks is no writing about it
    (("FollowUp",), False),  # a follow-up or a reply leaves it for the officers
])
def test_a_citizen_writing_about_the_answer_keeps_the_ticket_open(db, intents, closes):
    ticket_id = _answered(db, utc(2026, 11, 2, 10), *intents)
    daily.auto_close(_services(db), utc(2026, 11, 20, 10))
    with db.transaction() as s:
        assert s.get(Ticket, ticket_id).state == (S.SELESAI.value if closes else S.TERKIRIM.value)
