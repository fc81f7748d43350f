"""The whole path on real Redis and a real database: signed webhook in, worker, reply at Twilio."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from handlers import inbound
from parsers import codes
from replies.render import render
from store.models import Attachment, Contact, InboundMessage, OutboundMessage, Ticket, TicketEvent
from tests.conftest import CITIZEN, PUBLIC_BASE_URL, SMS_LINE, WA_LINE, new_sid

CODE = re.compile(r"Kode: (\d{4}-\d{4})")


def count(gateway, model) -> int:
    with gateway.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def only_ticket(gateway) -> Ticket:
    with gateway.session() as s:
        return s.scalars(select(Ticket)).one()


def test_sms_complaint_gets_a_tracking_code(gateway):
    response = gateway.sms("NTT jalan di Oesapa rusak parah")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response/>")
    gateway.drain()

    [reply] = gateway.twilio.messages
    ticket = only_ticket(gateway)
    assert reply.to == CITIZEN and reply.from_ == SMS_LINE
    assert f"Kode: {codes.display(ticket.code)}" in reply.body
    assert f"CEK {codes.display(ticket.code)}" in reply.body
    assert "paling lambat" in reply.body
    assert codes.is_valid(ticket.code)
    assert ticket.body == "jalan di Oesapa rusak parah"
    assert ticket.agency == "biro-organisasi" and ticket.line_id == "lapor-sms"
    assert ticket.due_at - ticket.created_at == timedelta(days=8)
    with gateway.session() as s:
        out = s.scalars(select(OutboundMessage)).one()
    assert reply.status_callback == f"{PUBLIC_BASE_URL}/webhooks/twilio/status?o={out.id}"
    assert out.status == "queued" and out.provider_sid == reply.sid and out.ticket_id == ticket.id
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage)).one().phone == CITIZEN  # read by the worker, not at ingest


@pytest.mark.parametrize("sender", ["6281234567890", "081234567890", "+62 812-3456-7890"])
def test_a_number_written_another_way_is_the_same_citizen(gateway, sender):
    code = CODE.search(gateway.converse("NTT lampu jalan mati")).group(1)
    assert gateway.converse(f"CEK {code}", frm=sender).startswith(f"Kode {code}:")


@pytest.mark.parametrize("body", ["ntt: air PDAM mati", "  NTT#air PDAM mati", "Ntt.  air PDAM mati", "NTT, air PDAM mati",
                                  "NTT (spasi) air PDAM mati", "Selamat pagi pak, saya mau lapor air PDAM mati",
                                  "Izin pak, saya ingin melaporkan air PDAM mati"])
def test_keyword_variants(gateway, body):
    assert "Pengaduan Anda diterima" in gateway.converse(body)
    assert only_ticket(gateway).body == "air PDAM mati"


@pytest.mark.parametrize("body, expected", [
    ("NTT", "Format: NTT (spasi) isi pengaduan"),
    ("INFO", "Pengaduan: NTT (spasi) isi"),
    ("bantuan", "Pengaduan: NTT (spasi) isi"),
    ("HELP", "Pengaduan: NTT (spasi) isi"),
    ("jalan rusak mohon diperbaiki", "Pengaduan: NTT (spasi) isi"),
])
def test_help_and_no_ticket(gateway, body, expected):
    assert expected in gateway.converse(body)
    assert count(gateway, Ticket) == 0


def test_help_shows_the_phones_own_latest_code_on_that_line(gateway):
    assert "CEK 1234-5671" in gateway.converse("INFO")  # no ticket yet: the example
    gateway.converse("NTT lampu jalan mati")
    code = CODE.search(gateway.converse("NTT air PDAM mati di Oebobo")).group(1)
    gateway.move_back(Ticket.last_inbound_at, timedelta(minutes=11))  # not the rest of that complaint
    reply = gateway.converse("halo pak, soal jalan di desa kami")
    assert f"Cek status: CEK {code}. Tambahan: {code} (spasi) isi." in reply
    assert "CEK 1234-5671" in gateway.converse("INFO", frm="+6285333444555")  # another phone's: not shown
    gateway.whatsapp("Selamat pagi")  # the helpdesk's help: this phone has no ticket of that line
    gateway.drain()
    assert "CEK 1234-5671" in gateway.twilio.messages[-1].body


def test_status_check_only_for_the_same_phone(gateway):
    code = CODE.search(gateway.converse("NTT lampu jalan mati")).group(1)
    digits = codes.normalize(code)
    assert gateway.converse(f"CEK {code}") .startswith(f"Kode {code}: diterima, menunggu ditelaah petugas.")
    assert gateway.converse(f"status {digits}").startswith(f"Kode {code}:")
    assert gateway.converse(f"cek {digits[:4]} {digits[4:]}").startswith(f"Kode {code}:")
    assert "tidak ditemukan" in gateway.converse(f"CEK {code}", frm="+6285333444555")
    wrong = digits[:7] + str((int(digits[7]) + 1) % 10)
    assert "tidak valid" in gateway.converse(f"CEK {wrong}")
    unknown = codes.new_code()
    while unknown == digits:
        unknown = codes.new_code()
    assert "tidak ditemukan" in gateway.converse(f"CEK {unknown}")


def test_cek_without_a_code_names_the_citizens_latest_tickets(gateway):
    assert "Belum ada laporan dari nomor ini" in gateway.converse("CEK")
    codes_ = [CODE.search(gateway.converse(f"NTT keluhan nomor {i} di Oesapa")).group(1) for i in range(4)]
    gateway.converse("STOP")  # a number's other messages do not count
    gateway.converse("START")
    reply = gateway.converse("cek laporan saya")
    assert reply.startswith(f"Laporan Anda: {codes_[3]} diterima; {codes_[2]} diterima; {codes_[1]} diterima.")
    assert codes_[0] not in reply
    assert "Belum ada laporan" in gateway.converse("CEK", frm="+6281300000009")  # only this phone's


def test_the_space_forgotten_and_a_question_in_words(gateway):
    """The keyword glued to the text begins a complaint; asking after it in words lists the phone's
    tickets, on WhatsApp too, where the question made a ticket of its own before."""
    code = CODE.search(gateway.converse("NTTjalan di Oesapa rusak parah")).group(1)
    assert only_ticket(gateway).body == "jalan di Oesapa rusak parah"
    assert gateway.converse("Bagaimana laporan saya?").startswith(f"Laporan Anda: {code} diterima.")
    gateway.whatsapp("gimana pengaduan saya pak")
    gateway.drain()
    assert gateway.twilio.messages[-1].body.startswith(f"Laporan Anda: {code} diterima.")
    only_ticket(gateway)  # still the one


def test_a_forgotten_code_is_given_back(gateway):
    """'Lupa kode' lists the phone's tickets with their codes; on WhatsApp it made a request whose
    whole text was 'Lupa kode saya', with a new code, and within minutes of a request joined its text."""
    gateway.whatsapp("Bantuan PKH saya belum cair sejak Agustus")
    gateway.drain()
    code = CODE.search(gateway.twilio.messages[-1].body).group(1)
    gateway.whatsapp("Lupa kode saya pak")
    gateway.drain()
    assert gateway.twilio.messages[-1].body.startswith(f"Laporan Anda: {code} diterima.")
    assert only_ticket(gateway).body == "Bantuan PKH saya belum cair sejak Agustus"
    assert gateway.converse("Nomor pengaduan saya berapa ya?").startswith(f"Laporan Anda: {code} diterima.")


def test_a_question_or_thanks_with_the_code_is_answered_with_its_state(gateway):
    """Words around the code that only ask: the state; that only thank: nothing. Not a follow-up,
    which would open a closed ticket again and confirm a thank-you as news."""
    code = CODE.search(gateway.converse("NTT jembatan putus di Desa Oelbubuk")).group(1)
    assert gateway.converse(f"Cek {code} pak").startswith(f"Kode {code}: diterima, menunggu ditelaah petugas.")
    with gateway.session() as s, s.begin():
        ticket = s.scalars(select(Ticket)).one()
        ticket.state, ticket.is_open = "selesai", False
    before = len(gateway.twilio.messages)
    gateway.sms(f"{code} terima kasih pak")
    gateway.drain()
    assert len(gateway.twilio.messages) == before  # thanks: kept, no reply
    # Closed: no deadline left to give, and how to write more about it (which opens it again).
    assert gateway.converse(f"Mohon info laporan {code}") == (f"Kode {code}: selesai. Bila masih ada masalah, "
                                                              f"kirim {code} (spasi) isi.")
    assert (only_ticket(gateway).state, only_ticket(gateway).is_open) == ("selesai", False)


def test_asking_for_the_answer_without_a_code_goes_to_the_open_ticket(gateway):
    """'Kapan dijawab?' from a phone with an open ticket is added to it and answered with its state;
    on WhatsApp it made a new ticket, on SMS it got the help text. Without one, it is as before."""
    gateway.whatsapp("Mohon ditindaklanjuti")  # nothing to remind of: a request, as before
    gateway.drain()
    assert "Permintaan Anda diterima" in gateway.twilio.messages[-1].body
    with gateway.session() as s, s.begin():
        s.execute(update(Ticket).values(state="selesai", is_open=False))
    code = CODE.search(gateway.converse("NTT lampu jalan mati di Oebobo")).group(1)
    gateway.move_back(OutboundMessage.created_at, timedelta(minutes=31))  # the acknowledgement not just above
    assert gateway.converse("Kapan dijawab?").startswith(f"Kode {code}: diterima, menunggu ditelaah petugas.")
    gateway.whatsapp("Kok belum ada tanggapan pak?", frm="whatsapp:+6281300000009")
    gateway.drain()
    assert "Permintaan Anda diterima" in gateway.twilio.messages[-1].body  # another phone: its own request
    with gateway.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.code == codes.normalize(code))).one()
        bodies = s.scalars(select(InboundMessage.body).where(InboundMessage.ticket_id == ticket.id)
                           .order_by(InboundMessage.id)).all()
        assert bodies == ["NTT lampu jalan mati di Oebobo", "Kapan dijawab?"]
        assert ticket.body == "lampu jalan mati di Oebobo"
        assert s.scalar(select(func.count()).select_from(Ticket)) == 3
    assert replies_to(gateway, "NTT mohon ditindaklanjuti") == []  # with the keyword too: the state is just above
    assert count(gateway, Ticket) == 3
    assert "Gratis" in gateway.converse("Kapan dijawab?", frm="+6285333444555")  # no ticket: the help text


def test_asking_after_progress_days_later_gets_the_state_not_a_new_request(gateway):
    """'Ada kabar pak?' or 'Sudah sampai mana?' on WhatsApp days after the request was a new request
    with a new code; on SMS the help text. Now it is the phone's open ticket's state, or, with only a
    closed one, that one's (not opened again by a question); the thanks for the news asks nothing."""
    gateway.whatsapp("Bantuan PKH saya belum cair sejak Agustus")
    gateway.drain()
    code = CODE.search(gateway.twilio.messages[-1].body).group(1)
    gateway.move_back(InboundMessage.received_at, timedelta(days=3))  # not the rest of the request
    gateway.move_back(OutboundMessage.created_at, timedelta(days=3))
    gateway.whatsapp("Ada kabar pak?")
    gateway.drain()
    assert gateway.twilio.messages[-1].body.startswith(f"Kode {code}: diterima, menunggu ditelaah petugas.")
    ticket = only_ticket(gateway)
    assert ticket.body == "Bantuan PKH saya belum cair sejak Agustus"  # the question is no part of the request
    with gateway.session() as s, s.begin():
        s.execute(update(Ticket).values(state="selesai", is_open=False))
    gateway.move_back(OutboundMessage.created_at, timedelta(days=3))
    before = len(gateway.twilio.messages)
    gateway.whatsapp("Sudah sampai mana bu?")
    gateway.drain()
    assert gateway.twilio.messages[-1].body == f"Kode {code}: selesai. Bila masih ada masalah, kirim {code} (spasi) isi."
    assert (only_ticket(gateway).state, only_ticket(gateway).is_open) == ("selesai", False)
    gateway.whatsapp("Siap, ditunggu kabar baiknya")
    gateway.drain()
    assert len(gateway.twilio.messages) == before + 1  # thanks: kept, no reply
    assert count(gateway, Ticket) == 1


