"""The inbox with a million tickets: p50/p95 of the queue page and of a ticket page, over HTTP.

Usage: python -m bench.inbox [--db sqlite|postgresql] [--tickets 1000000] [--requests 300]
"""
from __future__ import annotations

import argparse
import http.cookiejar
import random
import re
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.common import POSTGRES_URL, free_port, gateway_env, gunicorn, reset_database, stop
from parsers.codes import damm_digit
from store.models import OPEN_STATES, TicketState

AGENCIES = [("biro-organisasi", "lapor-sms", "sms", 0.7), ("dinsos-kupang", "dinsos-wa", "whatsapp", 0.2),
            ("bppd", "", "surat", 0.1)]
STATES = [(TicketState.SELESAI, 0.55), (TicketState.DIARSIPKAN, 0.08), (TicketState.DITERUSKAN, 0.02),
          (TicketState.BARU, 0.08), (TicketState.DITELAAH, 0.05), (TicketState.DIDISPOSISI, 0.05),
          (TicketState.DRAF, 0.04), (TicketState.MENUNGGU_PERSETUJUAN, 0.04), (TicketState.DISETUJUI, 0.02),
          (TicketState.TERKIRIM, 0.04), (TicketState.DITUNDA, 0.03)]
WORDS = ("jalan rusak parah berlubang lampu mati air PDAM keruh sekolah atap bocor puskesmas tutup bantuan PKH "
         "belum cair KTP lambat pungli kelurahan jembatan putus banjir sampah menumpuk pasar Oeba Oesapa Kolhua "
         "Alor Rote Sabu Belu Malaka Sikka Ende Ngada Manggarai di ke RT RW no 3 12 sudah tidak ada").split()
SEARCHES = ["jembatan Alor", "jalan", "Lembata", "di", "qz", "RT 3", "x", "jemb", "sudah tidak ada"]
COLUMNS = ["code", "agency", "line_id", "channel", "kind", "state", "phone", "citizen_address", "line_address",
           "citizen_name", "citizen_home", "body", "body_hash", "created_at", "updated_at", "due_at",
           "last_inbound_at", "is_open", "held_state", "instruction", "draft", "review_note"]


def tickets(n: int, seed: int = 1708):
    rnd = random.Random(seed)
    bodies = rnd.sample(range(10 ** 7), n)
    start = datetime(2023, 1, 1)
    agencies = rnd.choices(AGENCIES, weights=[a[3] for a in AGENCIES], k=n)
    states = rnd.choices([s for s, _ in STATES], weights=[w for _, w in STATES], k=n)
    for i in range(n):
        body = f"{bodies[i]:07d}"
        code = body + str(damm_digit(body))
        agency, line, channel, _ = agencies[i]
        created = start + timedelta(minutes=i * 1.5)
        phone = f"+6281{rnd.randrange(10 ** 8):08d}"
        yield {
            "code": code, "agency": agency, "line_id": line, "channel": channel, "kind": "pengaduan",
            "state": states[i].value, "phone": phone, "citizen_address": phone, "line_address": "+621708",
            "citizen_name": "", "citizen_home": "",
            "body": "NTT " + " ".join(rnd.choices(WORDS, k=rnd.randrange(6, 18))), "body_hash": "",
            "created_at": created, "updated_at": created, "due_at": created + timedelta(days=8),
            "last_inbound_at": created, "is_open": states[i] in OPEN_STATES, "held_state": "", "instruction": "",
            "draft": "", "review_note": "",
        }


