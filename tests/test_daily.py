"""Each officer's turn: the morning digest, escalation to the heads, immediate notices by SMS."""
from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from handlers import daily, notices
from handlers.deadlines import is_working_day
from replies.render import WITA
from store.db import now
from store.models import Digest, Notice, Officer, OutboundMessage, Role, Ticket, TicketEvent
from tests.inbox_helpers import act, add_officer, login

CODE = re.compile(r"Kode: (\d{4}-\d{4})")
LIA, KEPALA, PEJABAT = "+6281311110001", "+6281311110002", "+6281311110003"


def _working_morning(after: datetime) -> datetime:
    """The next working day's 07:30 WITA after a moment, as stored (naive UTC)."""
    day = after.replace(tzinfo=timezone.utc).astimezone(WITA).date() + timedelta(days=1)
    while not is_working_day(day, frozenset()):
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=7, minutes=30) - timedelta(hours=8)


def _phone(gateway, username: str, phone: str) -> None:
    with gateway.services.db.transaction() as s:
        s.scalar(select(Officer).where(Officer.username == username)).phone = phone


@pytest.fixture
def office(make_gateway):
    """The Biro Organisasi's liaison, head and official with phones, and two SMS complaints waiting."""
    gateway = make_gateway(METRICS_TOKEN="rahasia-metrik")
    for name, role, phone in (("lia", Role.LIAISON, LIA), ("kepala", Role.HEAD, KEPALA),
                              ("pejabat", Role.OFFICIAL, PEJABAT)):
        add_officer(gateway, name, role)
        _phone(gateway, name, phone)
    add_officer(gateway, "admin", Role.ADMIN)  # nothing ever waits for an admin alone
    gateway.codes = [CODE.search(gateway.converse(text, frm=frm)).group(1) for text, frm in (
        ("NTT jalan di Oesapa rusak", "+6281234500001"), ("NTT lampu jalan mati di Oebobo", "+6281234500002"))]
    return gateway


def _sms_to(gateway, phone: str) -> list[str]:
    gateway.drain()
    return [m.body for m in gateway.twilio.messages if m.to == phone]


