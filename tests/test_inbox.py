"""The inbox through the Flask test client: login, isolation, roles, CSRF, throttling, escaping, files."""
from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from inbox.views import DELIVERY_LABELS, ROLE_LABELS
from parsers import codes
from replies.render import date
from store.db import now
from store.models import (Attachment, DeliveryStatus, InboundMessage, Officer, OutboundMessage, Role, Ticket,
                          TicketEvent, TicketState, WhatsAppWindow)
from tests.conftest import CITIZEN, WA_LINE
from tests.inbox_helpers import PASSWORD, act, add_officer, login, token
from tests.test_failures import status_callback

CODE = re.compile(r"Kode: (\d{4}-\d{4})")


@pytest.fixture
def desk(gateway):
    """A gateway with the Biro Organisasi's officers and one SMS complaint waiting."""
    add_officer(gateway, "lia", Role.LIAISON)
    add_officer(gateway, "kepala", Role.HEAD)
    add_officer(gateway, "pejabat", Role.OFFICIAL)
    add_officer(gateway, "admin", Role.ADMIN)
    add_officer(gateway, "orangbppd", Role.LIAISON, Role.HEAD, Role.OFFICIAL, Role.ADMIN, agency="bppd")
    gateway.code = CODE.search(gateway.converse("NTT jalan di Oesapa rusak <script>alert(1)</script>")).group(1)
    gateway.link = f'href="/inbox/t/{gateway.code.replace("-", "")}"'
    return gateway


def client_for(gateway, username):
    client = gateway.app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_every_inbox_page_needs_a_login(desk):
    client = desk.app.test_client()
    for path in ["/inbox/", f"/inbox/t/{desk.code}", "/inbox/catat", "/inbox/balasan", "/inbox/petugas",
                 "/inbox/lampiran/1", "/inbox/rekap", "/inbox/rekap.csv"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location, path


def test_queue_shows_the_agency_tickets_and_counts(desk):
    page = client_for(desk, "lia").get("/inbox/").get_data(as_text=True)
    assert desk.link in page and desk.code in page and "jalan di Oesapa rusak" in page
    assert re.search(r"Baru <span class=\"count\">1</span>", page)
    assert "sisa 7 hari" in page or "sisa 8 hari" in page


def test_another_agency_gets_404_and_an_empty_queue(desk):
    client = client_for(desk, "orangbppd")
    assert client.get(f"/inbox/t/{desk.code}").status_code == 404
    assert client.post(f"/inbox/t/{desk.code}/telaah", data={"csrf_token": token(client, "/inbox/")}).status_code == 404
    assert desk.link not in client.get("/inbox/").get_data(as_text=True)
    assert desk.link not in client.get(f"/inbox/?q={desk.code}").get_data(as_text=True)


def test_citizen_text_is_escaped(desk):
    page = client_for(desk, "lia").get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_actions_shown_follow_role_and_state(desk):
    liaison = client_for(desk, "lia").get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    head = client_for(desk, "kepala").get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert f"/inbox/t/{desk.code.replace('-', '')}/telaah" in liaison and "/disposisi" not in liaison
    assert "/telaah" not in head and "/disposisi" not in head  # a Baru ticket waits for the liaison


def test_wrong_role_is_refused(desk):
    head = client_for(desk, "kepala")
    assert act(head, desk.code, "telaah").status_code == 403
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == "baru"


def test_wrong_state_is_explained_not_applied(desk):
    lia = client_for(desk, "lia")
    response = act(lia, desk.code, "kirim")
    assert response.status_code == 422 and "tidak bisa dilakukan" in response.get_data(as_text=True)


def test_csrf_token_is_required(desk):
    lia = client_for(desk, "lia")
    assert lia.post(f"/inbox/t/{desk.code}/telaah").status_code == 400
    assert lia.post(f"/inbox/t/{desk.code}/telaah", data={"csrf_token": "forged"}).status_code == 400
    assert lia.post("/logout").status_code == 400
    other = desk.app.test_client()  # a token from another session does not count
    assert login(other, "kepala").status_code == 302
    foreign = token(other, "/inbox/")
    assert lia.post(f"/inbox/t/{desk.code}/telaah", data={"csrf_token": foreign}).status_code == 400
    assert desk.app.test_client().post("/login", data={"username": "lia", "password": PASSWORD}).status_code == 400
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == "baru"


def test_whole_workflow_through_the_pages(desk):
    lia, head, official = (client_for(desk, u) for u in ("lia", "kepala", "pejabat"))
    assert act(lia, desk.code, "telaah", catatan="jelas").status_code == 303
    with desk.session() as s:
        official_id = s.scalar(select(Officer.id).where(Officer.username == "pejabat"))
    assert act(head, desk.code, "disposisi", petugas=official_id, arahan="Mohon dijawab").status_code == 303
    assert act(official, desk.code, "ajukan", jawaban="Perbaikan jalan dijadwalkan minggu depan.").status_code == 303
    assert act(head, desk.code, "setujui").status_code == 303
    assert act(lia, desk.code, "kirim").status_code == 303
    desk.drain()
    answer = desk.twilio.messages[-1]
    assert (answer.to, answer.body) == (CITIZEN, f"[{desk.code}] Biro Organisasi: Perbaikan jalan dijadwalkan minggu depan.")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "Terkirim" in page and "queued" in page
    desk.sms("Terima kasih pak 🙏")  # thanks for the answer: on the ticket, no paid reply
    desk.drain()
    assert desk.twilio.messages[-1] is answer
    assert "Terima kasih pak" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)


def test_the_clock_as_the_pages_show_it(desk):
    """Each stage's date where the ticket is; a pause that stands still; an answer that shows when it was given."""
    lia, head, official = (client_for(desk, u) for u in ("lia", "kepala", "pejabat"))
    assert "verifikasi sisa" in lia.get("/inbox/").get_data(as_text=True)
    act(lia, desk.code, "telaah")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "Batas tindak lanjut" in page and "disposisi dan draf jawaban" in page  # 5 working days
    assert "tindak lanjut sisa" in lia.get("/inbox/").get_data(as_text=True)
    act(lia, desk.code, "tunda", pertanyaan="Di RT berapa tepatnya?")
    desk.drain()
    desk.move_back(Ticket.paused_at, timedelta(days=2))  # two days without an answer
    queue = lia.get("/inbox/").get_data(as_text=True)
    assert "dijeda, sisa" in queue
    # Its deadline as stored passed yesterday, a day after it began to wait: the clock stood still, not late.
    desk.move_back(Ticket.due_at, timedelta(days=9))
    assert desk.link not in lia.get("/inbox/?status=terlambat").get_data(as_text=True)
    desk.move_back(Ticket.due_at, -timedelta(days=9))
    with desk.session() as s:
        stored = s.scalar(select(Ticket.due_at))
    reply = desk.converse(f"CEK {desk.code}")  # the date an answer now would give: two days later
    assert f"Batas waktu {date(stored + timedelta(days=2))}" in reply
    desk.converse("RT 05 pak")  # the answer to the question: the clock goes on, two days later
    with desk.session() as s:
        assert s.scalar(select(Ticket.due_at)) - stored >= timedelta(days=2)
    assert "waktu menunggu keterangan warga (2 hari" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    with desk.session() as s:
        official_id = s.scalar(select(Officer.id).where(Officer.username == "pejabat"))
    act(head, desk.code, "disposisi", petugas=official_id, arahan="Mohon dijawab")
    act(official, desk.code, "ajukan", jawaban="Perbaikan jalan dijadwalkan minggu depan.")
    act(head, desk.code, "setujui")
    act(lia, desk.code, "kirim")
    today = date(now())
    assert f"dijawab {today}, tepat waktu" in lia.get("/inbox/?status=terkirim").get_data(as_text=True)
    assert f"dijawab {today}, tepat waktu" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    desk.move_back(Ticket.due_at, timedelta(days=30))  # answered, so never late, whatever its deadline
    assert desk.link not in lia.get("/inbox/?status=terlambat").get_data(as_text=True)


