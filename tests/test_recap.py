"""The recap book's figures, worked out by hand on a fixed set of tickets: what became of them and how
long the answers took (median and 90th percentile, in the days the rule counts), by channel, kind,
line, category and official; and the overdue ones with whom they wait on."""
from __future__ import annotations

import base64
import csv
import io
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from handlers.letters import MONTHS
from parsers import codes
from replies.render import WITA
from store.db import now
from store.models import Officer, Role, Ticket, TicketEvent
from tests.inbox_helpers import act, add_officer
from tests.test_inbox import CODE, client_for, desk  # noqa: F401 (the fixture)


def _table(page: str, what: str) -> dict[str, list[str]]:
    part = page.split(f"<h2>Per {what}</h2>")[1].split("<h2>")[0]
    return {name: re.findall(r"<td>([^<]*)</td>", cells)
            for name, cells in re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', part)}


def test_the_recap_figures_by_hand(desk):
    lia, head, official = (client_for(desk, u) for u in ("lia", "kepala", "pejabat"))
    with desk.session() as s:
        official_id = s.scalar(select(Officer.id).where(Officer.username == "pejabat"))
    found = {"a": desk.code}
    for name, text, phone in [("b", "NTT air PDAM mati", "+6281299990001"), ("c", "NTT lampu mati", "+6281299990002"),
                              ("d", "NTT jembatan putus", "+6281299990003")]:
        found[name] = CODE.search(desk.converse(text, frm=phone)).group(1)
    for name, category in (("a", "jalan"), ("b", "air"), ("c", "jalan")):  # d stays Baru, past its deadline
        act(lia, found[name], "telaah", kategori=category)
        act(head, found[name], "disposisi", petugas=official_id, arahan="Mohon dijawab")
        act(official, found[name], "ajukan", jawaban="Sudah ditangani.")
        act(head, found[name], "setujui")
    act(lia, found["a"], "kirim")
    act(lia, found["b"], "kirim")  # c: approved, not sent (in progress)
    desk.drain()
    # Received 10 days ago at 09:00 UTC; answered after 2 days (a) and 9 days (b: past its 8 days).
    received = (now() - timedelta(days=10)).replace(hour=1, minute=0, second=0, microsecond=0)
    with desk.session() as s, s.begin():
        for name, answered_after in (("a", 2), ("b", 9), ("c", None), ("d", None)):
            t = s.scalar(select(Ticket).where(Ticket.code == codes.normalize(found[name])))
            t.created_at, t.due_at = received, received + timedelta(days=8)
            if name == "c":  # its deadline moved on while it waited for the citizen: still in time
                t.due_at = now() + timedelta(days=1)
            if answered_after is not None:
                s.execute(update(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.action == "kirim")
                          .values(created_at=received + timedelta(days=answered_after)))
    first = (received - timedelta(days=1)).date().isoformat()
    page = lia.get(f"/inbox/rekap?dari={first}").get_data(as_text=True)
    # received, in time, late, in progress, past the deadline, archived, withdrawn, forwarded, median, p90
    assert _table(page, "kategori") == {
        "Jalan dan jembatan": ["2", "1", "0", "1", "0", "0", "0", "0", "2,0", "2,0"],
        "Air bersih": ["1", "0", "1", "0", "0", "0", "0", "0", "9,0", "9,0"],
        "Tanpa kategori": ["1", "0", "0", "0", "1", "0", "0", "0", "-", "-"],
        "Jumlah": ["4", "1", "1", "1", "1", "0", "0", "0", "5,5", "9,0"]}
    assert _table(page, "pejabat") == {
        "Pejabat": ["3", "1", "1", "1", "0", "0", "0", "0", "5,5", "9,0"],
        "Belum ditugaskan": ["1", "0", "0", "0", "1", "0", "0", "0", "-", "-"],
        "Jumlah": ["4", "1", "1", "1", "1", "0", "0", "0", "5,5", "9,0"]}
    assert _table(page, "jenis") == {"Pengaduan": ["4", "1", "1", "1", "1", "0", "0", "0", "5,5", "9,0"]}
    assert list(_table(page, "layanan")) == ["SP4N-LAPOR! Prov. NTT"]
    assert "seluruhnya median 5,5, persentil ke-90 9,0 hari" in page
    # The charts: SVG drawn by pygal, as images, each with its numbers in a table beside it.
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert len(images) == 3
    svg = base64.b64decode(images[1]).decode()
    assert svg.startswith("<?xml") and "Dijawab tepat waktu" in svg  # shown as an image: its script never runs
    local = received.replace(tzinfo=timezone.utc).astimezone(WITA)
    month = f"{MONTHS[local.month - 1]} {local.year}"
    assert re.search(rf'<th scope="row">{month}</th><td>33,3</td>', page)  # a in time; b late; d past due
    assert re.search(rf'<th scope="row">{month}</th><td>5,5</td>', page)  # the median of 2 and 9 days
    overdue = page.split("Lewat batas waktu, belum dijawab (1)")[1]
    assert found["d"] in overdue and "Pejabat penghubung (telaah)" in overdue and found["c"] not in overdue
    # The spreadsheet holds the same numbers: one row a ticket, its outcome and the days its answer took.
    text = lia.get(f"/inbox/rekap.csv?dari={first}").get_data(as_text=True)
    header, *rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    by_code = {r[1]: dict(zip(header, r)) for r in rows}
    assert {found[n]: (by_code[found[n]]["Hasil"], by_code[found[n]]["Waktu menjawab (hari)"]) for n in found} == {
        found["a"]: ("Dijawab tepat waktu", "2,0"), found["b"]: ("Dijawab terlambat", "9,0"),
        found["c"]: ("Dalam proses", "-"), found["d"]: ("Belum dijawab, lewat batas waktu", "-")}
    assert {by_code[found[n]]["Kategori"] for n in ("a", "c")} == {"Jalan dan jembatan"}


def test_working_days_where_the_rule_counts_them(desk):
    """Dinas Sosial's WhatsApp line counts 8 working days: an answer from Friday 10:00 to Monday 10:00
    (WITA) took one working day, not three."""
    add_officer(desk, "dinsos", Role.LIAISON, Role.HEAD, agency="dinsos-kupang")
    official_id = add_officer(desk, "dinsospejabat", Role.OFFICIAL, agency="dinsos-kupang")
    desk.whatsapp("Bantuan PKH belum cair")
    desk.drain()
    boss, official = client_for(desk, "dinsos"), client_for(desk, "dinsospejabat")
    with desk.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.agency == "dinsos-kupang"))
    code = codes.display(t.code)
    act(boss, code, "telaah")
    act(boss, code, "disposisi", petugas=official_id, arahan="Cek data")
    act(official, code, "ajukan", jawaban="Sudah dicek.")
    act(boss, code, "setujui")
    act(boss, code, "kirim")
    friday = datetime(2026, 11, 6, 2, 0)  # 10:00 WITA
    with desk.session() as s, s.begin():
        s.execute(update(Ticket).where(Ticket.id == t.id).values(created_at=friday, due_at=friday + timedelta(days=12)))
        s.execute(update(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.action == "kirim")
                  .values(created_at=friday + timedelta(days=3)))
    page = boss.get("/inbox/rekap?dari=2026-11-01&sampai=2026-11-30").get_data(as_text=True)
    assert _table(page, "saluran")["WhatsApp"] == ["1", "1", "0", "0", "0", "0", "0", "0", "1,0", "1,0"]