def test_taking_a_complaint_back_without_a_code(gateway):
    """'Batal' or 'Maaf salah kirim' lands on the phone's open ticket, for an officer to close; on
    WhatsApp it was a request of its own with a new code, on SMS a help text."""
    code = CODE.search(gateway.converse("NTT lampu jalan mati di Oebobo")).group(1)
    assert gateway.converse("Batal pak") == (f"Permintaan pembatalan untuk kode {code} sudah kami terima. "
                                             f"Petugas akan menutup laporan ini. Bila keliru, kirim {code} (spasi) isi.")
    ticket = only_ticket(gateway)
    assert (ticket.state, ticket.is_open) == ("baru", True)  # closed by an officer, not by a word misread
    with gateway.session() as s:
        assert s.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)).all() == ["minta_batal"]
        assert s.scalars(select(InboundMessage.intent).where(InboundMessage.ticket_id == ticket.id)
                         .order_by(InboundMessage.id)).all() == ["NewTicket", "Withdrawal"]
    assert replies_to(gateway, "Batal ya pak") == []  # the confirmation is just above
    with gateway.session() as s:
        assert s.scalars(select(OutboundMessage.error_message).order_by(OutboundMessage.id.desc())).first() \
            == "pembatalan baru saja dikonfirmasi ke nomor ini"
    assert replies_to(gateway, "Maaf salah kirim", frm="+6285333444555") == []  # nothing open there: kept, unanswered
    assert count(gateway, Ticket) == 1


def test_taking_a_request_back_on_whatsapp(gateway):
    gateway.whatsapp("Mohon data penerima BLT Kelurahan Oebobo")
    gateway.drain()
    code = CODE.search(gateway.twilio.messages[-1].body).group(1)
    gateway.move_back(Ticket.last_inbound_at, timedelta(hours=2))  # no longer a request being written
    gateway.whatsapp("Maaf salah kirim 🙏")
    gateway.drain()
    assert gateway.twilio.messages[-1].body.startswith(f"Permintaan pembatalan untuk kode {code}")
    assert count(gateway, Ticket) == 1 and only_ticket(gateway).body == "Mohon data penerima BLT Kelurahan Oebobo"


