"""What complaints are about: an agency's categories (service.toml), set at review, a filter of the queue,
a table of the recap and a column of its spreadsheet."""
from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from store.models import Ticket, TicketEvent
from tests.inbox_helpers import act
from tests.test_inbox import CODE, client_for, desk  # noqa: F401 (the fixture)


def test_the_review_sets_the_category_the_queue_filters_and_the_recap_counts(desk):
    lia = client_for(desk, "lia")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert '<option value="jalan" >Jalan dan jembatan</option>' in page  # the agency's list, at review
    refused = act(lia, desk.code, "telaah", kategori="bansos")  # Dinas Sosial's, not the Biro's
    assert refused.status_code == 422 and "Kategori itu tidak ada" in refused.get_data(as_text=True)
    act(lia, desk.code, "telaah", kategori="jalan", catatan="lokasi jelas")
    water = CODE.search(desk.converse("NTT air PDAM mati tiga hari", frm="+6281299990000")).group(1)
    act(lia, water, "telaah", kategori="air")
    none = CODE.search(desk.converse("NTT pelayanan lambat", frm="+6281288880000")).group(1)
    act(lia, none, "telaah")  # one that fits none stays without
    with desk.session() as s:
        assert s.scalar(select(TicketEvent.note).where(TicketEvent.action == "telaah").order_by(TicketEvent.id)) \
            == "kategori: Jalan dan jembatan; lokasi jelas"
        assert sorted(s.scalars(select(Ticket.category))) == ["", "air", "jalan"]
    assert "<dt>Kategori</dt><dd>Jalan dan jembatan</dd>" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)

    listed = lia.get("/inbox/?status=semua&kategori=air").get_data(as_text=True)
    assert water in listed and desk.code not in listed and none not in listed
    page = lia.get("/inbox/rekap").get_data(as_text=True)
    table = page.split("<h2>Per kategori</h2>")[1].split("<h2>")[0]
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table))
    assert rows == {"Jalan dan jembatan": "1", "Air bersih": "1", "Tanpa kategori": "1", "Jumlah": "3"}
    text = lia.get("/inbox/rekap.csv").get_data(as_text=True)
    header, *tickets = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert {r[1]: dict(zip(header, r))["Kategori"] for r in tickets} == {
        desk.code: "Jalan dan jembatan", water: "Air bersih", none: "-"}
