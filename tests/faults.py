"""The fault matrix (`make faults`): the gateway as deployed, broken on purpose, must lose nothing
and answer nothing twice.

Each scenario runs against gunicorn (2 gevent workers, gunicorn.conf.py), two `python worker.py`
processes, a Redis and a PostgreSQL of its own on free ports (never the machine's shared ones), and
the local Twilio server. Afterwards it checks, from the database and from what the Twilio server
took, that every message answered 200 was stored once and processed, and that every citizen got
exactly one acknowledgement. It prints a table and exits 1 when any scenario lost or doubled a
message, answered 5xx to one it could store, or took more than a minute to recover.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_BASE_URL, SMS_LINE, WA_LINE, free_port, new_sid
from tests.fake_twilio import DROPPED, TAKEN_LATE, Failure, FakeTwilio

ROOT = Path(__file__).resolve().parent.parent
PATH = "/webhooks/twilio/messages"
RECOVERY_LIMIT = 60.0
PROCFILE = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                if line.strip() and not line.startswith("#"))
OFFICER_PASSWORD = "kata-sandi-meja-layanan"
METRICS_TOKEN = "faults-metrics-token"


@dataclass
class Result:
    scenario: str
    messages: int = 0
    answered_200: int = 0
    lost: int = 0
    doubled: int = 0
    server_errors: int = 0  # 5xx for a message that could be stored
    recovery: float | None = None  # seconds from the end of the fault (Redis back, a worker dead) to the last answer
    ended: int = 0  # web or worker processes that ended by themselves
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.server_errors or self.ended) \
            and (self.recovery or 0) <= RECOVERY_LIMIT


class OwnRedis:
    """A redis-server on a free port, without persistence: restarted, it is empty."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        _wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