def load(database_url: str, n: int) -> None:
    """Fill the tickets table fast (COPY on PostgreSQL), then set the per-state counts to match."""
    from app import create_app

    app = create_app(gateway_env(database_url, 1, "http://127.0.0.1:9", Path(tempfile.mkdtemp())))
    db = app.extensions["gateway"].db
    counts: Counter = Counter()
    started = time.perf_counter()
    if db.is_sqlite:
        raw = db.engine.raw_connection()
        cur = raw.cursor()
        sql = f"INSERT INTO tickets ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        batch = []
        for row in tickets(n):
            counts[(row["agency"], row["state"])] += 1
            batch.append(tuple(row[c] for c in COLUMNS))
            if len(batch) == 20_000:
                cur.executemany(sql, batch)
                batch.clear()
        cur.executemany(sql, batch)
        raw.commit()
        cur.execute("ANALYZE")
        raw.close()
    else:
        raw = db.engine.raw_connection()
        with raw.cursor() as cur:
            with cur.copy(f"COPY tickets ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in tickets(n):
                    counts[(row["agency"], row["state"])] += 1
                    copy.write_row([row[c] for c in COLUMNS])
        raw.commit()
        raw.close()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE tickets"))
    with db.transaction() as s:
        for (agency, state), value in counts.items():
            s.execute(text("UPDATE state_counts SET n = :n WHERE agency = :a AND state = :s"),
                      {"n": value, "a": agency, "s": state})
        s.execute(text("INSERT INTO officers (username, full_name, agency, roles, password_hash, active, created_at) "
                       "VALUES ('bench', 'Bench', 'biro-organisasi', 'liaison,head', :h, true, :t)"),
                  {"h": _hash(), "t": datetime(2026, 1, 1)})
    print(f"  loaded {n} tickets in {time.perf_counter() - started:.0f} s")
    db.dispose()


def _hash() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash("bench-password-123")


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[float, str]:
        started = time.perf_counter()
        with self.opener.open(self.base + path) as response:
            body = response.read().decode()
        return (time.perf_counter() - started) * 1000, body

    def login(self) -> None:
        _, page = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": "bench", "password": "bench-password-123", "csrf_token": token})
        self.opener.open(self.base + "/login", data=data.encode()).read()


def measure(client: Client, paths: list[str]) -> dict:
    times = sorted(client.get(p)[0] for p in paths)
    return {"n": len(times), "p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    database_url = f"sqlite:///{tmp / 'gateway.db'}" if args.db == "sqlite" else POSTGRES_URL
    reset_database(database_url)
    print(f"inbox on {args.db} with {args.tickets} tickets, gunicorn -w 2 (gunicorn.conf.py), one client, "
          f"{args.requests} requests each")
    load(database_url, args.tickets)
    port = free_port()
    web = gunicorn("app:create_app()", port, gateway_env(database_url, port, "http://127.0.0.1:9", tmp))
    try:
        client = Client(f"http://127.0.0.1:{port}")
        client.login()
        _, first = client.get("/inbox/")
        codes = re.findall(r'href="/inbox/t/(\d{8})"', first)
        next_key = re.search(r'setelah=([^"&]+)"', first).group(1)
        rnd = random.Random(7)
        sample = [row["code"] for row, _ in zip(tickets(args.tickets), range(200_000))
                  if row["agency"] == "biro-organisasi"]
        results = {
            "queue (open, by deadline)": measure(client, ["/inbox/"] * args.requests),
            "queue, state Baru": measure(client, ["/inbox/?status=baru"] * args.requests),
            "queue, page 2 (keyset)": measure(client, [f"/inbox/?setelah={next_key}"] * args.requests),
            "queue, overdue": measure(client, ["/inbox/?status=terlambat"] * args.requests),
            "queue, search by code": measure(client, [f"/inbox/?q={c}" for c in rnd.choices(sample, k=args.requests)]),
            "ticket page": measure(client, [f"/inbox/t/{c}" for c in rnd.choices(codes + sample, k=args.requests)]),
            # Searches by words (full text): common words, words in no ticket, one and two letters,
            # a word's beginning, and every ticket ("semua": forwarded ones too).
            **{f"search: {q}": measure(client, [f"/inbox/?q={urllib.parse.quote_plus(q)}"] * 50)
               for q in SEARCHES},
            "search in all: Oesapa banjir": measure(client, ["/inbox/?status=semua&q=Oesapa+banjir"] * 50),
            # About 20,000 of the agency's tickets a month (one every 1.5 minutes, 70% of them its)
            "recap page, a month": measure(client, ["/inbox/rekap?dari=2024-06-01&sampai=2024-06-30"] * 10),
            "recap spreadsheet, a month": measure(client, ["/inbox/rekap.csv?dari=2024-06-01&sampai=2024-06-30"] * 5),
        }
    finally:
        stop(web)
    for name, r in results.items():
        print(f"  {name:30s} p50 {r['p50']:7.1f} ms  p95 {r['p95']:7.1f} ms  ({r['n']} requests)")


if __name__ == "__main__":
    main()
