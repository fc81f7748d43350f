"""Ingest: signed webhooks against gunicorn (2 workers), beside a bare Flask endpoint, same run.

Also measured the same way: the real webhook with storing and queueing replaced by nothing
(bench/verify_only.py), the most any storing could leave.

Usage: python -m bench.ingest [--db sqlite|postgresql] [--seconds 10]
"""
from __future__ import annotations

import argparse
import http.client
import re
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from redis import Redis

from bench.common import (POSTGRES_URL, REDIS_URL, ROOT, free_port, gateway_env, gunicorn, reset_database,
                          signed_sms, stop)


def write_requests(path: Path, port: int, count: int) -> None:
    with path.open("w") as f:
        for i in range(count):
            signature, body = signed_sms(port, i)
            f.write(f"{signature}\t{body.decode()}\n")


def wrk(port: int, requests_file: Path, seconds: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / "requests.lua"),
         f"http://127.0.0.1:{port}", "--", str(requests_file), "2"],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    return {"rps": rps, "requests": total, "errors": int(non2xx.group(1)) if non2xx else 0,
            "p99_ms": float(p99.group(1)) * scale}


def fixed_rate(port: int, rate: int, seconds: int) -> dict:
    """Send at a steady rate; latency counts from when each request was due (no coordinated omission)."""
    count = rate * seconds
    bodies = [signed_sms(port, 1_000_000 + i) for i in range(count)]
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    next_index = iter(range(count))

    def run():
        nonlocal errors
        for i in next_index:
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            signature, body = bodies[i]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/webhooks/twilio/messages", body,
                         {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
            status = conn.getresponse().status
            conn.close()
            with lock:
                latencies.append((time.perf_counter() - due) * 1000)
                errors += status != 200

    threads = [threading.Thread(target=run) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"rate": rate, "requests": count, "errors": errors,
            "p50_ms": statistics.median(latencies), "p99_ms": latencies[int(len(latencies) * 0.99) - 1]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    database_url = f"sqlite:///{tmp / 'gateway.db'}" if args.db == "sqlite" else POSTGRES_URL
    reset_database(database_url)
    Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    env = gateway_env(database_url, port, "http://127.0.0.1:9", tmp)
    requests_file = tmp / "requests.txt"
    write_requests(requests_file, port, 60_000 * max(1, args.seconds // 10))

    bare = gunicorn("bench.bare:create_app()", port, env)
    try:
        base = wrk(port, requests_file, args.seconds)
    finally:
        stop(bare)
    verify_only = gunicorn("bench.verify_only:create_app()", port, env)
    try:
        unstored = wrk(port, requests_file, args.seconds)
    finally:
        stop(verify_only)
    web = gunicorn("app:create_app()", port, env)
    try:
        ours = wrk(port, requests_file, args.seconds)
        steady = fixed_rate(port, 200, args.seconds)
    finally:
        stop(web)
    Redis.from_url(REDIS_URL).flushdb()
    wrapped = " (request file wrapped: some MessageSids repeated)" if ours["requests"] > 60_000 else ""
    print(f"ingest on {args.db}, gunicorn -w 2, wrk -t2 -c16 -d{args.seconds}s{wrapped}")
    print(f"  bare <Response/> endpoint: {base['rps']:8.0f} req/s  p99 {base['p99_ms']:.1f} ms")
    print(f"  signed webhook, nothing stored: {unstored['rps']:5.0f} req/s  p99 {unstored['p99_ms']:.1f} ms"
          f"  = {100 * unstored['rps'] / base['rps']:.0f}% of bare")
    print(f"  signed webhook (store+queue): {ours['rps']:5.0f} req/s  p99 {ours['p99_ms']:.1f} ms"
          f"  errors {ours['errors']}  = {100 * ours['rps'] / base['rps']:.0f}% of bare")
    print(f"  at a steady {steady['rate']} req/s: p50 {steady['p50_ms']:.1f} ms  p99 {steady['p99_ms']:.1f} ms"
          f"  errors {steady['errors']} of {steady['requests']}")


if __name__ == "__main__":
    main()
