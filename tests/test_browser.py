"""A real browser (Debian's chromium through Playwright) works a ticket from SMS to the answer on the phone."""
from __future__ import annotations

import os
import re
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server

from sqlalchemy import select

from handlers import officers, workflow
from store.models import Officer, Role
from tests.conftest import ACCOUNT_SID, CITIZEN, SMS_LINE, free_port, new_sid
from tests.inbox_helpers import PASSWORD, add_officer

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from pypdf import PdfReader  # noqa: E402


def _serve(make_gateway, **extra):
    port = free_port()
    gateway = make_gateway(PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", **extra)
    gateway.server = make_server("127.0.0.1", port, gateway.app, threaded=True)
    threading.Thread(target=gateway.server.serve_forever, daemon=True).start()
    gateway.url = f"http://127.0.0.1:{port}"
    return gateway


@pytest.fixture
def live(make_gateway):
    gateway = _serve(make_gateway)
    yield gateway
    gateway.server.shutdown()


# Biro Organisasi's answers go up two levels before they are approved.
HIERARCHY = """
[agencies.biro-organisasi.approval]
levels = { kabag = "Kepala Bagian Organisasi", karo = "Kepala Biro Organisasi" }
default = ["kabag", "karo"]
"""


@pytest.fixture
def live_hierarchy(make_gateway, tmp_path):
    config = tmp_path / "service.toml"
    config.write_text((Path(__file__).resolve().parent.parent / "service.toml").read_text() + HIERARCHY)
    gateway = _serve(make_gateway, SERVICE_CONFIG=str(config))
    yield gateway
    gateway.server.shutdown()


@pytest.fixture
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def send_sms(live, body: str) -> None:
    params = {"MessageSid": new_sid(), "AccountSid": ACCOUNT_SID, "From": CITIZEN, "To": SMS_LINE,
              "Body": body, "NumMedia": "0"}
    signature = live.validator.compute_signature(live.url + "/webhooks/twilio/messages", params)
    request = urllib.request.Request(live.url + "/webhooks/twilio/messages", data=urlencode(params).encode(),
                                     headers={"X-Twilio-Signature": signature})
    assert urllib.request.urlopen(request).status == 200


def as_officer(browser, live, username: str, width: int = 1100):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(live.url + "/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Tugas saya")).to_be_visible()  # every officer's first page
    return page