def test_taking_a_ticket_back_by_its_code(gateway):
    code = CODE.search(gateway.converse("NTT jembatan putus di Desa Oelbubuk")).group(1)
    assert "tidak ditemukan" in gateway.converse(f"BATAL {code}", frm="+6285333444555")  # another phone's
    assert gateway.converse(f"{code} batal").startswith(f"Permintaan pembatalan untuk kode {code}")
    with gateway.session() as s, s.begin():
        s.execute(update(Ticket).values(state="selesai", is_open=False))
    assert gateway.converse(f"Batalkan laporan {code}").startswith(f"Kode {code}: selesai.")  # closed: its state
    assert (only_ticket(gateway).state, only_ticket(gateway).is_open) == ("selesai", False)  # not opened again


def test_asking_for_the_answer_with_the_code(gateway):
    """Added to that ticket for the officers to see, and answered with its state, not 'keterangan diterima'."""
    code = CODE.search(gateway.converse("NTT jembatan putus di Desa Oelbubuk")).group(1)
    gateway.move_back(OutboundMessage.created_at, timedelta(minutes=31))  # the acknowledgement not just above
    reply = gateway.converse(f"Pak, kode saya {code} kok belum dijawab?")
    assert reply.startswith(f"Kode {code}: diterima, menunggu ditelaah petugas. Batas waktu")
    assert "tidak ditemukan" in gateway.converse(f"{code} kok belum dijawab?", frm="+6285333444555")
    with gateway.session() as s:
        bodies = s.scalars(select(InboundMessage.body).where(InboundMessage.ticket_id == only_ticket(gateway).id)
                           .order_by(InboundMessage.id)).all()
    assert bodies == ["NTT jembatan putus di Desa Oelbubuk", f"Pak, kode saya {code} kok belum dijawab?"]
    with gateway.session() as s, s.begin():
        s.execute(update(Ticket).values(state="selesai", is_open=False))
    assert "akan ditindaklanjuti paling lambat" in gateway.converse(f"{code} belum ada jawaban")  # opened again
    assert (only_ticket(gateway).state, only_ticket(gateway).is_open) == ("baru", True)


def test_asking_dinsos_to_check_ones_data_is_a_request(gateway):
    """'Cek NIK saya ...' on the helpdesk is its most common request; it got 'nomor ... tidak valid'."""
    gateway.whatsapp("Cek NIK saya apakah terdaftar DTKS")
    gateway.drain()
    assert gateway.twilio.messages[-1].body.startswith("Permintaan Anda diterima. Kode:")
    assert only_ticket(gateway).body == "Cek NIK saya apakah terdaftar DTKS"


def test_follow_up_is_added_to_the_ticket(gateway):
    code = CODE.search(gateway.converse("NTT jembatan putus di Desa Oelbubuk")).group(1)
    assert "sudah kami terima" in gateway.converse(f"{code} sekarang mobil tidak bisa lewat")
    assert "sudah kami terima" in gateway.converse(f"{code} sudah 3 hari")  # with its code: each confirmed
    assert "tidak ditemukan" in gateway.converse(f"{code} saya juga", frm="+6285333444555")
    ticket = only_ticket(gateway)
    with gateway.session() as s:
        bodies = s.scalars(select(InboundMessage.body).where(InboundMessage.ticket_id == ticket.id)
                           .order_by(InboundMessage.id)).all()
    assert bodies == ["NTT jembatan putus di Desa Oelbubuk", f"{code} sekarang mobil tidak bisa lewat",
                      f"{code} sudah 3 hari"]


def test_resend_within_a_day_gets_the_same_code(gateway):
    first = CODE.search(gateway.converse("NTT sekolah rusak di Alor")).group(1)
    again = gateway.converse("ntt  Sekolah rusak di Alor!")
    assert CODE.search(again).group(1) == first
    assert count(gateway, Ticket) == 1
    gateway.move_back(Ticket.created_at, timedelta(hours=25))  # a day later the same words are a new complaint
    later = CODE.search(gateway.converse("NTT sekolah rusak di Alor")).group(1)
    assert later != first and count(gateway, Ticket) == 2


def test_a_resend_taken_by_two_workers_at_once_is_still_one_ticket(gateway, monkeypatch):
    """Both copies pass the resend check before either commits, unless the phone's messages
    are applied one after the other: a barrier holds each copy just before it adds a ticket."""
    import threading

    from handlers import inbound

    gateway.sms("NTT air PDAM mati tiga hari di Oebobo")
    gateway.sms("NTT air PDAM mati tiga hari di Oebobo")
    gateway.services.queues.redis.flushdb()  # two workers take the two jobs instead
    with gateway.session() as s:
        ids = s.scalars(select(InboundMessage.id).order_by(InboundMessage.id)).all()
    both_checked = threading.Barrier(2, timeout=1.5)
    add_ticket = inbound.add_ticket

    def add_when_both_checked(s, ticket):
        try:
            both_checked.wait()
        except threading.BrokenBarrierError:
            pass  # the other copy is waiting for this one to finish
        add_ticket(s, ticket)

    monkeypatch.setattr(inbound, "add_ticket", add_when_both_checked)
    workers = [threading.Thread(target=inbound.process, args=(gateway.services, i)) for i in ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(15)
    assert count(gateway, Ticket) == 1
    with gateway.session() as s:
        assert sorted(s.scalars(select(InboundMessage.intent)).all()) == ["NewTicket", "Resend"]


def test_stop_then_nothing_until_start(gateway):
    code = CODE.search(gateway.converse("NTT pungli di kantor camat")).group(1)
    assert "tidak akan menerima pesan lagi" in gateway.converse("STOP")
    sent = len(gateway.twilio.messages)
    assert gateway.sms(f"CEK {code}").status_code == 200
    gateway.drain()
    assert len(gateway.twilio.messages) == sent  # nothing sent to an opted-out number
    with gateway.session() as s:
        last = s.scalars(select(OutboundMessage).order_by(OutboundMessage.id.desc())).first()
        assert last.status == "suppressed" and "STOP" in last.error_message
    assert "aktif kembali" in gateway.converse("MULAI")
    assert gateway.converse(f"CEK {code}").startswith(f"Kode {code}:")


def test_start_sends_the_codes_that_stop_withheld(gateway):
    """A citizen who sent STOP and then a complaint never learnt its code: START brings it, once."""
    assert "tidak akan menerima pesan lagi" in gateway.converse("STOP")
    for body in ("NTT lampu jalan di Oesapa mati", "NTT lampu jalan di Oesapa mati", "CEK"):  # a resend, a command
        assert replies_to(gateway, body) == []
    with gateway.session() as s:
        code = codes.display(s.scalar(select(Ticket.code)))
    confirmed, ack = replies_to(gateway, "START")
    assert "aktif kembali" in confirmed and "tertahan" in confirmed
    assert ack.startswith(f"Pengaduan Anda diterima. Kode: {code}.")  # the first acknowledgement, not CEK's answer
    assert replies_to(gateway, "START") == [render("opted_in")]  # sent once


def replies_to(gateway, body: str, **kw) -> list[str]:
    """Send one SMS and process it; return what reached the citizen because of it (one reply or none)."""
    before = len(gateway.twilio.messages)
    assert gateway.sms(body, **kw).status_code == 200
    gateway.drain()
    return [m.body for m in gateway.twilio.messages[before:]]


def held_replies(gateway) -> list[OutboundMessage]:
    with gateway.session() as s:
        return s.scalars(select(OutboundMessage).where(OutboundMessage.status == "suppressed")
                         .order_by(OutboundMessage.id)).all()


def test_the_rest_of_an_sms_complaint_sent_without_the_keyword_joins_it(gateway):
    code = CODE.search(gateway.converse("NTT jalan di Oesapa rusak parah")).group(1)
    # The rest, as SMS of their own: added to the complaint, confirmed once with the code.
    assert f"kode {code} sudah kami terima" in gateway.converse("lokasinya depan SD Inpres Oesapa")
    assert replies_to(gateway, "sudah 3 bulan belum diperbaiki") == []  # confirmed just now
    assert only_ticket(gateway).body == ("jalan di Oesapa rusak parah\nlokasinya depan SD Inpres Oesapa"
                                         "\nsudah 3 bulan belum diperbaiki")
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage.ticket_id)).all() == [1, 1, 1]


