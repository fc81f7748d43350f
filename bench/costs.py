"""Where an ingested message's CPU goes, in one process, without the HTTP server or the load generator.

Prints microseconds per request for the bare endpoint and for the signed webhook with storing
skipped, then the writer's cost per message (insert, commit, the ids onto the waiting list) by batch size.
Usage: python -m bench.costs [--db sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl

from redis import Redis
from werkzeug.test import EnvironBuilder

from bench.common import POSTGRES_URL, REDIS_URL, gateway_env, reset_database, signed_sms

PORT = 5000
REQUESTS = 3000


def per_request_us(app, count: int = REQUESTS) -> float:
    """Call the WSGI app with signed webhooks; return the mean microseconds per request."""
    environs = []
    for i in range(count):
        signature, body = signed_sms(PORT, i)
        environs.append(EnvironBuilder(
            path="/webhooks/twilio/messages", method="POST", data=body, base_url=f"http://127.0.0.1:{PORT}",
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        ).get_environ())

    def call(environ) -> None:
        status = []
        b"".join(app(environ, lambda s, h, e=None: status.append(s)))
        assert status[0].startswith("200"), status

    for environ in environs[:200]:  # warm up
        call(environ)
    started = time.perf_counter()
    for environ in environs[200:]:
        call(environ)
    return 1e6 * (time.perf_counter() - started) / (count - 200)


def writer_us(ingestor, batch: int, count: int = 2000) -> float:
    """Store and queue messages in batches on the calling thread; return microseconds per message."""
    from gateway.ingest import _Pending, inbound_row

    rows = [dict(parse_qsl(signed_sms(PORT, 10_000 * batch + i)[1].decode())) for i in range(count)]
    started = time.perf_counter()
    for i in range(0, count, batch):
        ingestor._write([_Pending(inbound_row(r)) for r in rows[i:i + batch]])
    return 1e6 * (time.perf_counter() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-costs-"))
    database_url = f"sqlite:///{tmp / 'gateway.db'}" if args.db == "sqlite" else POSTGRES_URL
    reset_database(database_url)
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    os.environ.update(gateway_env(database_url, PORT, "http://127.0.0.1:9", tmp))

    import bench.bare
    from app import create_app
    from bench.verify_only import DiscardingIngestor

    app = create_app()
    ingestor = app.extensions["ingestor"]
    bare = per_request_us(bench.bare.create_app().wsgi_app)
    app.extensions["ingestor"] = DiscardingIngestor()
    verified = per_request_us(app.wsgi_app)
    print(f"cost per message on {args.db}, one thread, no HTTP server (microseconds)")
    print(f"  bare endpoint: {bare:.0f};  signed webhook with storing skipped: {verified:.0f}")
    for batch in (1, 4, 8):
        print(f"  storing and queueing, {batch} message(s) per batch: {writer_us(ingestor, batch):.0f} per message")
    redis.flushdb()


if __name__ == "__main__":
    main()
