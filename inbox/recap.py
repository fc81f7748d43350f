"""The recap book (buku rekapitulasi pengaduan) of the service standard: a period's tickets of the
officer's agency, summed up on a page and downloadable as a spreadsheet."""
from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from flask import Response, abort, g, render_template, request, stream_with_context

from handlers import clock, lapor, letters
from handlers.daily import local_day
from handlers.deadlines import working_time
from handlers.letters import MONTHS as MONTH_NAMES
from inbox import charts
from inbox.auth import login_required
from inbox.views import CHANNEL_LABELS, STATE_LABELS, bp, local, _services, _session
from parsers import codes
from parsers.phone import national
from replies.render import day_starts
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
_IN_TIME_OR_LATE = ("tepat_waktu", "terlambat")  # answered: the time it took counts
COLUMNS = ("No", "Kode", "Diterima", "Saluran", "Layanan", "Jenis", "Kategori", "Nama", "Nomor ponsel", "Alamat",
           "Isi", "Status", "Batas waktu", "Dijawab", "Hasil", "Pejabat yang ditugaskan", "Waktu menjawab (hari)",
           "Nomor tracking LAPOR!")
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


def _today() -> date:
    return local_day(now())


def _period() -> tuple[date, date, datetime, datetime]:
    """The days asked for (WITA; default: this month so far) and the UTC moments that bound them."""
    today = _today()
    try:
        first = date.fromisoformat(request.args.get("dari") or today.replace(day=1).isoformat())
        last = date.fromisoformat(request.args.get("sampai") or today.isoformat())
    except ValueError:
        abort(400, "Tanggal ditulis TTTT-BB-HH.")
    if last < first or (last - first).days > 366:
        abort(400, "Periode paling panjang satu tahun, tanggal akhir tidak sebelum tanggal awal.")
    try:
        return first, last, day_starts(first), day_starts(last + timedelta(days=1))
    except OverflowError:  # the first or the last day the calendar has
        abort(400, "Tanggal di luar jangkauan.")


# Who a ticket past its deadline waits on, by its state: the assigned official where it has one.
WAITS_ON = {
    TicketState.BARU.value: "Pejabat penghubung (telaah)", TicketState.DITELAAH.value: "Kepala (disposisi)",
    TicketState.DIDISPOSISI.value: "Pejabat yang ditugaskan", TicketState.DRAF.value: "Pejabat yang ditugaskan",
    TicketState.MENUNGGU_PERSETUJUAN.value: "Kepala (persetujuan)",
    TicketState.DISETUJUI.value: "Pejabat penghubung (kirim)", TicketState.DITUNDA.value: "Warga (keterangan)",
}


@bp.get("/rekap")
@login_required
def recap_page():
    """The recap book's figures for a period: what became of the tickets against their deadlines and
    how long the answers took, by channel, kind, line, category and official; and the overdue ones."""
    first, last, start, end = _period()
    agency = g.officer.agency
    moment = now()
    service = _services().settings.service
    named = service.agencies[agency].categories
    labels = {  # each table: what its rows are, the name of each
        "Saluran": dict(CHANNEL_LABELS),
        "Jenis": {"pengaduan": "Pengaduan", "informasi": "Permintaan informasi"},
        "Layanan": {},
        "Kategori": {**named, "": "Tanpa kategori"},
        "Pejabat": {},
    }
    counts: dict[str, Counter[tuple[str, str]]] = {what: Counter() for what in labels}  # (row, "diterima"/outcome)
    took: dict[str, dict[str, list[float]]] = {what: {} for what in labels}  # days to answer, by row
    every: list[float] = []  # days to answer, of all
    totals: Counter[str] = Counter()
    overdue = []
    daily: Counter[tuple[date, str]] = Counter()  # (day received, channel)
    monthly: dict[tuple[int, int], Counter[str]] = {}  # (year, month) received: outcomes
    monthly_days: dict[tuple[int, int], list[float]] = {}
    with _session() as s:
        for row in recap(s, agency, start, end):
            result = outcome(row, moment)
            keys = {"Saluran": row.channel, "Jenis": row.kind, "Layanan": row.line_id, "Kategori": row.category,
                    "Pejabat": row.assignee or ""}
            days = _days_to_answer(service, agency, row) if result in _IN_TIME_OR_LATE else None
            for what, key in keys.items():
                for counted in ("diterima", result):
                    counts[what][key, counted] += 1
                if days is not None:
                    took[what].setdefault(key, []).append(days)
            totals["diterima"] += 1
            totals[result] += 1
            day = local_day(row.created_at)
            daily[day, row.channel] += 1
            monthly.setdefault((day.year, day.month), Counter())[result] += 1
            if days is not None:
                every.append(days)
                monthly_days.setdefault((day.year, day.month), []).append(days)
            if result == "lewat_batas":
                overdue.append((row, row.assignee if row.state in ("didisposisi", "draf") and row.assignee
                                else WAITS_ON.get(row.state, "-")))
    # Lines by their names (one no longer configured by its id), officials by theirs, as they came.
    names = {line.id: line.name for line in service.lines}
    labels["Layanan"] = {key: names.get(key, key) or "Dicatat petugas" for key, _ in counts["Layanan"]}
    labels["Pejabat"] = {key: key or "Belum ditugaskan" for key, _ in counts["Pejabat"]}
    tables = [(what, [(key, name) for key, name in labels[what].items() if counts[what][key, "diterima"]],
               counts[what], {key: _spread(days) for key, days in took[what].items()})
              for what in labels if what != "Kategori" or named]
    return render_template("rekap.html", first=first, last=last, totals=totals, tables=tables, outcomes=OUTCOMES,
                           charts=_charts(first, last, daily, monthly, monthly_days, tables[0][1]),
                           overall=_spread(every), overdue=overdue[:200], today=_today().isoformat(),
                           year_ago=(_today() - timedelta(days=364)).isoformat(),
                           overdue_count=len(overdue), display=codes.display, agency=service.agencies[agency].name)