def test_asking_for_the_answer_soon_after_being_told_gets_no_second_paid_reply(gateway):
    code = CODE.search(gateway.converse("NTT jalan di Oesapa rusak parah")).group(1)
    assert replies_to(gateway, "Mohon segera ditindaklanjuti") == []  # the code and deadline are just above
    [held] = held_replies(gateway)
    assert (held.purpose, held.error_message) == ("status", "kode dan batas waktu baru saja dikirim ke nomor ini")
    ticket = only_ticket(gateway)
    assert ticket.body == "jalan di Oesapa rusak parah"  # kept with the ticket, not in its text
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage.ticket_id)).all() == [ticket.id, ticket.id]
    gateway.move_back(OutboundMessage.created_at, timedelta(minutes=31))
    assert replies_to(gateway, "Kapan dijawab?")[0].startswith(f"Kode {code}:")
    assert replies_to(gateway, "Kok belum ada tanggapan pak?") == []
    assert gateway.converse(f"CEK {code}").startswith(f"Kode {code}:")  # asked for by name: answered again


def test_the_rest_of_a_new_complaint_goes_to_it_not_to_one_answered_before(gateway):
    answered = CODE.search(gateway.converse("NTT jalan di Oesapa rusak parah")).group(1)
    with gateway.session() as s, s.begin():
        s.execute(update(Ticket).values(state="terkirim"))
    gateway.move_back(Ticket.last_inbound_at, timedelta(days=2))
    gateway.move_back(Ticket.updated_at, timedelta(days=2))  # answered two days ago
    new = CODE.search(gateway.converse("NTT lampu jalan mati di RT 5")).group(1)
    assert f"kode {new} sudah kami terima" in gateway.converse("tepatnya depan SD Inpres Oesapa")
    gateway.move_back(Ticket.last_inbound_at, timedelta(minutes=11))
    # Later, text without the keyword is again the citizen's word on the answer they had.
    assert f"kode {answered} sudah kami terima" in gateway.converse("jalan di Oesapa belum juga diperbaiki")


def test_text_after_an_officers_question_is_the_answer_even_just_after_a_new_complaint(gateway):
    asked = CODE.search(gateway.converse("NTT jalan di Oesapa rusak parah")).group(1)
    gateway.converse("NTT lampu jalan mati di RT 5")
    with gateway.session() as s, s.begin():  # then an officer asks about the first one
        s.execute(update(Ticket).where(Ticket.code == codes.normalize(asked))
                  .values(state="ditunda", held_state="ditelaah"))
    assert f"kode {asked} sudah kami terima" in gateway.converse("boleh, silakan telepon saya")


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_a_reply_to_a_question_sent_in_several_messages_stays_on_the_ticket(gateway, channel):
    """The first message ends the ticket's wait, the next ones within 10 minutes join it; before,
    the next one got the help text (SMS) or became a request of its own with a new code (WhatsApp),
    off the ticket the officer reads."""
    send = gateway.sms if channel == "sms" else gateway.whatsapp
    send("NTT jalan di Oesapa rusak parah" if channel == "sms" else "Mohon data penerima BLT Kelurahan Oebobo")
    gateway.drain()
    code = CODE.search(gateway.twilio.messages[-1].body).group(1)
    with gateway.session() as s, s.begin():  # an officer asked where
        s.execute(update(Ticket).values(state="ditunda", held_state="ditelaah"))
    before = len(gateway.twilio.messages)
    for part in ("di RT 5 Kelurahan Oebobo", "dekat SD Inpres", "sejak bulan Agustus pak"):
        send(part)
        gateway.drain()
    [confirmed] = [m.body for m in gateway.twilio.messages[before:]]  # once, not once a message
    assert f"kode {code} sudah kami terima" in confirmed
    ticket = only_ticket(gateway)
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage.ticket_id)).all() == [ticket.id] * 4
    assert ticket.state == "ditelaah"
    gateway.move_back(Ticket.last_inbound_at, timedelta(minutes=11))
    gateway.move_back(TicketEvent.created_at, timedelta(minutes=11))
    send("lokasinya di jalan utama")  # later: no longer the rest of that reply
    gateway.drain()
    assert count(gateway, Ticket) == (1 if channel == "sms" else 2)
    if channel == "sms":
        assert "Pengaduan: NTT (spasi) isi" in gateway.twilio.messages[-1].body


def test_text_without_the_keyword_later_or_after_review_gets_help(gateway):
    gateway.converse("NTT jalan di Oesapa rusak parah")
    gateway.move_back(Ticket.last_inbound_at, timedelta(minutes=11))
    assert "Pengaduan: NTT (spasi) isi" in gateway.converse("lokasinya depan SD Inpres Oesapa")
    other = "+6285333444555"
    gateway.converse("NTT lampu jalan mati", frm=other)
    with gateway.session() as s, s.begin():  # reviewed meanwhile
        s.execute(update(Ticket).where(Ticket.phone == other).values(state="ditelaah"))
    assert "Pengaduan: NTT (spasi) isi" in gateway.converse("di depan kantor lurah", frm=other)
    with gateway.session() as s:
        assert s.scalars(select(Ticket.body).order_by(Ticket.id)).all() == ["jalan di Oesapa rusak parah",
                                                                           "lampu jalan mati"]


def test_an_auto_responder_gets_one_help_text_not_a_loop(gateway):
    # A machine answering each of our replies with its own line. Its first message, with nothing of
    # ours before it, reads as someone's words (help); the rest answer that help text: kept, unanswered.
    replies = [replies_to(gateway, "Maaf, nomor yang Anda tuju sedang tidak aktif") for _ in range(4)]
    assert [len(r) for r in replies] == [1, 0, 0, 0]
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage.intent)).all() == ["Help"] + ["AutoReply"] * 3  # every message kept
    assert held_replies(gateway) == []  # no reply written for a machine at all


def test_unreadable_text_gets_one_help_text_not_a_loop(gateway):
    replies = [replies_to(gateway, "Tes satu dua tiga empat") for _ in range(4)]
    assert [len(r) for r in replies] == [1, 0, 0, 0]
    held = held_replies(gateway)
    assert len(held) == 3 and all("petunjuk baru saja dikirim" in m.error_message for m in held)