def test_a_letter_is_registered_with_its_date_of_receipt(desk):
    lia = client_for(desk, "lia")
    form = {"csrf_token": token(lia, "/inbox/catat"), "saluran": "surat", "nama": "Maria", "isi": "Papan nama roboh"}
    future = lia.post("/inbox/catat", data={**form, "diterima": "2099-01-01T09:00"})
    assert future.status_code == 422 and "masa depan" in future.get_data(as_text=True)
    assert 'value="2099-01-01T09:00"' in future.get_data(as_text=True)  # what was typed is kept
    received = (now() - timedelta(days=3)).replace(second=0, microsecond=0)
    done = lia.post("/inbox/catat", data={**form, "diterima": (received + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")})
    assert done.status_code == 303
    with desk.session() as s:
        letter = s.scalar(select(Ticket).where(Ticket.channel == "surat"))
        assert (letter.created_at, letter.due_at) == (received, received + timedelta(days=7))  # Biro: 7 days
    # Face to face, answered on the spot: closed in one step
    lia.post("/inbox/catat", data={**form, "saluran": "tatap_muka", "diterima": ""})
    with desk.session() as s:
        code = s.scalar(select(Ticket.code).where(Ticket.channel == "tatap_muka"))
    assert "Jawab langsung dan selesai" in lia.get(f"/inbox/t/{code}").get_data(as_text=True)
    act(lia, code, "jawab_langsung", jawaban="Sudah dijelaskan: papan diganti bulan ini.")
    page = lia.get(f"/inbox/t/{code}").get_data(as_text=True)
    assert "Selesai" in page and "Sudah dijelaskan: papan diganti bulan ini." in page


def test_the_daily_work_by_hand_says_what_it_closed(desk):
    approved = approved_answer(desk)
    act(approved, desk.code, "kirim")
    runner = desk.app.test_cli_runner()
    assert "closed by themselves (answered, no word from the citizen for 10 working days): 0" in \
        runner.invoke(args=["daily"]).output
    desk.move_back(Ticket.answered_at, timedelta(days=20))
    desk.move_back(InboundMessage.received_at, timedelta(days=25))
    result = runner.invoke(args=["daily"])
    assert result.exit_code == 0 and f": 1 ({desk.code})" in result.output
    assert ": 0" in runner.invoke(args=["daily"]).output  # nothing twice
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == TicketState.SELESAI.value


def approved_answer(desk):
    """Take the desk's complaint through review, assignment, draft and approval: the liaison's client."""
    lia, head, official = (client_for(desk, u) for u in ("lia", "kepala", "pejabat"))
    with desk.session() as s:
        official_id = s.scalar(select(Officer.id).where(Officer.username == "pejabat"))
    act(lia, desk.code, "telaah")
    act(head, desk.code, "disposisi", petugas=official_id, arahan="Mohon dijawab")
    act(official, desk.code, "ajukan", jawaban="Perbaikan jalan dijadwalkan minggu depan.")
    act(head, desk.code, "setujui")
    return lia


def test_a_failed_answer_is_sent_again_from_the_ticket_page(desk):
    from tests.fake_twilio import Failure

    lia = approved_answer(desk)
    desk.twilio.fail_next(Failure(400, 30003, "Unreachable destination handset"))
    act(lia, desk.code, "kirim")
    desk.drain()
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "Ponsel tujuan tidak aktif" in page and "Kirim ulang jawaban" in page
    assert "pesan ke warga gagal" in lia.get("/inbox/?status=terkirim").get_data(as_text=True)  # seen in the queue
    assert re.search(r'<td class="what"[^>]*>Pesan ke warga gagal', lia.get("/inbox/tugas").get_data(as_text=True))
    before = len(desk.twilio.messages)
    assert act(lia, desk.code, "kirim_ulang").status_code == 303
    assert "Jawaban dikirim sekali lagi ke warga." in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    again = act(lia, desk.code, "kirim_ulang")  # clicked twice: the first is still on its way
    assert again.status_code == 422 and "sedang dikirim" in again.get_data(as_text=True)
    desk.drain()
    [answer] = desk.twilio.messages[before:]
    assert (answer.to, answer.body) == (CITIZEN, f"[{desk.code}] Biro Organisasi: Perbaikan jalan dijadwalkan minggu depan.")
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == TicketState.TERKIRIM.value
        assert s.scalars(select(TicketEvent.action).order_by(TicketEvent.id.desc())).first() == "kirim_ulang"
    assert "pesan ke warga gagal" not in lia.get("/inbox/?status=terkirim").get_data(as_text=True)
    assert "Pesan ke warga gagal" not in lia.get("/inbox/tugas").get_data(as_text=True)


def test_an_answer_to_a_citizen_who_sent_stop_is_not_sent_and_the_queue_says_so(desk):
    lia = approved_answer(desk)
    desk.converse("STOP")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "Warga memilih berhenti menerima pesan (STOP)" in page
    assert '<a href="tel:+6281234567890">0812-3456-7890</a>' in page  # to call them instead, from a phone too
    before = len(desk.twilio.messages)
    act(lia, desk.code, "kirim")
    desk.drain()
    assert len(desk.twilio.messages) == before  # their choice stands: nothing is sent
    assert "pesan ke warga gagal" in lia.get("/inbox/?status=terkirim").get_data(as_text=True)
    act(lia, desk.code, "selesai", catatan="disampaikan lewat telepon")  # answered another way


def test_start_sends_the_answer_that_stop_withheld(desk):
    lia = approved_answer(desk)
    desk.converse("STOP")
    act(lia, desk.code, "kirim")
    desk.drain()
    before = len(desk.twilio.messages)
    assert desk.sms("START").status_code == 200
    desk.drain()
    confirmed, answer = desk.twilio.messages[before:]
    assert "tertahan" in confirmed.body
    assert (answer.to, answer.body) == (CITIZEN, f"[{desk.code}] Biro Organisasi: Perbaikan jalan dijadwalkan minggu depan.")
    assert "pesan ke warga gagal" not in lia.get("/inbox/?status=terkirim").get_data(as_text=True)


def test_a_message_added_to_a_request_is_made_a_ticket_of_its_own(gateway):
    """Another problem sent just after a request was added to it: the liaison moves it to a new ticket,
    with its photo, and the citizen gets that ticket's code."""
    add_officer(gateway, "wati", Role.LIAISON, agency="dinsos-kupang")
    gateway.whatsapp("Nama saya tidak ada lagi di daftar penerima BLT bulan ini")
    gateway.drain()
    first = CODE.search(gateway.twilio.messages[-1].body).group(1)
    photo = gateway.twilio.add_media("ME9", b"jpeg", "image/jpeg")
    gateway.whatsapp("bantuan sembako juga tidak sampai ke RT kami", NumMedia="1", MediaUrl0=photo,
                     MediaContentType0="image/jpeg")
    gateway.drain()
    wati = client_for(gateway, "wati")
    page = wati.get(f"/inbox/t/{first}").get_data(as_text=True)
    with gateway.session() as s:
        first_id, second_id = s.scalars(select(InboundMessage.id).order_by(InboundMessage.id)).all()
    assert f'<option value="{second_id}">' in page and f'<option value="{first_id}">' not in page
    refused = act(wati, first, "pisahkan", pesan=str(first_id))  # the request itself stays
    assert refused.status_code == 422 and "Pilih pesan warga" in refused.get_data(as_text=True)
    before = len(gateway.twilio.messages)
    act(wati, first, "pisahkan", pesan=str(second_id))
    gateway.drain()
    [ack] = gateway.twilio.messages[before:]
    second = CODE.search(ack.body).group(1)
    assert second != first and ack.body.startswith("Permintaan Anda diterima.")
    with gateway.session() as s:
        old, new = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert old.body == "Nama saya tidak ada lagi di daftar penerima BLT bulan ini"
        assert (new.body, new.state, new.agency, new.phone) == (
            "bantuan sembako juga tidak sampai ke RT kami", "baru", old.agency, old.phone)
        assert s.scalar(select(InboundMessage.ticket_id).where(InboundMessage.id == second_id)) == new.id
        assert s.scalar(select(Attachment.ticket_id)) == new.id
        assert [e.action for e in s.scalars(select(TicketEvent).order_by(TicketEvent.id))] == ["pisahkan"] * 2
    page = wati.get(f"/inbox/t/{first}").get_data(as_text=True)
    assert "bantuan sembako" not in page.split("Riwayat")[0] and f"ke tiket {second}" in page
    assert "bantuan sembako" in wati.get(f"/inbox/t/{second}").get_data(as_text=True)
    gateway.whatsapp("Bantuan sembako juga tidak sampai ke RT kami!")  # sent again: the new ticket's code again
    gateway.drain()
    assert f"Kode: {second}" in gateway.twilio.messages[-1].body


def test_citizen_reply_lands_on_the_waiting_ticket(desk):
    lia = client_for(desk, "lia")
    act(lia, desk.code, "tunda", pertanyaan="Di RT berapa tepatnya?")
    desk.drain()
    assert desk.twilio.messages[-1].body == f"[{desk.code}] Biro Organisasi: Di RT berapa tepatnya?"
    reply = desk.converse("RT 05, dekat gereja")
    assert "sudah kami terima" in reply
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == "baru"  # back where it was before it waited
    assert "RT 05, dekat gereja" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)


def test_a_location_in_answer_to_a_question_lands_on_the_waiting_ticket(gateway):
    add_officer(gateway, "wati", Role.LIAISON, agency="dinsos-kupang")
    gateway.whatsapp("Mohon bantuan, rumah kami rusak kena angin")
    gateway.drain()
    code = re.search(r"Kode: (\d{4}-\d{4})", gateway.twilio.messages[-1].body).group(1)
    wati = client_for(gateway, "wati")
    act(wati, code, "tunda", pertanyaan="Mohon kirim lokasi rumah Ibu.")
    gateway.drain()
    gateway.whatsapp("", Latitude="-10.1566", Longitude="123.607", Address="RT 05 Oesapa")
    gateway.drain()
    assert "sudah kami terima" in gateway.twilio.messages[-1].body
    with gateway.session() as s:
        assert s.scalars(select(Ticket.state)).all() == ["baru"]
    assert "Lokasi: -10.1566, 123.607 (RT 05 Oesapa)" in wati.get(f"/inbox/t/{code}").get_data(as_text=True)


def test_the_queue_shows_a_request_written_in_several_messages(gateway):
    add_officer(gateway, "wati", Role.LIAISON, agency="dinsos-kupang")
    gateway.whatsapp("Bantuan PKH saya belum cair")
    gateway.whatsapp("sejak Agustus")
    gateway.drain()
    page = client_for(gateway, "wati").get("/inbox/").get_data(as_text=True)
    assert "Bantuan PKH saya belum cair / sejak Agustus" in page


def test_the_queue_marks_a_ticket_the_citizen_wrote_to_since_an_officer_last_acted(desk):
    lia = client_for(desk, "lia")
    assert "pesan baru dari warga" not in lia.get("/inbox/").get_data(as_text=True)
    desk.converse(f"{desk.code} lubangnya makin besar setelah hujan")
    assert "pesan baru dari warga" in lia.get("/inbox/").get_data(as_text=True)
    act(lia, desk.code, "telaah", catatan="sudah dibaca")
    assert "pesan baru dari warga" not in lia.get("/inbox/").get_data(as_text=True)


def test_a_phones_auto_reply_shows_on_the_conversation_as_such_and_marks_nothing(desk):
    lia = client_for(desk, "lia")
    desk.sms("Maaf, nomor yang Anda tuju sedang tidak aktif")
    desk.drain()
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "nomor yang Anda tuju sedang tidak aktif" in page and "Balasan otomatis dari nomor warga" in page
    assert "pesan baru dari warga" not in lia.get("/inbox/").get_data(as_text=True)


def test_the_queue_and_the_history_show_a_citizen_taking_a_ticket_back(desk):
    lia = client_for(desk, "lia")
    act(lia, desk.code, "tunda", pertanyaan="Di RT berapa jalan itu?")
    desk.drain()
    assert "Permintaan pembatalan" in desk.converse("Maaf pak, tidak jadi")
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == TicketState.BARU.value  # waits for the citizen no more
        assert s.scalars(select(TicketEvent.action).order_by(TicketEvent.id)).all() == ["tunda", "lanjutkan", "minta_batal"]
    page = lia.get("/inbox/").get_data(as_text=True)
    assert "warga minta dibatalkan" in page and "pesan baru dari warga" not in page
    assert "Warga meminta laporan dibatalkan" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    act(lia, desk.code, "arsipkan", catatan="dibatalkan warga")
    assert "warga minta dibatalkan" not in lia.get("/inbox/?status=semua").get_data(as_text=True)


def test_a_citizen_taking_back_their_withdrawal_keeps_the_ticket_going(desk):
    lia = client_for(desk, "lia")
    desk.converse("Batal pak")
    assert "warga minta dibatalkan" in lia.get("/inbox/").get_data(as_text=True)
    assert f"kode {desk.code} sudah kami terima" in desk.converse("Tidak jadi batal pak, tetap diproses")
    queue = lia.get("/inbox/").get_data(as_text=True)
    assert "warga minta dibatalkan" not in queue and "pesan baru dari warga" in queue
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "Warga tidak jadi membatalkan" in page and "Tutup laporan" not in page
    desk.converse("Batal saja")  # and once more, after all: the officer closes it
    act(lia, desk.code, "batalkan")
    reply = desk.converse("Maaf pak, jangan dibatalkan")  # closed meanwhile: open again
    assert "akan ditindaklanjuti paling lambat" in reply
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == TicketState.BARU.value
        assert s.scalars(select(TicketEvent.action).order_by(TicketEvent.id)).all() == [
            "minta_batal", "batal_dicabut", "minta_batal", "batalkan", "batal_dicabut", "buka_kembali"]


def test_a_ticket_taken_back_after_assignment_is_closed_without_an_answer(desk):
    lia, head = client_for(desk, "lia"), client_for(desk, "kepala")
    with desk.session() as s:
        official_id = s.scalar(select(Officer.id).where(Officer.username == "pejabat"))
    act(lia, desk.code, "telaah")
    act(head, desk.code, "disposisi", petugas=official_id, arahan="Mohon dijawab")
    assert "Tutup laporan" not in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    refused = act(lia, desk.code, "batalkan").get_data(as_text=True)
    assert "Warga tidak meminta laporan ini dibatalkan." in refused
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == TicketState.DIDISPOSISI.value
    desk.converse("Maaf pak salah kirim")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "Warga meminta laporan ini dibatalkan" in page and "Tutup laporan" in page
    sent = len(desk.twilio.messages)
    act(lia, desk.code, "batalkan", catatan="warga salah kirim")
    assert "Diarsipkan" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    desk.drain()
    assert len(desk.twilio.messages) == sent  # nothing more to pay for: they were told when they asked
    assert desk.converse(f"CEK {desk.code}").startswith(f"Kode {desk.code}: ditutup")


def test_ok_in_answer_to_a_question_lands_on_the_waiting_ticket(desk):
    act(client_for(desk, "lia"), desk.code, "tunda", pertanyaan="Boleh petugas kami menghubungi Bapak?")
    desk.drain()
    assert "sudah kami terima" in desk.converse("Baik pak")
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == "baru"


def test_a_request_to_another_agency_is_not_a_reply_to_a_waiting_ticket(desk):
    act(client_for(desk, "lia"), desk.code, "tunda", pertanyaan="Di RT berapa tepatnya?")
    desk.drain()
    assert desk.whatsapp("Selamat siang, saya minta data penerima bansos di Oebobo").status_code == 200
    desk.drain()
    assert desk.code not in desk.twilio.messages[-1].body  # the helpdesk's own new code
    with desk.session() as s:
        tickets = {t.agency: t for t in s.scalars(select(Ticket))}
    assert tickets["biro-organisasi"].state == TicketState.DITUNDA.value
    assert "bansos di Oebobo" in tickets["dinsos-kupang"].body


def test_the_queue_marks_a_complaint_not_reviewed_within_three_working_days(desk):
    """SP4N-LAPOR!'s verification: a new complaint is reviewed (Telaah) within 3 working days of receipt."""
    lia = client_for(desk, "lia")
    assert "verifikasi sisa" in lia.get("/inbox/").get_data(as_text=True)
    desk.move_back(Ticket.created_at, timedelta(days=14))  # more working days than 3, whatever the holidays
    desk.move_back(Ticket.verify_due_at, timedelta(days=14))
    assert re.search(r'class="late">verifikasi terlambat', lia.get("/inbox/").get_data(as_text=True))
    assert "Batas verifikasi" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    act(lia, desk.code, "telaah", catatan="sudah dibaca")
    assert "verifikasi" not in lia.get("/inbox/").get_data(as_text=True)
    assert "Batas verifikasi" not in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    act(lia, desk.code, "arsipkan", catatan="tidak jelas")
    desk.converse(f"{desk.code} jalan di RT 05 Oesapa berlubang besar")  # opened again: counted from this message
    assert "verifikasi sisa" in lia.get("/inbox/").get_data(as_text=True)


def test_a_forwarded_complaint_is_reviewed_within_three_working_days_of_its_arrival(desk):
    desk.move_back(Ticket.created_at, timedelta(days=14))
    act(client_for(desk, "lia"), desk.code, "teruskan", instansi="bppd", catatan="urusan perbatasan")
    page = client_for(desk, "orangbppd").get("/inbox/").get_data(as_text=True)
    assert "verifikasi sisa" in page and "verifikasi terlambat" not in page


def test_a_line_without_a_verification_time_shows_none(gateway):
    add_officer(gateway, "wati", Role.LIAISON, agency="dinsos-kupang")
    gateway.whatsapp("Bantuan PKH saya belum cair")
    gateway.drain()
    assert "verifikasi" not in client_for(gateway, "wati").get("/inbox/").get_data(as_text=True)


def test_a_follow_up_on_a_closed_ticket_opens_it_again(desk):
    lia = client_for(desk, "lia")
    assert act(lia, desk.code, "arsipkan", catatan="tidak jelas").status_code == 303
    reply = desk.converse(f"{desk.code} maaf kurang jelas: jalan di RT 05 Oesapa berlubang besar")
    assert "ditindaklanjuti paling lambat" in reply
    with desk.session() as s:
        assert s.scalar(select(Ticket.state)) == TicketState.BARU.value
    page = lia.get("/inbox/").get_data(as_text=True)
    assert desk.link in page and re.search(r"Baru <span class=\"count\">1</span>", page)
    assert "Dibuka kembali" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)


TEMPLATE = "HX" + "0123456789abcdef" * 2


@pytest.fixture
def late_desk(make_gateway, tmp_path):
    """The Dinsos helpdesk with a template for WhatsApp's closed window, one request a day and a half
    old, approved: (gateway, its code, the liaison's client)."""
    from config import DEFAULT_SERVICE_FILE

    config = tmp_path / "service.toml"
    config.write_text(DEFAULT_SERVICE_FILE.read_text().replace('template_sid = ""', f'template_sid = "{TEMPLATE}"')
                      .replace("self_approval = false", "self_approval = true"))  # one officer does it all
    gateway = make_gateway(SERVICE_CONFIG=str(config))
    add_officer(gateway, "wati", Role.LIAISON, Role.HEAD, Role.OFFICIAL, agency="dinsos-kupang")
    gateway.whatsapp("Bantuan PKH saya belum cair sejak Agustus")
    gateway.drain()
    code = CODE.search(gateway.twilio.messages[-1].body).group(1)
    wati = client_for(gateway, "wati")
    with gateway.session() as s:
        wati_id = s.scalar(select(Officer.id).where(Officer.username == "wati"))
    act(wati, code, "telaah")
    act(wati, code, "disposisi", petugas=wati_id, arahan="jawab")
    act(wati, code, "ajukan", jawaban="PKH tahap 4 cair 2 Desember\ndi Bank NTT Oebobo.")
    act(wati, code, "setujui")
    gateway.move_back(Ticket.last_inbound_at, timedelta(hours=36))
    gateway.move_back(WhatsAppWindow.last_at, timedelta(hours=36))  # the citizen's last message to the number
    return gateway, code, wati


def test_an_answer_after_the_window_waits_for_the_reply_a_template_asks_for(late_desk):
    gateway, code, wati = late_desk
    assert "pemberitahuan (templat WhatsApp)" in wati.get(f"/inbox/t/{code}").get_data(as_text=True)
    before = len(gateway.twilio.messages)
    assert act(wati, code, "kirim").status_code == 303
    assert "pesan terkirim begitu warga membalasnya" in wati.get(f"/inbox/t/{code}").get_data(as_text=True)
    gateway.drain()
    [notice] = gateway.twilio.messages[before:]  # the template only: WhatsApp would refuse the answer
    assert (notice.to, notice.from_, notice.body) == ("whatsapp:" + CITIZEN, WA_LINE, "")
    assert (notice.params["ContentSid"], json.loads(notice.params["ContentVariables"])) == (TEMPLATE, {"1": code})
    page = wati.get(f"/inbox/t/{code}").get_data(as_text=True)
    assert 'class="status-held">menunggu balasan warga<' in page and "Petugas, templat WhatsApp" in page
    assert "pesan belum dibuka warga" not in wati.get("/inbox/?status=terkirim").get_data(as_text=True)
    gateway.move_back(OutboundMessage.created_at, timedelta(hours=25))  # a day, and no reply has come
    queue = wati.get("/inbox/?status=terkirim").get_data(as_text=True)
    assert "pesan belum dibuka warga" in queue and "pesan ke warga gagal" not in queue
    with gateway.session() as s, s.begin():  # the template itself never arrived: that says more
        s.execute(update(OutboundMessage).where(OutboundMessage.purpose == "window_notice")
                  .values(status=DeliveryStatus.UNDELIVERED.value))
    queue = wati.get("/inbox/?status=terkirim").get_data(as_text=True)
    assert "pesan ke warga gagal" in queue and "pesan belum dibuka warga" not in queue

    assert gateway.whatsapp("Ok").status_code == 200  # the reply asked for opens the window
    gateway.drain()
    [answer] = gateway.twilio.messages[before + 1:]  # the answer, and no confirmation of the "Ok"
    assert (answer.to, answer.from_, answer.body) == (
        "whatsapp:" + CITIZEN, WA_LINE, f"[{code}] Dinsos Kota Kupang: PKH tahap 4 cair 2 Desember\ndi Bank NTT Oebobo.")
    assert "ContentSid" not in answer.params
    with gateway.session() as s:
        assert s.scalar(select(Ticket.state)) == TicketState.TERKIRIM.value
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
    page = wati.get(f"/inbox/t/{code}").get_data(as_text=True)
    assert "menunggu balasan warga" not in page and ">Ok</div>" in page
    assert "pesan belum dibuka warga" not in wati.get("/inbox/?status=terkirim").get_data(as_text=True)
    gateway.whatsapp("Terima kasih bu")  # the window is open now: nothing more is waiting
    gateway.drain()
    assert len(gateway.twilio.messages) == before + 2


def test_a_status_check_opens_the_window_for_the_answer(late_desk):
    gateway, code, wati = late_desk
    gateway.whatsapp(f"CEK {code}")  # WhatsApp's window is open again for a day
    gateway.drain()
    assert "pemberitahuan (templat WhatsApp)" not in wati.get(f"/inbox/t/{code}").get_data(as_text=True)
    before = len(gateway.twilio.messages)
    act(wati, code, "kirim")
    gateway.drain()
    [answer] = gateway.twilio.messages[before:]  # the answer itself: no template, no waiting for a reply
    assert answer.body.startswith(f"[{code}] Dinsos Kota Kupang: PKH tahap 4 cair") and "ContentSid" not in answer.params


def test_a_question_after_the_window_waits_for_the_reply_and_the_ticket_for_its_answer(late_desk):
    gateway, code, wati = late_desk
    before = len(gateway.twilio.messages)
    act(wati, code, "tunda", pertanyaan="Mohon kirim nomor KKS Ibu.")
    gateway.drain()
    assert gateway.twilio.messages[-1].params["ContentSid"] == TEMPLATE
    gateway.whatsapp("Ya")  # opens the window: the question arrives; it answers nothing yet
    gateway.drain()
    assert [m.body for m in gateway.twilio.messages[before + 1:]] == [f"[{code}] Dinsos Kota Kupang: Mohon kirim nomor KKS Ibu."]
    with gateway.session() as s:
        assert s.scalar(select(Ticket.state)) == TicketState.DITUNDA.value
    gateway.whatsapp("Nomor KKS saya 5371 0000 1234")  # the answer to the question
    gateway.drain()
    assert "sudah kami terima" in gateway.twilio.messages[-1].body
    with gateway.session() as s:
        assert s.scalar(select(Ticket.state)) == TicketState.DISETUJUI.value  # where it was before it waited
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1


def test_taking_back_in_reply_to_the_template_leaves_the_question_unsent(late_desk):
    gateway, code, wati = late_desk
    act(wati, code, "tunda", pertanyaan="Mohon kirim nomor KKS Ibu.")
    gateway.drain()
    before = len(gateway.twilio.messages)
    gateway.whatsapp("Batal saja bu, sudah cair")
    gateway.drain()
    assert [m.body[:22] for m in gateway.twilio.messages[before:]] == ["Permintaan pembatalan "]  # no question
    act(wati, code, "batalkan")
    with gateway.session() as s:
        question = s.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "question"))
        assert (question.status, s.scalar(select(Ticket.state))) == ("suppressed", TicketState.DIARSIPKAN.value)


