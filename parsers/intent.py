"""Turn the text of an inbound message into what the citizen wants."""
from __future__ import annotations

import enum
import functools
import itertools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from parsers import codes


class HelpReason(str, enum.Enum):
    ASKED = "asked"            # INFO, BANTUAN, HELP
    GREETING = "greeting"      # a greeting or an opener alone: the request is still to come
    EMPTY = "empty"            # the keyword with nothing after it
    UNREADABLE = "unreadable"  # no keyword, no command


@dataclass(frozen=True)
class NewTicket:
    text: str


@dataclass(frozen=True)
class StatusCheck:
    code: str  # 8 digits as typed, separators removed


@dataclass(frozen=True)
class MyTickets:
    """CEK or STATUS without a code ("cek laporan saya"): the citizen asks about their tickets."""


@dataclass(frozen=True)
class Reminder:
    """Asking for the answer: about that ticket ("1234-5671 kok belum dijawab?"), or without a code
    ("Mohon ditindaklanjuti", "Kapan dijawab?") about the phone's open ticket, when it has one."""
    code: str = ""


@dataclass(frozen=True)
class Withdrawal:
    """Taking a ticket back ("Batal", "Maaf salah kirim", "Tidak jadi pak", "1234-5671 batal"): that ticket,
    or without a code the phone's open one, for an officer to close."""
    code: str = ""


@dataclass(frozen=True)
class KeepTicket:
    """Taking back a withdrawal ("Tidak jadi batal", "Jangan dibatalkan pak, tetap diproses"): that
    ticket, or without a code the phone's latest, goes on."""
    code: str = ""


@dataclass(frozen=True)
class FollowUp:
    code: str
    text: str


@dataclass(frozen=True)
class InvalidCode:
    code: str  # what was typed where a code should be


@dataclass(frozen=True)
class Help:
    reason: HelpReason


@dataclass(frozen=True)
class Thanks:
    """Only thanks, an acknowledgement or a bare yes or no ("Terima kasih pak", "ok siap", "Iya pak"):
    nothing to act on, unless it answers an officer's question."""


@dataclass(frozen=True)
class AutoReply:
    """A machine's answer to a message of ours, not the citizen's words: a WhatsApp Business away
    message ("Terima kasih telah menghubungi kami ... akan segera kami balas"), an auto-responder
    ("[Pesan otomatis] ..."), a carrier's notice ("Nomor yang Anda tuju sedang tidak aktif")."""


@dataclass(frozen=True)
class OptOut:
    pass


@dataclass(frozen=True)
class OptIn:
    pass


Intent = (NewTicket | StatusCheck | MyTickets | Reminder | Withdrawal | KeepTicket | FollowUp | InvalidCode | Help
          | Thanks | AutoReply | OptOut | OptIn)

