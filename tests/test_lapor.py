"""The SP4N-LAPOR! tracking ID: read from a complaint's text, typed by the liaison."""
from __future__ import annotations

import pytest

from parsers.lapor import tracking_id, typed_id


@pytest.mark.parametrize("text, expected", [
    ("NTT jalan rusak di Oesapa. No. tracking LAPOR 1234567", "1234567"),
    ("NTT sudah saya laporkan di lapor.go.id, nomor tracking LAPOR!: #3187561 belum dijawab", "3187561"),
    ("NTT tracking id LAPOR 98765432 mohon ditindaklanjuti", "98765432"),
    ("NTT laporan saya di LAPOR no 4455667 tidak ada tanggapan", "4455667"),
    ("NTT Lapor nomor: 1029384 soal bansos", "1029384"),
    ("NTT nomor laporan di LAPOR #5566778", "5566778"),
    ("NTT sudah lapor 3 kali tapi belum diperbaiki", ""),
    ("NTT saya mau lapor jalan rusak sejak 2024", ""),
    ("NTT lapor, nomor HP saya 081234567890", ""),
    ("NTT no. 12345 jalan Sudirman rusak", ""),
    ("", ""),
])
def test_a_tracking_id_is_read_where_the_complaint_quotes_one(text, expected):
    assert tracking_id(text) == expected


@pytest.mark.parametrize("typed, expected", [("1234567", "1234567"), ("#1234567", "1234567"), (" 3187561 ", "3187561"),
                                             ("", ""), ("  ", ""), ("abc", None), ("1234", None), ("12-34567", None)])
def test_a_typed_tracking_id(typed, expected):
    assert typed_id(typed) == expected


# --- the bridge: the tracking ID on a ticket, confidential tickets, the export for SP4N-LAPOR! ---

import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import jsonschema  # noqa: E402
from sqlalchemy import select  # noqa: E402

from store.models import Ticket, TicketEvent  # noqa: E402
from tests.inbox_helpers import act, token  # noqa: E402
from tests.test_inbox import CODE, approved_answer, client_for, desk  # noqa: E402,F401 (the fixture)

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "lapor-export.schema.json").read_text())


def test_the_tracking_id_is_read_typed_searched_shown_and_in_the_spreadsheet(desk):
    lia = client_for(desk, "lia")
    quoted = CODE.search(desk.converse("NTT lampu jalan mati. No. tracking LAPOR 1234567 belum dijawab",
                                       frm="+6281299990000")).group(1)
    with desk.session() as s:
        assert s.scalar(select(Ticket.lapor_id).where(Ticket.code == quoted.replace("-", ""))) == "1234567"
    refused = act(lia, desk.code, "lapor", lapor="12ab")
    assert refused.status_code == 422 and "5 sampai 12 angka" in refused.get_data(as_text=True)
    act(lia, desk.code, "lapor", lapor="#3187561")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "nomor tracking 3187561" in page and "nomor tracking LAPOR!: - menjadi 3187561" in page
    for q, code in (("%233187561", desk.code), ("LAPOR+1234567", quoted)):
        found = lia.get(f"/inbox/?status=semua&q={q}").get_data(as_text=True)
        assert code in found and ({desk.code, quoted} - {code}).pop() not in found
    text = lia.get("/inbox/rekap.csv").get_data(as_text=True)
    assert text.splitlines()[0].endswith(";Nomor tracking LAPOR!")
    assert {line.split(";")[1]: line.split(";")[-1] for line in text.splitlines()[1:]} == {
        desk.code: "3187561", quoted: "1234567"}


