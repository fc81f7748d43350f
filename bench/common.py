"""Shared pieces of the benchmarks: servers in subprocesses, signed requests, measurements."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def gateway_env(database_url: str, port: int, twilio_url: str, instance: Path) -> dict[str, str]:
    return {
        **os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_BASE_URL": twilio_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SECRET_KEY": "bench", "INSTANCE_PATH": str(instance),
        "SEND_RETRY_INTERVALS": "1,2,4", "LOG_LEVEL": "WARNING",  # a line a message would cost the figures
    }


def reset_database(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    if database_url.startswith("sqlite"):
        Path(database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def gunicorn(app: str, port: int, env: dict[str, str], workers: int = 2, code: Path = ROOT) -> subprocess.Popen:
    """Serve app with gunicorn.conf.py; code: the checkout whose modules and settings are served."""
    proc = subprocess.Popen(
        [PY, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", app],
        cwd=code, env={**env, "PYTHONPATH": str(code)})
    wait_http(f"http://127.0.0.1:{port}/healthz")
    deadline = time.monotonic() + 20
    while len(children(proc.pid)) < workers and time.monotonic() < deadline:  # the first answered; all booted?
        time.sleep(0.1)
    return proc


def fake_twilio(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([PY, "-m", "tests.fake_twilio", "--port", str(port), "--account-sid", ACCOUNT_SID,
                             "--auth-token", AUTH_TOKEN], cwd=ROOT)
    wait_http(f"http://127.0.0.1:{port}/_stats")
    return proc


def twilio_stats(port: int) -> dict:
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats"))


def signed_sms(port: int, i: int, body: str | None = None) -> tuple[str, bytes]:
    """Return (signature, form body) of one inbound SMS with a unique MessageSid."""
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID,
              "From": f"+6281{i % 100_000_000:08d}"[:14], "To": "+621708",
              "Body": body or f"NTT jalan rusak parah di RT {i % 40} Oesapa, mohon diperbaiki ({i})",
              "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
    url = f"http://127.0.0.1:{port}/webhooks/twilio/messages"
    return RequestValidator(AUTH_TOKEN).compute_signature(url, params), urlencode(params).encode()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def idle_seconds() -> float:
    """Idle time of all the machine's cores so far (idle and waiting for I/O)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return (int(fields[3]) + int(fields[4])) / CLOCK_TICKS


def pids_of(program: str) -> list[int]:
    found = subprocess.run(["pgrep", "-x", program], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