def test_failed_send_is_shown_with_its_reason(desk):
    from tests.fake_twilio import Failure

    desk.twilio.fail_next(Failure(400, 21211, "invalid"))  # the confirmation of this follow-up fails
    desk.sms(f"{desk.code} tambahan keterangan")
    desk.drain()
    page = client_for(desk, "lia").get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert 'class="status-failed">gagal<' in page and "Nomor tujuan tidak valid" in page
    assert 'class="status-queued">dalam antrean penyedia<' in page  # the acknowledgement before it


def test_a_reply_held_by_the_limit_on_automatic_replies_is_shown_with_why(desk, monkeypatch):
    from handlers import inbound

    monkeypatch.setattr(inbound, "AUTO_REPLY_LIMIT", 1)  # the desk's acknowledgement was the one
    desk.sms(f"{desk.code} tambahan: lubangnya makin lebar")
    desk.drain()
    page = client_for(desk, "lia").get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "lubangnya makin lebar" in page
    assert 'class="status-suppressed">tidak dikirim<' in page
    # Why, in plain text: a limit is routine, not a failure to look into (those are in red)
    assert "<span>batas 1 balasan otomatis per 24 jam ke nomor ini tercapai</span>" in page


def test_every_delivery_status_and_role_has_a_label_in_bahasa_indonesia():
    assert set(DELIVERY_LABELS) == {status.value for status in DeliveryStatus}
    assert set(ROLE_LABELS) == {role.value for role in Role}


