"""Ingest A/B: this checkout's webhook against another commit's, in alternating rounds.

On this machine the webhook's share of the bare rate drifts by several points within half an
hour while the bare endpoint's does not, so one run of each cannot tell a change worth a few
points. Each round serves, in turn, the bare endpoint, the other commit's webhook and this
checkout's (a fresh database each), at each connection count; the shares are compared round by round.

Usage: python -m bench.ab --against REF [--db sqlite|postgresql] [--rounds 3] [--seconds 8] [--connections 16,64]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.common import ROOT, free_port
from bench.ingest import request_files, serve


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
            port = free_port()
            files = request_files(port, connections, args.seconds)
            bare = serve("bench.bare:create_app()", args.db, port, files, args.seconds)
            for label, code in ((args.against, other), ("this checkout", ROOT)):
                runs = serve("app:create_app()", args.db, port, files, args.seconds, code=code)
                for c in connections:
                    shares.setdefault((label, c), []).append(100 * runs[c]["rps"] / bare[c]["rps"])
                    print(f"round {round_number + 1}, {label}, {c} connections: {runs[c]['rps']:.0f} req/s,"
                          f" bare {bare[c]['rps']:.0f}: {shares[label, c][-1]:.1f}%", flush=True)
            shutil.rmtree(files[connections[0]].parent, ignore_errors=True)
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