def on_ticket(browser, live, username: str, code: str, waits: str):
    """Log in, find the ticket among what waits for the officer (Tugas saya), and open it."""
    page = as_officer(browser, live, username)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=code))
    expect(row).to_contain_text(waits)
    expect(page.locator("nav [data-tasks]")).to_have_text("1")  # the count in the menu, read by the script
    page.screenshot(path=str(OUTPUT / f"tasks-{username}.png"), full_page=True)
    page.get_by_role("link", name=code).click()
    expect(page.get_by_role("heading", name=f"Tiket {code}")).to_be_visible()
    return page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_from_sms_to_approved_answer_on_the_phone(live, browser):
    OUTPUT.mkdir(exist_ok=True)
    for name, roles, agency in [("lia", [Role.LIAISON], "biro-organisasi"), ("kepala", [Role.HEAD], "biro-organisasi"),
                                ("pejabat", [Role.OFFICIAL], "biro-organisasi"),
                                ("tamu", [Role.LIAISON, Role.HEAD], "dinsos-kupang")]:
        add_officer(live, name, *roles, agency=agency)
    send_sms(live, "NTT Jalan di Oesapa rusak parah, sudah 3 bulan berlubang dan membahayakan pengendara")
    live.drain()
    code = re.search(r"Kode: (\d{4}-\d{4})", live.twilio.messages[-1].body).group(1)

    page = as_officer(browser, live, "lia", width=360)  # a phone's browser
    expect(page.get_by_role("link", name=code)).to_be_visible()
    page.screenshot(path=str(OUTPUT / "tasks-360px.png"), full_page=True)
    page.get_by_role("link", name="Antrean").click()
    page.screenshot(path=str(OUTPUT / "queue.png"), full_page=True)
    page.close()

    page = on_ticket(browser, live, "lia", code, "Telaah laporan baru")
    page.get_by_label("Catatan telaah").fill("Lokasi jelas, kewenangan provinsi.")
    page.get_by_role("button", name="Telaah").click()
    expect(page.get_by_text("Tiket sudah ditelaah.")).to_be_visible()
    page.close()

    page = on_ticket(browser, live, "kepala", code, "Disposisi")
    page.get_by_label("Pejabat yang ditugaskan").select_option(label="Pejabat")
    page.get_by_label("Arahan").fill("Koordinasikan dengan Dinas PUPR, jawab dalam 3 hari.")
    page.get_by_role("button", name="Disposisi").click()
    expect(page.get_by_text("Tiket didisposisikan.")).to_be_visible()
    page.close()

    page = on_ticket(browser, live, "pejabat", code, "Susun jawaban")
    counter = page.locator('output[for="jawaban"]')
    # Counted too: 29 characters of the 1,600 one message holds, 31 units of GSM-7 (a bracket costs two).
    prefix = f"[{code}] Biro Organisasi: "
    page.get_by_label("Jawaban untuk warga").fill("Perbaikan jalan. " * 100)  # 1,699: more than one message holds
    expect(counter).to_have_text("1730 karakter, 12 SMS (GSM-7); paling banyak 1571 karakter")
    expect(counter).to_have_class(re.compile(r"\blate\b"))
    page.get_by_role("button", name="Ajukan untuk persetujuan").click()  # the browser keeps the form and the text
    assert page.get_by_label("Jawaban untuk warga").evaluate("a => a.validationMessage").startswith("Terlalu panjang")
    expect(page.get_by_text("Jawaban diajukan")).to_have_count(0)
    answer = "Terima kasih. Perbaikan jalan di Oesapa dijadwalkan Dinas PUPR pada 3 Desember 2026."
    page.get_by_label("Jawaban untuk warga").fill(answer)
    expect(counter).to_have_text(f"{len(prefix + answer) + 2} karakter, 1 SMS (GSM-7); paling banyak 1571 karakter")
    expect(counter).not_to_have_class(re.compile(r"\blate\b"))
    page.get_by_role("button", name="Ajukan untuk persetujuan").click()
    expect(page.get_by_text("Jawaban diajukan untuk persetujuan.")).to_be_visible()
    page.close()

    page = on_ticket(browser, live, "kepala", code, "Setujui jawaban")
    page.get_by_role("button", name="Setujui jawaban").click()
    expect(page.get_by_text("Jawaban disetujui.")).to_be_visible()
    page.close()

    page = on_ticket(browser, live, "lia", code, "Kirim jawaban ke warga")
    page.get_by_role("button", name="Kirim jawaban ke warga").click()
    expect(page.get_by_text("Jawaban dikirim ke warga.")).to_be_visible()
    live.drain()
    page.reload()
    expect(page.locator(".msg.out").last).to_contain_text(answer)
    page.screenshot(path=str(OUTPUT / "ticket.png"), full_page=True)
    page.close()

    sent = live.twilio.messages[-1]
    assert (sent.to, sent.from_, sent.body) == (CITIZEN, SMS_LINE, prefix + answer)

    page = as_officer(browser, live, "tamu")
    response = page.goto(f"{live.url}/inbox/t/{code.replace('-', '')}")
    assert response.status == 404
    expect(page.get_by_role("link", name=code)).to_have_count(0)
    page.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_inbox_page_fits_a_phone_screen(live, browser):
    add_officer(live, "admin", Role.LIAISON, Role.HEAD, Role.OFFICIAL, Role.ADMIN, agency="biro-organisasi")
    send_sms(live, "NTT Jalan di Oesapa rusak parah, sudah 3 bulan berlubang dan membahayakan pengendara")
    live.drain()
    code = re.search(r"Kode: (\d{4}-\d{4})", live.twilio.messages[-1].body).group(1)
    page = as_officer(browser, live, "admin", width=360)
    for path in ["/inbox/tugas", "/inbox/", f"/inbox/t/{code}", "/inbox/akun", "/inbox/catat", "/inbox/balasan", "/inbox/petugas", "/inbox/rekap"]:
        page.goto(live.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{path} is wider than the phone"
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / f"{path.strip('/').replace('/', '-')}-360px.png"), full_page=True)
    page.goto(live.url + "/inbox/")  # the search and filters fold away behind a button
    search = page.get_by_label("Cari (kode, nomor ponsel, kata)")
    expect(search).to_be_hidden()
    page.get_by_text("Cari dan saring").click()
    expect(search).to_be_visible()
    assert page.locator("td[data-label=Status]").first.evaluate(  # each field of a ticket keeps its label
        "td => getComputedStyle(td, '::before').content") == '"Status"'
    page.goto(live.url + "/inbox/rekap")
    expect(page.get_by_text("geser ke samping")).to_be_visible()
    wide = as_officer(browser, live, "admin", width=1100)
    wide.goto(live.url + "/inbox/")
    expect(wide.get_by_label("Cari (kode, nomor ponsel, kata)")).to_be_visible()  # open on a wide screen
    wide.goto(live.url + "/inbox/rekap")
    expect(wide.get_by_text("geser ke samping")).to_be_hidden()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_step_that_cannot_be_undone_asks_first(live, browser):
    add_officer(live, "lia", Role.LIAISON, agency="biro-organisasi")
    send_sms(live, "NTT asdf qwer zxcv")
    live.drain()
    code = re.search(r"Kode: (\d{4}-\d{4})", live.twilio.messages[-1].body).group(1)
    page = on_ticket(browser, live, "lia", code, "Telaah laporan baru")
    page.get_by_text("Tindakan lain").click()  # the rarer steps, behind a choice
    page.get_by_label("Alasan arsip (tidak jelas / spam)").fill("tidak jelas")
    page.get_by_role("button", name="Arsipkan").click()
    box = page.get_by_label("Ya, arsipkan: tiket ditutup tanpa jawaban")
    assert box.evaluate("b => b.validationMessage") != ""  # the browser asks for the tick: nothing was sent
    expect(page.get_by_text("Tiket diarsipkan.")).to_have_count(0)
    box.check()
    page.get_by_role("button", name="Arsipkan").click()
    expect(page.get_by_text("Tiket diarsipkan.")).to_be_visible()
    page.screenshot(path=str(OUTPUT / "archived.png"), full_page=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_levels_approve_in_turn_and_the_letter_prints(live_hierarchy, browser):
    live = live_hierarchy
    add_officer(live, "lia", Role.LIAISON)
    official = add_officer(live, "pejabat", Role.OFFICIAL)
    for name, level, position in [("kabag", "kabag", ""), ("karo", "karo", "Kepala Biro Organisasi Setda NTT")]:
        add_officer(live, name, Role.HEAD)
        with live.services.db.transaction() as s:
            officers.set_post(s, live.services.settings.service, name, position, level)
    code = _submitted_answer(live, official, "Ruas jalan Oesapa diperbaiki Dinas PUPR mulai 3 Desember 2026.")

    page = on_ticket(browser, live, "kabag", code, "Setujui jawaban")
    ladder = page.locator(".ladder li")
    expect(ladder.nth(0)).to_contain_text("Kepala Bagian Organisasi: draf ada di sini")
    expect(ladder.nth(1)).to_contain_text("Kepala Biro Organisasi: belum")
    corrected = "Ruas jalan Oesapa-Lasiana diperbaiki Dinas PUPR mulai 3 Desember 2026."
    page.get_by_label("Jawaban yang diajukan").fill(corrected)  # corrected as it is approved
    page.get_by_role("button", name="Setujui jawaban").click()
    expect(page.get_by_text("Jawaban disetujui dan diteruskan ke Kepala Biro Organisasi.")).to_be_visible()
    expect(ladder.nth(0)).to_contain_text("Kepala Bagian Organisasi: disetujui Kabag")
    expect(ladder.nth(1)).to_contain_text("Kepala Biro Organisasi: draf ada di sini")
    expect(page.get_by_role("button", name="Setujui jawaban")).to_have_count(0)  # not this level's any more
    page.screenshot(path=str(OUTPUT / "approval-level-2.png"), full_page=True)
    page.close()

    page = on_ticket(browser, live, "karo", code, "Setujui jawaban")
    expect(page.get_by_label("Jawaban yang diajukan")).to_have_value(corrected)
    page.get_by_role("button", name="Setujui jawaban").click()
    expect(page.get_by_text("Jawaban disetujui.")).to_be_visible()
    page.close()

    page = on_ticket(browser, live, "lia", code, "Kirim jawaban ke warga")
    page.get_by_role("button", name="Cetak surat jawaban").click()
    expect(page.get_by_text("Nomor", exact=True)).to_be_visible()
    number = page.locator(".heading tr").first.locator("td").last.inner_text()
    assert re.fullmatch(r"1/BO/[IVX]+/20\d\d", number), number
    page.screenshot(path=str(OUTPUT / "letter.png"), full_page=True)
    pdf = OUTPUT / "letter.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4")
    reader = PdfReader(pdf)
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert len(reader.pages) == 1 and round(float(reader.pages[0].mediabox.width) / 72 * 25.4) == 210  # A4
    for expected in ("PEMERINTAH PROVINSI NUSA TENGGARA TIMUR", "BIRO ORGANISASI", f"Nomor : {number}",
                     f"nomor tiket {code}", corrected, "Kepala Biro Organisasi Setda NTT,", "Karo"):
        assert expected in text, (expected, text)
    assert "Kembali ke tiket" not in text  # the screen's links stay off the paper
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 360, "height": 800})  # read on a phone before it is printed
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(OUTPUT / "letter-360px.png"), full_page=True)
    page.close()


