"""Parsers: real-looking messages, typos, case, spacing, emoji, every phone format, check digits."""
import pytest

from parsers import codes
from parsers.intent import (AutoReply, another_request, FollowUp, Help, HelpReason, InvalidCode, KeepTicket, MyTickets, NewTicket,
                            OptIn, OptOut, Reminder, StatusCheck, Thanks, Withdrawal, location_text, parse)
from parsers.phone import address_for, mask, national, split_address, to_e164

VALID = "12345671"  # Damm check digit of 1234567 is 1
assert codes.is_valid(VALID)
WRONG = "12345672"


@pytest.mark.parametrize("text, expected", [
    ("NTT jalan di Oesapa rusak parah", NewTicket("jalan di Oesapa rusak parah")),
    ("ntt jalan di Oesapa rusak parah", NewTicket("jalan di Oesapa rusak parah")),
    ("Ntt Lampu jalan mati sejak seminggu", NewTicket("Lampu jalan mati sejak seminggu")),
    ("NTT: pelayanan KTP lambat", NewTicket("pelayanan KTP lambat")),
    ("NTT.pelayanan KTP lambat", NewTicket("pelayanan KTP lambat")),
    ("NTT, air PDAM tidak mengalir", NewTicket("air PDAM tidak mengalir")),
    ("NTT#air PDAM tidak mengalir", NewTicket("air PDAM tidak mengalir")),
    ("   NTT    sekolah   rusak  di   Alor ", NewTicket("sekolah rusak di Alor")),
    ("NTT\njembatan putus\ndi Desa Oelbubuk", NewTicket("jembatan putus di Desa Oelbubuk")),
    ("NTT 🙏 tolong jalan ke Baumata diperbaiki 😭", NewTicket("tolong jalan ke Baumata diperbaiki 😭")),
    ("#NTT jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),
    (".NTT jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),
    ("🙏 NTT jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),
    ("NNT jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),  # the keyword mistyped
    ("NTTT jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),
    ("nt: jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),
    ("N.T.T jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),  # the province's name as abbreviated
    ("n.t.t.: jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),
    ("N T T jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),  # spaced out
    ("n. t. t. jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),
    ("N T T: jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),
    ("Selamat pagi, N T T jalan rusak di Kefa", NewTicket("jalan rusak di Kefa")),
    ("N T T", Help(HelpReason.EMPTY)),
    ("N T B jalan rusak di Kefa", Help(HelpReason.UNREADABLE)),
    ("N T Tolong jalan rusak di Kefa", Help(HelpReason.UNREADABLE)),
    ("N.T.B jalan rusak di Kefa", Help(HelpReason.UNREADABLE)),
    ("NTB jalan rusak di Kefa", Help(HelpReason.UNREADABLE)),  # another province's keyword
    ("NTTB jalan rusak di Kefa", Help(HelpReason.UNREADABLE)),
    ("NTT", Help(HelpReason.EMPTY)),
    ("ntt   ", Help(HelpReason.EMPTY)),
    ("NTT:", Help(HelpReason.EMPTY)),
    ("NTT 🙏", Help(HelpReason.EMPTY)),
    ("INFO", Help(HelpReason.ASKED)),
    ("info", Help(HelpReason.ASKED)),
    ("Bantuan", Help(HelpReason.ASKED)),
    ("HELP!", Help(HelpReason.ASKED)),
    ("Bantuan?", Help(HelpReason.ASKED)),
    ("info??", Help(HelpReason.ASKED)),
    ("jalan rusak tolong", Help(HelpReason.UNREADABLE)),
    # The keyword with the text typed straight after it, the "(spasi)" forgotten
    ("NTTjalan rusak", NewTicket("jalan rusak")),
    ("nttLampu jalan mati", NewTicket("Lampu jalan mati")),
    ("NTTTjalan rusak", NewTicket("jalan rusak")),
    ("NTT1234-5671 jalannya makin parah", FollowUp(VALID, "jalannya makin parah")),
    ("NTTcek 1234-5671", StatusCheck(VALID)),
    ("NTT2 jembatan putus", NewTicket("2 jembatan putus")),
    ("NTTB jalan rusak", Help(HelpReason.UNREADABLE)),
    ("NTBjalan rusak", Help(HelpReason.UNREADABLE)),
    ("NTjalan rusak", Help(HelpReason.UNREADABLE)),
    # Brackets or quotes around the whole message: the keyword took the opening one
    ("NTT (jalan rusak di Oesapa)", NewTicket("jalan rusak di Oesapa")),
    ('"NTT jalan rusak di Oesapa"', NewTicket("jalan rusak di Oesapa")),
    ("NTT <jalan rusak di Oesapa>", NewTicket("jalan rusak di Oesapa")),
    ("NTT jalan rusak (depan SD Inpres)", NewTicket("jalan rusak (depan SD Inpres)")),
    ('NTT papan "Dilarang Parkir" roboh', NewTicket('papan "Dilarang Parkir" roboh')),
    ("NTT lampu jalan sudah menyala, terima kasih :)", NewTicket("lampu jalan sudah menyala, terima kasih :)")),
    # "Lapor" in the keyword's place
    ("LAPOR jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("Lapor! Jalan rusak di Oesapa", NewTicket("Jalan rusak di Oesapa")),
    ("pengaduan: air PDAM tidak mengalir", NewTicket("air PDAM tidak mengalir")),
    ("Lapor pak", Help(HelpReason.GREETING)),  # no complaint yet
    # "Lapor" after a greeting or an opener, as people write a first message
    ("Selamat malam pak, sy mau lapor lampu jalan di Liliba mati sdh 2 minggu",
     NewTicket("lampu jalan di Liliba mati sdh 2 minggu")),
    ("Saya mau lapor pak, jalan di Oesapa rusak", NewTicket("jalan di Oesapa rusak")),
    ("Permisi, mau melapor: pungli di kantor desa", NewTicket("pungli di kantor desa")),
    ("Halo, saya ingin mengadu soal air PDAM", NewTicket("soal air PDAM")),
    ("Saya mau lapor pak", Help(HelpReason.GREETING)),
    ("Pemprov lapor jalan rusak", Help(HelpReason.UNREADABLE)),  # not a greeting before it
    # The verb with its object ("melaporkan", "mengadukan"), and "izin", the polite opener
    ("Saya ingin melaporkan jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("Selamat pagi, saya mau melaporkan lampu jalan mati", NewTicket("lampu jalan mati")),
    ("Melaporkan: jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("Saya mau mengadukan pelayanan puskesmas Oepoi yang lambat",
     NewTicket("pelayanan puskesmas Oepoi yang lambat")),
    ("Mau mengeluhkan air PDAM yang keruh", NewTicket("air PDAM yang keruh")),
    ("Izin lapor pak, jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("ijin melapor, air PDAM mati", NewTicket("air PDAM mati")),
    ("Saya ingin melaporkan", Help(HelpReason.GREETING)),
    ("Izin pak", Help(HelpReason.GREETING)),
    ("Kemarin saya sudah melaporkan jalan rusak", Help(HelpReason.UNREADABLE)),
    # Whom it addresses, set off before the complaint, is not its text; without the comma it may be
    ("Lapor pak, jalan di Oesapa rusak", NewTicket("jalan di Oesapa rusak")),
    ("NTT Bu. Lampu jalan mati", NewTicket("Lampu jalan mati")),
    ("NTT min,, air PDAM mati", NewTicket("air PDAM mati")),
    ("NTT Pak RT minta pungutan liar", NewTicket("Pak RT minta pungutan liar")),
    ("NTT Bapak Gubernur, jalan rusak", NewTicket("Bapak Gubernur, jalan rusak")),
    ("NTT ibu-ibu PKK belum dapat bantuan", NewTicket("ibu-ibu PKK belum dapat bantuan")),
    ("Lapor", Help(HelpReason.GREETING)),
    ("Laporan saya belum dijawab", Reminder()),
    ("😡😡😡", Help(HelpReason.UNREADABLE)),
    ("", Help(HelpReason.UNREADABLE)),
    ("STOP", OptOut()),
    ("stop", OptOut()),
    (" Berhenti. ", OptOut()),
    ("START", OptIn()),
    ("mulai", OptIn()),
    ("Mulai!", OptIn()),
    # The keyword put before a command
    ("NTT CEK 1234-5671", StatusCheck(VALID)),
    ("NTT CEK", MyTickets()),
    ("ntt: cek 1234-5672", InvalidCode("1234-5672")),
    ("NTT 1234-5671 jalannya makin parah", FollowUp(VALID, "jalannya makin parah")),
    ("NTT STOP", OptOut()),
    ("NTT 1234-5671 kok belum dijawab", Reminder(VALID)),
    ("NTT kode saya 1234-5671 kok belum dijawab", Reminder(VALID)),
    ("NTT 1234-5671 terima kasih", Thanks()),
    ("NTT mohon ditindaklanjuti", Reminder()),  # nothing to complain of but the wait: a reminder
    ("NTT info", Help(HelpReason.ASKED)),
    ("NTT stop pungli di kantor camat", NewTicket("stop pungli di kantor camat")),
    ("NTT 2024-2025 jalan belum diperbaiki", NewTicket("2024-2025 jalan belum diperbaiki")),
    # The help text's "(spasi)" typed as it stands, and its placeholder sent with nothing of one's own
    ("NTT (spasi) jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("NTT(spasi)jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("ntt spasi jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("NTT <spasi> jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("NTT spasial data desa salah", NewTicket("spasial data desa salah")),
    ("NTT (spasi) isi pengaduan", Help(HelpReason.EMPTY)),
    ("NTT <isi pengaduan>", Help(HelpReason.EMPTY)),
    ("NTT isi", Help(HelpReason.EMPTY)),
    ("NTT isi pengaduan: jalan rusak", NewTicket("isi pengaduan: jalan rusak")),
    ("NTT (spasi) CEK (spasi) 1234-5671", StatusCheck(VALID)),
    ("CEK (spasi) 1234-5671", StatusCheck(VALID)),
    ("cek spasi 1234-5671", StatusCheck(VALID)),
    ("1234-5671 (spasi) jalannya makin parah", FollowUp(VALID, "jalannya makin parah")),
    ("1234-5671 spasi jalannya makin parah", FollowUp(VALID, "jalannya makin parah")),
    # The keyword after a greeting, "lapor" or the service's number: what follows it is the complaint
    ("Selamat pagi, NTT jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("Shalom bapak. NTT (spasi) jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("Lapor NTT jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("saya mau lapor ntt: jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("1708 NTT jalan rusak di Oesapa", NewTicket("jalan rusak di Oesapa")),
    ("Halo pak, NTT", Help(HelpReason.EMPTY)),
    ("Halo pak, NTT CEK 1234-5671", StatusCheck(VALID)),
    ("Pemprov NTT lambat sekali", Help(HelpReason.UNREADABLE)),  # the province named, not the keyword
    ("Selamat pagi NTB jalan rusak", Help(HelpReason.UNREADABLE)),
    ("Selamat pagi, NTTjalan rusak", NewTicket("jalan rusak")),
    ("Pemprov NTTjalan rusak", Help(HelpReason.UNREADABLE)),
])
def test_sms_line(text, expected):
    assert parse(text, "NTT") == expected


@pytest.mark.parametrize("text, expected", [
    ("CEK 1234-5671", StatusCheck(VALID)),
    ("cek 12345671", StatusCheck(VALID)),
    ("Cek 1234 5671", StatusCheck(VALID)),
    ("CEK1234-5671", StatusCheck(VALID)),
    ("STATUS 12345671", StatusCheck(VALID)),
    ("status: 1234-5671", StatusCheck(VALID)),
    ("  cek   1234 - 5671  ", StatusCheck(VALID)),
    ("CEK STATUS 1234-5671", StatusCheck(VALID)),
    ("cek 1234-5671 🙏", StatusCheck(VALID)),
    ("1234-5671", StatusCheck(VALID)),
    ("CEK 1234-5672", InvalidCode("1234-5672")),
    ("CEK 1243-5671", InvalidCode("1243-5671")),  # adjacent digits swapped
    ("CEK 1234-567", InvalidCode("1234-567")),
    ("CEK 12345", InvalidCode("12345")),
    ("CEK", MyTickets()),
    ("cek laporan saya", MyTickets()),
    ("Status pengaduan?", MyTickets()),
    ("Status?", MyTickets()),
    ("cek ??", MyTickets()),
    ("1234-5671 jalannya tambah parah setelah hujan", FollowUp(VALID, "jalannya tambah parah setelah hujan")),
    ("12345671 ada foto di WA", FollowUp(VALID, "ada foto di WA")),
    ("1234-5671: sudah 2 minggu air belum mengalir", FollowUp(VALID, "sudah 2 minggu air belum mengalir")),
    ("1234-5671: sudah 2 minggu belum ada kabar", StatusCheck(VALID)),  # asks where it stands, says nothing new
    ("Tiket 1234-5671 kok belum ada kabar", StatusCheck(VALID)),
    ("Halo pak, sy mau tanya laporan sy 1234-5671 sdh sampai mana?", StatusCheck(VALID)),
    ("12345672 jalannya tambah parah", InvalidCode("12345672")),
    ("1234567 ", InvalidCode("1234567")),
    # Spaces where the hyphen goes, as people type it
    ("1234 5671", StatusCheck(VALID)),
    ("12 34 56 71", StatusCheck(VALID)),
    ("1234 5671 jalannya tambah parah", FollowUp(VALID, "jalannya tambah parah")),
    ("1234 - 5671: ada foto di WA", FollowUp(VALID, "ada foto di WA")),
    ("1234 5672", InvalidCode("1234 5672")),
    ("1234 - 5672 jalannya tambah parah", InvalidCode("1234 - 5672")),
    # Words naming the code around it, a question mark after it
    ("CEK KODE 1234-5671", StatusCheck(VALID)),
    ("cek no. 1234-5671", StatusCheck(VALID)),
    ("Cek tiket 1234 5671", StatusCheck(VALID)),
    ("CEK 1234-56O5", StatusCheck("12345605")),  # a letter O for the zero, an l or I for the one
    ("cek l234-5671", StatusCheck(VALID)),
    ("CEK I234 567O", InvalidCode("I234 567O")),  # what the check digit does not confirm stays as typed
    ("cek kode l234-5671", StatusCheck(VALID)),
    ("status laporan saya 1234-5671?", StatusCheck(VALID)),
    ("cek kode 1234-5672", InvalidCode("1234-5672")),
    ("Kode 1234-5671", StatusCheck(VALID)),
    ("No tiket: 1234-5671", StatusCheck(VALID)),
    ("bagaimana laporan saya 1234-5671?", StatusCheck(VALID)),
    ("Kode 1234-5672", InvalidCode("1234-5672")),
    ("1234-5671?", StatusCheck(VALID)),
    ("1234-5671 ??", StatusCheck(VALID)),
    # Words said around the code when asking about it
    ("Cek 1234-5671 pak", StatusCheck(VALID)),
    ("cek dong 1234-5671", StatusCheck(VALID)),
    ("CEK 1234-5671 terima kasih", StatusCheck(VALID)),
    ("Selamat pagi, cek 1234-5671", StatusCheck(VALID)),
    ("Saya mau tanya laporan 1234-5671", StatusCheck(VALID)),
    ("Mohon info laporan 1234-5671", StatusCheck(VALID)),
    ("tolong dicek 1234-5671", StatusCheck(VALID)),
    ("Halo pak, kode saya 1234-5671", StatusCheck(VALID)),
    ("gimana laporan 1234-5671 pak?", StatusCheck(VALID)),
    ("1234-5671 bagaimana?", StatusCheck(VALID)),
    ("1234-5671 sudah sampai mana?", StatusCheck(VALID)),
    ("1234-5671 terima kasih pak", Thanks()),  # no follow-up, which opens a closed ticket again
    ("Mohon info laporan 1234-5672", InvalidCode("1234-5672")),
    ("Cek 1234-5672 pak", InvalidCode("1234-5672")),
    ("1234-5671 belum ada jawaban", Reminder(VALID)),  # asking for the answer to that ticket
    ("Pak saya mau tanya, kode saya 1234-5671 kok belum dijawab?", Reminder(VALID)),
    ("1234-5671 mohon segera ditindaklanjuti", Reminder(VALID)),
    ("kode 1234-5672 belum dijawab", InvalidCode("1234-5672")),
    ("Cek status laporan 1234-5671 atas nama Maria Ndun", StatusCheck(VALID)),  # CEK said: the code in it
    ("CEK 1234-5672 atas nama Maria Ndun", InvalidCode("1234-5672")),
    ("Cek 1234-5671 2 orang belum terima", StatusCheck(VALID)),
    ("CEK 12 34 56 71", StatusCheck(VALID)),
    ("Cek 1234-5672 2 orang belum terima", InvalidCode("1234-5672")),
    ("check 1234-5671", StatusCheck(VALID)),  # CEK as typed in a hurry or in English
    ("Chek 1234-5671", StatusCheck(VALID)),
    ("cekk 1234-5671 pak", StatusCheck(VALID)),
    ("1234-5671 tolong jalannya segera diperbaiki", FollowUp(VALID, "tolong jalannya segera diperbaiki")),
    # Asking after one's tickets in words, without CEK or a code
    ("Bagaimana laporan saya?", MyTickets()),
    ("gimana pengaduan saya pak", MyTickets()),
    ("Laporan saya sudah sampai mana?", MyTickets()),
    ("Apa kabar laporan saya", MyTickets()),
    ("Apakah laporan saya sudah diterima?", MyTickets()),  # whether it arrived: the list, or "belum ada laporan"
    ("laporan saya sdh masuk?", MyTickets()),
    ("Pengaduan saya sudah terkirim?", MyTickets()),
    ("Bagaimana perkembangan laporan saya, pak? 🙏", MyTickets()),
    ("sejauh mana permintaan saya?", MyTickets()),
    # The code lost or forgotten: the phone's tickets give it back (on WhatsApp it was a request of its own)
    ("Lupa kode", MyTickets()),
    ("lupa kode saya pak", MyTickets()),
    ("Saya lupa nomor tiket pengaduan saya", MyTickets()),
    ("Kode saya berapa ya?", MyTickets()),
    ("Nomor pengaduan saya berapa ya?", MyTickets()),
    ("kode laporan saya apa ya kak", MyTickets()),
    ("Maaf pak, kode laporannya hilang 🙏", MyTickets()),
    ("sms kodenya terhapus", MyTickets()),
    ("Minta kode laporan saya lagi", MyTickets()),
])
def test_codes_in_messages(text, expected):
    assert parse(text, "NTT") == expected
    assert parse(text, None) == expected  # the same on the WhatsApp line


@pytest.mark.parametrize("text", [
    "Saya lupa membawa KTP waktu urus bansos",  # forgot something else: a request
    "Berapa lama laporan diproses?",
    "No",
    "Tolong hapus nomor saya",  # asks for something else than the code
])
def test_words_of_a_code_that_ask_for_no_code(text):
    """What these are otherwise is for the other tables; none asks for a code."""
    for keyword in ("NTT", None):
        assert not isinstance(parse(text, keyword), (MyTickets, StatusCheck, InvalidCode))


@pytest.mark.parametrize("text, expected", [
    ("Selamat siang, bantuan PKH saya belum cair sejak Agustus",
     NewTicket("Selamat siang, bantuan PKH saya belum cair sejak Agustus")),
    ("Mohon data penerima BLT Kelurahan Oebobo tahun 2025", NewTicket("Mohon data penerima BLT Kelurahan Oebobo tahun 2025")),
    ("info jadwal penyaluran bansos bulan ini?", NewTicket("info jadwal penyaluran bansos bulan ini?")),
    ("Stop pungli di kantor kelurahan", NewTicket("Stop pungli di kantor kelurahan")),
    ("Halo", Help(HelpReason.GREETING)),
    ("selamat pagi 🙏", Help(HelpReason.GREETING)),
    ("P", Help(HelpReason.GREETING)),
    ("INFO", Help(HelpReason.ASKED)),
    ("Halo pak", Help(HelpReason.GREETING)),
    ("Selamat pagi bu 🙏", Help(HelpReason.GREETING)),
    ("pagi min?", Help(HelpReason.GREETING)),
    ("Assalamualaikum wr wb", Help(HelpReason.GREETING)),
    ("Pak?", Help(HelpReason.GREETING)),
    ("Bantuan?", Help(HelpReason.ASKED)),
    ("Permisi pak, mau tanya", Help(HelpReason.GREETING)),  # openers: the request is still to come
    ("Saya ingin bertanya", Help(HelpReason.GREETING)),
    ("Selamat malam, mohon maaf mengganggu waktunya", Help(HelpReason.GREETING)),
    ("hallo selamat siang kak, bisa dibantu?", Help(HelpReason.GREETING)),
    ("Tabe pak", Help(HelpReason.GREETING)),
    ("Saya mau lapor pak", Help(HelpReason.GREETING)),
    ("Saya ingin melaporkan", Help(HelpReason.GREETING)),
    ("Izin bertanya pak", Help(HelpReason.GREETING)),
    ("Mohon izin bapak", Help(HelpReason.GREETING)),
    ("Izin usaha saya belum keluar", NewTicket("Izin usaha saya belum keluar")),
    ("Ass pak", Help(HelpReason.GREETING)),  # assalamualaikum, as typed in a hurry or misspelt
    ("Asalamualaikum", Help(HelpReason.GREETING)),
    ("Assalamu'alaikum wr. wb.", Help(HelpReason.GREETING)),
    ("Aslm bu", Help(HelpReason.GREETING)),
    ("Halo admin, ada yang bisa bantu?", Help(HelpReason.GREETING)),
    ("Mohon bantu pak", Help(HelpReason.GREETING)),
    ("Selamat siang, ada yang ingin saya sampaikan", Help(HelpReason.GREETING)),
    ("Ada yang mau saya tanyakan pak", Help(HelpReason.GREETING)),
    ("Ada pungli di kantor desa", NewTicket("Ada pungli di kantor desa")),
    ("Ini nomor pengaduan?", Help(HelpReason.ASKED)),  # whether this is the service: what it is, and how
    ("Benar ini nomor pengaduan Dinsos?", Help(HelpReason.ASKED)),
    ("Apakah ini WA layanan pengaduan?", Help(HelpReason.ASKED)),
    ("Ini siapa?", Help(HelpReason.ASKED)),
    ("Apakah ini benar?", NewTicket("Apakah ini benar?")),  # about an answer, perhaps: the ticket it follows takes it
    ("Ini nomor pengaduan bansos, saya belum terima BLT", NewTicket("Ini nomor pengaduan bansos, saya belum terima BLT")),
    ("Salam sejahtera", Help(HelpReason.GREETING)),  # more greetings, as typed in a hurry
    ("Met pagi kak", Help(HelpReason.GREETING)),
    ("Slmt siang", Help(HelpReason.GREETING)),
    ("Slamat malam pak", Help(HelpReason.GREETING)),
    ("Mlm min", Help(HelpReason.GREETING)),
    ("??", Help(HelpReason.ASKED)),
    ("Salam, bantuan PKH saya belum cair", NewTicket("Salam, bantuan PKH saya belum cair")),
    ("Mau tanya syarat daftar DTKS", NewTicket("Mau tanya syarat daftar DTKS")),
    ("Lapor, jalan rusak di Oesapa", NewTicket("Lapor, jalan rusak di Oesapa")),  # the text as it came
    ("Mohon bantuan sembako", NewTicket("Mohon bantuan sembako")),
    ("Mohon informasinya 🙏", Help(HelpReason.GREETING)),  # asking to be told, not yet what
    ("Minta bantuannya pak", Help(HelpReason.GREETING)),
    ("Mohon informasinya soal bansos lansia", NewTicket("Mohon informasinya soal bansos lansia")),
    ("Halo pak, bantuan PKH saya belum cair", NewTicket("Halo pak, bantuan PKH saya belum cair")),
    ("Halo, 3 bulan PKH belum cair", NewTicket("Halo, 3 bulan PKH belum cair")),
    # Two numbers that do not make a valid code begin a request, not a code
    ("1234 5672 orang di Oebobo belum terima BLT", NewTicket("1234 5672 orang di Oebobo belum terima BLT")),
    ("", Help(HelpReason.UNREADABLE)),
    ("STOP", OptOut()),
    ("START", OptIn()),
])
def test_whatsapp_free_text(text, expected):
    assert parse(text, None) == expected


@pytest.mark.parametrize("text", [
    "Cek NIK saya apakah terdaftar DTKS", "Cek data penerima bansos di Oebobo", "Status penerima PKH saya",
    "cek DTKS", "Cek NIK 5371012345670001 apakah terdaftar", "status DTKS saya bagaimana?", "cek abc",
])
def test_cek_with_no_code_typed_is_no_status_check(text):
    """Dinas Sosial is asked to check data ("Cek NIK saya ... DTKS") all day: a request, not "nomor tidak valid"."""
    assert parse(text, None) == NewTicket(text)
    assert parse(text, "NTT") == Help(HelpReason.UNREADABLE)


@pytest.mark.parametrize("text", [
    "Mohon ditindaklanjuti", "Kapan dijawab?", "Laporan saya belum dijawab", "Kok belum ada tanggapan pak?",
    "Mohon tindak lanjutnya, terima kasih", "Pengaduan saya sudah lama belum ada jawaban",
    "mohon segera diproses 🙏", "Kapan ada tanggapan dari pihak dinas?",
    "Kenapa tidak ada balasan?", "Kenapa belum dibalas pak?", "Mengapa laporan saya tidak ditanggapi?",
    # Asking after its progress, days later, without naming it: on WhatsApp each was a new request
    "Apakah sudah ada kabar?", "Ada kabar pak?", "Sudah ada kabar belum bu?", "Kabarnya gimana kak 🙏",
    "Gimana pak perkembangannya?", "Bagaimana perkembangannya bu?", "Ada perkembangan?",
    "Bagaimana kelanjutannya?", "Gimana progresnya min?", "Bagaimana hasilnya pak?",
    "Sudah sampai mana pak?", "sejauh mana prosesnya?", "Sudah seminggu belum ada kabar",
    "Sudah berbulan-bulan belum ada kejelasan", "Sudah 2 minggu belum ada tanggapan", "sdh 3 hari blm dibalas",
    "Sudah 1 bln belum ada kabar pak", "Mohon dipercepat", "Tolong dipercepat prosesnya pak",
    "Kenapa lama sekali?", "Kok lama banget ya pak", "Lama sekali pak?", "Lama dijawab", "Ada kabar pak",
    "Bagaimana perkembangannya",
])
def test_asking_for_the_answer_without_a_code(text):
    assert parse(text, None) == Reminder()
    assert parse(text, "NTT") == Reminder()


@pytest.mark.parametrize("text", ["Terima kasih, sudah ada kabar", "Siap, ditunggu kabar baiknya",
                                  "ok pak ditunggu kabarnya", "Makasih bu, sudah ada kabarnya 🙏"])
def test_thanks_for_the_news_or_waiting_for_it_asks_nothing(text):
    assert parse(text, None) == Thanks()
    assert parse(text, "NTT") == Thanks()


@pytest.mark.parametrize("text, sms", [
    ("Kenapa bantuan PKH tidak ada balasan dari kantor desa?", Help(HelpReason.UNREADABLE)),
    ("Kapan bantuan PKH cair?", Help(HelpReason.UNREADABLE)),
    ("Jalan belum diperbaiki, mohon ditindaklanjuti", Help(HelpReason.UNREADABLE)),
    ("Mohon tindak pungli di kantor desa", Help(HelpReason.UNREADABLE)),
    ("Ada kabar bantuan PKH bulan ini?", Help(HelpReason.UNREADABLE)),
    ("Apakah ada perkembangan data DTKS saya?", Help(HelpReason.UNREADABLE)),
    ("Sampai mana batas Kelurahan Oesapa?", Help(HelpReason.UNREADABLE)),
    ("Bagaimana hasil seleksi penerima BPNT?", Help(HelpReason.UNREADABLE)),
    ("Sudah 3 bulan bantuan PKH belum cair", Help(HelpReason.UNREADABLE)),
    ("Mohon dipercepat pencairan BLT", Help(HelpReason.UNREADABLE)),
    ("Kenapa pelayanan di kantor lurah lama sekali?", Help(HelpReason.UNREADABLE)),
    ("Sudah 2 minggu air PDAM belum mengalir, mohon ditindaklanjuti", Help(HelpReason.UNREADABLE)),
])
def test_a_request_that_asks_for_action_is_a_request(text, sms):
    assert parse(text, None) == NewTicket(text)
    assert parse(text, "NTT") == sms
    assert parse(f"NTT {text}", "NTT") == NewTicket(text)


@pytest.mark.parametrize("text, expected", [
    ("stop kirim sms", OptOut()), ("Stop pak", OptOut()), ("stop ya 🙏", OptOut()),
    ("Berhenti langganan", OptOut()), ("jangan kirim lagi", OptOut()), ("UNREG", OptOut()),
    ("mulai lagi", OptIn()), ("Start pak", OptIn()), ("REG", OptIn()),
    ("Batal langganan", OptOut()), ("jangan sms saya lagi", OptOut()), ("Stop kirim sms ke nomor ini", OptOut()),
    ("Jangan kirim WA lagi ke saya", OptOut()),
])
def test_stop_and_start_said_with_a_few_more_words(text, expected):
    assert parse(text, "NTT") == expected
    assert parse(text, None) == expected


def test_stop_and_start_as_telco_services_taught_them_on_sms():
    assert parse("UNREG NTT", "NTT") == OptOut()
    assert parse("STOP NTT", "NTT") == OptOut()
    assert parse("REG NTT", "NTT") == OptIn()


@pytest.mark.parametrize("text", [
    "Stop pungli di kantor kelurahan", "jangan", "mulai kapan bantuan cair?", "stop 2 hari tidak ada air",
])
def test_stop_or_start_in_a_request_is_a_request(text):
    assert parse(text, None) == NewTicket(text)


@pytest.mark.parametrize("text", [
    "kode pos 8512 jalan rusak", "laporan 2024 2025 belum ditanggapi", "No 1234 5672 di RT 3 belum dapat",
    # Longer numbers written in groups: a phone number, a NIK (16 digits), an account; not a code in them
    "0812-3456-7890 nomor HP saya, mohon dihubungi", "5371-0123-4567-0001 NIK saya", "1234.5678.90 rekening",
    "Cek NIK 5371-0123-4567-0001 apakah terdaftar",
])
def test_numbers_in_a_request_are_no_code(text):
    assert parse(text, None) == NewTicket(text)
    assert parse(text, "NTT") == Help(HelpReason.UNREADABLE)


@pytest.mark.parametrize("text", [
    "Terima kasih", "terima kasih pak", "Terimakasih banyak atas bantuannya 🙏", "makasih ya bu!!",
    "Trims", "thank you", "Ok", "oke siap", "Baik pak", "SIAP KAK", "ok min, makasih", "Noted 👍",
    "Tks pak", "makase bu", "Tarima kasi banyak", "thankyou",
    "Amin", "Tuhan berkati", "Tuhan Yesus memberkati bapak 🙏", "GBU", "Makasih pak, GBU", "Amin, terima kasih ibu",
    "hehe", "Hehehe 🙏", "wkwkwk", "hahaha", "hehe makasih pak",  # laughter alone, as a reaction
    "Ok pak sudah terima", "sdh diterima, makasih", "Baik, sudah",  # the acknowledgement received
    "Siap, ditunggu kabarnya", "Ditunggu ya pak", "Baik ibu, saya tunggu",  # waiting for the answer
    "Terima kasih, sudah dijawab", "Sudah ditanggapi, makasih pak", "Sudah dibalas, terima kasih",  # the answer came
    "Okk", "Oke deh", "Oce", "Trmksh", "Makasih bnyk", "Thx u", "Sama-sama pak", "Syukur", "Siap laksanakan",
    "👍", "🙏🙏", "👍🏽", "❤️", "🙏 🙏",  # acknowledging emoji alone, as a sticker
])
def test_thanks_alone_asks_for_nothing(text):
    assert parse(text, None) == Thanks()
    assert parse(text, "NTT") == Thanks()  # on SMS too: no help text in answer to a thank-you


@pytest.mark.parametrize("text", [
    "ya", "Ya.", "iya pak", "Iyaa bu 🙏", "Y", "iyo", "Betul", "benar pak", "Ya betul, terima kasih",
    "Tidak", "tdk pak", "Tidak ada bu", "gak ada", "sonde", "Belum", "blm pak", "Sudah", "Sudah pak, makasih",
    "Boleh", "setuju", "Ada", "Ada pak",
])
def test_yes_or_no_alone_is_no_request(text):
    # An answer to an officer's question (the ticket waiting for it takes it: test_pipeline) or to nothing
    # the gateway knows: on WhatsApp a request whose whole text is "Ya", on SMS a paid help text.
    assert parse(text, None) == Thanks()
    assert parse(text, "NTT") == Thanks()


@pytest.mark.parametrize("text", [
    # WhatsApp Business away and greeting messages, answering the acknowledgement
    "Terima kasih telah menghubungi Toko Berkah Jaya. Saat ini kami sedang tidak aktif, kami akan segera membalas pesan Anda.",
    "Halo, terima kasih sudah menghubungi kami 😊 Kami akan membalas pesan Anda pada jam kerja (08.00 - 16.00 WITA).",
    "Terimakasih telah menghubungi CV. Flobamora Teknik, pesan anda akan segera kami balas",
    "Mohon maaf, saat ini kami di luar jam operasional. Pesan Anda akan kami balas secepatnya.",
    "[Pesan otomatis] Halo! Kami akan membalas secepatnya.",
    "Ini adalah balasan otomatis. Saya sedang cuti sampai 10 Desember.",
    "Pesan ini dibalas secara otomatis",
    "Auto reply: saya sedang dalam perjalanan",
    "AUTO-REPLY: Sedang rapat, nanti saya hubungi",
    "Thank you for contacting us! We will get back to you as soon as possible.",
    "Hi, thanks for your message. I am out of office until Monday.",
    "This is an automated message, please do not reply",
    # greeting messages, sent by WhatsApp Business to a new contact (our acknowledgement is one)
    "Halo! Selamat datang di Apotek Sehat Kupang. Ada yang bisa kami bantu?",
    "Selamat datang di Bengkel Motor Jaya 🙏 Silakan tinggalkan pesan",
    "Hi, welcome to Kupang Printing! How can we help you today?",
    "Selamat pagi kak, terima kasih sudah menghubungi Salon Cantik. Mohon tunggu ya",
    # a carrier's or a phone's notice
    "Maaf, nomor yang Anda tuju sedang tidak aktif",
    "Nomor yang anda hubungi sedang berada di luar jangkauan",
    "Pelanggan yang Anda tuju tidak dapat menerima SMS saat ini",
])
def test_a_machines_answer_is_an_auto_reply(text):
    assert parse(text, None) == AutoReply()
    assert parse(text, "NTT") == AutoReply()


@pytest.mark.parametrize("text, sms, free", [
    # a citizen's own words that share a phrase with a machine's
    ("Terima kasih sudah menghubungi saya pak, fotonya saya kirim besok", Help(HelpReason.UNREADABLE), None),
    ("Terima kasih sudah menghubungi", Help(HelpReason.UNREADABLE), None),  # an officer called: whom it leaves unsaid
    ("Puskesmas tutup di luar jam kerja, kami warga kesulitan berobat", Help(HelpReason.UNREADABLE), None),
    ("Petugas bilang nomor yang saya hubungi tidak aktif", Help(HelpReason.UNREADABLE), None),
    ("Bantuan PKH saya otomatis dihentikan tanpa pemberitahuan", Help(HelpReason.UNREADABLE), None),
    # an auto-responder or a notice quoted inside the citizen's own text, or asked about
    ("Pesan saya dibalas otomatis terus, tidak ada petugas yang jawab", Help(HelpReason.UNREADABLE), None),
    ("Kantor camat ditelepon, yang jawab pesan otomatis saja", Help(HelpReason.UNREADABLE), None),
    ("Tugu selamat datang di perbatasan Kota Kupang rusak, catnya mengelupas", Help(HelpReason.UNREADABLE), None),
    ("Ini balasan otomatis ya pak?", Help(HelpReason.UNREADABLE), None),  # asking about our acknowledgement
    ("Puskesmas ditelepon selalu 'nomor yang anda tuju sedang tidak aktif'", Help(HelpReason.UNREADABLE), None),
    ("Kata pak lurah kami akan segera membalas, tapi sampai sekarang belum", Help(HelpReason.UNREADABLE), None),
    ("Telepon ke dinas cuma dijawab 'terima kasih telah menghubungi kami', lalu putus", Help(HelpReason.UNREADABLE),
     None),
    ("Apakah ini adalah pesan otomatis?", Help(HelpReason.UNREADABLE), None),
    ("Ada yang bisa bantu?", Help(HelpReason.GREETING), Help(HelpReason.GREETING)),  # asking for help: an opener
    # the keyword first: the citizen's complaint, whatever it quotes
    ("NTT terima kasih telah menghubungi kami, itu saja jawaban dinas", NewTicket(
        "terima kasih telah menghubungi kami, itu saja jawaban dinas"), None),
    ("Terima kasih pak", Thanks(), Thanks()),
])
def test_a_citizens_words_are_no_auto_reply(text, sms, free):
    assert parse(text, "NTT") == sms
    assert parse(text, None) == (free or NewTicket(text))


@pytest.mark.parametrize("text, sms", [
    ("Sy mau lapor lagi pak, lampu jalan di Oesapa mati", NewTicket("lampu jalan di Oesapa mati")),
    ("Lapor lagi: jembatan Liliba retak", NewTicket("jembatan Liliba retak")),
    ("Selamat malam, saya mau lapor yang lain, air mati", NewTicket("air mati")),
    ("Saya mau lapor lagi", Help(HelpReason.UNREADABLE)),  # no text yet: the format, not the request before
])
def test_lapor_lagi_is_the_report_verb_without_its_again(text, sms):
    assert parse(text, "NTT") == sms


@pytest.mark.parametrize("text", [
    "Halo, sy mau lapor lagi, bantuan sembako tdk sampai ke RT kami",
    "Saya juga mau melapor hal lain pak: lampu jalan di Oebufu mati",
    "mau lapor lg bu",
    "Ada laporan lain pak, jalan ke Fatukoa putus",
    "Pengaduan baru: air PDAM tidak mengalir",
    "Selamat siang ibu, ada permintaan lain, data penerima PKH kelurahan Oesapa",
    "Permisi pak, sy ada keluhan lain lg",
])
def test_a_message_that_says_it_is_another_request(text):
    """Said just after a request, it begins one of its own instead of continuing that one."""
    assert another_request(text)


@pytest.mark.parametrize("text, asked", [
    ("Halo, sy mau lapor lagi, bantuan sembako tdk sampai ke RT kami", "bantuan sembako tdk sampai ke RT kami"),
    ("Saya juga mau melapor hal lain pak: lampu jalan di Oebufu mati", "lampu jalan di Oebufu mati"),
    ("Pengaduan baru: air PDAM tidak mengalir", "air PDAM tidak mengalir"),
    ("Selamat siang ibu, ada permintaan lain, data penerima PKH kelurahan Oesapa",
     "data penerima PKH kelurahan Oesapa"),
    ("mau lapor lg bu", ""), ("Permisi pak, sy ada keluhan lain lg", ""), ("Saya mau lapor lagi 🙏", ""),
])
def test_on_whatsapp_another_request_is_its_text_without_saying_so(text, asked):
    assert parse(text, None) == NewTicket(asked)


@pytest.mark.parametrize("text", [
    "Satu lagi pak, rumah saya di RT 05",  # one more detail of the same request
    "Sy mau tanya lagi, kapan dicairkan?",
    "Selain itu, KKS saya juga hilang",
    "Bantuan sembako tidak sampai ke RT kami",
    "Saya belum dapat jawaban atas laporan lain saya yang kemarin",
    "Jalan ini sudah sering dilaporkan lagi dan lagi",
    "Mau lapor lagian takut, jalan di depan rumah pejabat",
])
def test_a_message_that_goes_on_with_the_request(text):
    assert not another_request(text)


@pytest.mark.parametrize("text", [
    "Ya, jalan di depan rumah saya rusak", "Tidak ada air sudah 3 hari", "Belum dapat bantuan PKH",
    "Sudah lama lampu jalan mati", "iya pak, tapi bantuan belum cair",
])
def test_yes_or_no_with_something_more_is_a_request(text):
    assert parse(text, None) == NewTicket(text)


@pytest.mark.parametrize("text, sms", [
    ("Terima kasih, tapi bantuan saya belum cair", Help(HelpReason.UNREADABLE)),
    ("ok 3 hari lagi saya ke kantor", Help(HelpReason.UNREADABLE)),
    ("Baik, jalan di RT 5 rusak lagi", Help(HelpReason.UNREADABLE)),
    ("Tuhan tolong, jalan di RT 5 rusak lagi", Help(HelpReason.UNREADABLE)),
    ("hehe maaf pak, bantuan saya belum cair", Help(HelpReason.UNREADABLE)),
    ("Sudah lama jalan ini rusak", Help(HelpReason.UNREADABLE)),
    ("Ditunggu bantuannya sudah lama", Help(HelpReason.UNREADABLE)),
    ("Saya tunggu di kantor desa besok", Help(HelpReason.UNREADABLE)),
    ("Hera", Help(HelpReason.UNREADABLE)),
    ("NTT terima kasih", NewTicket("terima kasih")),
    ("kasih bantuan sembako", Help(HelpReason.UNREADABLE)),
    ("👍 jalan sudah diperbaiki?", Help(HelpReason.UNREADABLE)),
])
def test_thanks_with_something_more_is_not_only_thanks(text, sms):
    assert parse(text, "NTT") == sms
    assert parse(text, None) == NewTicket(text)


@pytest.mark.parametrize("text", [
    "Batal", "batal pak", "BATALKAN", "Mohon dibatalkan", "Tolong batalkan laporan saya", "dibatalin aja min",
    "Maaf salah kirim", "salah kirim pak 🙏", "Maaf pak, salah nomor", "Tidak jadi", "gak jadi deh",
    "nggak jadi bu, terima kasih", "Sonde jadi", "Laporan saya dicabut saja", "Bisa dibatalkan pak?",
    "Batal, sudah diperbaiki", "Mohon pengaduan saya dibatalkan, masalahnya sudah beres",
    "Batal saja bu, sudah cair", "batal pak sdh dapat",
])
def test_taking_a_ticket_back(text):
    """On WhatsApp "Batal" or "Maaf salah kirim" made a request of its own with a new code, on SMS a help text."""
    assert parse(text, None) == Withdrawal()
    assert parse(text, "NTT") == Withdrawal()
    assert parse(f"NTT {text}", "NTT") == Withdrawal()


@pytest.mark.parametrize("text, expected", [
    ("Tidak jadi batal pak", KeepTicket()),
    ("Gak jadi dibatalkan, tetap diproses ya", KeepTicket()),
    ("Jangan dibatalkan pak", KeepTicket()),
    ("Tidak usah dibatalkan", KeepTicket()),
    ("1234-5671 tidak jadi batal", KeepTicket(VALID)),
    ("Kode 1234-5671 jangan dibatalkan", KeepTicket(VALID)),
    ("Tidak jadi, batal saja", Withdrawal()),  # "never mind, cancel it"
    ("Batal, tidak jadi", Withdrawal()),
    ("Bantuan saya jangan dibatalkan", None),  # a complaint: what it is about is named
])
def test_taking_back_a_withdrawal(text, expected):
    """Before, 'Tidak jadi batal' was one more withdrawal, and 'Jangan dibatalkan pak' a request or help."""
    for keyword in (None, "NTT"):
        if expected is None:
            assert not isinstance(parse(text, keyword), (KeepTicket, Withdrawal))
        else:
            assert parse(text, keyword) == expected


@pytest.mark.parametrize("text, expected", [
    ("BATAL 1234-5671", Withdrawal(VALID)),
    ("1234-5671 batal", Withdrawal(VALID)),
    ("1234 5671 mohon dibatalkan", Withdrawal(VALID)),
    ("Batalkan laporan 1234-5671", Withdrawal(VALID)),
    ("Kode 1234-5671 tidak jadi pak", Withdrawal(VALID)),
    ("batal 1234-5672", InvalidCode("1234-5672")),
    ("1234-5672 batal", InvalidCode("1234-5672")),
])
def test_taking_a_ticket_back_by_its_code(text, expected):
    assert parse(text, None) == expected
    assert parse(text, "NTT") == expected


@pytest.mark.parametrize("text", [
    "Bantuan PKH saya dibatalkan tanpa alasan", "Kenapa bantuan saya dibatalkan?", "PKH batal cair",
    "Laporan saya dibatalkan?", "Tidak jadi diperbaiki", "Jalan tidak jadi diaspal", "Salah ketik",
    "Tidak", "salah",
])
def test_cancelled_in_a_request_is_no_withdrawal(text):
    assert not isinstance(parse(text, None), Withdrawal)
    assert not isinstance(parse(text, "NTT"), Withdrawal)
    assert parse("1234-5671 " + text, None) != Withdrawal(VALID)


@pytest.mark.parametrize("params, expected", [
    ({"Latitude": "-10.1566", "Longitude": "123.607"}, "Lokasi: -10.1566, 123.607"),
    ({"Latitude": "-10.1566", "Longitude": "123.607", "Label": "Kantor Lurah  Oesapa",
      "Address": "Jl. Timor Raya, Kupang"}, "Lokasi: -10.1566, 123.607 (Kantor Lurah Oesapa, Jl. Timor Raya, Kupang)"),
    ({"Latitude": "-10.1566"}, ""),
    ({"Latitude": "abc", "Longitude": "123.6"}, ""),
    ({"Latitude": "-100", "Longitude": "123.6"}, ""),
    ({"Body": "halo"}, ""),
])
def test_a_shared_location_reads_as_text(params, expected):
    assert location_text(params) == expected


def test_every_single_digit_error_and_adjacent_swap_is_caught():
    for _ in range(200):
        code = codes.new_code()
        assert codes.is_valid(code)
        for i in range(8):
            for d in "0123456789":
                if d != code[i]:
                    assert not codes.is_valid(code[:i] + d + code[i + 1:])
        for i in range(7):
            if code[i] != code[i + 1]:
                assert not codes.is_valid(code[:i] + code[i + 1] + code[i] + code[i + 2:])


def test_codes_are_random_and_display_with_a_hyphen():
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) > 1990
    assert all(len(c) == 8 and c.isdigit() for c in made)
    assert codes.display("12345671") == "1234-5671"
    assert codes.normalize("1234 - 5671") == "12345671"


@pytest.mark.parametrize("raw", [
    "081234567890", "0812-3456-7890", "0812 3456 7890", "+6281234567890", "+62 812-3456-7890",
    "6281234567890", "62 812 3456 7890", "006281234567890", "whatsapp:+6281234567890",
    "WhatsApp:+62 812 3456 7890", "(0812) 3456-7890",
])
def test_phone_formats_are_one_person(raw):
    assert to_e164(raw) == "+6281234567890"


@pytest.mark.parametrize("e164, written", [
    ("+6281234567890", "0812-3456-7890"),   # as officers read it, and a spreadsheet keeps it as text
    ("+62380833000", "(0380) 833000"),      # a Kupang landline
    ("+61412345678", "+61412345678"),       # a foreign number keeps its country code
])
def test_a_number_written_as_it_is_read_in_indonesia(e164, written):
    assert national(e164) == written


@pytest.mark.parametrize("raw", ["", "1708", "abc", "whatsapp:", "+62"])
def test_unreadable_numbers(raw):
    assert to_e164(raw) is None


def test_addresses_and_masking():
    assert split_address("whatsapp:+6281234567890") == ("whatsapp", "+6281234567890")
    assert split_address("+6281234567890") == ("sms", "+6281234567890")
    assert address_for("whatsapp", "+6281234567890") == "whatsapp:+6281234567890"
    assert address_for("sms", "+6281234567890") == "+6281234567890"
    masked = mask("whatsapp:+6281234567890")
    assert "34567" not in masked and masked.endswith("890")


@pytest.mark.parametrize("sender", ["abc\nINFO forged line", "+62812\u2028345678", "whatsapp:<script>x</script>",
                                    "\x1b[31m+628123456789", "Toko Maju Jaya 🙏"])
def test_a_forged_sender_is_masked_to_digits_and_marks(sender):
    """A masked sender goes in every log line: nothing of it but digits, +, * and ? is kept."""
    assert set(mask(sender)) <= set("0123456789+*?wa:")
