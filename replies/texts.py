"""Every automatic reply, in Bahasa Indonesia: the one place to edit the wording.

The example code 1234-5671 carries a correct check digit, so a citizen who copies
it is told "tidak ditemukan", not that the example itself is invalid. The help texts
show the citizen's own latest code instead when the phone has one ({code}).

Each must fit one GSM-7 SMS segment (160 characters, no emoji or curly quotes)
once rendered with long values; tests/replies check that for every entry.
"""

EXAMPLE_CODE = "1234-5671"  # shown in the help to a phone with no ticket yet

TEMPLATES: dict[str, str] = {
    "ack_complaint": (
        "Pengaduan Anda diterima. Kode: {code}. Dijawab paling lambat {due}. "
        "Cek status: kirim CEK {code}. Tambah keterangan: {code} (spasi) isi."
    ),
    "ack_information": (
        "Permintaan Anda diterima. Kode: {code}. Dijawab paling lambat {due}. "
        "Cek status: kirim CEK {code}. Tambah keterangan: {code} (spasi) isi."
    ),
    "ack_duplicate": (
        "Pesan ini sudah kami terima sebelumnya. Kode: {code}. Dijawab paling lambat {due}. "
        "Cek status: kirim CEK {code}."
    ),
    "status": "Kode {code}: {state}. Batas waktu {due}.",
    # A closed ticket has no deadline left; writing more about it opens it again.
    "status_closed": "Kode {code}: {state}. Bila masih ada masalah, kirim {code} (spasi) isi.",
    "my_tickets": "Laporan Anda: {items}. Rincian: kirim CEK (spasi) kode.",
    "no_tickets": "Belum ada laporan dari nomor ini. Kirim INFO untuk cara melapor.",
    "not_found": (
        "Kode {code} tidak ditemukan untuk nomor ini. "
        "Periksa kembali kode pada pesan tanda terima Anda."
    ),
    "invalid_code": (
        "Nomor {code} tidak valid. Kode terdiri dari 8 angka, contoh: CEK 1234-5671. "
        "Periksa kembali pesan tanda terima Anda."
    ),
    "followup_ok": "Tambahan keterangan untuk kode {code} sudah kami terima. Terima kasih.",
    "followup_reopened": (
        "Tambahan keterangan untuk kode {code} sudah kami terima dan akan ditindaklanjuti "
        "paling lambat {due}. Terima kasih."
    ),
    "withdrawn": (
        "Permintaan pembatalan untuk kode {code} sudah kami terima. Petugas akan menutup laporan ini. "
        "Bila keliru, kirim {code} (spasi) isi."
    ),
    "help_keyword": (
        "{service}. Pengaduan: {keyword} (spasi) isi. Cek status: CEK {code}. "
        "Tambahan: {code} (spasi) isi. Berhenti: STOP. Gratis."
    ),
    "help_empty": (
        "Isi pengaduan kosong. Format: {keyword} (spasi) isi pengaduan. "
        "Contoh: {keyword} Jalan di Oesapa rusak parah. Gratis."
    ),
    "help_free": (
        "{service}. Tulis permintaan data/informasi atau pengaduan Anda. "
        "Cek status: CEK {code}. Berhenti: STOP."
    ),
    "opted_out": (
        "Anda tidak akan menerima pesan lagi dari layanan ini. "
        "Kirim START untuk mengaktifkan kembali."
    ),
    "opted_in": "Pesan dari layanan ini aktif kembali. Kirim INFO untuk bantuan.",
    # START after messages about the citizen's tickets were withheld: they follow this one.
    "opted_in_withheld": (
        "Pesan dari layanan ini aktif kembali. Pesan untuk laporan Anda yang tertahan selama berhenti "
        "kami kirim sesudah ini."
    ),
    # A ticket forwarded to another agency (bukan wewenang): the citizen's CEK would otherwise say
    # "menunggu ditelaah" again with no reason.
    # After the prefix "[code] agency: " of the agency forwarding it (workflow.prefix); the receiving
    # agency ({agency}, its short name) has its own deadline from the forwarding.
    "forwarded": "Diteruskan ke {agency} yang berwenang. Dijawab paling lambat {due}. Cek status: CEK {code}.",
    # The WhatsApp template a line's template_sid names, for an officer's message written after the
    # 24-hour window: the same text must be approved in Twilio, with {{1}} for {code}.
    "window_notice": (
        "Ada pesan dari petugas untuk laporan Anda {code}. "
        "Balas pesan ini (misalnya: OK) untuk membacanya."
    ),
    # To officers, by SMS to the phone they gave: each working morning, what waits for them
    # ({escalated}: ", 2 eskalasi" for a head, else empty; {codes}: up to three, the most pressing first),
    "digest": (
        "Tugas {day}: {waiting} menunggu Anda ({overdue} terlambat, {today} batas hari ini, {tomorrow} besok)"
        "{escalated}. {codes}. Rincian di kotak masuk."
    ),
    # and at once, grouped, what a colleague's step left for them ({items}: notice_list()).
    "notice": "Tugas baru: {items}. Lihat kotak masuk.",
}

# An immediate notice's items, by kind (handlers/notices.py).
NOTICE_PHRASES: dict[str, str] = {
    "approve": "{code} menunggu persetujuan",
    "returned": "draf {code} dikembalikan",
    "disposed": "{code} didisposisikan kepada Anda",
}

# How a ticket's state reads to a citizen (keys are the ticket state values).
STATE_PHRASES: dict[str, str] = {
    "baru": "diterima, menunggu ditelaah petugas",
    "ditelaah": "sedang ditelaah petugas",
    "didisposisi": "diteruskan ke pejabat yang menangani",
    "draf": "jawaban sedang disiapkan",
    "menunggu_persetujuan": "jawaban menunggu persetujuan pimpinan",
    "disetujui": "jawaban sudah disetujui dan segera dikirim",
    "terkirim": "jawaban sudah dikirim",
    "ditunda": "menunggu keterangan tambahan dari Anda",
    "selesai": "selesai",
    "diarsipkan": "ditutup",
    "diteruskan": "diteruskan ke instansi yang berwenang",
}

# The same, short, for a list of a citizen's tickets in one SMS (keys are the ticket state values).
SHORT_STATE_PHRASES: dict[str, str] = {
    "baru": "diterima",
    "ditelaah": "ditelaah",
    "didisposisi": "diproses",
    "draf": "diproses",
    "menunggu_persetujuan": "diproses",
    "disetujui": "segera dijawab",
    "terkirim": "sudah dijawab",
    "ditunda": "menunggu keterangan Anda",
    "selesai": "selesai",
    "diarsipkan": "ditutup",
    "diteruskan": "diteruskan",
}