STOP_WORDS = {"STOP", "BERHENTI", "UNSUBSCRIBE", "STOPALL", "CANCEL", "END", "QUIT", "UNREG"}
START_WORDS = {"START", "MULAI", "UNSTOP", "SUBSCRIBE", "REG"}
# Words that may follow STOP or START and leave it that command ("stop kirim sms", "berhenti
# langganan", "UNREG NTT" as telco services taught, "mulai lagi"); other words make it a request
# ("Stop pungli di kantor kelurahan").
COMMAND_FILLERS = {
    "KIRIM", "SMS", "PESAN", "WA", "WHATSAPP", "LAGI", "SAJA", "AJA", "YA", "DULU", "LANGGANAN",
    "BERLANGGANAN", "SEMUA", "INFO", "NOTIFIKASI", "SAYA", "KE", "NOMOR", "NOMER", "INI",
}
HELP_WORDS = {"INFO", "BANTUAN", "HELP", "TOLONG", "MENU", "?"}
# A greeting alone on the free-text line is not a request: answer with help.
GREETINGS = {
    "HALO", "HALLO", "HALLOW", "HAI", "HI", "HELLO", "P", "PING", "TES", "TEST", "PAGI", "SIANG",
    "SORE", "MALAM", "SELAMAT PAGI", "SELAMAT SIANG", "SELAMAT SORE", "SELAMAT MALAM",
    "ASSALAMUALAIKUM", "ASSALAMU ALAIKUM", "PERMISI", "SHALOM", "SYALOM", "OM SWASTIASTU",
    "SALAM", "SALAM SEJAHTERA", "MALEM", "MLM",
    # "Selamat" as typed in a hurry: "Met pagi", "Slmt siang", "Slamat malam"
    "MET PAGI", "SLMT PAGI", "SLAMAT PAGI", "SELAMT PAGI",
    # "Assalamualaikum" so: "Ass pak", "Aslm", "Asalamualaikum"
    "ASS", "ASLM", "ASSLM", "ASALAMUALAIKUM", "ASALAMU ALAIKUM",
}
# To report or complain ("Saya mau lapor ...", "Saya ingin melaporkan jalan rusak ..."): an opener, and
# on a keyword line a verb in the keyword's place.
REPORT_VERBS = ("LAPOR", "MELAPOR", "MELAPORKAN", "MENGADU", "MENGADUKAN", "MENGELUH", "MENGELUHKAN")
# Words that open a conversation, said with or without a greeting, before the request itself:
# "Permisi, mau tanya", "Saya ingin bertanya", "Mohon maaf mengganggu", "Bisa dibantu?".
# ("Mohon bantuan" stays a request: at Dinsos, bantuan is social assistance.)
OPENERS = {
    "MAU", "MO", "INGIN", "PENGEN", "PENGIN", "SAYA", "SY", "AKU", "BETA", "TANYA", "NANYA",
    "TNY", "BERTANYA", "MOHON", "MINTA", "MAAF", "MENGGANGGU", "GANGGU", "WAKTUNYA", "BISA", "DIBANTU",
    "TOLONG", "INFO", "INFORMASI", "NUMPANG", "TABE", "SEDIKIT", "DONG", "NIH", *REPORT_VERBS,
    "IZIN", "IJIN",  # "Izin bertanya": the polite opener
    "ADA", "YANG", "BANTU", "TANYAKAN", "SAMPAIKAN",  # "Ada yang bisa bantu?", "Ada yang mau saya tanyakan"
    "INFONYA", "INFORMASINYA", "BANTUANNYA", "PETUNJUKNYA", "ARAHANNYA",  # "Mohon informasinya": of what, still to come
}
_GREETING_WORDS = {word for greeting in GREETINGS for word in greeting.split()}
# Words that may follow a greeting: whom it addresses, the rest of a salam ("Halo pak", "Pagi min",
# "Assalamualaikum wr wb"). Said alone ("Pak?") they only call for attention too.
GREETING_TAILS = {
    "PAK", "BAPAK", "BPK", "BU", "IBU", "KAK", "KAKAK", "KA", "MIN", "ADMIN", "MAS", "MBAK", "BANG",
    "OM", "TANTE", "SEMUA", "DINSOS", "WR", "WB", "WARAHMATULLAHI", "WABARAKATUH",
}
# Thanks or an acknowledgement, said alone (with whom it addresses and these fillers), e.g. in
# answer to an acknowledgement: not a new request, and not worth a paid reply.
THANKS_WORDS = {
    "TERIMA", "KASIH", "TERIMAKASIH", "TRIMA", "TRIMAKASIH", "MAKASIH", "MAKASI", "MKSH", "TRIMS",
    "THANKS", "THANK", "THX", "TQ", "TENGKYU", "OK", "OKE", "OKAY", "OKEY", "SIAP", "BAIK", "SIP",
    "NOTED", "MANTAP", "TKS", "TX", "TY", "THANKYOU", "TERIMAKASI", "TRIMAKASI",
    "TARIMA", "KASI", "MAKASE", "MAKASEH",  # Kupang Malay: "tarima kasi", "makase"
    # A blessing or an amen in answer, as often in NTT: "Tuhan berkati", "GBU", "Amin", "Puji Tuhan"
    "AMIN", "AMIEN", "AMEN", "BERKATI", "MEMBERKATI", "GBU", "JBU", "PUJI", "ALHAMDULILLAH",
    "DITERIMA",  # "sudah diterima": the acknowledgement reached them
    "DITUNGGU", "TUNGGU",  # "Siap, ditunggu kabarnya", "Baik, saya tunggu": waiting for the answer
    "OKK", "OKEH", "OCE", "OKS", "TRMKSH", "TRMKASIH", "TRIMKSH", "SYUKUR", "SAMA",  # "Oke deh", "Sama-sama"
}
# Yes or no, said alone ("Iya pak", "Tidak ada", "Belum", Kupang's "sonde"): an answer to a question
# an officer asked (the ticket waiting for it takes it) or to nothing the gateway knows; never a request.
YES_OR_NO = {
    "YA", "YAA", "IYA", "IYAA", "IYAH", "IYO", "Y", "YES", "YUP", "BETUL", "BENAR", "BNR", "SETUJU",
    "TIDAK", "TDK", "GAK", "GA", "NGGAK", "ENGGAK", "NDAK", "SONDE", "NO", "BELUM", "BLM", "SUDAH", "SDH",
    "UDAH", "UDH", "BOLEH", "ADA",  # "Ada pak": there is
}
THANKS_FILLERS = {
    "YOU", "BANYAK", "ATAS", "YA", "YAA", "YAH", "NYA", "BANTUANNYA", "INFONYA", "INFORMASINYA",
    "RESPONNYA", "JAWABANNYA", "TANGGAPANNYA", "TUHAN", "YESUS", "SUDAH", "SDH", "UDAH", "UDH",
    "KABARNYA", "KABAR", "BAIKNYA", "ADA", "SAYA", "SY",  # "Siap, ditunggu kabar baiknya", "sudah ada kabar"
    "DIJAWAB", "DITANGGAPI", "DIRESPON", "DIPROSES", "DIBANTU", "DIBALAS",  # "Terima kasih, sudah dijawab"
    "DEH", "BNYK", "BYK", "U", "LAKSANAKAN",  # "Makasih bnyk", "Thx u", "Siap laksanakan"
}
# Emoji that acknowledge, sent alone: thanks without words. (An angry face alone is no thanks.)
REACTIONS = set("👍👌🙏🙂😊😀😁🤝👏✅❤🥰😇🤗💯🆗")
_EMOJI_MODIFIERS = re.compile(r"[\s\U0001F3FB-\U0001F3FF\uFE0F\u200D]+")  # spaces, skin tones, variation, joiners

# Words people put around a code when they ask about it: "CEK KODE 1234-5671", "kode saya 1234-5671?",
# "No. tiket 1234-5671".
CODE_WORDS = {
    "KODE", "NO", "NOMOR", "NOMER", "NMR", "TIKET", "LAPORAN", "PENGADUAN", "PERMINTAAN", "SAYA", "KU",
    "BAGAIMANA", "GIMANA", "GMN", "KABARNYA", "PERKEMBANGAN", "PERKEMBANGANNYA",
}
# Asking where one's tickets stand in words, without CEK or a code ("Bagaimana laporan saya?",
# "Laporan saya sudah sampai mana?"): a word naming the ticket and one asking after it.
TICKET_WORDS = {"LAPORAN", "LAPORANNYA", "PENGADUAN", "PENGADUANNYA", "ADUAN", "PERMINTAAN", "PERMINTAANNYA", "TIKET"}
ASKING_WORDS = {
    "BAGAIMANA", "BAGAIMANAKAH", "GIMANA", "GMN", "BGMN", "KABAR", "KABARNYA", "PERKEMBANGAN",
    "PERKEMBANGANNYA", "SAMPAI", "MANA", "SEJAUH", "APA", "STATUS", "STATUSNYA", "PROSES", "PROSESNYA",
    "APAKAH", "MASUK", "TERKIRIM",  # whether it arrived: "Apakah laporan saya sudah diterima?", "sdh masuk?"
}
# The code lost or forgotten, or asked for ("Lupa kode", "Kode saya berapa?", "Minta nomor tiket saya"):
# a word naming the code, one saying it is gone or asking for it, and words about a code around them.
CODE_NAMES = {"KODE", "KODENYA", "NOMOR", "NOMORNYA", "NOMER", "NOMERNYA", "NMR", "NO", "TIKET", "TIKETNYA"}
LOST_WORDS = {"LUPA", "KELUPAAN", "HILANG", "KEHILANGAN", "TERHAPUS", "KEHAPUS", "BERAPA", "MINTA"}
_ABOUT_LOST_CODE = CODE_NAMES | LOST_WORDS | OPENERS | {"LAGI", "SMS", "PESAN", "PESANNYA"}
# Words said around a code, or in place of one, when asking about it: "Cek 1234-5671 pak", "cek dong
# 1234-5671", "Mohon info laporan 1234-5671", "1234-5671 sudah sampai mana?", "CEK 1234-5671 terima kasih".
_ABOUT_CODE = CODE_WORDS | TICKET_WORDS | ASKING_WORDS | GREETING_TAILS | _GREETING_WORDS | THANKS_WORDS \
    | THANKS_FILLERS | {"CEK", "DICEK", "TOLONG", "MOHON", "MINTA", "INFO", "INFORMASI", "MAU", "INGIN", "TANYA",
                        "NANYA", "BERTANYA", "DONG", "DULU"}