AWAY = "Terima kasih telah menghubungi Toko Berkah Jaya. Saat ini kami sedang tidak aktif, akan segera kami balas."


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_a_phones_auto_reply_to_the_acknowledgement_stays_off_the_request(gateway, channel):
    """A WhatsApp Business away message (or a carrier's notice) answering our acknowledgement: before,
    it was added to the request's text as its rest and confirmed in a paid reply."""
    send = gateway.sms if channel == "sms" else gateway.whatsapp
    body = "NTT jalan di Oesapa rusak parah" if channel == "sms" else "Mohon data penerima BLT Kelurahan Oebobo"
    send(body)
    gateway.drain()
    before = len(gateway.twilio.messages)
    send(AWAY)
    gateway.drain()
    assert len(gateway.twilio.messages) == before and held_replies(gateway) == []
    ticket = only_ticket(gateway)
    assert ticket.body == body.removeprefix("NTT ")
    with gateway.session() as s:
        rows = s.execute(select(InboundMessage.intent, InboundMessage.ticket_id).order_by(InboundMessage.id)).all()
        last_inbound = s.scalar(select(InboundMessage.received_at).order_by(InboundMessage.id).limit(1))
    assert rows[-1] == ("AutoReply", ticket.id)  # on the conversation, for officers to see
    assert ticket.last_inbound_at == last_inbound  # not news from the citizen: the queue marks nothing
    send("lokasinya depan SD Inpres")  # the citizen's own rest of it still joins the request
    gateway.drain()
    assert only_ticket(gateway).body.endswith("\nlokasinya depan SD Inpres")


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_an_auto_reply_to_an_officers_question_is_not_the_answer(gateway, channel):
    send = gateway.sms if channel == "sms" else gateway.whatsapp
    send("NTT jalan di Oesapa rusak parah" if channel == "sms" else "Mohon data penerima BLT Kelurahan Oebobo")
    gateway.drain()
    with gateway.session() as s, s.begin():  # an officer asked where
        s.execute(update(Ticket).values(state="ditunda", held_state="ditelaah"))
    before = len(gateway.twilio.messages)
    send("[Pesan otomatis] Halo! Kami akan membalas secepatnya.")
    gateway.drain()
    assert len(gateway.twilio.messages) == before
    assert only_ticket(gateway).state == "ditunda"  # still waiting for the citizen
    send("Di RT 5 Kelurahan Oebobo pak")
    gateway.drain()
    assert only_ticket(gateway).state == "ditelaah"


def test_words_like_a_machines_with_nothing_of_ours_before_them_are_the_citizens(gateway):
    """A machine answers and never writes first: a first message that reads like one is taken as written."""
    gateway.whatsapp(AWAY)
    gateway.drain()
    assert only_ticket(gateway).body == AWAY and "Kode:" in gateway.twilio.messages[-1].body


def test_help_for_unreadable_text_comes_again_after_half_an_hour_three_times_a_day(gateway):
    for expected in (1, 1, 1, 0):
        assert len(replies_to(gateway, "jalan rusak mohon diperbaiki")) == expected
        gateway.move_back(OutboundMessage.created_at, timedelta(minutes=31))
    assert "3 petunjuk" in held_replies(gateway)[0].error_message
    gateway.move_back(OutboundMessage.created_at, timedelta(hours=24))
    assert len(replies_to(gateway, "jalan rusak mohon diperbaiki")) == 1  # a day later


def test_help_asked_for_or_after_another_reply_is_not_held(gateway):
    assert "Pengaduan: NTT (spasi) isi" in gateway.converse("INFO")
    assert "Pengaduan: NTT (spasi) isi" in gateway.converse("INFO")  # asked again: answered again
    gateway.converse("CEK")
    assert "Pengaduan: NTT (spasi) isi" in gateway.converse("halo pak laporan saya kapan ditanggapi")


def test_automatic_replies_to_a_number_stop_at_the_daily_limit(gateway, monkeypatch, caplog):
    monkeypatch.setattr(inbound, "AUTO_REPLY_LIMIT", 3)
    for i in range(3):
        assert "Pengaduan Anda diterima" in gateway.converse(f"NTT lampu jalan mati di RT {i}")
    assert replies_to(gateway, "NTT air PDAM mati di Oebobo") == []
    [warned] = [r.getMessage() for r in caplog.records if r.name == "handlers.inbound" and r.levelname == "WARNING"]
    assert "3 automatic replies in 24 hours" in warned and CITIZEN not in warned and "PDAM" not in warned
    with gateway.session() as s:  # the complaint is a ticket all the same, its acknowledgement held
        ticket = s.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        ack = s.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id)).one()
    assert ticket.body == "air PDAM mati di Oebobo"
    assert ack.status == "suppressed" and "batas 3 balasan otomatis per 24 jam" in ack.error_message
    assert "Pengaduan Anda diterima" in gateway.converse("NTT sampah menumpuk", frm="+6281399887766")
    assert "tidak akan menerima pesan lagi" in gateway.converse("STOP")  # confirmed over the limit
    assert "aktif kembali" in gateway.converse("START")
    gateway.move_back(OutboundMessage.created_at, timedelta(hours=24))
    assert "Pengaduan Anda diterima" in gateway.converse("NTT got di Oebufu tersumbat")


def test_one_person_across_phone_formats_and_channels(gateway):
    code = CODE.search(gateway.converse("NTT jalan berlubang", frm="+6281234567890")).group(1)
    gateway.whatsapp(f"CEK {code}", frm="whatsapp:+6281234567890")
    gateway.drain()
    reply = gateway.twilio.messages[-1]
    assert reply.to == "whatsapp:+6281234567890" and reply.from_ == WA_LINE
    assert reply.body.startswith(f"Kode {code}:")


def test_duplicate_deliveries_make_one_ticket_and_one_ack(gateway):
    sid = new_sid()
    for _ in range(3):
        assert gateway.sms("NTT air bersih tidak mengalir", sid=sid).status_code == 200
    gateway.drain()
    gateway.drain()
    assert count(gateway, InboundMessage) == 1
    assert count(gateway, Ticket) == 1
    assert len(gateway.twilio.messages) == 1


def test_processing_twice_sends_once(gateway):
    gateway.sms("NTT puskesmas tutup")
    with gateway.session() as s:
        inbound_id = s.scalar(select(InboundMessage.id))
    gateway.services.queues.process_inbound(inbound_id)  # a job delivered twice
    gateway.drain()
    gateway.services.queues.process_inbound(inbound_id)
    gateway.drain()
    assert len(gateway.twilio.messages) == 1 and count(gateway, Ticket) == 1


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", None])
def test_bad_signature_is_refused(gateway, signature):
    params = {"MessageSid": new_sid(), "From": CITIZEN, "To": SMS_LINE, "Body": "NTT tes"}
    if signature is None:  # signed for another URL: the proxy's public address is what counts
        signature = gateway.validator.compute_signature("http://localhost/webhooks/twilio/messages", params)
    assert gateway.post("/webhooks/twilio/messages", params, signature=signature).status_code == 403
    assert count(gateway, InboundMessage) == 0