def test_search_by_code_phone_and_words(desk):
    lia = client_for(desk, "lia")
    for q in [desk.code, desk.code.replace("-", ""), "081234567890", "+62 812-3456-7890", "oesapa", "Oesapa rusak"]:
        assert desk.link in lia.get("/inbox/", query_string={"q": q}).get_data(as_text=True), q
    assert desk.link not in lia.get("/inbox/", query_string={"q": "jembatan"}).get_data(as_text=True)


def test_login_is_throttled_per_username_and_per_address(desk):
    client = desk.app.test_client()
    for _ in range(5):
        assert login(client, "lia", "salah-sekali").status_code == 401
    assert login(client, "lia").status_code == 429  # even the right password waits now
    for i in range(15):
        login(client, f"tidak-ada-{i}", "salah")
    assert login(client, "kepala").status_code == 429  # this address tried too often


def test_passwords_never_reach_the_logs(desk, caplog):
    caplog.set_level(logging.DEBUG)
    client = desk.app.test_client()
    login(client, "lia", "salah-kata-sandi-rahasia")
    login(client, "lia")
    assert "salah-kata-sandi-rahasia" not in caplog.text and PASSWORD not in caplog.text


def test_manual_intake(desk):
    lia = client_for(desk, "lia")
    response = lia.post("/inbox/catat", data={
        "csrf_token": token(lia, "/inbox/catat"), "saluran": "surat", "nama": "Yohanes Lede",
        "telepon": "0813 3900 1122", "alamat": "Jl. Timor Raya 12", "isi": "Pelayanan KTP lambat"})
    assert response.status_code == 303
    page = lia.get(response.location).get_data(as_text=True)
    assert "Pelayanan KTP lambat" in page and "Surat" in page and "+6281339001122" in page
    assert client_for(desk, "kepala").get("/inbox/catat").status_code == 403