# Asking for the answer, and nothing else: one of these ("Kapan dijawab?", "Mohon ditindaklanjuti")
# with only words from the next set, those naming a code or asking about it, greetings and thanks,
# and something that asks or urges ("Terima kasih, sudah dijawab" does neither: thanks).
REMINDER_WORDS = {
    "DIJAWAB", "DITANGGAPI", "DIRESPON", "DIRESPONS", "DIPROSES", "DITINDAKLANJUTI", "TINDAKLANJUTI",
    "TINDAKLANJUT", "TINDAK", "JAWABAN", "TANGGAPAN", "RESPON", "RESPONS", "KEPASTIAN", "BALASAN", "BALASANNYA",
    "DIBALAS", "BALAS", "DIPERCEPAT", "PERCEPAT",
}
# Or asking after its progress, days later ("Ada kabar pak?", "Bagaimana perkembangannya?", "Sudah
# sampai mana?"): one of these, or "sampai mana" / "sejauh mana", with something that asks besides;
# or why it takes so long ("Kok lama sekali?", not "Ditunggu bantuannya sudah lama").
PROGRESS_WORDS = {
    "KABAR", "KABARNYA", "PERKEMBANGAN", "PERKEMBANGANNYA", "KELANJUTAN", "KELANJUTANNYA", "PROGRES",
    "PROGRESNYA", "PROGRESS", "HASILNYA", "KEJELASAN", "KEJELASANNYA",
}
_SLOW = {"LAMA", "LAMANYA", "LAMBAT"}
REMINDER_FILLERS = {
    "KAPAN", "SEGERA", "BELUM", "BLM", "ADA", "KOK", "MASIH", "MENUNGGU", "NUNGGU", "LAMA", "SEKARANG",
    "LANJUT", "LANJUTNYA", "INI", "JUGA", "CEPAT", "KAMI", "DARI", "PIHAK", "DINAS", "KENAPA", "MENGAPA", "TIDAK",
    "TDK", "GAK", "SEKALI", "BANGET", "BGT", "AMAT",
    # how long it has waited: "Sudah seminggu belum ada kabar", "sudah berbulan-bulan"
    "HARI", "MINGGU", "BULAN", "TAHUN", "SEHARI", "SEMINGGU", "SEBULAN", "SETAHUN", "BERHARI", "BERMINGGU",
    "BERBULAN", "BERTAHUN",
}
# Taking a ticket back: one of these words ("Batal", "Mohon dibatalkan", "Laporan saya dicabut saja"),
# or "tidak jadi" ("never mind") or "salah kirim" ("sent by mistake"), with only the words below, those
# about a code, greetings and thanks. "Bantuan PKH saya dibatalkan" is a complaint: its words say what.
WITHDRAW_WORDS = {"BATAL", "BATALKAN", "DIBATALKAN", "BATALIN", "DIBATALIN", "PEMBATALAN", "CABUT", "DICABUT"}
NEGATIONS = {"TIDAK", "TDK", "TAK", "GAK", "GA", "GK", "NGGAK", "NGGA", "ENGGAK", "NDAK", "SONDE"}
SENT_WRONG = {"KIRIM", "NOMOR", "NOMER", "SAMBUNG", "ALAMAT"}  # "salah kirim", "salah nomor"
WITHDRAW_FILLERS = NEGATIONS | SENT_WRONG | {
    "JADI", "SALAH", "SAJA", "AJA", "YA", "MAAF", "BISA", "BOLEH", "INI", "ITU", "TADI", "YANG", "PESAN",
    "PESANNYA", "SMS", "WA", "LAPOR",
}
# A withdrawal word negated, right after the negation ("Tidak jadi batal"; not "Tidak jadi, batal saja"),
# and the words that may go with it.
_KEEP = re.compile(r"(?<![^\W\d_])(?:" + "|".join(sorted(NEGATIONS | {"JANGAN", "USAH"})) +
                   r")\s+(?:JADI\s+)?(?:DI)?(?:BATAL|CABUT)(?:KAN|IN)?(?![^\W\d_])", re.I)
KEEP_WORDS = {"JANGAN", "USAH", "TETAP", "DIPROSES", "PROSES", "DILANJUTKAN", "LANJUTKAN", "LANJUT", "MASIH", "PERLU"}
# Said with a withdrawal word only (not with "tidak jadi": "Tidak jadi diperbaiki" is a complaint):
# why it is no longer needed, "Batal, sudah diperbaiki".
RESOLVED_WORDS = {"DIPERBAIKI", "BERES", "SELESAI", "TERATASI", "AMAN", "MASALAH", "MASALAHNYA", "SUDAH", "SDH",
                  "UDAH", "UDH", "CAIR", "DAPAT", "KETEMU"}  # "Batal, sudah cair": the assistance came