def test_signature_over_the_url_with_its_default_port_is_accepted(gateway):
    """Twilio may sign https://host:443/... for an address configured as https://host/..."""
    params = {"MessageSid": new_sid(), "From": CITIZEN, "To": SMS_LINE, "Body": "NTT tes"}
    with_port = PUBLIC_BASE_URL.replace(".go.id", ".go.id:443") + "/webhooks/twilio/messages"
    signature = gateway.validator.compute_signature(with_port, params)
    assert gateway.post("/webhooks/twilio/messages", params, signature=signature).status_code == 200
    assert count(gateway, InboundMessage) == 1


def test_a_signature_header_that_is_not_ascii_is_refused(gateway):
    params = {"MessageSid": new_sid(), "From": CITIZEN, "To": SMS_LINE, "Body": "NTT tes"}
    assert gateway.post("/webhooks/twilio/messages", params, signature="sélo").status_code == 403


def test_tampered_body_is_refused(gateway):
    params = {"MessageSid": new_sid(), "From": CITIZEN, "To": SMS_LINE, "Body": "NTT tes"}
    signature = gateway.validator.compute_signature(PUBLIC_BASE_URL + "/webhooks/twilio/messages", params)
    params["Body"] = "NTT lain"
    assert gateway.post("/webhooks/twilio/messages", params, signature=signature).status_code == 403


def test_the_signature_covers_the_query_string(gateway):
    """A webhook URL configured with a query (a line's name, say) is signed with it, as Twilio signs it."""
    params = {"MessageSid": new_sid(), "From": CITIZEN, "To": SMS_LINE, "Body": "NTT tes"}
    url = PUBLIC_BASE_URL + "/webhooks/twilio/messages"
    without = gateway.validator.compute_signature(url, params)
    assert gateway.post("/webhooks/twilio/messages", params, query="jalur=sms", signature=without).status_code == 403
    assert gateway.post("/webhooks/twilio/messages", params, query="jalur=sms").status_code == 200
    assert count(gateway, InboundMessage) == 1


def test_the_webhook_takes_only_posts_within_the_size_limit(gateway):
    assert gateway.client.get("/webhooks/twilio/messages").status_code == 405
    params = {"MessageSid": new_sid(), "From": CITIZEN, "To": SMS_LINE, "Body": "x" * (1024 * 1024)}
    assert gateway.post("/webhooks/twilio/messages", params).status_code == 413
    assert count(gateway, InboundMessage) == 0


def test_a_message_that_cannot_be_stored_is_answered_500_and_logged_without_its_content(gateway, caplog, monkeypatch):
    """Twilio then calls the number's fallback URL, if one is set; the log names the message, not its sender."""
    def not_in_time(params):
        raise TimeoutError("inbound message not stored in time")

    monkeypatch.setattr(gateway.app.extensions["ingestor"], "ingest", not_in_time)
    sid = new_sid()
    response = gateway.sms("NTT jalan di Oesapa rusak parah", sid=sid)
    assert response.status_code == 500
    logged = caplog.text
    assert sid in logged and "TimeoutError" in logged
    assert "Oesapa" not in logged and CITIZEN[3:] not in logged


def test_whatsapp_request_with_photo_and_document(gateway):
    photo = gateway.twilio.add_media("ME1", b"\xff\xd8\xff\xe0fakejpeg", "image/jpeg")
    doc = gateway.twilio.add_media("ME2", b"%PDF-1.4 fake", "application/pdf")
    response = gateway.whatsapp("Bantuan PKH saya belum cair sejak Agustus, ini foto KKS", NumMedia="2",
                                MediaUrl0=photo, MediaContentType0="image/jpeg",
                                MediaUrl1=doc, MediaContentType1="application/pdf",
                                ButtonText="kept too")
    assert response.status_code == 200
    gateway.drain()
    [reply] = gateway.twilio.messages
    ticket = only_ticket(gateway)
    assert reply.to == "whatsapp:" + CITIZEN and reply.from_ == WA_LINE
    assert reply.body.startswith("Permintaan Anda diterima")
    assert ticket.agency == "dinsos-kupang" and ticket.kind == "informasi" and ticket.channel == "whatsapp"
    assert ticket.citizen_name == "Maria Ndun"
    assert (ticket.due_at - ticket.created_at) >= timedelta(days=10)  # 8 working days
    with gateway.session() as s:
        files = s.scalars(select(Attachment).order_by(Attachment.position)).all()
        inbound = s.scalars(select(InboundMessage)).one()
        assert s.get(Contact, CITIZEN).display_name == "Maria Ndun"
    assert inbound.params["ButtonText"] == "kept too" and inbound.params["WaId"] == "6281234567890"
    assert [f.ticket_id for f in files] == [ticket.id, ticket.id]
    media_dir = gateway.services.settings.media_dir
    assert (media_dir / files[0].path).read_bytes() == b"\xff\xd8\xff\xe0fakejpeg"
    assert (media_dir / files[1].path).read_bytes() == b"%PDF-1.4 fake"
    assert files[0].path.endswith(".jpg") and files[1].path.endswith(".pdf")
    assert all(r["authorized"] for r in gateway.twilio.media_requests)


@pytest.mark.parametrize("caption", ["", "ok"])
def test_whatsapp_photo_without_text_or_with_only_ok_is_a_ticket(gateway, caption):
    photo = gateway.twilio.add_media("ME3", b"jpeg", "image/jpeg")
    gateway.whatsapp(caption, NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    gateway.drain()
    assert count(gateway, Ticket) == 1 and count(gateway, Attachment) == 1


def test_a_photo_with_only_a_greeting_is_a_ticket_with_its_evidence(gateway):
    photo = gateway.twilio.add_media("ME4", b"jpeg", "image/jpeg")
    gateway.whatsapp("Halo pak 🙏", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    gateway.sms("NTT", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg", frm="+6281300000002")
    gateway.drain()
    with gateway.session() as s:
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert [t.body for t in tickets] == ["Halo pak 🙏", ""]
        assert sorted(a.ticket_id for a in s.scalars(select(Attachment))) == [t.id for t in tickets]


def test_whatsapp_greeting_gets_help(gateway):
    gateway.whatsapp("Selamat pagi")
    gateway.drain()
    assert "Helpdesk Dinas Sosial" in gateway.twilio.messages[-1].body
    assert count(gateway, Ticket) == 0
    before = len(gateway.twilio.messages)
    gateway.whatsapp("Halo?")  # the help text is just above: not sent twice
    gateway.drain()
    assert len(gateway.twilio.messages) == before
    assert "petunjuk baru saja dikirim" in held_replies(gateway)[0].error_message


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
@pytest.mark.parametrize("state", ["ditunda", "terkirim"])
def test_a_greeting_to_an_officer_who_wrote_joins_the_conversation_unanswered(gateway, state, channel):
    """After an officer's question or answer a greeting comes before the reply itself: before, on
    WhatsApp it got the help text, as a first message does, and stayed off the ticket; on SMS it was
    taken for the answer, confirmed in a paid SMS, and the question no longer waited."""
    send = gateway.sms if channel == "sms" else gateway.whatsapp
    send("NTT jalan di Oesapa rusak parah" if channel == "sms" else "Mohon data penerima BLT Kelurahan Oebobo")
    gateway.drain()
    code = CODE.search(gateway.twilio.messages[-1].body).group(1)
    with gateway.session() as s, s.begin():  # an officer asked, or answered
        s.execute(update(Ticket).values(state=state, held_state="ditelaah"))
    before = len(gateway.twilio.messages)
    send("Selamat pagi pak 🙏" if channel == "whatsapp" else "Izin pak")
    gateway.drain()
    assert len(gateway.twilio.messages) == before
    ticket = only_ticket(gateway)
    assert ticket.state == state  # a question still waits: the greeting is not the answer
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage.ticket_id).order_by(InboundMessage.id)).all() == [ticket.id] * 2
    send("Kelurahan Oebobo RT 5 pak")
    gateway.drain()
    assert f"kode {code} sudah kami terima" in gateway.twilio.messages[-1].body
    assert only_ticket(gateway).state == ("ditelaah" if state == "ditunda" else state)


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_a_greeting_just_after_a_new_request_joins_it_unanswered_not_its_text(gateway, channel):
    send = gateway.sms if channel == "sms" else gateway.whatsapp
    body = "NTT jalan di Oesapa rusak parah" if channel == "sms" else "Mohon data penerima BLT Kelurahan Oebobo"
    send(body)
    gateway.drain()
    before = len(gateway.twilio.messages)
    send("Permisi pak, mau tanya")  # before: help (WhatsApp), or the complaint's text, confirmed (SMS)
    gateway.drain()
    assert len(gateway.twilio.messages) == before
    ticket = only_ticket(gateway)
    assert ticket.body == body.removeprefix("NTT ")
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage.ticket_id).order_by(InboundMessage.id)).all() == [ticket.id] * 2


