"""A busy day: what a citizen feels when 10,000 messages come at a steady 200 a second.

On PostgreSQL, with one worker and with two (gunicorn with 2 gevent workers in front, the local
Twilio server behind):
- offered load: the messages posted at a steady rate; for each, the time from its webhook to its
  acknowledgement reaching the Twilio server (p50, p99, max), and acknowledgements a second;
- saturated: the same number stored first, then the workers started; acknowledgements a second,
  what a worker can do at most;
- the floor, in the same run: what any design must do for one message, in one process, one after
  the other: one transaction that writes a ticket and an outbound row, and one call to the Twilio
  server through the twilio library;
- memory: the resident size of every process at the end.

Usage: python -m bench.busyday [--messages 10000] [--rate 200] [--workers 1 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from redis import Redis

from bench.common import (ACCOUNT_SID, AUTH_TOKEN, POSTGRES_URL, PY, REDIS_URL, ROOT, children, fake_twilio,
                          free_port, gateway_env, gunicorn, reset_database, rss_mb, signed_sms, stop, twilio_stats)
from store.queues import ALIVE

FLOOR_MESSAGES = 2000


def post(port: int, signed: tuple[str, bytes]) -> int:
    signature, body = signed
    request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/twilio/messages", data=body,
                                     headers={"X-Twilio-Signature": signature})
    try:
        return urllib.request.urlopen(request, timeout=30).status
    except Exception:  # noqa: BLE001 - counted as not accepted
        return 0


def number(i: int) -> str:
    return f"+6281{i % 100_000_000:08d}"


def arrivals(port: int) -> dict[str, float]:
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/_arrivals", timeout=60))


class Deployment:
    def __init__(self, workers: int):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-busyday-"))
        reset_database(POSTGRES_URL)
        redis = Redis.from_url(REDIS_URL)
        redis.flushdb()
        # A Redis that has been running: the first sweep does not take it for one started empty
        # and queue every stored message a second time.
        redis.set(ALIVE, 1)
        self.twilio_port, self.web_port = free_port(), free_port()
        self.twilio = fake_twilio(self.twilio_port)
        self.env = gateway_env(POSTGRES_URL, self.web_port, f"http://127.0.0.1:{self.twilio_port}", self.tmp)
        self.web = gunicorn("app:create_app()", self.web_port, self.env)
        self.n_workers = workers
        self.workers: list[subprocess.Popen] = []

    def start_workers(self) -> None:
        self.workers = [subprocess.Popen([PY, "worker.py"], cwd=ROOT, env=self.env) for _ in range(self.n_workers)]
        time.sleep(3)  # booted and waiting for jobs

    def wait(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while twilio_stats(self.twilio_port)["count"] < n and time.monotonic() < deadline:
            time.sleep(0.2)

    def memory(self) -> dict[str, float]:
        return {"web": max(rss_mb(pid) for pid in children(self.web.pid)),
                "worker": max(rss_mb(w.pid) for w in self.workers)}

    def stop(self) -> None:
        for proc in (*self.workers, self.web, self.twilio):
            stop(proc)
        Redis.from_url(REDIS_URL).flushdb()


def offered(workers: int, n: int, rate: float) -> dict:
    """Post n messages at a steady rate with the workers running; the latency of each acknowledgement."""
    d = Deployment(workers)
    try:
        d.start_workers()
        signed = [signed_sms(d.web_port, i) for i in range(n)]  # signed beforehand: the pacing stays exact
        sent: list[float] = [0.0] * n
        statuses: list[int] = [0] * n

        def one(i: int) -> None:
            sent[i] = time.time()
            statuses[i] = post(d.web_port, signed[i])

        with ThreadPoolExecutor(64) as pool:
            start = time.monotonic()
            for i in range(n):
                pause = start + i / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                pool.submit(one, i)
            offered_for = time.monotonic() - start
        d.wait(n, 600)
        came = arrivals(d.twilio_port)
        memory = d.memory()
    finally:
        d.stop()
    latencies = sorted(came[number(i)] - sent[i] for i in range(n) if number(i) in came)
    times = sorted(came.values())
    return {"workers": workers, "accepted": statuses.count(200), "acknowledged": len(latencies),
            "offered_rate": n / offered_for, "p50": statistics.median(latencies),
            "p99": latencies[int(0.99 * (len(latencies) - 1))], "max": latencies[-1],
            "ack_rate": (len(times) - 1) / (times[-1] - times[0]), "memory": memory}


def saturated(workers: int, n: int) -> dict:
    """Store n messages with no worker running, then start the workers: the rate they answer at."""
    d = Deployment(workers)
    try:
        signed = [signed_sms(d.web_port, i) for i in range(n)]
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(lambda s: post(d.web_port, s), signed))
        assert statuses.count(200) == n, "not every webhook was accepted"
        d.start_workers()
        d.wait(n, 900)
        stats = twilio_stats(d.twilio_port)
        floor_rate = floor(d)
    finally:
        d.stop()
    return {"workers": workers, "rate": (stats["count"] - 1) / (stats["last"] - stats["first"]),
            "floor": floor_rate}


def floor(d: Deployment) -> float:
    """Messages a second one process handles doing only what any design must: a transaction that writes
    a ticket and an outbound row, and one call to the Twilio server (the same database and server)."""
    from datetime import datetime, timedelta

    from gateway.provider import TwilioProvider
    from store.db import Database
    from store.models import OutboundMessage, Ticket

    db = Database(POSTGRES_URL)
    provider = TwilioProvider(ACCOUNT_SID, AUTH_TOKEN, api_base_url=f"http://127.0.0.1:{d.twilio_port}")
    tickets, outbound = Ticket.__table__, OutboundMessage.__table__
    provider.send(to="+6289900000000", from_="+621708", body="warm-up", status_callback=None)
    started = time.perf_counter()
    for i in range(FLOOR_MESSAGES):
        moment = datetime.now()
        to = f"+62899{i:08d}"
        with db.engine.begin() as conn:
            ticket_id = conn.execute(tickets.insert().values(
                code=f"F{i:07d}", agency="biro-organisasi", line_id="sms-1708", channel="sms", kind="pengaduan",
                state="baru", phone=to, citizen_address=to, line_address="+621708", body="jalan rusak",
                created_at=moment, updated_at=moment, due_at=moment + timedelta(days=8), is_open=True)
            ).inserted_primary_key[0]
            conn.execute(outbound.insert().values(
                idempotency_key=f"floor-{i}", ticket_id=ticket_id, purpose="ack", channel="sms", to_address=to,
                from_address="+621708", body="Pengaduan Anda diterima", status="pending", status_rank=0,
                created_at=moment, updated_at=moment))
        provider.send(to=to, from_="+621708", body="Pengaduan Anda diterima", status_callback=None)
    rate = FLOOR_MESSAGES / (time.perf_counter() - started)
    db.dispose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"busy day on PostgreSQL: {args.messages} messages at {args.rate:.0f}/s; gunicorn 2 gevent workers,"
          " local Twilio server")
    drained = {}
    for workers in args.workers:
        r = offered(workers, args.messages, args.rate)
        print(f"  offered, {workers} worker(s): {r['accepted']} accepted at {r['offered_rate']:.0f}/s,"
              f" {r['acknowledged']} acknowledged; webhook to acknowledgement p50 {r['p50']:.2f} s,"
              f" p99 {r['p99']:.2f} s, max {r['max']:.2f} s; {r['ack_rate']:.0f} acknowledgements/s;"
              f" memory web {r['memory']['web']:.0f} MB, worker {r['memory']['worker']:.0f} MB", flush=True)
        s = saturated(workers, args.messages)
        drained[workers] = s["rate"]
        print(f"  saturated, {workers} worker(s): {s['rate']:.0f} acknowledgements/s"
              f" = {100 * s['rate'] / workers / s['floor']:.0f}% of the floor a worker ({s['floor']:.0f}/s)",
              flush=True)
    if 1 in drained and 2 in drained:
        print(f"  two workers: {drained[2] / drained[1]:.2f} times one")


if __name__ == "__main__":
    main()