def test_attachments_only_for_the_agency_and_never_executed(make_gateway):
    gateway = make_gateway()
    add_officer(gateway, "dinsos", Role.LIAISON, agency="dinsos-kupang")
    add_officer(gateway, "biro", Role.LIAISON)
    photo = gateway.twilio.add_media("ME9", b"\xff\xd8\xff fake jpeg", "image/jpeg")
    page = gateway.twilio.add_media("ME8", b"<html><script>alert(1)</script></html>", "text/html")
    gateway.whatsapp("foto KKS dan surat", NumMedia="2", MediaUrl0=photo, MediaContentType0="image/jpeg",
                     MediaUrl1=page, MediaContentType1="text/html")
    gateway.drain()
    with gateway.session() as s:
        image_id, html_id = s.scalars(select(Attachment.id).order_by(Attachment.position)).all()
    dinsos = client_for(gateway, "dinsos")
    image = dinsos.get(f"/inbox/lampiran/{image_id}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    html = dinsos.get(f"/inbox/lampiran/{html_id}")
    assert html.mimetype == "application/octet-stream"
    assert html.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert client_for(gateway, "biro").get(f"/inbox/lampiran/{image_id}").status_code == 404


def test_a_voice_note_plays_on_the_ticket_page(make_gateway):
    gateway = make_gateway()
    add_officer(gateway, "dinsos", Role.LIAISON, agency="dinsos-kupang")
    voice = gateway.twilio.add_media("ME7", b"OggS voice note", "audio/ogg; codecs=opus")
    gateway.whatsapp("", NumMedia="1", MediaUrl0=voice, MediaContentType0="audio/ogg; codecs=opus")
    gateway.drain()
    with gateway.session() as s:
        code, attachment_id = s.execute(select(Ticket.code, Attachment.id).join(Attachment)).one()
    dinsos = client_for(gateway, "dinsos")
    assert "(tanpa teks: lihat lampiran dan percakapan)" in dinsos.get("/inbox/").get_data(as_text=True)  # not a blank cell
    page = dinsos.get(f"/inbox/t/{code[:4]}-{code[4:]}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/inbox/lampiran/{attachment_id}">' in page
    sound = dinsos.get(f"/inbox/lampiran/{attachment_id}")
    assert sound.mimetype == "audio/ogg" and sound.get_data() == b"OggS voice note"
    assert "sandbox" in sound.headers["Content-Security-Policy"]


def test_canned_replies_and_officers_are_admin_pages(desk):
    admin = client_for(desk, "admin")
    admin.post("/inbox/balasan", data={"csrf_token": token(admin, "/inbox/balasan"), "judul": "Terima kasih",
                                       "isi": "Terima kasih atas laporan Anda."})
    assert "Terima kasih atas laporan Anda." in admin.get("/inbox/balasan").get_data(as_text=True)
    admin.post("/inbox/petugas", data={"csrf_token": token(admin, "/inbox/petugas"), "username": "baru1",
                                       "nama": "Petugas Baru", "peran": ["liaison"], "password": "sandi-baru-panjang"})
    assert login(desk.app.test_client(), "baru1", "sandi-baru-panjang").status_code == 302
    page = admin.get("/inbox/petugas").get_data(as_text=True)
    assert ('<td data-label="Nama">Petugas Baru</td><td data-label="Ponsel">-</td>'
            '<td data-label="Peran">Pejabat penghubung</td>') in page and "liaison<" not in page
    admin.post("/inbox/petugas", data={"csrf_token": token(admin, "/inbox/petugas"), "username_status": "baru1",
                                       "aktif": "0", "konfirmasi": "1"})
    assert login(desk.app.test_client(), "baru1", "sandi-baru-panjang").status_code == 401
    assert client_for(desk, "lia").get("/inbox/petugas").status_code == 403
    assert client_for(desk, "orangbppd").get("/inbox/balasan").get_data(as_text=True).count("Terima kasih atas") == 0


def test_disabled_officer_session_ends(desk):
    lia = client_for(desk, "lia")
    runner = desk.app.test_cli_runner()
    assert runner.invoke(args=["officers", "disable", "lia"]).exit_code == 0
    assert lia.get("/inbox/").status_code == 302


def test_command_line(desk):
    runner = desk.app.test_cli_runner()
    result = runner.invoke(args=["officers", "add", "petugas.baru", "--agency", "dinsos-kupang",
                                 "--role", "liaison,head"], input="sandi-dari-stdin-panjang\n")
    assert result.exit_code == 0, result.output
    assert login(desk.app.test_client(), "petugas.baru", "sandi-dari-stdin-panjang").status_code == 302
    listed = runner.invoke(args=["officers", "list"]).output
    assert "petugas.baru\tdinsos-kupang\thead,liaison\tactive\t-" in listed
    # An officer's mobile number, for their notices by SMS: kept in E.164, refused when no such number
    result = runner.invoke(args=["officers", "add", "kepala.dinsos", "--agency", "dinsos-kupang", "--role", "head",
                                 "--name", "Kepala Dinas", "--phone", "0812 3456 7890"], input="sandi-dari-stdin-panjang\n")
    assert result.exit_code == 0, result.output
    assert "kepala.dinsos\tdinsos-kupang\thead\tactive\t0812-3456-7890" in runner.invoke(args=["officers", "list"]).output
    with desk.session() as s:
        assert s.scalar(select(Officer.phone).where(Officer.username == "kepala.dinsos")) == "+6281234567890"
    wrong = runner.invoke(args=["officers", "add", "kepala.dua", "--agency", "dinsos-kupang", "--role", "head",
                                "--phone", "12345"], input="sandi-dari-stdin-panjang\n")
    assert wrong.exit_code != 0 and "Nomor ponsel tidak valid" in wrong.output
    bad = runner.invoke(args=["officers", "add", "x2x", "--agency", "nope", "--role", "head"], input="sandi-panjang-sekali\n")
    assert bad.exit_code != 0 and "Instansi tidak dikenal" in bad.output
    agencies = runner.invoke(args=["agencies", "list"]).output.splitlines()
    assert agencies[0].startswith("biro-organisasi\tBiro Organisasi Setda Provinsi NTT\tlapor-sms")
    assert any(line.startswith("dinsos-kupang\t") and "dinsos-wa" in line for line in agencies)
    assert any(line.startswith("bppd\t") for line in agencies)


def test_the_recap_book_sums_up_a_period_and_downloads_as_a_spreadsheet(desk):
    import csv
    import io

    lia = approved_answer(desk)
    act(lia, desk.code, "kirim")  # the desk's complaint, answered in time
    desk.drain()
    late = CODE.search(desk.converse("NTT lampu jalan mati", frm="+6281299990000")).group(1)
    junk = CODE.search(desk.converse("NTT asdf", frm="+6281288880000")).group(1)
    act(lia, junk, "arsipkan", catatan="tidak jelas")
    taken_back = CODE.search(desk.converse("NTT air PDAM mati", frm="+6281255550000")).group(1)
    desk.converse("Maaf salah kirim", frm="+6281255550000")
    act(lia, taken_back, "batalkan")
    earlier = CODE.search(desk.converse("NTT jembatan putus", frm="+6281277770000")).group(1)
    border = CODE.search(desk.converse("NTT pos lintas batas Motaain tutup", frm="+6281266660000")).group(1)
    act(lia, border, "teruskan", instansi="bppd", catatan="urusan perbatasan")
    desk.drain()
    assert desk.twilio.messages[-1].body.startswith(f"[{border}] Biro Organisasi: Diteruskan ke BPPD NTT")
    desk.whatsapp("Data penerima PKH di Oebobo")  # another agency's: not in this recap
    lia.post("/inbox/catat", data={"csrf_token": token(lia, "/inbox/catat"), "saluran": "surat",
                                   "nama": '=HYPERLINK("http://x","klik")', "isi": "@SUM(1) papan roboh"})
    desk.drain()
    with desk.session() as s, s.begin():
        for t in s.scalars(select(Ticket)):
            if codes.display(t.code) == late:
                t.due_at = now() - timedelta(hours=1)  # still open past its deadline
            if codes.display(t.code) == earlier:
                t.created_at = now() - timedelta(days=40)  # received before this month

    page = lia.get("/inbox/rekap").get_data(as_text=True)
    row = re.search(r'<th scope="row">SMS</th>((?:<td>\d+</td>)+)', page).group(1)
    # received, in time, late, in progress, past the deadline, archived, withdrawn, forwarded
    assert re.findall(r"\d+", row) == ["5", "1", "0", "0", "1", "1", "1", "1"]
    assert "WhatsApp" not in page
    assert re.search(r'<th scope="row">Jumlah</th><td>6</td>', page)  # and the letter

    start = (now() - timedelta(days=60)).date().isoformat()
    response = lia.get(f"/inbox/rekap.csv?dari={start}")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    header, *tickets = rows
    assert header[:3] == ["No", "Kode", "Diterima"] and len(tickets) == 7
    by_code = {r[1]: dict(zip(header, r)) for r in tickets}
    letter = tickets[-1][1]
    assert set(by_code) == {desk.code, late, junk, taken_back, earlier, border, letter}
    assert (by_code[border]["Status"], by_code[border]["Hasil"]) == (
        "Diteruskan ke Badan Pengelola Perbatasan Daerah Provinsi NTT", "Diteruskan ke instansi lain (bukan wewenang)")
    assert tickets[0][1] == earlier  # oldest first
    assert by_code[desk.code]["Hasil"] == "Dijawab tepat waktu" and by_code[desk.code]["Dijawab"].endswith("WITA")
    assert by_code[desk.code]["Pejabat yang ditugaskan"] == "Pejabat"
    assert by_code[desk.code]["Nomor ponsel"] == "0812-3456-7890"
    # What a citizen or an officer typed is never a spreadsheet formula
    assert (by_code[letter]["Nama"], by_code[letter]["Isi"]) == ("'=HYPERLINK(\"http://x\",\"klik\")", "'@SUM(1) papan roboh")
    assert (by_code[letter]["Saluran"], by_code[letter]["Layanan"], by_code[late]["Isi"]) == (
        "Surat", "-", "lampu jalan mati")
    assert by_code[junk]["Hasil"] == "Diarsipkan"
    assert (by_code[taken_back]["Status"], by_code[taken_back]["Hasil"]) == ("Diarsipkan",
                                                                             "Dibatalkan atas permintaan warga")
    assert lia.get("/inbox/rekap?dari=2026-13-01").status_code == 400
    assert lia.get("/inbox/rekap?dari=2026-11-30&sampai=2026-11-01").status_code == 400
    other = client_for(desk, "orangbppd").get(f"/inbox/rekap.csv?dari={start}").get_data(as_text=True)
    [(_, only)] = [line.split(";")[:2] for line in other.splitlines()[1:]]
    assert only == border and ";Baru;" in other  # the forwarded ticket, in the queue of the agency it went to


def test_logout_ends_the_session_on_the_server(desk):
    """A copy of the session cookie taken before logout opens nothing afterwards."""
    lia = client_for(desk, "lia")
    copy = desk.app.test_client()
    copy.set_cookie("session", lia.get_cookie("session").value)
    assert copy.get("/inbox/").status_code == 200
    other_browser = client_for(desk, "lia")  # the officer's other device stays signed in
    assert lia.post("/logout", data={"csrf_token": token(lia, "/inbox/")}).status_code == 302
    response = copy.get("/inbox/")
    assert response.status_code == 302 and "/login" in response.location
    assert other_browser.get("/inbox/").status_code == 200


BIG = "99999999999999999999"


@pytest.mark.parametrize("path", [
    f"/inbox/lampiran/{BIG}", "/inbox/lampiran/2147483648",
    f"/inbox/?petugas={BIG}", "/inbox/?petugas=-1",
    f"/inbox/?setelah=2026-12-01T00:00:00_{BIG}", "/inbox/?setelah=2026-12-01T00:00:00_x",
    "/inbox/?setelah=9999-12-31T23:59:59_1",
    "/inbox/rekap?dari=9999-12-31", "/inbox/rekap?sampai=9999-12-31&dari=9999-12-30",
    "/inbox/rekap.csv?dari=0001-01-01&sampai=0001-01-02", "/inbox/rekap.csv?dari=0001-01-01",
])
def test_odd_parameters_are_answered_without_an_error(desk, path):
    response = client_for(desk, "lia").get(path)
    assert response.status_code in (200, 400, 404), path
    if "lampiran" in path:
        assert response.status_code == 404


@pytest.mark.parametrize("action, form", [("disposisi", {"petugas": BIG}), ("pisahkan", {"pesan": BIG})])
def test_odd_numbers_in_ticket_forms_are_refused_plainly(desk, action, form):
    lia = client_for(desk, "lia")
    act(lia, desk.code, "telaah", catatan="jelas")
    head = client_for(desk, "kepala" if action == "disposisi" else "lia")
    assert act(head, desk.code, action, **form).status_code in (400, 403, 422)  # refused, said, no 500


def test_a_canned_reply_form_with_a_huge_id_is_refused_plainly(desk):
    admin = client_for(desk, "admin")
    response = admin.post("/inbox/balasan", data={"csrf_token": token(admin, "/inbox/balasan"), "id": BIG,
                                                  "hapus": "1"})
    assert response.status_code in (400, 404, 422)  # refused, said, no 500


def test_an_officers_name_in_the_recap_book_is_never_a_formula(desk):
    import csv
    import io

    lia = approved_answer(desk)
    with desk.session() as s, s.begin():
        s.execute(update(Officer).where(Officer.username == "pejabat")
                  .values(full_name='=HYPERLINK("http://x","klik")'))
    text = lia.get("/inbox/rekap.csv").get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert row["Pejabat yang ditugaskan"] == "'=HYPERLINK(\"http://x\",\"klik\")"


def test_each_officer_first_sees_what_waits_for_them(desk):
    """Tugas saya, by role: the liaison's review and sending, the head's disposition and approval, the
    official's drafting and returned drafts; every officer lands there after logging in."""
    lia, head, official = (client_for(desk, u) for u in ("lia", "kepala", "pejabat"))
    client = desk.app.test_client()
    assert login(client, "lia").headers["Location"].endswith("/inbox/tugas")

    def waiting(client) -> list[str]:
        page = client.get("/inbox/tugas").get_data(as_text=True)
        return re.findall(r'<td class="what"[^>]*>([^<]+)', page)

    def count(client) -> int:
        return client.get("/inbox/tugas/jumlah").get_json()["jumlah"]

    assert (waiting(lia), waiting(head), waiting(official)) == (["Telaah laporan baru"], [], [])
    assert (count(lia), count(head), count(official)) == (1, 0, 0)
    act(lia, desk.code, "telaah")
    assert (waiting(lia), waiting(head)) == ([], ["Disposisi"])
    with desk.session() as s:
        official_id = s.scalar(select(Officer.id).where(Officer.username == "pejabat"))
    act(head, desk.code, "disposisi", petugas=official_id, arahan="Mohon dijawab")
    assert (waiting(head), waiting(official)) == ([], ["Susun jawaban"])
    act(official, desk.code, "ajukan", jawaban="Perbaikan jalan dijadwalkan minggu depan.")
    assert (waiting(official), waiting(head)) == ([], ["Setujui jawaban"])
    act(head, desk.code, "kembalikan", catatan="Sebutkan tanggalnya")
    assert waiting(official) == ["Draf dikembalikan"]
    assert "Sebutkan tanggalnya" in official.get("/inbox/tugas").get_data(as_text=True)
    act(official, desk.code, "ajukan", jawaban="Perbaikan jalan dijadwalkan 15 Desember.")
    act(head, desk.code, "setujui")
    assert waiting(lia) == ["Kirim jawaban ke warga"]
    act(lia, desk.code, "kirim")
    assert waiting(lia) == [] and count(lia) == 0
    desk.drain()
    desk.converse(f"{desk.code} jalannya belum diperbaiki pak")  # the citizen writes about the answer
    assert waiting(lia) == ["Baca pesan baru dari warga"]
    other = CODE.search(desk.converse("NTT lampu jalan mati di Oebobo", frm="+6281299990000")).group(1)
    desk.converse("Maaf salah kirim, batal", frm="+6281299990000")
    listed = waiting(lia)
    assert sorted(listed) == ["Baca pesan baru dari warga", "Warga minta laporan dibatalkan"]
    assert f"{other}</a>" in lia.get("/inbox/tugas").get_data(as_text=True)
    assert count(lia) == 2 and 'data-tasks="/inbox/tugas/jumlah">2<' in lia.get("/inbox/tugas").get_data(as_text=True)
    assert client_for(desk, "admin").get("/inbox/tugas").get_data(as_text=True).count("Tidak ada yang menunggu") == 1


def test_error_pages_speak_bahasa_indonesia_in_the_inbox_layout(desk, monkeypatch):
    lia, head = client_for(desk, "lia"), client_for(desk, "kepala")
    missing = lia.get("/inbox/t/00000000")
    page = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "tidak ditemukan" in page and "Tugas saya" in page and "Not Found" not in page
    refused = head.get("/inbox/catat")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "hanya untuk pejabat penghubung" in page and "Forbidden" not in page
    stale = lia.post(f"/inbox/t/{desk.code}/telaah", data={"csrf_token": "kedaluwarsa"},
                     headers={"Referer": f"http://localhost/inbox/t/{desk.code}"})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 400 and "Formulir kedaluwarsa" in page and "Kembali ke halaman sebelumnya" in page
    big = lia.post(f"/inbox/t/{desk.code}/catatan", data={"csrf_token": token(lia, f"/inbox/t/{desk.code}"),
                                                          "catatan": "x" * 2_000_000})
    assert big.status_code == 413 and "terlalu besar" in big.get_data(as_text=True)
    nowhere = desk.app.test_client().get("/inbox/tidak-ada")  # not logged in: a way to log in
    assert nowhere.status_code == 404 and 'href="/login"' in nowhere.get_data(as_text=True)

    def broken(*args, **kwargs):
        raise RuntimeError("a defect")

    monkeypatch.setattr("handlers.tasks.of", broken)
    failed = lia.get("/inbox/tugas")
    page = failed.get_data(as_text=True)
    assert failed.status_code == 500 and "Terjadi kesalahan pada sistem" in page and "a defect" not in page
    # The machines' paths keep their short answers.
    forged = desk.post("/webhooks/twilio/messages", {"Body": "x"}, signature="forged")
    assert forged.status_code == 403 and "<h1>" not in forged.get_data(as_text=True)


def test_a_number_that_cannot_be_dialled_is_refused_at_intake_and_the_form_kept(desk):
    lia = client_for(desk, "lia")
    form = {"csrf_token": token(lia, "/inbox/catat"), "saluran": "surat", "nama": "Maria Ndun", "telepon": "12345",
            "alamat": "Oebobo", "isi": "Papan nama roboh", "diterima": ""}
    refused = lia.post("/inbox/catat", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Nomor ponsel 12345 tidak valid" in page
    assert 'value="Maria Ndun"' in page and 'value="12345"' in page and "Papan nama roboh</textarea>" in page
    with desk.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.channel == "surat")) == 0
    assert lia.post("/inbox/catat", data={**form, "telepon": "0813-3900-1122"}).status_code == 303


def test_steps_that_cannot_be_undone_ask_first_and_a_delivered_answer_says_so(desk):
    lia = approved_answer(desk)
    act(lia, desk.code, "kirim")
    desk.drain()
    with desk.session() as s:
        answer = s.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "answer"))
    status_callback(desk, answer, "delivered")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "Jawaban terakhir sudah sampai di ponsel warga" in page
    assert 'name="konfirmasi" value="1" required id="konfirmasi-kirim_ulang"' in page
    before = len(desk.twilio.messages)
    unconfirmed = lia.post(f"/inbox/t/{desk.code}/kirim_ulang", data={"csrf_token": token(lia, f"/inbox/t/{desk.code}")})
    assert "Centang konfirmasi dulu" in lia.get(unconfirmed.headers["Location"]).get_data(as_text=True)
    desk.drain()
    assert len(desk.twilio.messages) == before  # one click sends nothing again
    act(lia, desk.code, "kirim_ulang")  # ticked: sent again
    desk.drain()
    assert len(desk.twilio.messages) == before + 1
    other = CODE.search(desk.converse("NTT asdf qwer", frm="+6281299990000")).group(1)
    unconfirmed = lia.post(f"/inbox/t/{other}/arsipkan", data={"csrf_token": token(lia, f"/inbox/t/{other}"),
                                                               "catatan": "tidak jelas"})
    with desk.session() as s:
        assert s.scalar(select(Ticket.state).where(Ticket.code == other.replace("-", ""))) == "baru"
    for step in ("arsipkan", "teruskan"):
        assert f'id="konfirmasi-{step}"' in lia.get(f"/inbox/t/{other}").get_data(as_text=True)