def _charts(first: date, last: date, daily: Counter, monthly: dict, monthly_days: dict,
            channels: list[tuple[str, str]]) -> dict:
    """The three charts of the period, each with the numbers it draws: tickets a day by channel; the
    share answered in time, and the median days to answer, by the month they were received."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    per_day = {label: [daily[day, key] for day in days] for key, label in channels}
    months = sorted({(day.year, day.month) for day in days})
    names = [f"{MONTH_NAMES[m - 1]} {y}" for y, m in months]
    in_time = []
    for month in months:
        counted = monthly.get(month, Counter())
        due = counted["tepat_waktu"] + counted["terlambat"] + counted["lewat_batas"]  # answered, or past due
        in_time.append(round(100 * counted["tepat_waktu"] / due, 1) if due else None)
    median = [round(statistics.median(monthly_days[m]), 1) if m in monthly_days else None for m in months]
    return {
        "per_day": (charts.tickets_per_day([d.strftime("%d-%m") for d in days], per_day),
                    [(d.strftime("%d-%m-%Y"), [per_day[label][i] for _, label in channels]) for i, d in enumerate(days)]),
        "in_time": (charts.per_month(names, "Dijawab tepat waktu", in_time, "%"), list(zip(names, in_time))),
        "answer_time": (charts.per_month(names, "Median waktu menjawab", median, "hari"), list(zip(names, median))),
    }


def _days_to_answer(service, agency: str, row: RecapRow) -> float:
    """From receipt to the answer, in the days its rule counts: working days under a working-day rule
    (weekends and holidays left out), else calendar days."""
    rule = clock.rule_of(service, SimpleNamespace(line_id=row.line_id, agency=agency, channel=row.channel))
    if rule is not None and rule.unit == "wd":
        return working_time(row.created_at, row.answered_at, service.holidays).total_seconds() / 86400
    return (row.answered_at - row.created_at).total_seconds() / 86400


def _spread(days: list[float]) -> tuple[str, str]:
    """The median and the 90th percentile of days to answer, as the page writes them ("-" for none)."""
    if not days:
        return "-", "-"
    ordered = sorted(days)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank
    return _day_text(statistics.median(ordered)), _day_text(p90)


def _day_text(days: float) -> str:
    return f"{days:.1f}".replace(".", ",")


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
                writer.writerow(_cells(number, row, lines, agencies, categories, moment,
                                       lambda r: _days_to_answer(service, agency, r)))
                if number % 200 == 0:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()

    name = f"rekap-pengaduan-{agency}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cells(number: int, row: RecapRow, lines: dict[str, str], agencies: dict[str, str], categories: dict[str, str],
           moment: datetime, days_to_answer) -> list:
    state = STATE_LABELS.get(row.state, row.state)
    if row.forwarded_to:
        state += " ke " + agencies.get(row.forwarded_to, row.forwarded_to)
    return [number, codes.display(row.code), local(row.created_at), CHANNEL_LABELS.get(row.channel, row.channel),
            lines.get(row.line_id, "-"), "Permintaan informasi" if row.kind == "informasi" else "Pengaduan",
            categories.get(row.category, row.category) or "-",
            _typed(row.citizen_name), national(row.phone) if row.phone else "", _typed(row.citizen_home),
            _typed(row.body), state, "-" if row.forwarded_to else local(row.due_at),
            local(row.answered_at) if row.answered_at else "-", OUTCOMES[outcome(row, moment)], _typed(row.assignee) if row.assignee else "-",
            _day_text(days_to_answer(row)) if outcome(row, moment) in _IN_TIME_OR_LATE else "-", row.lapor_id or "-"]


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


@bp.get("/rekap/buku")
@login_required
def recap_book():
    """The register the service standard keeps (buku rekapitulasi pengaduan), to print on A4: the
    agency's letterhead, the period, one row a ticket. A confidential ticket's citizen is not named."""
    first, last, start, end = _period()
    agency, moment = g.officer.agency, now()
    service = _services().settings.service
    with _session() as s:
        rows = list(recap(s, agency, start, end))
    return render_template("register.html", agency=service.agencies[agency], first=first, last=last, rows=rows,
                           outcome=lambda row: OUTCOMES[outcome(row, moment)], display=codes.display,
                           categories=service.agencies[agency].categories, printed=letters.long_date(moment),
                           period=(letters.long_date(start), letters.long_date(end - timedelta(seconds=1))))