# What asks or urges, beside a question mark.
_URGING = ASKING_WORDS | {"KAPAN", "BELUM", "BLM", "MOHON", "TOLONG", "MINTA", "SEGERA", "KOK", "MASIH",
                         "MENUNGGU", "NUNGGU", "LAMA", "CEPAT", "KENAPA", "MENGAPA"}
# Asking whether this number is the service ("Ini nomor pengaduan?", "Benar ini WA Dinsos?"): help says
# what it is and how to write. These words only, with "ini" or "apakah", and a question.
SERVICE_WORDS = {
    "INI", "APAKAH", "APA", "BENAR", "BETUL", "BNR", "NOMOR", "NOMER", "NO", "NMR", "WA", "WHATSAPP", "SMS",
    "LAYANAN", "PENGADUAN", "HELPDESK", "DINSOS", "DINAS", "SOSIAL", "LAPOR", "KOTA", "KUPANG", "NTT", "RESMI",
    "SIAPA",
}
# A word among them that names a number or a service ("Apakah ini benar?" names none: it may ask about an answer).
_NAMING_THE_SERVICE = SERVICE_WORDS - {"INI", "APAKAH", "APA", "BENAR", "BETUL", "BNR"}
# On a keyword line, these words in the keyword's place ("LAPOR jalan rusak ...", "Pengaduan: ..."):
# a verb before the text, at the start or after a greeting or an opener ("Selamat malam pak, saya
# mau lapor ..."), or a noun as its heading at the start (punctuation after it: "Pengaduan saya
# belum dijawab" is no complaint's text).
_REPORT_VERB = re.compile(rf"(?<!\w)(?:{'|'.join(REPORT_VERBS)})[\W_]+(?P<rest>\w.*)$", re.I | re.S)
_REPORT_HEADING = re.compile(r"^(?:LAPORAN|PENGADUAN|ADUAN)\s*[:.#\-]+\s*(?P<rest>\w.*)$", re.I | re.S)

# What machines say and citizens do not: a label or a sentence about the message itself, thanks for
# contacting "us" (or a shop: anyone but the one thanking), a promise to reply, a carrier's notice.
# Citizens complaining of an auto-responder quote it inside their text ("yang jawab pesan otomatis saja",
# "ditelepon selalu 'nomor yang anda tuju tidak aktif'"): labels, notices and thanks count only at the
# start (after a greeting), a promise to reply only to "pesan Anda".
_OPENING = r"^\W*(?:(?:halo|hallo|hai|hi|hello|selamat \w+)\W+(?:\w+\W+)?)?"  # "Halo kak, ", "Selamat pagi! "
_AUTO_REPLY = re.compile("|".join((
    r"^\W*(?:pesan|balasan|jawaban) otomatis\b",
    r"^\W*auto[\s-]?(?:reply|respon(?:se|der)?)\b",
    r"(?<!apakah )\b(?:ini|pesan ini) (?:adalah|merupakan) (?:pesan|balasan|jawaban) otomatis\b",
    r"\bpesan ini dibalas (?:secara )?otomatis\b",
    _OPENING + r"(?:terima ?kasih|terimakasih|trima ?kasih|makasih) (?:telah|sudah|sdh|udah) menghubungi"
    r" (?!(?:saya|sy|sya|aku|beta)\b)\w",
    r"\bkami akan (?:segera )?(?:(?:membalas|merespon) pesan anda|menghubungi anda)\b",
    r"\bpesan anda akan (?:segera )?kami (?:balas|respon|jawab)\b",
    r"^\W*(?:mohon )?(?:maaf\W+)?(?:nomor|pelanggan) yang anda (?:tuju|hubungi)\b",
    _OPENING + r"thanks?(?: you)? for (?:contacting|your message|reaching out)\b",
    r"\bautomated (?:message|reply|response)\b|\bautomatic reply\b|\bout of (?:the )?office\b",
    r"\bwe(?:'ll| will) (?:get back|reply|respond)\b",
    # a WhatsApp Business greeting message, sent to a new contact: our acknowledgement is one
    _OPENING + r"(?:selamat datang di|welcome to)\b",
    r"\bada yang bisa (?:kami|saya) bantu\b|\bhow (?:can|may) (?:we|i) help\b",
)), re.I)
# A message that says it is another request ("Sy mau lapor lagi", "Ada laporan lain pak"), in its first
# few words: just after a request it begins one of its own instead of continuing that one.
_ANOTHER_REQUEST = re.compile(_OPENING + r"(?:\w+\W+){0,4}?(?:"
                              r"(?:lapor|melapor|mengadu)\W+(?:lagi|lg|hal lain|yang lain|yg lain)\b"
                              r"|(?:laporan|pengaduan|aduan|permintaan|keluhan)\W+(?:lain|lainnya|baru|kedua)"
                              r"(?:\W+(?:lagi|lg))?(?:\W|$)(?!saya|sy|sya|kami|yang|yg))", re.I)