def test_every_message_of_the_citizen_stands_in_the_conversation(desk):
    """A CEK and its reply both show on the ticket; the CEK is no news to read and nothing to split off."""
    lia = client_for(desk, "lia")
    desk.converse(f"CEK {desk.code}")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert f">CEK {desk.code}</div>" in page and f"Kode {desk.code}: diterima" in page
    assert "pesan baru dari warga" not in lia.get("/inbox/").get_data(as_text=True)
    assert 'name="pesan"' not in page  # "Jadikan tiket baru" has nothing to offer


def test_a_refused_step_keeps_what_was_typed_and_a_done_one_says_so_plainly(desk):
    lia, head = client_for(desk, "lia"), client_for(desk, "kepala")
    act(lia, desk.code, "telaah")
    refused = act(head, desk.code, "disposisi", petugas="999", arahan="Mohon dijawab minggu ini")  # nobody
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Pilih pejabat yang ditugaskan" in page
    assert ">Mohon dijawab minggu ini</textarea>" in page
    done = act(lia, desk.code, "teruskan", instansi="dinsos-kupang", catatan="urusan bansos")
    assert "Tiket diteruskan ke Dinas Sosial Kota Kupang." in lia.get(done.headers["Location"]).get_data(as_text=True)


def test_admins_cannot_lock_themselves_out_and_officers_keep_their_own_passwords(desk):
    admin = client_for(desk, "admin")
    page = admin.get("/inbox/petugas").get_data(as_text=True)
    assert "(Anda)" in page and page.count('name="username_status"') == 3  # lia, kepala, pejabat: not oneself
    refused = admin.post("/inbox/petugas", data={"csrf_token": token(admin, "/inbox/petugas"),
                                                 "username_status": "admin", "aktif": "0", "konfirmasi": "1"})
    assert refused.status_code == 422 and "tidak dapat menonaktifkan akun Anda sendiri" in refused.get_data(as_text=True)
    unconfirmed = admin.post("/inbox/petugas", data={"csrf_token": token(admin, "/inbox/petugas"),
                                                     "username_status": "lia", "aktif": "0"})
    assert unconfirmed.status_code == 422 and "Centang konfirmasi" in unconfirmed.get_data(as_text=True)
    done = admin.post("/inbox/petugas", data={"csrf_token": token(admin, "/inbox/petugas"),
                                              "username_status": "lia", "aktif": "0", "konfirmasi": "1"})
    assert "Petugas lia dinonaktifkan." in admin.get(done.headers["Location"]).get_data(as_text=True)
    runner = desk.app.test_cli_runner()
    assert runner.invoke(args=["officers", "enable", "lia"]).output == "enabled lia\n"
    assert login(desk.app.test_client(), "lia").status_code == 302
    # A form with an error keeps what was typed, never the password; a saved one says so.
    typed = {"csrf_token": token(admin, "/inbox/petugas"), "username": "petugas.baru", "nama": "Petugas Baru",
             "telepon": "12345", "peran": ["head"], "password": "sandi-rahasia-panjang"}
    kept = admin.post("/inbox/petugas", data=typed)
    page = kept.get_data(as_text=True)
    assert kept.status_code == 422 and 'value="petugas.baru"' in page and 'value="12345"' in page
    assert 'value="head" checked' in page and "sandi-rahasia-panjang" not in page
    saved = admin.post("/inbox/petugas", data={**typed, "telepon": ""})
    assert "Petugas petugas.baru ditambahkan." in admin.get(saved.headers["Location"]).get_data(as_text=True)
    saved = admin.post("/inbox/balasan", data={"csrf_token": token(admin, "/inbox/balasan"), "judul": "Salam",
                                               "isi": ""})
    assert saved.status_code == 422 and 'value="Salam"' in saved.get_data(as_text=True)
    saved = admin.post("/inbox/balasan", data={"csrf_token": token(admin, "/inbox/balasan"), "judul": "Salam",
                                               "isi": "Terima kasih."})
    assert "tersimpan." in admin.get(saved.headers["Location"]).get_data(as_text=True)
    # A one-time password from the admin must be changed at the next login.
    admin.post("/inbox/petugas", data={"csrf_token": token(admin, "/inbox/petugas"), "username_sandi": "pejabat",
                                       "sandi_sementara": "sementara-sekali-pakai"})
    official = desk.app.test_client()
    assert login(official, "pejabat").status_code == 401  # the old one no longer opens
    assert login(official, "pejabat", "sementara-sekali-pakai").status_code == 302
    assert official.get("/inbox/").headers["Location"].endswith("/inbox/akun")
    form = {"csrf_token": token(official, "/inbox/akun"), "sandi_sekarang": "sementara-sekali-pakai",
            "sandi_baru": "sandi-baru-milik-sendiri", "sandi_ulang": "sandi-baru-lain"}
    assert official.post("/inbox/akun", data=form).status_code == 422
    official.post("/inbox/akun", data={**form, "sandi_ulang": "sandi-baru-milik-sendiri"})
    assert official.get("/inbox/").status_code == 200
    assert login(desk.app.test_client(), "pejabat", "sandi-baru-milik-sendiri").status_code == 302
    result = runner.invoke(args=["officers", "password", "pejabat", "--one-time"], input="sandi-dari-cli-panjang\n")
    assert result.exit_code == 0 and "to be changed at the next login" in result.output