class OwnPostgres:
    """A PostgreSQL cluster of its own in a temporary folder, on a free port (run as the postgres user
    when this runs as root, as initdb requires)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.data = workdir / "pgdata"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))[-1]) \
            if glob.glob("/usr/lib/postgresql/*/bin") else Path(shutil.which("initdb") or "initdb").parent

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres")
            shutil.chown(self.data, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.data / "log"), "-o",
                  f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop")


def _wait_port(port: int, timeout: float = 20) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port}")


class Deployment:
    """Web (gunicorn, 2 workers), workers, the fake Twilio; a fresh schema for each scenario."""

    def __init__(self, redis: OwnRedis, postgres: OwnPostgres, workdir: Path):
        self.redis, self.postgres, self.workdir = redis, postgres, workdir
        self.twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, stall_seconds=2.0).start()
        self.validator = RequestValidator(AUTH_TOKEN)
        self.web_port = free_port()
        self.web: subprocess.Popen | None = None
        self.webs: list[subprocess.Popen] = []  # web processes beyond the first (another machine's)
        self.workers: list[subprocess.Popen] = []
        self.env = {**os.environ, "DATABASE_URL": postgres.url, "REDIS_URL": redis.url,
                    "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "TWILIO_API_BASE_URL": self.twilio.url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                    "SECRET_KEY": "faults", "SEND_RETRY_INTERVALS": "1,2,4,8,15", "TWILIO_HTTP_TIMEOUT": "1",
                    "INSTANCE_PATH": str(workdir / "instance"), "MEDIA_DIR": str(workdir / "media"),
                    "METRICS_TOKEN": METRICS_TOKEN, "LOG_FORMAT": "json"}

    def reset(self) -> None:
        self.stop()
        engine = create_engine(self.postgres.url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        self.redis.stop()
        self.redis.start()
        with self.twilio.lock:
            self.twilio.messages.clear()
            self.twilio.failures.clear()
            self.twilio.outage = None
            self.twilio.attempts = 0

    def start(self, workers: int = 2) -> None:
        self.web = self.start_web(self.web_port)
        for _ in range(workers):
            self.start_worker()

    def _process(self, kind: str, log: str, **env: str) -> subprocess.Popen:
        """A process as the Procfile starts it (the deployment's commands, tried)."""
        out = open(self.workdir / log, "a")
        return subprocess.Popen(["bash", "-c", f"exec {PROCFILE[kind]}"], cwd=ROOT, env={**self.env, **env},
                                stdout=out, stderr=out)

    def start_web(self, port: int) -> subprocess.Popen:
        web = self._process("web", "web.log", PORT=str(port))
        _wait_port(port)
        return web

    def start_worker(self) -> subprocess.Popen:
        worker = self._process("worker", "worker.log")
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for process in [self.web, *self.webs, *self.workers]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [self.web, *self.webs, *self.workers]:
            if process is not None:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.web, self.webs, self.workers = None, [], []

    def post(self, params: dict, path: str = PATH, query: str = "", port: int | None = None) -> int:
        url = path + (f"?{query}" if query else "")
        signature = self.validator.compute_signature(PUBLIC_BASE_URL + url, params)
        request = urllib.request.Request(f"http://127.0.0.1:{port or self.web_port}{url}",
                                         data=urlencode(params).encode(),
                                         headers={"X-Twilio-Signature": signature,
                                                  "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0  # no answer: Twilio would count it as failed, like a 5xx

    def burst(self, messages: list[dict], concurrency: int = 16, during=None) -> list[int]:
        """Post the messages from concurrent senders, in order; during(i) runs just before the i-th
        is posted (the fault), while the senders wait, so that a fault falls in the middle of the burst."""
        statuses = [0] * len(messages)
        turn = iter(range(len(messages)))
        lock = threading.Lock()

        def sender() -> None:
            while True:
                with lock:
                    i = next(turn, None)
                    if i is not None and during is not None:
                        during(i)
                if i is None:
                    return
                statuses[i] = self.post(messages[i])

        threads = [threading.Thread(target=sender) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return statuses

    def counted(self, name: str, port: int | None = None) -> float:
        """The sum of a counter's series on /metrics: what every web process and worker counted."""
        answer = requests.get(f"http://127.0.0.1:{port or self.web_port}/metrics", timeout=30,
                              headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        answer.raise_for_status()
        return sum(sample.value for family in text_string_to_metric_families(answer.text)
                   for sample in family.samples if sample.name == name)

    def delivered(self, body: str, timeout: float) -> None:
        """Wait until a message with this body reached the Twilio server."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(m.body == body for m in self.twilio.messages):
            time.sleep(0.2)

    def acknowledged(self, senders: list[str], timeout: float) -> float:
        """Wait until each sender has a message from the gateway; return when the last one came."""
        deadline = time.monotonic() + timeout
        wanted = set(senders)
        while time.monotonic() < deadline:
            with self.twilio.lock:
                got = {m.to for m in self.twilio.messages}
            if wanted <= got:
                break
            time.sleep(0.2)
        time.sleep(3)  # room for a doubled send to show
        return time.time()

    def check(self, result: Result, messages: list[dict], statuses: list[int]) -> None:
        """Count what was lost and what doubled, from the database and the Twilio server's record."""
        answered = {m["MessageSid"]: m for m, status in zip(messages, statuses) if status == 200}
        result.messages = len({m["MessageSid"] for m in messages})
        result.answered_200 = len(answered)
        engine = create_engine(self.postgres.url)
        with engine.connect() as conn:
            stored = Counter(sid for (sid,) in conn.execute(text(
                "SELECT message_sid FROM inbound_messages WHERE processed_at IS NOT NULL")))
            tickets = conn.execute(text("SELECT count(*) FROM tickets")).scalar()
        engine.dispose()
        with self.twilio.lock:
            acks = Counter(m.to for m in self.twilio.messages)
        for sid, params in answered.items():
            if stored[sid] != 1 or acks[params["From"]] == 0:
                result.lost += 1
        result.doubled = sum(1 for params in answered.values() if acks[params["From"]] > 1)
        if tickets != len({p["From"] for p in answered.values()}):
            result.notes.append(f"{tickets} tickets for {len(answered)} messages")
            result.doubled += max(0, tickets - len(answered))


def _messages(n: int, prefix: str) -> list[dict]:
    return [{"MessageSid": new_sid(), "AccountSid": ACCOUNT_SID, "From": f"+62{prefix}{i:06d}", "To": SMS_LINE,
             "Body": f"NTT jalan rusak di RT {i} kelurahan Oesapa", "NumMedia": "0"} for i in range(n)]


def _outage(service, stop_at: int, start_at: int, restarted: list[float], down: float = 3.0):
    """A burst's fault: stop the service before message stop_at, start it before start_at (noted in
    restarted); it stays down at least `down` seconds, longer than a client's own quick retries."""
    def during(i: int) -> None:
        if i == stop_at:
            service.stop()
            time.sleep(down)
        if i == start_at:
            service.start()
            restarted.append(time.time())
    return during


def redis_restarted_empty(d: Deployment) -> Result:
    result = Result("Redis stopped mid-burst, started empty")
    messages = _messages(200, "8131")
    restarted: list[float] = []
    statuses = d.burst(messages, during=_outage(d.redis, 80, 140, restarted))
    last = d.acknowledged([m["From"] for m in messages], 120)
    result.recovery = last - restarted[0] - 3
    d.check(result, messages, statuses)
    return result


def workers_killed(d: Deployment) -> Result:
    result = Result("Worker killed (SIGKILL) three times mid-burst")
    messages = _messages(300, "8132")
    kills = []

    def during(i: int) -> None:
        if i in (60, 140, 220):
            victim = d.workers.pop(0)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            kills.append(time.time())
            d.start_worker()

    statuses = d.burst(messages, during=during)
    last = d.acknowledged([m["From"] for m in messages], 180)
    result.recovery = max(0.0, last - kills[-1] - 3)
    d.check(result, messages, statuses)
    return result


def provider_faults(d: Deployment) -> Result:
    result = Result("Provider 500, 429, hanging, taking late, dropping, then well")
    d.twilio.fail_next(*[Failure(500)] * 5, *[Failure(429, 20429, "Too Many Requests")] * 5, *[Failure(0)] * 3,
                       *[Failure(TAKEN_LATE)] * 5, *[Failure(DROPPED)] * 5)
    messages = _messages(60, "8133")
    statuses = d.burst(messages, concurrency=8)
    d.acknowledged([m["From"] for m in messages], 180)
    d.check(result, messages, statuses)
    # What the workers counted on /metrics: every try the client saw fail, the 5 taken late among them.
    failures, expected = d.counted("gateway_send_failures_total"), d.twilio.attempts - len(d.twilio.messages) + 5
    result.notes.append(f"{d.twilio.attempts} provider calls, {failures:.0f} failures counted")
    if failures != expected:
        result.notes.append(f"/metrics counted {failures:.0f} send failures, not {expected}")
        result.lost += 1
    return result


def repeated_deliveries(d: Deployment) -> Result:
    result = Result("Every webhook delivered three times, two at once")
    messages = _messages(100, "8134")
    deliveries = [m for m in messages for _ in range(2)]
    random.shuffle(deliveries)
    statuses = d.burst(deliveries, concurrency=16) + d.burst(messages, concurrency=16)
    d.acknowledged([m["From"] for m in messages], 120)
    d.check(result, deliveries + messages, statuses)
    counted = d.counted("gateway_inbound_messages_total")  # by both web processes, each message once
    if counted != len(messages):
        result.notes.append(f"/metrics counted {counted:.0f} messages in")
        result.doubled += 1
    return result


class Officer:
    """An officer at the inbox in a browser of their own: its cookies (sent by hand, as they are
    marked Secure for the HTTPS proxy this deployment has not), the forms' CSRF token."""

    _TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

    def __init__(self, d: Deployment, username: str, role: str, port: int | None = None):
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "officers", "add", username,
                        "--agency", "biro-organisasi", "--role", role], input=f"{OFFICER_PASSWORD}\n", text=True,
                       cwd=ROOT, env=d.env, check=True, capture_output=True)
        self.base = f"http://127.0.0.1:{port or d.web_port}"
        self.cookies: dict[str, str] = {}
        self.post("/login", username=username, password=OFFICER_PASSWORD)

    def _call(self, method: str, path: str, **kw) -> requests.Response:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = requests.request(method, self.base + path, headers={"Cookie": cookie}, timeout=30,
                                  allow_redirects=False, **kw)
        self.cookies.update(answer.cookies.get_dict())
        return answer

    def get(self, path: str) -> str:
        answer = self._call("GET", path)
        answer.raise_for_status()
        return answer.text

    def post(self, path: str, form_page: str | None = None, **form) -> None:
        token = self._TOKEN.search(self.get(form_page or path)).group(1)
        answer = self._call("POST", path, data={"csrf_token": token, **form})
        assert answer.status_code in (302, 303), (path, answer.status_code)

    def act(self, code: str, action: str, **form) -> None:
        """Take a step on a ticket's page, ticking its confirmation where it asks for one."""
        self.post(f"/inbox/t/{code}/{action}", f"/inbox/t/{code}", konfirmasi="1", **form)


def _wait_for(query: str, wanted: int, engine, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            found = conn.execute(text(query)).scalar()
        if found >= wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _answer_ticket(d: Deployment, engine, citizen: str, answer: str,
                   port: int | None = None) -> tuple[Officer, str, str]:
    """Three officers (through the web process on port) take the citizen's ticket through review,
    assignment, draft and approval, and the liaison sends the answer; return the liaison, the code and
    the answer as the citizen gets it (after the prefix that names the ticket and the agency)."""
    liaison, head, official = (Officer(d, name, role, port) for name, role in
                               (("lia", "liaison"), ("kepala", "head"), ("pejabat", "official")))
    with engine.connect() as conn:
        code = conn.execute(text("SELECT code FROM tickets WHERE phone = :p"), {"p": citizen}).scalar()
        official_id = conn.execute(text("SELECT id FROM officers WHERE username = 'pejabat'")).scalar()
    liaison.act(code, "telaah")
    head.act(code, "disposisi", petugas=official_id, arahan="Mohon dijawab")
    official.act(code, "ajukan", jawaban=answer)
    head.act(code, "setujui")
    liaison.act(code, "kirim")
    with engine.connect() as conn:
        sent = conn.execute(text("SELECT body FROM outbound_messages WHERE purpose = 'answer' AND ticket_id ="
                                 " (SELECT id FROM tickets WHERE code = :c) ORDER BY id"), {"c": code}).scalar()
    assert sent.endswith(answer), sent
    return liaison, code, sent


def provider_never_recovers(d: Deployment) -> Result:
    """The provider answers 503 to everything: every acknowledgement and an officer's answer end
    failed, shown in the inbox; once it is back, the officer sends the answer again from the ticket
    page and the operator the acknowledgements (`flask resend-failed`); each citizen gets one of each."""
    result = Result("Provider down for good: failed, shown, sent again")
    began = datetime.now(timezone.utc)
    d.twilio.outage = Failure(503, None, "Service Unavailable")
    messages = _messages(20, "8137")
    statuses = d.burst(messages, concurrency=8)
    result.messages, result.answered_200 = len(messages), statuses.count(200)
    engine = create_engine(d.postgres.url)
    _wait_for("SELECT count(*) FROM tickets", len(messages), engine, 60)
    citizen = messages[0]["From"]
    answer = "Perbaikan jalan di RT 0 dijadwalkan minggu depan."
    liaison, code, answer = _answer_ticket(d, engine, citizen, answer)
    failed = _wait_for("SELECT count(*) FROM outbound_messages WHERE status = 'failed'", len(messages) + 1,
                       engine, 120)
    page = liaison.get(f"/inbox/t/{code}")
    shown = 'class="status-failed">gagal<' in page and "Kirim ulang jawaban" in page \
        and "pesan ke warga gagal" in liaison.get("/inbox/?status=terkirim")
    result.notes.append(f"{failed} of {len(messages) + 1} failed" + ("" if shown else ", NOT shown in the inbox"))
    with d.twilio.lock:
        d.twilio.outage = None
    back = time.time()
    liaison.act(code, "kirim_ulang")
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "resend-failed", "--since",
                    began.isoformat(timespec="seconds"), "--code", "503"], cwd=ROOT, env=d.env, check=True,
                   capture_output=True)
    last = d.acknowledged([m["From"] for m in messages], 60)
    d.delivered(answer, 30)
    result.recovery = max(0.0, time.time() - back - 3) if last else None
    with d.twilio.lock:
        acks = Counter(m.to for m in d.twilio.messages if m.body != answer)
        answers = sum(1 for m in d.twilio.messages if m.body == answer and m.to == citizen)
    engine.dispose()
    result.lost = sum(1 for m in messages if acks[m["From"]] == 0) + (answers == 0) + (not shown)
    result.doubled = sum(1 for m in messages if acks[m["From"]] > 1) + max(0, answers - 1)
    return result


def two_web_processes(d: Deployment) -> Result:
    """The deployment of docs/operations.md: a second web process from the Procfile (as another
    machine behind the proxy would run it) beside the first and the two workers; messages come in
    through both, a ticket is answered through the second, and /metrics agrees on either."""
    result = Result("Two web processes, two workers (Procfile): a message to its answer")
    port = free_port()
    d.webs.append(d.start_web(port))
    messages = _messages(100, "8138")
    ports = [d.web_port, port]
    statuses = [0] * len(messages)

    def post(i: int) -> None:
        statuses[i] = d.post(messages[i], port=ports[i % 2])

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(post, range(len(messages))))
    d.acknowledged([m["From"] for m in messages], 60)
    d.check(result, messages, statuses)
    engine = create_engine(d.postgres.url)
    citizen = messages[1]["From"]
    answer = "Lampu jalan di RT 1 sudah diganti petugas PLN."
    answer = _answer_ticket(d, engine, citizen, answer, port)[2]
    engine.dispose()
    d.delivered(answer, 30)
    time.sleep(2)
    with d.twilio.lock:
        answers = [m.to for m in d.twilio.messages if m.body == answer]
    if answers != [citizen]:
        result.notes.append(f"the answer went to {len(answers)} numbers")
        result.lost += not answers
        result.doubled += max(0, len(answers) - 1)
    seen = [d.counted("gateway_inbound_messages_total", p) for p in ports]
    result.notes.append(f"/metrics on each web process: {seen[0]:.0f} and {seen[1]:.0f} messages in")
    if seen != [len(messages)] * 2:
        result.doubled += 1
    return result


def postgres_restarted(d: Deployment) -> Result:
    result = Result("PostgreSQL restarted mid-burst")
    messages = _messages(200, "8135")
    restarted: list[float] = []
    statuses = d.burst(messages, concurrency=8, during=_outage(d.postgres, 60, 120, restarted))
    answered = [m["From"] for m, status in zip(messages, statuses) if status == 200]
    last = d.acknowledged(answered, 180)
    result.recovery = max(0.0, last - restarted[0] - 3)
    d.check(result, messages, statuses)
    result.notes.append(f"{len(messages) - len(answered)} answered with an error while it was down")
    return result


def status_callbacks(d: Deployment) -> Result:
    """Acknowledgements whose status callbacks arrive repeated and out of order end 'delivered'."""
    result = Result("Status callbacks out of order and repeated")
    messages = _messages(50, "8136")
    statuses = d.burst(messages)
    d.acknowledged([m["From"] for m in messages], 60)
    with d.twilio.lock:
        sent = list(d.twilio.messages)
    callbacks = []
    for message in sent:
        path, _, query = message.status_callback.removeprefix(PUBLIC_BASE_URL).partition("?")
        for state in random.sample(["queued", "sent", "delivered", "sent", "delivered", "queued"], 6):
            callbacks.append((path, query, {"MessageSid": message.sid, "MessageStatus": state,
                                            "AccountSid": ACCOUNT_SID}))
    random.shuffle(callbacks)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda c: d.post(c[2], path=c[0], query=c[1]), callbacks))
    result.server_errors = sum(1 for a in answers if a != 200)
    engine = create_engine(d.postgres.url)
    with engine.connect() as conn:
        states = Counter(s for (s,) in conn.execute(text("SELECT status FROM outbound_messages")))
    engine.dispose()
    d.check(result, messages, statuses)
    result.lost += sum(n for state, n in states.items() if state != "delivered")
    result.notes.append(f"{len(callbacks)} callbacks; {dict(states)}")
    return result