# "lagi" after "lapor" ("Saya mau lapor lagi pak, lampu mati"): another complaint, not its first word.
_AGAIN = re.compile(r"^(?:lagi|lg|hal lain|yang lain|yg lain)(?:\W+|$)", re.I)
_SPACES = re.compile(r"\s+")
# Anything that is neither a letter, a digit nor a space: punctuation, emoji, symbols.
_TRIM = re.compile(r"^[^\w?]+|[^\w?]+$")
_CEK = r"(?:CHECK|CHEK|CEKK|CEK)"  # as typed in a hurry, or in English
_STATUS = re.compile(rf"^(?:{_CEK}\s*STATUS|STATUS\s*{_CEK}|{_CEK}|STATUS)(?![A-Za-z])\s*[:.#,]?\s*(?P<code>.*)$", re.I)
# Digits typed as a code, perhaps with a digit too few or too many (a NIK has 16, a phone number 10 to 13).
_DIGIT_GROUP = re.compile(r"(?<![\w\-.])\d[\d\s\-.]*\d(?![\w\-.])")
_CODE_ONLY = re.compile(r"^(?P<code>\d[\d\s\-.]*\d)$")
# A code at the start of a message, its halves joined by nothing, a hyphen or a dot, or spaces.
_LEADING_CODE = re.compile(r"^(?P<code>\d{4}\s*[\-.]?\s*\d{4})(?![\-.]?\d)\s*[:.,#\-]?\s*(?P<text>.*)$", re.S)
_LETTERS = re.compile(r"[^\W\d_]+")
# How long it has waited, in numbers ("sudah 2 minggu", "3 hari", "1 bln"): no number that says what.
_WAITED = re.compile(r"(?<!\d)\d{1,3}\s*(?:HARI|HR|MINGGU|MGG|BULAN|BLN|TAHUN|THN)(?![^\W\d_])", re.I)
_LEADING_MARKS = re.compile(r"^[^\w]+")
# Not the part of a longer number written in groups: "0812-3456-7890", a NIK "5371-0123-4567-0001".
_CODE_IN_TEXT = re.compile(r"(?<!\d)(?<!\d[\-.])\d{4}\s*[\-.]?\s*\d{4}(?![\-.]?\d)")
# The help text's "(spasi)" ("space") typed as it stands after the keyword, CEK or a code:
# "NTT (spasi) isi", "CEK spasi 1234-5671" (its opening bracket may be taken as the separator).
# Whom the complaint addresses, set off before it: "NTT pak, jalan rusak", "Lapor bu. Lampu mati". Not
# "NTT Pak RT minta pungutan": without the comma the word is who the complaint is about.
_VOCATIVE = re.compile(r"^(?:pak|bapak|bpk|bu|ibu|kak|min|admin)\s*[,.!:]+\s*(?=\w)", re.I)
_SPACE_WORD = re.compile(r"^\s*[(<\[]?\s*spasi(?:\s*[)>\]]|\b)\s*", re.I)
_LAUGHTER = re.compile(r"(?:(?:HE){2,}|(?:HA){2,}|(?:WK){2,})[HW]?")  # "HEHE", "HAHAHA", "WKWKWK"
_SERVICE_NUMBER = re.compile(r"(?<!\d)1708(?!\d)")  # SP4N-LAPOR!'s SMS number, written before the keyword
# Letters typed for digits in a code: O for 0, I or l for 1 ("CEK 1234-567O"); the check digit decides.
_LOOKALIKES = str.maketrans("OoIl", "0011")
_LOOKALIKE_CODE = re.compile(r"(?<!\w)[\dOoIl]{4}\s*[\-.]?\s*[\dOoIl]{4}(?!\w)")
# A bracket or quote closing the text that it never opened: the keyword took the opening one
# ("NTT (jalan rusak)", "\"NTT jalan rusak\"").
_CLOSERS = {")": "(", ">": "<", "]": "[", "}": "{", "\u201d": "\u201c", "\u2019": "\u2018", '"': '"', "'": "'"}
_VOWELS = set("AEIOUY")
# The help text's placeholder sent as it stands, with nothing of the citizen's own.
_PLACEHOLDER = re.compile(r"^[(<\[]?\s*isi(?:\s+(?:pengaduan|laporan|permintaan|keluhan))?\s*[)>\]]?$", re.I)


def clean(text: str) -> str:
    """Normalize unicode, collapse runs of whitespace and strip the ends."""
    text = unicodedata.normalize("NFKC", text or "")
    return _SPACES.sub(" ", text).strip()


def another_request(text: str) -> bool:
    """Whether the text says, in its first words, that it is a request other than the one before."""
    return bool(_ANOTHER_REQUEST.search(clean(text)))


def text_with_location(body: str, params: Mapping[str, str]) -> str:
    """A message's text as it is read: a shared location pin, which carries no text, as the text it
    stands for, after the body when there is one."""
    location = location_text(params)
    if not location:
        return body
    return f"{body}\n{location}" if body.strip() else location


def location_text(params: Mapping[str, str]) -> str:
    """A location pin shared on WhatsApp (Latitude, Longitude, Label, Address; no Body) as the
    text it stands for: "Lokasi: -10.1566, 123.6070 (Kantor Lurah Oesapa)"; "" when there is none."""
    lat, lon = params.get("Latitude", "").strip(), params.get("Longitude", "").strip()
    try:
        if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
            return ""
    except ValueError:
        return ""
    place = ", ".join(p for p in (clean(params.get("Label", "")), clean(params.get("Address", ""))) if p)
    return f"Lokasi: {lat}, {lon}" + (f" ({place})" if place else "")


def _word(text: str) -> str:
    """Return the text as a bare upper-case command word, trimmed of punctuation and emoji."""
    return _TRIM.sub("", text).upper()


def _keyword_letters(keyword: str) -> str:
    # A letter typed twice or a double letter typed once ("NTTT", "NNT", "NT") is still the keyword;
    # another letter ("NTB", another province's) is not. Dots between the letters ("N.T.T") too.
    letters = r"\.?".join(rf"{re.escape(letter)}(?:\.?{re.escape(letter)})*"
                          for letter, _ in itertools.groupby(keyword.upper()))
    # Spaced out ("N T T", "N. T. T."): every letter, none missing or twice, and no letter after.
    spaced = r"\.?\s+".join(re.escape(letter) for letter in keyword.upper()) + r"(?![^\W\d_])"
    return rf"(?:{spaced}|{letters}(?!\.[^\W\d_](?![^\W\d_])))"  # not one letter more after a dot: "N.T.B"


def _glued(keyword: str) -> str:
    """An alternative pattern: the keyword, whole, with the text typed straight after it, the help's
    "(spasi)" forgotten ("NTTjalan rusak", "NTT1234-5671 ..."). Only for a keyword without a vowel,
    with which no word begins; a single letter after it ("NTTB") is no word either."""
    if _VOWELS & set(keyword.upper()):
        return ""
    whole = "".join(f"{re.escape(letter)}{{{len(list(run))},}}" for letter, run in itertools.groupby(keyword.upper()))
    return rf"|{whole}(?=[^\W\d_]{{2}}|\d)"


