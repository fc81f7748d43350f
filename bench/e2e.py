"""End to end: N inbound messages, one worker, until every acknowledgement reached the local Twilio server.

Beside it, in the same run, the rate at which the same worker class runs no-op jobs on the same Redis.
Also the resident memory of a web process and of the worker afterwards.
Usage: python -m bench.e2e [--db sqlite|postgresql] [--messages 2000]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from redis import Redis
from rq import Worker

from bench.common import (POSTGRES_URL, PY, REDIS_URL, ROOT, children, fake_twilio, free_port, gateway_env,
                          gunicorn, reset_database, rss_mb, signed_sms, stop, twilio_stats)


def post(port: int, signed: tuple[str, bytes]) -> int:
    signature, body = signed
    request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/twilio/messages", data=body,
                                     headers={"X-Twilio-Signature": signature})
    return urllib.request.urlopen(request, timeout=10).status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="the machine is noisy: ceiling and run alternate")
    args = parser.parse_args()
    print(f"end to end on {args.db}: {args.messages} messages, one worker (SimpleWorker), fake Twilio on loopback")
    ratios = [one_round(args.db, args.messages) for _ in range(args.rounds)]
    print(f"  median of {args.rounds} rounds: {100 * statistics.median(ratios):.0f}% of the no-op ceiling")


def one_round(db: str, n: int) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    database_url = f"sqlite:///{tmp / 'gateway.db'}" if db == "sqlite" else POSTGRES_URL
    reset_database(database_url)
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()

    ceiling = float(subprocess.run([PY, "-m", "bench.noop", "--jobs", str(n), "--redis-url", REDIS_URL],
                                   cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip())
    redis.flushdb()

    twilio_port, web_port = free_port(), free_port()
    twilio = fake_twilio(twilio_port)
    env = gateway_env(database_url, web_port, f"http://127.0.0.1:{twilio_port}", tmp)
    web = gunicorn("app:create_app()", web_port, env)
    worker = None
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda i: post(web_port, signed_sms(web_port, i)), range(n)))
        assert statuses.count(200) == n, "not every webhook was accepted"
        web_rss = max(rss_mb(pid) for pid in children(web.pid))

        worker = subprocess.Popen([PY, "worker.py"], cwd=ROOT, env=env)
        started = time.time()
        deadline = started + 600
        while twilio_stats(twilio_port)["count"] < n and time.time() < deadline:
            time.sleep(0.2)
        stats = twilio_stats(twilio_port)
        worker_rss = rss_mb(worker.pid)
        jobs = sum(w.successful_job_count for w in Worker.all(connection=redis))
    finally:
        for proc in (worker, web, twilio):
            if proc is not None:
                stop(proc)
        redis.flushdb()
    assert stats["count"] == n, f"only {stats['count']} of {n} acknowledgements arrived"
    rate = (n - 1) / (stats["last"] - stats["first"])
    print(f"  no-op ceiling {ceiling:5.1f} jobs/s; acknowledged {rate:5.1f} msg/s = {100 * rate / ceiling:3.0f}%;"
          f" {jobs / n:.2f} RQ jobs/message; resident memory: web worker {web_rss:.0f} MB,"
          f" RQ worker {worker_rss:.0f} MB")
    return rate / ceiling


if __name__ == "__main__":
    main()