@pytest.mark.parametrize("whatsapp, sms", [("Terima kasih banyak bu 🙏", "ok makasih"), ("Iya pak", "tidak")])
def test_thanks_or_yes_or_no_after_the_acknowledgement_is_kept_unanswered(gateway, whatsapp, sms):
    gateway.whatsapp("Mohon data penerima BLT Kelurahan Oebobo")
    gateway.sms("NTT lampu jalan di Oesapa mati")
    gateway.drain()
    answered = len(gateway.twilio.messages)
    gateway.whatsapp(whatsapp)
    gateway.sms(sms)
    gateway.drain()
    assert len(gateway.twilio.messages) == answered  # no second ticket, no help text: nothing sent
    with gateway.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2
        intents = s.scalars(select(InboundMessage.intent).order_by(InboundMessage.id)).all()
        assert intents[-2:] == ["Thanks", "Thanks"]


def test_a_sticker_alone_is_a_reaction_not_a_request(gateway):
    gateway.whatsapp("Mohon data penerima BLT Kelurahan Oebobo")
    gateway.drain()
    answered = len(gateway.twilio.messages)
    sticker = gateway.twilio.add_media("ME7", b"RIFF....WEBP", "image/webp")
    gateway.whatsapp("", NumMedia="1", MediaUrl0=sticker, MediaContentType0="image/webp")
    gateway.drain()
    assert len(gateway.twilio.messages) == answered and count(gateway, Ticket) == 1