@functools.lru_cache(maxsize=None)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """The keyword at the start of a message, and the rest."""
    return re.compile(rf"^(?:{_keyword_letters(keyword)}(?:[\W_]+|$){_glued(keyword)})(?P<rest>.*)$", re.I | re.S)


@functools.lru_cache(maxsize=None)
def _keyword_word(keyword: str) -> re.Pattern[str]:
    """The keyword as a word anywhere in a message."""
    return re.compile(rf"(?<!\w)(?:{_keyword_letters(keyword)}(?!\w){_glued(keyword)})", re.I)


def _after_keyword(body: str, keyword: str) -> str | None:
    """The text after the line's keyword at the start ("NTT ...", "#NTT ...", "🙏 NTT ...") or after
    a greeting, "lapor" or the service's number ("Selamat pagi, NTT ...", "Lapor NTT ...",
    "1708 NTT ..."); None when the message does not begin so."""
    match = _keyword_pattern(keyword).match(_LEADING_MARKS.sub("", body))
    if match:
        return match.group("rest")
    found = _keyword_word(keyword).search(body)
    if found is None:
        return None
    lead = _SERVICE_NUMBER.sub(" ", body[:found.start()])
    if _TRIM.sub("", lead) and not _is_greeting(_word(lead)):
        return None  # "Pemprov NTT lambat": the province named inside a text
    return _LEADING_MARKS.sub("", body[found.end():])


def parse(text: str, keyword: str | None = None) -> Intent:
    """Read one message; keyword is the line's (e.g. NTT), None for free-text lines."""
    body = clean(text)
    word = _word(body)
    command = _stop_or_start(word, keyword)
    if command is not None:
        return command
    if word in HELP_WORDS or word.rstrip("?") in HELP_WORDS or (word and not word.strip("?")):  # "??" too
        return Help(HelpReason.ASKED)

    status = _STATUS.match(_TRIM.sub("", body))
    if status:
        typed = _SPACE_WORD.sub("", status.group("code")).strip()
        if not typed.strip("? ") or _only_code_words(typed):  # "Status?" too
            return MyTickets()  # "CEK", "cek laporan saya": which of theirs, and where they stand
        attempt = _code_typed(typed)
        if attempt is not None:
            return attempt
        # No code typed ("Cek NIK saya apakah terdaftar DTKS", "Status penerima PKH"): read on, a request.

    leading = _LEADING_CODE.match(body)
    typed = leading.group("code") if leading else ""
    digits = codes.normalize(typed)
    # Halves parted by a space alone ("1234 5671") make a code only when its check digit is right:
    # free text may begin with two numbers ("2025 2026 ...").
    if leading and (codes.is_valid(digits) or not typed.replace(" ", "").isdigit() or " " not in typed):
        rest = _SPACE_WORD.sub("", leading.group("text")).strip()
        if not codes.is_valid(digits):
            return InvalidCode(typed)
        if _is_thanks(_word(rest)):
            return Thanks()  # "1234-5671 terima kasih pak": thanks, not news (a follow-up opens a closed ticket)
        if not _TRIM.sub("", rest).strip("?") or _only_code_words(rest) or _asks_after_progress(_word(rest)):
            return StatusCheck(digits)  # "1234-5671?", "1234-5671 ada kabar?": where it stands
        if _asks_for_the_answer(_word(rest)):
            return Reminder(digits)  # "1234-5671 kok belum dijawab?"
        taking_back = _taking_back(_word(rest), digits)  # "1234-5671 batal"
        return taking_back or FollowUp(digits, rest)
    if _CODE_ONLY.match(body):
        digits = codes.normalize(body)
        if codes.is_valid(digits):
            return StatusCheck(digits)  # typed in other groups: "12 34 56 71"
        if len(digits) in range(7, 10):
            return InvalidCode(body)  # a wrong digit, or a digit too few or too many

    found = _CODE_IN_TEXT.findall(body)
    if len(found) == 1:  # "Kode 1234-5671", "No tiket: 1234-5671?", "kode saya 1234-5671 kok belum dijawab?"
        named, around = found[0], _word(_CODE_IN_TEXT.sub(" ", body))
        digits = codes.normalize(named)
        asks_for_answer, taking_back = _asks_for_the_answer(around), _taking_back(around, digits)
        if asks_for_answer or taking_back or _only_code_words(around) or _asks_after_progress(around):
            if codes.is_valid(digits):
                return Reminder(digits) if asks_for_answer else taking_back or StatusCheck(digits)
            if not named.replace(" ", "").isdigit() or " " not in named:
                return InvalidCode(named)

    if _asks_after_tickets(word) or _asks_for_the_code(word):
        return MyTickets()
    if _asks_for_the_answer(word) or _asks_after_progress(word):
        return Reminder()  # the phone's open ticket, or where its latest stands (handlers/inbound.py)
    if _asks_what_this_is(word):
        return Help(HelpReason.ASKED)
    taking_back = _taking_back(word)
    if taking_back:
        return taking_back

    if keyword:
        rest = _after_keyword(body, keyword)
        if rest is None:
            rest = _after_report(body)
        if rest is None:
            if _AUTO_REPLY.search(body):
                return AutoReply()
            if _is_thanks(word) or _is_reaction(body) or _is_yes_or_no(word):
                return Thanks()
            return Help(HelpReason.GREETING if _is_greeting(word) else HelpReason.UNREADABLE)
        rest = _SPACE_WORD.sub("", rest).strip()
        if not _TRIM.sub("", rest) or _PLACEHOLDER.match(rest):
            return Help(HelpReason.EMPTY)
        inner = parse(rest)
        if inner == Help(HelpReason.GREETING):
            return Help(HelpReason.ASKED)  # "NTT selamat pagi": the keyword, then no complaint
        return inner if _is_command(inner, rest) else NewTicket(_without_stray_closer(_VOCATIVE.sub("", rest)))

    if _is_reaction(body):
        return Thanks()
    if not word:
        return Help(HelpReason.UNREADABLE)
    if _AUTO_REPLY.search(body):
        return AutoReply()
    if _is_thanks(word) or _is_yes_or_no(word):
        return Thanks()  # before greetings: "Ada" is an answer, "Ada yang bisa bantu?" an opener
    if _is_greeting(word):
        return Help(HelpReason.GREETING)
    return NewTicket(_after_announcement(body))