def test_a_forwarded_ticket_stays_readable_where_it_came_from(desk):
    lia, there = client_for(desk, "lia"), client_for(desk, "orangbppd")
    act(lia, desk.code, "teruskan", instansi="bppd", catatan="urusan perbatasan")
    listed = lia.get("/inbox/?status=diteruskan").get_data(as_text=True)
    assert desk.link in listed and "Diteruskan ke BPPD NTT" in listed and "di sana: Baru" in listed
    assert re.search(r'status=diteruskan"[^>]*>Diteruskan <span class="count">1<', listed)
    assert desk.link in lia.get(f"/inbox/?q={desk.code}").get_data(as_text=True)  # found by its code
    assert desk.link not in lia.get("/inbox/").get_data(as_text=True)  # not in the open queue
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "sudah diteruskan ke Badan Pengelola Perbatasan" in page and "hanya untuk dibaca" in page
    assert "<form method=\"post\" action=\"/inbox/t/" not in page  # no step offered
    refused = act(lia, desk.code, "arsipkan", catatan="salah")  # and none taken
    assert refused.status_code == 404
    act(there, desk.code, "telaah")
    assert "di sana: Ditelaah" in lia.get("/inbox/?status=diteruskan").get_data(as_text=True)
    assert client_for(desk, "orangbppd").get(f"/inbox/t/{desk.code}").status_code == 200
    assert client_for(desk, "kepala").get(f"/inbox/t/{desk.code}").status_code == 200  # the same agency's head
    add_officer(desk, "orangdinsos", Role.LIAISON, agency="dinsos-kupang")  # a third agency: not theirs
    assert client_for(desk, "orangdinsos").get(f"/inbox/t/{desk.code}").status_code == 404
    assert desk.link not in client_for(desk, "orangdinsos").get("/inbox/?status=semua").get_data(as_text=True)


