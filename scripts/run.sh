#!/usr/bin/env bash
# Run the gateway on this machine: Redis (started if needed), the database, web on $HOST:$PORT
# (127.0.0.1:5000), one worker.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export REDIS_URL="${REDIS_URL:-redis://localhost:6379/0}"

if ! $BIN/python -c "import os, redis; redis.Redis.from_url(os.environ['REDIS_URL']).ping()" 2>/dev/null; then
  if command -v redis-server >/dev/null; then
    echo "Redis does not answer: starting a local redis-server on 6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    sleep 0.5
  else
    echo "Redis does not answer at $REDIS_URL and redis-server is not installed (apt-get install redis-server)" >&2
    exit 1
  fi
fi

$BIN/flask --app app db upgrade
$BIN/python worker.py &
worker=$!
trap 'kill $worker 2>/dev/null' EXIT INT TERM
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
echo "Gateway on http://$HOST:$PORT (sandbox phone: http://$HOST:$PORT/sandbox/ when no Twilio credentials are set)"
echo "Inbox: http://$HOST:$PORT/inbox/ - first officers (a head approves what the others draft):"
echo "  .venv/bin/flask --app app officers add lia --agency biro-organisasi --role liaison,official,admin"
echo "  .venv/bin/flask --app app officers add kepala --agency biro-organisasi --role head"
$BIN/gunicorn --config gunicorn.conf.py --bind "$HOST:$PORT" --workers 2 "app:create_app()"