def _after_announcement(body: str) -> str:
    """The request without the words that say it is another one ("Sy mau lapor lagi bu, bantuan sembako
    ..." is "bantuan sembako ..."); "" when they are all it says."""
    said = _ANOTHER_REQUEST.search(body)
    if said is None:
        return body
    rest = _VOCATIVE.sub("", _LEADING_MARKS.sub("", body[said.end():]))
    return "" if not _TRIM.sub("", rest) or _is_greeting(_word(rest)) else rest


def _after_report(body: str) -> str | None:
    """The text after "Lapor" or a heading in the keyword's place ("LAPOR jalan rusak", "Pengaduan: ..."),
    or after "lapor" said after a greeting or an opener ("Selamat malam, saya mau lapor ..."); None
    when there is no text yet ("Lapor pak", "Saya mau lapor") or the message does not begin so."""
    report = _REPORT_HEADING.match(_LEADING_MARKS.sub("", body))
    if report is None:
        report = _REPORT_VERB.search(body)
        lead = _word(body[:report.start()]) if report else ""
        if report is None or (lead and not _is_greeting(lead)):
            return None
    rest = _AGAIN.sub("", report.group("rest"))  # "Saya mau lapor lagi pak, ...": another complaint
    return None if not rest or _is_greeting(_word(rest)) else rest


def _is_command(inner: Intent, rest: str) -> bool:
    """What follows the keyword is a command of its own ("NTT CEK 1234-5671", "NTT STOP", "NTT INFO",
    "NTT 1234-5671 ..."), not a complaint's text. Numbers that are no valid code begin a complaint
    ("NTT 2024-2025 jalan belum diperbaiki"), and so does anything else after the keyword
    ("NTT terima kasih")."""
    # Asking for the answer ("NTT 1234-5671 kok belum dijawab", "NTT mohon ditindaklanjuti") has no complaint in it.
    commands = (StatusCheck, MyTickets, Reminder, Withdrawal, KeepTicket, FollowUp, OptOut, OptIn)
    if isinstance(inner, commands) or inner == Help(HelpReason.ASKED):
        return True
    if isinstance(inner, InvalidCode):
        return bool(_STATUS.match(_TRIM.sub("", rest)))
    return isinstance(inner, Thanks) and _LEADING_CODE.match(rest) is not None  # "NTT 1234-5671 terima kasih"


def _words(text: str) -> list[str]:
    """The words of a text, upper case; none when it holds a digit (a number says something)."""
    return [] if any(c.isdigit() for c in text) else _LETTERS.findall(text.upper())


def _only_code_words(text: str) -> bool:
    """Words naming a code or asking about it, and nothing else: "laporan saya", "No. tiket", "dong", "pak"."""
    words = set(_words(text))
    return bool(words) and words <= _ABOUT_CODE


def _asks_after_tickets(word: str) -> bool:
    """Words asking after one's tickets and nothing else: "Bagaimana laporan saya?", "gimana pengaduan
    saya pak", "Laporan saya sudah sampai mana?" ("Laporan saya belum dijawab" asks for the answer)."""
    words = set(_words(word))
    return bool(words & TICKET_WORDS) and bool(words & ASKING_WORDS) and words <= _ABOUT_CODE


def _asks_for_the_code(word: str) -> bool:
    """The code lost, forgotten or asked for, and nothing else: "Lupa kode saya", "Nomor pengaduan saya
    berapa?", "kodenya terhapus" ("Saya lupa membawa KTP" is about something else: a request)."""
    words = set(_words(word))
    return bool(words & CODE_NAMES) and bool(words & LOST_WORDS) \
        and words <= _ABOUT_CODE | _ABOUT_LOST_CODE


def _asks_for_the_answer(word: str) -> bool:
    """Asking for the answer and nothing else: "Mohon ditindaklanjuti", "Kok belum ada tanggapan pak?",
    "Sudah 2 minggu belum dijawab" ("Jalan belum diperbaiki, mohon ditindaklanjuti" says what: a request)."""
    words = _reminding(word)
    return bool(words & REMINDER_WORDS) and _asks_or_urges(words, word)


def _asks_after_progress(word: str) -> bool:
    """Asking after a request's progress and nothing else: "Ada kabar pak?", "Bagaimana perkembangannya?",
    "Sudah sampai mana?", "Ada kabar" ("Terima kasih, sudah ada kabar" asks nothing: thanks)."""
    words = _reminding(word)
    progress = words & PROGRESS_WORDS or "MANA" in words and words & {"SAMPAI", "SEJAUH"}
    slow = words & _SLOW and (words & {"KENAPA", "MENGAPA", "KOK"} or "?" in word)
    # Said with thanks, the news must be asked for: "Siap, ditunggu kabarnya" waits; "Ada kabar" asks.
    return bool(progress or slow) and (_asks_or_urges(words, word) or not words & THANKS_WORDS)


def _reminding(word: str) -> set[str]:
    """The words of a text that may ask for the answer or after progress (how long it waited, in
    numbers, left out); none when another word says what."""
    words = set(_words(_WAITED.sub(" ", word)))
    return words if words <= _REMINDING else set()


_REMINDING = REMINDER_WORDS | PROGRESS_WORDS | _SLOW | REMINDER_FILLERS | _ABOUT_CODE
# Naming the news is not asking for it: "Terima kasih, sudah ada kabar" is thanks.
_ASKS_OR_URGES = _URGING - (PROGRESS_WORDS & ASKING_WORDS)


def _asks_or_urges(words: set[str], word: str) -> bool:
    return bool(words & _ASKS_OR_URGES or "?" in word)


def _asks_what_this_is(word: str) -> bool:
    """Whether this number is the service, and nothing else: "Ini nomor pengaduan?", "Benar ini nomor
    pengaduan Dinsos?" ("Ini nomor pengaduan bansos, saya belum terima BLT" goes on to the request)."""
    words = set(_words(word))
    return "?" in word and bool(words & {"INI", "APAKAH"}) and bool(words & _NAMING_THE_SERVICE) \
        and words <= SERVICE_WORDS | GREETING_TAILS | _GREETING_WORDS