def test_a_request_written_in_several_whatsapp_messages_is_one_ticket(gateway):
    gateway.whatsapp("Selamat pagi bu, saya mau tanya")  # an opener: the help text asks for the request
    gateway.drain()
    assert "Tulis permintaan" in gateway.twilio.messages[-1].body and count(gateway, Ticket) == 0
    gateway.whatsapp("bantuan PKH saya atas nama Maria Ndun belum cair")
    gateway.drain()
    code = CODE.search(gateway.twilio.messages[-1].body).group(1)
    photo = gateway.twilio.add_media("ME6", b"jpeg", "image/jpeg")
    before = len(gateway.twilio.messages)
    gateway.whatsapp("sejak Agustus, padahal sudah terdaftar")
    gateway.whatsapp("ini kartunya", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    gateway.drain()
    [confirmed] = gateway.twilio.messages[before:]  # once for the two, not once each
    assert f"kode {code} sudah kami terima" in confirmed.body
    ticket = only_ticket(gateway)
    assert ticket.body == ("bantuan PKH saya atas nama Maria Ndun belum cair\nsejak Agustus, padahal sudah terdaftar"
                           "\nini kartunya")
    with gateway.session() as s:
        assert s.scalar(select(Attachment.ticket_id)) == ticket.id


def test_a_message_that_says_it_is_another_request_is_not_added_to_the_one_before(gateway):
    gateway.whatsapp("Kenapa nama saya tidak ada lagi di daftar penerima BLT bulan ini?")
    gateway.drain()
    first = CODE.search(gateway.twilio.messages[-1].body).group(1)
    gateway.whatsapp("Sy mau lapor lagi bu, bantuan sembako tdk sampai ke RT kami")
    gateway.drain()
    second = CODE.search(gateway.twilio.messages[-1].body).group(1)  # an acknowledgement of its own
    assert second != first
    gateway.whatsapp("RT 05 RW 02 Kelurahan Oebufu")  # and what follows goes on with that one
    gateway.drain()
    assert f"kode {second} sudah kami terima" in gateway.twilio.messages[-1].body
    # On SMS "lapor" stands for the keyword; without either, saying it is another one gets the format.
    gateway.sms("NTT jalan di Oesapa rusak parah")
    gateway.drain()
    assert "NTT (spasi) isi" in replies_to(gateway, "Ada laporan lain pak, lampu jalan di Oesapa mati")[0]
    assert CODE.search(replies_to(gateway, "Sy mau lapor lagi pak, lampu jalan di Oesapa mati")[0])
    with gateway.session() as s:
        assert s.scalars(select(Ticket.body).order_by(Ticket.id)).all() == [
            "Kenapa nama saya tidak ada lagi di daftar penerima BLT bulan ini?",
            "bantuan sembako tdk sampai ke RT kami\nRT 05 RW 02 Kelurahan Oebufu",  # not its "lapor lagi"
            "jalan di Oesapa rusak parah", "lampu jalan di Oesapa mati"]


def test_on_whatsapp_saying_another_request_comes_begins_it_without_those_words(gateway):
    """'Sy mau lapor lagi' alone began a ticket whose text was that line, the request below it; and
    after an officer's question, 'Ada laporan lain bu, ...' was taken for the answer to it."""
    gateway.whatsapp("Mohon data penerima BLT Kelurahan Oebobo")
    gateway.drain()
    first = CODE.search(gateway.twilio.messages[-1].body).group(1)
    with gateway.session() as s, s.begin():  # an officer asks the citizen something
        s.execute(update(Ticket).values(state="ditunda", held_state="ditelaah"))
    gateway.whatsapp("Sy mau lapor lagi bu 🙏")
    gateway.drain()
    second = CODE.search(gateway.twilio.messages[-1].body).group(1)  # a request of its own, acknowledged
    gateway.whatsapp("Bantuan sembako tdk sampai ke RT kami")
    gateway.drain()
    assert f"kode {second} sudah kami terima" in gateway.twilio.messages[-1].body
    gateway.whatsapp("Ada laporan lain bu, jalan ke Fatukoa putus")
    gateway.drain()
    third = CODE.search(gateway.twilio.messages[-1].body).group(1)
    assert len({first, second, third}) == 3
    with gateway.session() as s:
        assert s.execute(select(Ticket.body, Ticket.state).order_by(Ticket.id)).all() == [
            ("Mohon data penerima BLT Kelurahan Oebobo", "ditunda"),  # its question still waits
            ("Bantuan sembako tdk sampai ke RT kami", "baru"), ("jalan ke Fatukoa putus", "baru")]


@pytest.mark.parametrize("announced", ["Selamat pagi pak, saya mau lapor", "Izin lapor pak", "Sy mau lapor lagi", "NTT", "INFO"])
def test_text_without_the_keyword_just_after_saying_a_complaint_comes_is_that_complaint(gateway, announced):
    """On SMS, "Saya mau lapor", "NTT" or "INFO" alone gets the format; the complaint that follows without the
    keyword is that complaint: before, it was added to the complaint sent just before, or got no reply
    at all (a second help text within 30 minutes is not sent)."""
    first = CODE.search(gateway.converse("NTT jalan di Oesapa rusak parah")).group(1)
    gateway.move_back(Ticket.last_inbound_at, timedelta(minutes=3))
    if announced.startswith(("Selamat", "Izin")):  # a greeting alone while the first is written joins it
        gateway.move_back(Ticket.last_inbound_at, timedelta(minutes=8))  # unanswered: so the first is older here
    assert "NTT (spasi) isi" in gateway.converse(announced)
    reply = gateway.converse("lampu jalan di depan SD Inpres Oesapa mati sudah 2 minggu")
    assert reply.startswith("Pengaduan Anda diterima") and CODE.search(reply).group(1) != first
    with gateway.session() as s:
        assert s.scalars(select(Ticket.body).order_by(Ticket.id)).all() == [
            "jalan di Oesapa rusak parah", "lampu jalan di depan SD Inpres Oesapa mati sudah 2 minggu"]
    # Only just after it: text without the keyword later gets the format, and just after the format
    # sent for unreadable text nothing, as before.
    gateway.move_back(OutboundMessage.created_at, timedelta(minutes=11))
    gateway.move_back(Ticket.last_inbound_at, timedelta(minutes=11))
    assert "NTT (spasi) isi" in gateway.converse("tolong segera diperbaiki")
    assert replies_to(gateway, "di depan SD Inpres") == []
    assert count(gateway, Ticket) == 2


def test_a_later_or_reviewed_request_is_a_ticket_of_its_own(gateway):
    gateway.whatsapp("Mohon data penerima BLT Kelurahan Oebobo")
    gateway.drain()
    gateway.move_back(Ticket.last_inbound_at, timedelta(minutes=11))  # the citizen's last message was eleven minutes ago
    gateway.whatsapp("Jadwal penyaluran bansos bulan ini kapan?")
    gateway.drain()
    with gateway.session() as s, s.begin():  # reviewed meanwhile: the next one is new too
        s.execute(update(Ticket).where(Ticket.id == 2).values(state="ditelaah"))
    gateway.whatsapp("Syarat daftar DTKS apa saja?")
    gateway.sms("NTT jalan di Oesapa rusak")  # a keyword line: every complaint is its own
    gateway.sms("NTT lampu jalan mati")
    gateway.drain()
    assert count(gateway, Ticket) == 5


def test_a_location_alone_is_a_request_where_it_points(gateway):
    gateway.whatsapp("", Latitude="-10.1566", Longitude="123.607", Label="Posyandu Oesapa")
    gateway.drain()
    assert CODE.search(gateway.twilio.messages[-1].body)
    assert only_ticket(gateway).body == "Lokasi: -10.1566, 123.607 (Posyandu Oesapa)"


def test_messaging_service_replaces_from(make_gateway):
    gateway = make_gateway(TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32)
    gateway.converse("NTT tes layanan")
    [sent] = gateway.twilio.messages
    assert sent.messaging_service_sid == "MG" + "1" * 32 and sent.from_ == ""


def test_concurrent_repeats_in_one_batch_store_one_message(gateway):
    """Twilio may deliver the same message twice at once: the group commit keeps one."""
    from gateway.ingest import _Pending, inbound_row

    sid = new_sid()
    params = {"MessageSid": sid, "From": CITIZEN, "To": SMS_LINE, "Body": "NTT jalan longsor"}
    other = {**params, "MessageSid": new_sid(), "Body": "NTT jembatan putus"}
    batch = [_Pending(inbound_row(params)), _Pending(inbound_row(other)), _Pending(inbound_row(params))]
    gateway.app.extensions["ingestor"]._write(batch)
    assert [p.result.queued for p in batch] == [True, True, False]
    assert batch[2].result.inbound_id is None
    assert gateway.services.queues.inbound.count == 1  # the two messages stored together share one job
    gateway.drain()
    assert count(gateway, InboundMessage) == 2 and count(gateway, Ticket) == 2
    assert len(gateway.twilio.messages) == 2


def test_messages_stored_while_a_drain_job_waits_share_it(gateway, monkeypatch):
    """Under load one job takes every message stored while it waited: RQ's per-job cost is paid once,
    and a message added to a list that already waits costs one Redis command (no wake-up)."""
    queues = gateway.services.queues
    wakes = []
    wake = queues.wake_drain
    monkeypatch.setattr(queues, "wake_drain", lambda: wakes.append(1) or wake())
    phones = [f"+6281300000{i:03d}" for i in range(3)]
    for phone in phones:
        assert gateway.sms(f"NTT lampu jalan mati di gang {phone[-1]}", frm=phone).status_code == 200
    assert queues.inbound.count == 1 and len(wakes) == 1
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == phones


def test_a_drain_job_leaves_what_it_cannot_take_to_the_next_free_worker(gateway, monkeypatch):
    """A drain job takes at most DRAIN_MAX messages; while it works, another job is queued
    for the rest, so a second worker shares a backlog instead of waiting for the first."""
    from handlers import inbound, jobs

    monkeypatch.setattr(jobs, "DRAIN_MAX", 2)
    phones = [f"+6281300000{i:03d}" for i in range(5)]
    for phone in phones:
        gateway.sms(f"NTT jembatan putus di dusun {phone[-1]}", frm=phone)
    queues = gateway.services.queues
    queued_while_processing = []
    process = inbound.process

    def watched(services, inbound_id):
        queued_while_processing.append(queues.inbound.count)
        return process(services, inbound_id)

    monkeypatch.setattr(inbound, "process", watched)
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == phones
    assert queued_while_processing[0] == 1  # the next drain job, waiting for a free worker
    assert queues.waiting() == 0


def test_a_batch_job_answers_every_message_to_its_own_sender(gateway):
    """Messages a web process stored together are processed by one job, each answered on its own."""
    from store.queues import JOB_BATCH

    phones = [f"+62812000{i:05d}" for i in range(JOB_BATCH + 2)]
    for phone in phones:
        gateway.sms(f"NTT lampu jalan mati di RT {phone[-2:]}", frm=phone)
    gateway.services.queues.redis.flushdb()  # drop the one job per message the test client made
    with gateway.session() as s:
        ids = s.scalars(select(InboundMessage.id).order_by(InboundMessage.id)).all()
    gateway.services.queues.process_inbound(*ids)
    assert gateway.services.queues.inbound.count == 2  # JOB_BATCH per job at most
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == sorted(phones)
    with gateway.session() as s:
        tickets = s.scalars(select(Ticket)).all()
    assert len({t.code for t in tickets}) == len(phones)
    for message in gateway.twilio.messages:
        [ticket] = [t for t in tickets if t.phone == message.to]
        assert f"Kode: {codes.display(ticket.code)}" in message.body