def test_the_morning_digest_goes_once_to_each_officer_with_something_waiting(office):
    morning = _working_morning(now())
    # Two workers at once, then the command by hand: one digest an officer and day.
    runs = [threading.Thread(target=daily.run, args=(office.services, morning)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    again = daily.run(office.services, morning + timedelta(hours=1))
    assert again.digests == 0
    [digest] = _sms_to(office, LIA)
    day = morning.replace(tzinfo=timezone.utc).astimezone(WITA)
    assert digest.startswith(f"Tugas {day:%d-%m}: 2 menunggu Anda (0 terlambat, 0 batas hari ini, 0 besok). ")
    assert all(code in digest for code in office.codes) and digest.endswith("Rincian di kotak masuk.")
    assert len(digest) <= 160
    assert _sms_to(office, KEPALA) == [] and _sms_to(office, PEJABAT) == []  # nothing waits for them
    with office.session() as s:
        assert s.scalar(select(func.count()).select_from(Digest)) == 1
        assert s.scalar(select(func.count()).select_from(OutboundMessage)
                        .where(OutboundMessage.purpose == "digest")) == 1
    lia = office.app.test_client()
    login(lia, "lia")
    with office.session() as s:
        s.execute(Digest.__table__.update().values(day=datetime.now(WITA).date()))  # as if given this morning
        s.commit()
    assert "Ringkasan pagi ini" in lia.get("/inbox/tugas").get_data(as_text=True)


def test_no_digest_on_a_weekend_or_a_holiday(office):
    saturday = _working_morning(now())
    while saturday.replace(tzinfo=timezone.utc).astimezone(WITA).weekday() != 5:
        saturday += timedelta(days=1)
    christmas = datetime(2026, 12, 24, 23, 30)  # 07:30 WITA on 25 December 2026, a Friday
    for moment in (saturday, christmas):
        report = daily.run(office.services, moment)
        assert (report.working_day, report.digests, report.escalated) == (False, 0, ())
    assert _sms_to(office, LIA) == []


def test_an_overdue_ticket_is_reported_to_the_heads_once_and_once_more_a_week_later(office):
    first, second = office.codes
    with office.services.db.transaction() as s:  # the first is two working days late, the second not for long
        s.scalar(select(Ticket).where(Ticket.code == first.replace("-", ""))).due_at = now() - timedelta(days=4)
        s.scalar(select(Ticket).where(Ticket.code == second.replace("-", ""))).due_at = now() + timedelta(days=60)
    morning = _working_morning(now())
    report = daily.run(office.services, morning)
    assert report.escalated == (first.replace("-", ""),)
    [digest] = _sms_to(office, KEPALA)  # nothing waits for the head, but a ticket was reported to them
    assert ", 1 eskalasi. " + first in digest
    assert daily.run(office.services, morning + timedelta(hours=2)).escalated == ()  # once
    assert daily.run(office.services, _working_morning(morning + timedelta(days=3))).escalated == ()
    week = _working_morning(morning + timedelta(days=7))
    assert daily.run(office.services, week).escalated == (first.replace("-", ""),)  # still overdue a week later
    assert daily.run(office.services, _working_morning(week + timedelta(days=7))).escalated == ()  # twice at most
    with office.session() as s:
        notes = s.scalars(select(TicketEvent.note).where(TicketEvent.action == "eskalasi")).all()
    assert len(notes) == 2 and notes[1].endswith("untuk kedua kalinya")
    metrics = office.app.test_client().get("/metrics", headers={"Authorization": "Bearer rahasia-metrik"})
    text = metrics.get_data(as_text=True)
    assert 'gateway_escalations_total{agency="biro-organisasi"} 2.0' in text
    with office.session() as s:  # the head's and the liaison's, on each of the mornings run
        digests = s.scalar(select(func.count()).select_from(Digest))
    assert f"gateway_digests_total {float(digests)}" in text and digests >= 3


def test_a_step_that_leaves_work_for_a_colleague_tells_them_by_sms_grouped(office):
    lia, head, official = (office.app.test_client() for _ in range(3))
    for client, name in ((lia, "lia"), (head, "kepala"), (official, "pejabat")):
        login(client, name)
    with office.session() as s:
        official_id = s.scalar(select(Officer.id).where(Officer.username == "pejabat"))
    first, second = office.codes
    for code in office.codes:
        act(lia, code, "telaah")
    act(head, first, "disposisi", petugas=official_id, arahan="Mohon dijawab")
    notices.send_due(office.services)
    assert _sms_to(office, PEJABAT) == [f"Tugas baru: {first} didisposisikan kepada Anda. Lihat kotak masuk."]
    act(head, second, "disposisi", petugas=official_id, arahan="Mohon dijawab juga")
    act(official, first, "ajukan", jawaban="Perbaikan dijadwalkan minggu depan.")
    notices.send_due(office.services)  # within 15 minutes of the last: the official's waits
    assert len(_sms_to(office, PEJABAT)) == 1
    assert _sms_to(office, KEPALA) == [f"Tugas baru: {first} menunggu persetujuan. Lihat kotak masuk."]
    act(head, first, "kembalikan", catatan="Sebutkan tanggalnya")
    later = now() + timedelta(minutes=16)
    notices.send_due(office.services, later)  # grouped: what came meanwhile, in one SMS
    assert _sms_to(office, PEJABAT)[1] == (f"Tugas baru: {second} didisposisikan kepada Anda; draf {first}"
                                           " dikembalikan. Lihat kotak masuk.")
    assert notices.send_due(office.services, later) == []  # nothing twice
    # Switched off: nothing more by SMS (Tugas saya still shows it)
    official.post("/inbox/akun", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', official.get(
        "/inbox/akun").get_data(as_text=True)).group(1)})
    act(official, first, "ajukan", jawaban="Perbaikan dijadwalkan 15 Desember.")
    act(head, first, "kembalikan", catatan="Sebutkan jamnya")
    notices.send_due(office.services, later + timedelta(minutes=30))
    assert len(_sms_to(office, PEJABAT)) == 2
    with office.session() as s:
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.sent_at.is_(None))) == 0
        assert not s.scalar(select(Officer.notify).where(Officer.username == "pejabat"))
    assert "Draf dikembalikan" in official.get("/inbox/tugas").get_data(as_text=True)


def test_the_daily_command_says_what_it_did(office):
    result = office.app.test_cli_runner().invoke(args=["daily"])
    assert result.exit_code == 0, result.output
    if is_working_day(datetime.now(WITA).date(), frozenset()):
        assert "digests given (the inbox, and SMS to officers with a phone): 1" in result.output
        again = office.app.test_cli_runner().invoke(args=["daily"]).output
        assert "digests given (the inbox, and SMS to officers with a phone): 0" in again
    else:
        assert "not a working day" in result.output
