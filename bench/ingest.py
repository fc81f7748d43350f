"""Ingest: signed webhooks against gunicorn (2 workers), beside a bare Flask endpoint, same run.

Also measured the same way: the real webhook with storing and queueing replaced by nothing
(bench/verify_only.py), the most any storing could leave. Each at 16 and at 64 connections:
webhooks of one process are stored together, so the webhook's rate grows with the number of
requests under way; the bare endpoint's does not.

Each run also says where the machine's CPU went per request (web processes, Redis, PostgreSQL,
wrk, idle cores): the two cores are saturated, so the rates stand in about the inverse ratio of
those totals, and 50% of the bare rate means a webhook may use twice a bare request's CPU.

The machine drifts by several points within minutes, so a run is several rounds, each serving
the three in turn (a fresh database each), and the summary gives each round's share and the median.

Usage: python -m bench.ingest [--db sqlite|postgresql] [--rounds 3] [--seconds 10] [--connections 16,64]
"""
from __future__ import annotations

import argparse
import http.client
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from redis import Redis

from bench.common import (POSTGRES_URL, REDIS_URL, ROOT, children, cpu_seconds, free_port, gateway_env, gunicorn,
                          idle_seconds, pids_of, reset_database, signed_sms, stop)


def write_requests(path: Path, port: int, count: int) -> None:
    with path.open("w") as f:
        for i in range(count):
            signature, body = signed_sms(port, i)
            f.write(f"{signature}\t{body.decode()}\n")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(port: int, requests_file: Path, seconds: int, connections: int = 16, web: Sequence[int] = ()) -> dict:
    """Run wrk; also measure where the machine's CPU went, in microseconds a request: the web
    processes (pids in web), Redis, PostgreSQL, wrk itself, and the cores left idle."""
    def processes() -> dict[str, list[int]]:
        return {"web": list(web), "redis": pids_of("redis-server"), "postgres": pids_of("postgres")}

    before = {name: {pid: cpu_seconds(pid) for pid in pids} for name, pids in processes().items()}
    idle_before, reaped_before = idle_seconds(), _children_cpu()
    wrk_run = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / "requests.lua"),
         f"http://127.0.0.1:{port}", "--", str(requests_file), "2"],
        capture_output=True, text=True, check=True)
    out = wrk_run.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    # A PostgreSQL backend that started during the run (a writer's connection) counts from its start.
    cpu = {name: sum(cpu_seconds(pid) - before[name].get(pid, 0.0) for pid in set(pids) | set(before[name]))
           for name, pids in processes().items()}
    cpu["idle"] = idle_seconds() - idle_before
    cpu["wrk"] = _children_cpu() - reaped_before  # the only child that ended meanwhile
    return {"rps": rps, "requests": total, "errors": int(non2xx.group(1)) if non2xx else 0,
            "p99_ms": float(p99.group(1)) * scale, "cpu_us": {k: 1e6 * v / total for k, v in cpu.items()}}


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


def cpu_line(run: dict) -> str:
    """Where a request's share of the two cores went: the requests per second are about 2 s / the total."""
    cpu = run["cpu_us"]
    return (f"CPU a request (us): web {cpu['web']:.0f}, Redis {cpu['redis']:.0f}, PostgreSQL {cpu['postgres']:.0f},"
            f" wrk {cpu['wrk']:.0f}, idle {cpu['idle']:.0f}; all {sum(cpu.values()):.0f}")


APPS = (("bare", "bench.bare:create_app()"), ("unstored", "bench.verify_only:create_app()"),
        ("webhook", "app:create_app()"))
LABELS = {"unstored": "signed webhook, nothing stored", "webhook": "signed webhook (store+queue)"}
REQUESTS_PER_SECOND = 14_000  # requests written per second of a run: more than any webhook answers


def request_files(port: int, connections: Sequence[int], seconds: int) -> dict[int, Path]:
    """A file of signed webhooks (new MessageSids) for each connection count, signed for the port."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-requests-"))
    files = {c: tmp / f"requests-{c}.txt" for c in connections}
    for path in files.values():
        write_requests(path, port, REQUESTS_PER_SECOND * seconds)
    return files


def serve(app: str, db: str, port: int, files: dict[int, Path], seconds: int, code: Path = ROOT,
          steady: bool = False) -> dict:
    """Serve app (from the code checkout) under gunicorn on the port with a fresh, empty database;
    run wrk with each file's connection count, then, with steady, 200 req/s. Return the runs by
    connection count ("steady": the fixed-rate one)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    database_url = f"sqlite:///{tmp / 'gateway.db'}" if db == "sqlite" else POSTGRES_URL
    reset_database(database_url)
    Redis.from_url(REDIS_URL).flushdb()
    server = gunicorn(app, port, gateway_env(database_url, port, "http://127.0.0.1:9", tmp), code=code)
    try:
        web = children(server.pid)
        runs: dict = {c: wrk(port, path, seconds, c, web) for c, path in files.items()}
        if steady:
            runs["steady"] = fixed_rate(port, 200, seconds)
        return runs
    finally:
        stop(server)
        Redis.from_url(REDIS_URL).flushdb()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="16,64", help="wrk connection counts, one run each")
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    print(f"ingest on {args.db}, gunicorn -w 2 (gunicorn.conf.py), wrk -t2 -d{args.seconds}s;"
          f" each round: the bare endpoint, then the webhook with nothing stored, then the real one")
    shares: dict[tuple[str, int], list[float]] = {}
    steady = []
    for round_number in range(1, args.rounds + 1):
        port = free_port()
        files = request_files(port, connections, args.seconds)
        runs = {name: serve(app, args.db, port, files, args.seconds, steady=name == "webhook") for name, app in APPS}
        shutil.rmtree(files[connections[0]].parent, ignore_errors=True)
        steady.append(runs["webhook"]["steady"])
        for c in connections:
            base = runs["bare"][c]
            print(f"  round {round_number}, {c} connections:")
            print(f"    bare <Response/> endpoint: {base['rps']:8.0f} req/s  p99 {base['p99_ms']:.1f} ms")
            print(f"      {cpu_line(base)}")
            for name in ("unstored", "webhook"):
                run = runs[name][c]
                share = 100 * run["rps"] / base["rps"]
                shares.setdefault((name, c), []).append(share)
                wrapped = " (request file wrapped: some MessageSids repeated)" if run["requests"] > \
                    REQUESTS_PER_SECOND * args.seconds else ""
                print(f"    {LABELS[name]}: {run['rps']:6.0f} req/s  p99 {run['p99_ms']:.1f} ms"
                      f"  errors {run['errors']}  = {share:.0f}% of bare{wrapped}")
                print(f"      {cpu_line(run)}")
        last = steady[-1]
        print(f"  round {round_number}, at a steady {last['rate']} req/s: p50 {last['p50_ms']:.1f} ms"
              f"  p99 {last['p99_ms']:.1f} ms  errors {last['errors']} of {last['requests']}", flush=True)
    print(f"summary on {args.db}, share of the bare endpoint's rate, round by round (median):")
    for c in connections:
        for name in ("unstored", "webhook"):
            values = shares[name, c]
            print(f"  {c} connections, {LABELS[name]}: {' / '.join(f'{v:.0f}%' for v in values)}"
                  f"  ({statistics.median(values):.0f}%)")
    p99s = " / ".join(f"{run['p99_ms']:.1f}" for run in steady)
    print(f"  at a steady 200 req/s, p99: {p99s} ms,"
          f" errors {sum(s['errors'] for s in steady)} of {sum(s['requests'] for s in steady)}")


if __name__ == "__main__":
    main()
