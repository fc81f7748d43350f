"""Ingest A/B: this checkout's webhook against another commit's, in alternating rounds.

On this machine the webhook's share of the bare rate drifts by several points within half an
hour while the bare endpoint's does not, so one run of each cannot tell a change worth a few
points. Each round serves, in turn, the bare endpoint, the other commit's webhook and this
checkout's (a fresh database each), at each connection count; the shares are compared round by round.

Usage: python -m bench.ab --against REF [--db sqlite|postgresql] [--rounds 3] [--seconds 8] [--connections 16,64]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

from redis import Redis

from bench.common import POSTGRES_URL, REDIS_URL, ROOT, children, free_port, gateway_env, gunicorn, reset_database, stop
from bench.ingest import write_requests, wrk


def serve_and_load(app: str, code: Path, db: str, seconds: int, connections: list[int]) -> dict[int, float]:
    """Serve app from the code checkout on a fresh database; return req/s at each connection count."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    database_url = f"sqlite:///{tmp / 'gateway.db'}" if db == "sqlite" else POSTGRES_URL
    reset_database(database_url)
    Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    env = gateway_env(database_url, port, "http://127.0.0.1:9", tmp)
    files = {c: tmp / f"requests-{c}.txt" for c in connections}
    for path in files.values():
        write_requests(path, port, 9_000 * seconds)
    server = gunicorn(app, port, env, code=code)
    try:
        web = children(server.pid)
        return {c: wrk(port, files[c], seconds, c, web)["rps"] for c in connections}
    finally:
        stop(server)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", required=True, help="the commit to compare this checkout with")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", default="16,64")
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    other = Path(tempfile.mkdtemp(prefix="bench-ab-code-")) / "other"
    subprocess.run(["git", "worktree", "add", "--detach", str(other), args.against], cwd=ROOT, check=True,
                   capture_output=True)
    shares: dict[tuple[str, int], list[float]] = {}
    try:
        for round_number in range(args.rounds):
            bare = serve_and_load("bench.bare:create_app()", ROOT, args.db, args.seconds, connections)
            for label, code in ((args.against, other), ("this checkout", ROOT)):
                rates = serve_and_load("app:create_app()", code, args.db, args.seconds, connections)
                for c in connections:
                    shares.setdefault((label, c), []).append(100 * rates[c] / bare[c])
                    print(f"round {round_number + 1}, {label}, {c} connections: {rates[c]:.0f} req/s,"
                          f" bare {bare[c]:.0f}: {shares[label, c][-1]:.1f}%", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, check=False)
    print(f"ingest on {args.db}, the webhook's share of the bare endpoint's rate, round by round:")
    for c in connections:
        for label in (args.against, "this checkout"):
            values = shares[label, c]
            print(f"  {c} connections, {label}: {' / '.join(f'{v:.1f}%' for v in values)}"
                  f"  (mean {statistics.mean(values):.1f}%)")


if __name__ == "__main__":
    main()