_ALPHABET = ["\x00", "\x01", "\x1b", "\u202e", "\ufffd", "🙏", "é", "ñ", "漢", " ", "\n", "=", "&", "%", "+", "NTT "]


def _hostile(rng: random.Random, i: int) -> dict:
    def junk(limit: int) -> str:
        n = rng.choice([0, 1, 5, 40, 160, limit])
        return "".join(rng.choice(_ALPHABET) if rng.random() < 0.3 else chr(rng.randint(32, 0x2FFF)) for _ in range(n))

    params = {"MessageSid": f"SM{i:08d}{rng.getrandbits(64):016x}", "AccountSid": ACCOUNT_SID,
              "From": rng.choice([f"+62812{i:07d}", f"whatsapp:+62812{i:07d}", "", junk(30), "0" * 300,
                                  "+1" + "9" * 30]),
              "To": rng.choice([SMS_LINE, WA_LINE, "", junk(20)]), "Body": junk(5000),
              "NumMedia": rng.choice(["0", "1", "-1", "99999999999999999999", str(2**31), "x", "", "9" * 5000])}
    for _ in range(rng.randint(0, 4)):
        params[rng.choice(["MediaUrl0", "ProfileName", "WaId", "Latitude", junk(8), "MediaContentType0"])] = junk(300)
    if rng.random() < 0.1:
        del params["From"]
    return params


