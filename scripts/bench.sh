#!/usr/bin/env bash
# make bench: the benchmarks of bench/README.md, on SQLite and PostgreSQL. They need Redis and
# PostgreSQL as make test does, pgrep (procps), and wrk for bench.ingest: installed with apt-get
# when this runs as root, else that benchmark is skipped with a line saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "bench: wrk is not installed; installing it (apt-get install wrk)"
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || true
fi
command -v pgrep >/dev/null || { echo "bench: pgrep is missing (apt-get install procps)" >&2; exit 1; }

for bench in costs ingest e2e inbox; do
  for db in sqlite postgresql; do
    if [ "$bench" = ingest ] && ! command -v wrk >/dev/null; then
      echo "bench: wrk is not installed: bench.ingest --db $db skipped (apt-get install wrk)"
      continue
    fi
    $BIN/python -m "bench.$bench" --db "$db"
  done
done

# A busy day (PostgreSQL): 10,000 messages at 200 a second, one worker and two, against the floor.
$BIN/python -m bench.busyday