def test_intake_with_a_phone_acknowledges_by_sms_and_a_number_shows_all_its_tickets(desk):
    lia = client_for(desk, "lia")
    form = {"csrf_token": token(lia, "/inbox/catat"), "saluran": "surat", "nama": "Maria Ndun",
            "telepon": "0812-3456-7890", "isi": "Papan nama kantor lurah roboh", "diterima": ""}
    done = lia.post("/inbox/catat", data=form)
    assert "Warga menerima kodenya lewat SMS." in lia.get(done.headers["Location"]).get_data(as_text=True)
    desk.drain()
    ack = desk.twilio.messages[-1]
    code = CODE.search(ack.body).group(1)
    assert (ack.to, ack.from_) == (CITIZEN, "1708") and ack.body.startswith("Pengaduan Anda diterima. Kode:")  # send_from
    page = lia.get(f"/inbox/t/{code}").get_data(as_text=True)
    link = re.search(r'href="([^"]+)">semua tiket nomor ini<', page).group(1).replace("&amp;", "&")
    listed = lia.get(link).get_data(as_text=True)
    assert desk.link in listed and f'href="/inbox/t/{code.replace("-", "")}"' in listed  # the SMS one and the letter
    act(lia, code, "catatan", catatan="Sudah ditelepon, warga setuju menunggu.")
    act(lia, code, "ubah_data", nama="Maria Goreti Ndun", alamat="RT 05 Oebobo")
    page = lia.get(f"/inbox/t/{code}").get_data(as_text=True)
    assert "Sudah ditelepon, warga setuju menunggu." in page and "Maria Goreti Ndun" in page
    assert "menjadi \u201cMaria Goreti Ndun\u201d" in page
    assert len([m for m in desk.twilio.messages if m.to == CITIZEN]) == 2  # the two acknowledgements, no note


def test_a_ticket_shows_its_likely_next_step_and_the_rest_behind_a_choice(desk):
    lia = client_for(desk, "lia")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    shown, folded = page.split('<details class="more"')
    assert 'action="/inbox/t/' in shown and "/telaah" in shown  # Baru: the review, in full
    for step in ("/tunda", "/teruskan", "/arsipkan", "/catatan"):
        assert step not in shown and step in folded, step
    refused = act(lia, desk.code, "teruskan", instansi="dinsos-kupang", catatan="")  # kept, and in view
    assert '<details class="more" open>' in refused.get_data(as_text=True)


def test_a_letters_scan_is_attached_at_intake(desk):
    import io

    lia = client_for(desk, "lia")
    scan = b"%PDF-1.4 surat pengaduan " + b"x" * 1_500_000  # larger than the other forms may send
    form = {"csrf_token": token(lia, "/inbox/catat"), "saluran": "surat", "nama": "Maria", "isi": "Papan roboh",
            "diterima": ""}
    refused = lia.post("/inbox/catat", data={**form, "lampiran": (io.BytesIO(b"MZ..."), "x.exe", "application/x-msdos")},
                       content_type="multipart/form-data")
    assert refused.status_code == 422 and "foto (JPEG, PNG, WebP) atau PDF" in refused.get_data(as_text=True)
    done = lia.post("/inbox/catat", data={**form, "lampiran": (io.BytesIO(scan), "surat.pdf", "application/pdf")},
                    content_type="multipart/form-data")
    assert done.status_code == 303
    page = lia.get(done.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/inbox/lampiran/\d+)">Unduh lampiran 1 \(application/pdf', page).group(1)
    assert lia.get(link).get_data() == scan
    with desk.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.channel == "surat")) == 1
    big = lia.post(f"/inbox/t/{desk.code}/catatan", data={"csrf_token": token(lia, f"/inbox/t/{desk.code}"),
                                                          "catatan": "x" * 1_500_000})
    assert big.status_code == 413  # elsewhere the limit stays