def hostile_webhooks(d: Deployment, count: int) -> Result:
    result = Result(f"{count:,} webhooks of random and hostile form data")
    rng = random.Random(26)
    messages = [_hostile(rng, i) for i in range(count)]
    statuses = d.burst(messages, concurrency=16)
    result.messages = len(messages)
    result.answered_200 = statuses.count(200)
    result.server_errors = sum(1 for s in statuses if s >= 500 or s == 0)
    engine = create_engine(d.postgres.url)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM inbound_messages WHERE processed_at IS NULL")).scalar()
            stored = conn.execute(text("SELECT count(*) FROM inbound_messages")).scalar()
        if left == 0:
            break
        time.sleep(1)
    engine.dispose()
    result.lost = result.answered_200 - stored + left
    result.notes.append(f"{Counter(statuses).most_common()} answers, {left} left unprocessed")
    return result


SCENARIOS = {"redis": redis_restarted_empty, "workers": workers_killed, "postgres": postgres_restarted,
             "provider": provider_faults, "provider-down": provider_never_recovers, "repeats": repeated_deliveries,
             "callbacks": status_callbacks, "deployment": two_web_processes, "hostile": hostile_webhooks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS), help=", ".join(SCENARIOS))
    parser.add_argument("--hostile", type=int, default=10_000, help="how many hostile webhooks")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="faults-"))
    redis, postgres = OwnRedis(), OwnPostgres(workdir)
    postgres.init()
    redis.start()
    deployment = Deployment(redis, postgres, workdir)
    results = []
    started = time.monotonic()
    try:
        for name in args.scenarios:
            deployment.reset()
            deployment.start()
            began = time.monotonic()
            scenario = SCENARIOS[name]
            result = scenario(deployment, args.hostile) if name == "hostile" else scenario(deployment)
            ended = [p for p in [deployment.web, *deployment.webs, *deployment.workers]
                     if p is not None and p.poll() is not None]
            if ended:  # a process the scenario did not kill ended by itself
                result.ended = len(ended)
                result.notes.append(f"{len(ended)} processes ended by themselves")
            print(f"{result.scenario}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
            results.append(result)
    finally:
        deployment.stop()
        redis.stop()
        postgres.stop()
    print("\n| scenario | messages | answered 200 | lost | doubled | 5xx | seconds to recover | |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.scenario} | {r.messages} | {r.answered_200} | {r.lost} | {r.doubled} | {r.server_errors} "
              f"| {'-' if r.recovery is None else f'{r.recovery:.0f}'} | {'; '.join(r.notes)} |")
    print(f"\n{time.monotonic() - started:.0f} s; the processes' logs in {workdir}")
    lines, not_json = _log_lines(workdir)
    print(f"logs (LOG_FORMAT=json): {lines} lines, {len(not_json)} not JSON" +
          "".join(f"\n  {line[:200]}" for line in not_json[:5]))
    ok = all(r.ok for r in results) and not not_json
    print(f"faults: {sum(r.ok for r in results)} passed, {sum(not r.ok for r in results)} failed")
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


def _log_lines(workdir: Path) -> tuple[int, list[str]]:
    """Every line the web processes and the workers wrote, and those that are not a JSON object."""
    import json

    lines, not_json = 0, []
    for name in ("web.log", "worker.log"):
        path = workdir / name
        for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
            lines += 1
            try:
                if not isinstance(json.loads(line), dict):
                    raise ValueError
            except ValueError:
                not_json.append(f"{name}: {line}")
    return lines, not_json


if __name__ == "__main__":
    sys.exit(main())
