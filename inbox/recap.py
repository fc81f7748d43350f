"""The recap book (buku rekapitulasi pengaduan) of the service standard: a period's tickets of the
officer's agency, summed up on a page and downloadable as a spreadsheet."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone

from flask import Response, abort, g, render_template, request, stream_with_context

from handlers import lapor
from inbox.auth import login_required
from inbox.views import CHANNEL_LABELS, STATE_LABELS, bp, local, _services, _session
from parsers import codes
from parsers.phone import national
from replies.render import WITA
from store.db import now
from store.models import OPEN_STATES, TicketState
from store.queries import RecapRow, recap

OUTCOMES = {
    "tepat_waktu": "Dijawab tepat waktu", "terlambat": "Dijawab terlambat", "proses": "Dalam proses",
    "lewat_batas": "Belum dijawab, lewat batas waktu", "diarsipkan": "Diarsipkan",
    "dibatalkan": "Dibatalkan atas permintaan warga",
    "diteruskan": "Diteruskan ke instansi lain (bukan wewenang)",
}
_ANSWERED = {TicketState.TERKIRIM.value, TicketState.SELESAI.value}
_OPEN = {state.value for state in OPEN_STATES}
COLUMNS = ("No", "Kode", "Diterima", "Saluran", "Layanan", "Jenis", "Kategori", "Nama", "Nomor ponsel", "Alamat",
           "Isi", "Status", "Batas waktu", "Dijawab", "Hasil", "Pejabat yang ditugaskan", "Nomor tracking LAPOR!")
# How a cell a spreadsheet reads as a formula begins.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def outcome(row: RecapRow, moment: datetime) -> str:
    """What became of a ticket, measured against its deadline (a key of OUTCOMES)."""
    if row.forwarded_to:
        return "diteruskan"
    if row.answered_at is not None and row.state in _ANSWERED:
        return "tepat_waktu" if row.answered_at <= row.due_at else "terlambat"
    if row.state == TicketState.DIARSIPKAN.value:
        return "dibatalkan" if row.withdrawn else "diarsipkan"
    return "lewat_batas" if row.state in _OPEN and row.due_at < moment else "proses"


def _period() -> tuple[date, date, datetime, datetime]:
    """The days asked for (WITA; default: this month so far) and the UTC moments that bound them."""
    today = now().replace(tzinfo=timezone.utc).astimezone(WITA).date()
    try:
        first = date.fromisoformat(request.args.get("dari") or today.replace(day=1).isoformat())
        last = date.fromisoformat(request.args.get("sampai") or today.isoformat())
    except ValueError:
        abort(400, "Tanggal ditulis TTTT-BB-HH.")
    if last < first or (last - first).days > 366:
        abort(400, "Periode paling panjang satu tahun, tanggal akhir tidak sebelum tanggal awal.")

    def utc(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), WITA).astimezone(timezone.utc).replace(tzinfo=None)

    try:
        return first, last, utc(first), utc(last + timedelta(days=1))
    except OverflowError:  # the first or the last day the calendar has
        abort(400, "Tanggal di luar jangkauan.")


@bp.get("/rekap")
@login_required
def recap_page():
    first, last, start, end = _period()
    agency = g.officer.agency
    moment = now()
    counts: Counter[tuple[str, str]] = Counter()  # (channel, "diterima" or an outcome)
    by_category: Counter[tuple[str, str]] = Counter()  # (category, the same)
    totals: Counter[str] = Counter()
    with _session() as s:
        for row in recap(s, agency, start, end):
            for key in ("diterima", outcome(row, moment)):
                counts[row.channel, key] += 1
                by_category[row.category, key] += 1
                totals[key] += 1
    channels = [(c, label) for c, label in CHANNEL_LABELS.items() if counts[c, "diterima"]]
    named = _services().settings.service.agencies[agency].categories
    categories = [(c, label) for c, label in {**named, "": "Tanpa kategori"}.items() if by_category[c, "diterima"]]
    return render_template("rekap.html", first=first, last=last, counts=counts, totals=totals, channels=channels,
                           by_category=by_category, categories=categories if named else [], outcomes=OUTCOMES,
                           agency=_services().settings.service.agencies[agency].name)


@bp.get("/rekap.csv")
@login_required
def recap_csv():
    """The recap book as a spreadsheet: UTF-8 with a byte-order mark and ';' between fields, as a
    spreadsheet set to Indonesian opens it; one row a ticket, streamed."""
    first, last, start, end = _period()
    agency, moment = g.officer.agency, now()
    service = _services().settings.service
    lines = {line.id: line.name for line in service.lines}
    agencies = {code: a.name for code, a in service.agencies.items()}
    categories = service.agencies[agency].categories

    def rows():
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        out.write("\ufeff")
        writer.writerow(COLUMNS)
        with _session() as s:
            for number, row in enumerate(recap(s, agency, start, end), 1):
                writer.writerow(_cells(number, row, lines, agencies, categories, moment))
                if number % 200 == 0:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()

    name = f"rekap-pengaduan-{agency}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cells(number: int, row: RecapRow, lines: dict[str, str], agencies: dict[str, str], categories: dict[str, str],
           moment: datetime) -> list:
    state = STATE_LABELS.get(row.state, row.state)
    if row.forwarded_to:
        state += " ke " + agencies.get(row.forwarded_to, row.forwarded_to)
    return [number, codes.display(row.code), local(row.created_at), CHANNEL_LABELS.get(row.channel, row.channel),
            lines.get(row.line_id, "-"), "Permintaan informasi" if row.kind == "informasi" else "Pengaduan",
            categories.get(row.category, row.category) or "-",
            _typed(row.citizen_name), national(row.phone) if row.phone else "", _typed(row.citizen_home),
            _typed(row.body), state, "-" if row.forwarded_to else local(row.due_at),
            local(row.answered_at) if row.answered_at else "-", OUTCOMES[outcome(row, moment)], _typed(row.assignee) if row.assignee else "-",
            row.lapor_id or "-"]


def _typed(text: str) -> str:
    """What a citizen or an officer typed, kept as text where a spreadsheet would run it as a formula."""
    return "'" + text if text.lstrip(" ").startswith(_FORMULA_START) else text


@bp.get("/rekap/lapor.json")
@login_required
def recap_lapor():
    """The period's tickets as one JSON file for SP4N-LAPOR! (handlers/lapor.py), as a download."""
    first, last, _, _ = _period()
    agency, services = g.officer.agency, _services()
    with _session() as s:
        data = lapor.export(s, services.settings.service, services.settings.media_dir, agency, first, last, now())
    name = f"lapor-{agency}-{first.isoformat()}-{last.isoformat()}.json"
    return Response(json.dumps(data, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