def _submitted_answer(live, official_id: int, answer: str) -> str:
    """A complaint by SMS, reviewed, assigned and its answer submitted, as the workflow does it."""
    send_sms(live, "NTT Jalan di Oesapa rusak parah, sudah 3 bulan berlubang")
    live.drain()
    code = re.search(r"Kode: (\d{4}-\d{4})", live.twilio.messages[-1].body).group(1)
    service = live.services.settings.service
    with live.services.db.transaction() as s:
        by = {o.username: o for o in s.scalars(select(Officer))}
        t = workflow.find(s, by["lia"], code)
        workflow.telaah(s, by["lia"], t, service)
        workflow.disposisi(s, by["kabag"], t, official_id, "Mohon dijawab")
        workflow.ajukan(s, by["pejabat"], t, service, answer)
    return code


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_recap_register_prints_on_a4(live, browser):
    add_officer(live, "lia", Role.LIAISON)
    send_sms(live, "NTT Lampu jalan di Kelurahan Oesapa mati sejak dua minggu")
    live.drain()
    code = re.search(r"Kode: (\d{4}-\d{4})", live.twilio.messages[-1].body).group(1)
    page = as_officer(browser, live, "lia")
    page.goto(live.url + "/inbox/catat")  # a letter whose writer asked not to be named
    page.get_by_label("Saluran").select_option("surat")
    page.get_by_label("Nama").fill("Yohanes Bria")
    page.get_by_label("Isi pengaduan").fill("Pungutan liar di loket kelurahan")
    page.get_by_label("Rahasiakan identitas pelapor").check()
    page.get_by_role("button", name="Catat").click()
    page.goto(live.url + "/inbox/rekap")
    charts = page.locator("figure.chart img")
    expect(charts).to_have_count(3)  # drawn: the page's policy lets the SVG images in
    assert all(width > 0 for width in charts.evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
    page.screenshot(path=str(OUTPUT / "recap.png"), full_page=True)
    page.get_by_role("link", name="Cetak buku rekapitulasi (A4)").click()
    expect(page.get_by_role("heading", name="BUKU REKAPITULASI PENGADUAN")).to_be_visible()
    page.screenshot(path=str(OUTPUT / "register.png"), full_page=True)
    pdf = OUTPUT / "register.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    reader = PdfReader(pdf)
    box = reader.pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 297 and round(float(box.height) / 72 * 25.4) == 210  # A4 across
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for expected in ("BUKU REKAPITULASI PENGADUAN", "BIRO ORGANISASI", code, "Lampu jalan di Kelurahan Oesapa",
                     "Pungutan liar di loket kelurahan", "(dirahasiakan)", "2 pengaduan"):
        assert expected in text, (expected, text)
    assert "Yohanes" not in text and "Kembali ke rekap" not in text
    page.close()