def _taking_back(word: str, code: str = "") -> Withdrawal | KeepTicket | None:
    """A withdrawal ("Batal"), a withdrawal taken back ("Tidak jadi batal"), or neither."""
    if _keeps(word):
        return KeepTicket(code)
    return Withdrawal(code) if _withdraws(word) else None


def _keeps(word: str) -> bool:
    """ "Tidak jadi batal", "Jangan dibatalkan pak, tetap diproses", "Tidak usah dibatalkan": the
    withdrawal word negated, with the words of a withdrawal and of going on only."""
    return bool(_KEEP.search(word)) and set(_words(word)) <= (
        WITHDRAW_WORDS | WITHDRAW_FILLERS | KEEP_WORDS | _ABOUT_CODE | {"MOHON", "TOLONG"})


def _withdraws(word: str) -> bool:
    """Taking a ticket back and nothing else: "Batal", "Maaf salah kirim", "Tidak jadi pak", "Batal, sudah
    diperbaiki". A question is no withdrawal unless it asks for one ("Bisa dibatalkan pak?"; not
    "Laporan saya dibatalkan?")."""
    said = _words(word)
    words = set(said)
    pairs = set(zip(said, said[1:]))
    named = bool(words & WITHDRAW_WORDS)
    said_so = named or any(a in NEGATIONS and b == "JADI" or a == "SALAH" and b in SENT_WRONG for a, b in pairs)
    asks = "?" not in word or words & {"BISA", "BOLEH", "MOHON", "TOLONG", "MINTA"}
    allowed = WITHDRAW_WORDS | WITHDRAW_FILLERS | _ABOUT_CODE | (RESOLVED_WORDS if named else set())
    return said_so and bool(asks) and words <= allowed


def _code_typed(typed: str) -> StatusCheck | InvalidCode | None:
    """The code typed after CEK, among any words ("1234-5671 atas nama Maria"); letters for digits
    read as digits when the check digit confirms it. InvalidCode for digits that make no code
    (a wrong check digit, a digit too few); None when no code was typed."""
    fixed = _LOOKALIKE_CODE.sub(_as_digits, typed)  # letter for digit: the same length, the same places
    typed_codes = [*_CODE_IN_TEXT.finditer(fixed),
                   *(g for g in _DIGIT_GROUP.finditer(fixed) if len(codes.normalize(g.group())) in range(5, 11))]
    for found in typed_codes:
        if codes.is_valid(codes.normalize(found.group())):
            return StatusCheck(codes.normalize(found.group()))
    return InvalidCode(typed[typed_codes[0].start():typed_codes[0].end()]) if typed_codes else None


def _as_digits(found: re.Match[str]) -> str:
    """A code typed with letters for digits, as digits, when most of it is digits already."""
    typed = found.group()
    return typed.translate(_LOOKALIKES) if sum(c.isdigit() for c in typed) >= 6 else typed


def _without_stray_closer(text: str) -> str:
    """The text without a bracket or quote at its end that it never opened."""
    closer = text[-1:]
    opener = _CLOSERS.get(closer)
    if opener is None or text[-2:-1] in (":", ";", "=", "-"):  # a smiley: ":)", ";-)"
        return text
    unopened = text.count(closer) % 2 if opener == closer else text.count(closer) > text.count(opener)
    return text[:-1].rstrip() if unopened else text


def _is_greeting(word: str) -> bool:
    """A greeting or an opener alone, perhaps with whom it addresses: "Halo pak", "Selamat pagi bu?",
    "Pagi min", "Permisi pak, mau tanya": the request is still to come."""
    words = _words(word)
    return bool(words) and all(w in _GREETING_WORDS or w in GREETING_TAILS or w in OPENERS for w in words)


def _is_reaction(text: str) -> bool:
    """Only emoji that acknowledge ("👍", "🙏🙏", "👍🏽"), as a sticker does."""
    marks = _EMOJI_MODIFIERS.sub("", text)
    return bool(marks) and all(c in REACTIONS for c in marks)


def _is_thanks(word: str) -> bool:
    """Thanks or an acknowledgement alone: "Terima kasih pak", "Makasih banyak ya bu", "Ok siap",
    laughter ("hehe", "wkwk") as a reaction."""
    said = _words(word)
    words = [w for w in said if not _LAUGHTER.fullmatch(w)]
    if not words:
        return bool(said)  # laughter alone
    return (any(w in THANKS_WORDS for w in words)
            and all(w in THANKS_WORDS or w in THANKS_FILLERS or w in GREETING_TAILS for w in words))


def _is_yes_or_no(word: str) -> bool:
    """Yes or no alone, perhaps with whom it addresses or thanks: "Ya", "Iya pak", "Tidak ada bu", "Sudah"."""
    words = set(_words(word))
    return bool(words & YES_OR_NO) \
        and words <= YES_OR_NO | THANKS_WORDS | THANKS_FILLERS | GREETING_TAILS | {"ADA"}


def _stop_or_start(word: str, keyword: str | None) -> OptOut | OptIn | None:
    """STOP or START, alone or with words that leave it that ("stop kirim sms", "Stop pak",
    "UNREG NTT", "jangan kirim lagi", "mulai lagi"); None for anything else."""
    words = _words(word)
    if not words:
        return None
    lead, rest = words[0], words[1:]
    if lead == "JANGAN" and rest[:1] in (["KIRIM"], ["SMS"], ["WA"]):  # "jangan kirim lagi": send no more
        lead = "STOP"
    if lead in ("BATAL", "BATALKAN") and rest[:1] in (["LANGGANAN"], ["BERLANGGANAN"]):  # "Batal langganan"
        lead = "STOP"
    if not all(w in COMMAND_FILLERS or w in GREETING_TAILS or w == (keyword or "").upper() for w in rest):
        return None
    return OptOut() if lead in STOP_WORDS else OptIn() if lead in START_WORDS else None