def test_the_export_follows_its_schema_and_keeps_confidential_citizens_out(desk, tmp_path):
    lia = approved_answer(desk)  # the desk's complaint: answered, then closed
    act(lia, desk.code, "kirim")
    desk.drain()
    act(lia, desk.code, "selesai")
    desk.whatsapp("", Latitude="-10.1566", Longitude="123.607", Label="Kantor Lurah", Address="RT 05 Oesapa")
    desk.whatsapp("Bantuan PKH ibu saya belum cair sejak Juli")
    desk.drain()
    scan = b"%PDF-1.4 surat pengaduan"
    form = {"csrf_token": token(lia, "/inbox/catat"), "saluran": "kotak_saran", "nama": "Yohanes Bria",
            "telepon": "", "alamat": "Oebobo", "isi": "Saran: loket buka sampai sore", "rahasia": "1",
            "lampiran": (io.BytesIO(scan), "saran.pdf", "application/pdf")}
    assert lia.post("/inbox/catat", data=form, content_type="multipart/form-data").status_code == 303
    with desk.session() as s:
        box = s.scalar(select(Ticket).where(Ticket.channel == "kotak_saran"))
        assert box.confidential and "identitas pelapor dirahasiakan" in s.scalar(
            select(TicketEvent.note).where(TicketEvent.ticket_id == box.id, TicketEvent.action == "catat"))
    act(lia, desk.code, "rahasia", rahasia="1")  # a switch on the ticket, in its history
    act(lia, desk.code, "rahasia", rahasia="0")

    output = tmp_path / "lapor.json"
    today = lia.get("/inbox/rekap").get_data(as_text=True)
    assert "Unduh ekspor untuk SP4N-LAPOR!" in today
    result = desk.app.test_cli_runner().invoke(args=["lapor-export", "--agency", "biro-organisasi", "--from",
                                                     "2020-01-01", "--to", "2099-12-31", "--output", str(output)])
    assert result.exit_code == 0, result.output
    data = json.loads(output.read_text())
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    by_code = {t["code"]: t for t in data["tickets"]}
    assert set(by_code) == {desk.code, codes_of(box)}  # the Dinas Sosial's WhatsApp ticket is not the Biro's
    answered, suggestion = by_code[desk.code], by_code[codes_of(box)]
    assert (answered["stage"], answered["classification"], answered["answer"]) == (
        "selesai", "pengaduan", "Perbaikan jalan dijadwalkan minggu depan.")
    assert answered["citizen"] == {"name": None, "phone": "+6281234567890", "address": None}
    assert answered["title"].startswith("jalan di Oesapa rusak")  # without the keyword
    assert (suggestion["stage"], suggestion["classification"], suggestion["citizen"]) == (
        "belum terverifikasi", "aspirasi", None)  # confidential: nobody named
    assert suggestion["attachments"] == [{"name": f"lampiran-{box.code}-1.pdf", "content_type": "application/pdf",
                                          "size": len(scan), "sha256": hashlib.sha256(scan).hexdigest()}]
    assert desk.app.test_cli_runner().invoke(args=["lapor-export", "--agency", "dinsos-kupang", "--from", "2020-01-01",
                                                   "--to", "2099-12-31"]).exit_code == 0
    wa = json.loads(desk.app.test_cli_runner().invoke(args=[
        "lapor-export", "--agency", "dinsos-kupang", "--from", "2020-01-01", "--to", "2099-12-31"]).output)
    jsonschema.validate(wa, SCHEMA, format_checker=jsonschema.FormatChecker())
    [request] = wa["tickets"]
    assert request["location"] == {"latitude": -10.1566, "longitude": 123.607, "place": "Kantor Lurah, RT 05 Oesapa"}
    assert (request["classification"], request["citizen"]["name"]) == ("permintaan informasi", "Maria Ndun")
    # The recap page's button downloads the same, for its period.
    download = lia.get("/inbox/rekap/lapor.json")
    assert download.mimetype == "application/json" and "attachment" in download.headers["Content-Disposition"]
    jsonschema.validate(download.get_json(), SCHEMA, format_checker=jsonschema.FormatChecker())
    bad = dict(data, tickets=[dict(answered, stage="diproses")])  # the schema refuses what LAPOR! has no stage for
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def codes_of(ticket) -> str:
    return f"{ticket.code[:4]}-{ticket.code[4:]}"
