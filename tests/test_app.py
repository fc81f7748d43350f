"""Start-up configuration and the sandbox provider."""
from __future__ import annotations

import dataclasses
import time

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app import create_app
from config import ConfigError, Settings
from store.models import OutboundMessage, Ticket
from tests.conftest import POSTGRES_URL, REDIS_URL


def test_missing_secret_outside_sandbox_is_named():
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        Settings.from_env({"TWILIO_ACCOUNT_SID": "AC1", "PUBLIC_BASE_URL": "https://x", "SECRET_KEY": "k"})
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL.*SECRET_KEY"):
        Settings.from_env({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"})


def test_sandbox_mode_rules(tmp_path):
    env = {"INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env(env).sandbox  # no credentials at all
    creds = {**env, "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t",
             "PUBLIC_BASE_URL": "https://x", "SECRET_KEY": "k"}
    assert not Settings.from_env(creds).sandbox
    assert Settings.from_env({**creds, "GATEWAY_SANDBOX": "1"}).sandbox


def test_bad_service_config_is_named(tmp_path):
    bad = tmp_path / "service.toml"
    bad.write_text('[[lines]]\nid = "x"\nname = "x"\nchannel = "sms"\nagency = "nope"\ndeadline = "8d"\n')
    with pytest.raises(ConfigError, match="unknown agency 'nope'"):
        Settings.from_env({"INSTANCE_PATH": str(tmp_path), "SERVICE_CONFIG": str(bad)})


@pytest.mark.parametrize("channel, sid", [
    ("whatsapp", "HX123"),                      # not a ContentSid
    ("whatsapp", "MG" + "0" * 32),              # a Messaging Service, not a template
    ("sms", "HX" + "0" * 32),                   # SMS has no templates
])
def test_a_template_sid_that_cannot_work_is_named(tmp_path, channel, sid):
    bad = tmp_path / "service.toml"
    bad.write_text('[agencies.a]\nname = "A"\n[[lines]]\nid = "x"\nname = "x"\nagency = "a"\ndeadline = "8d"\n'
                   f'channel = "{channel}"\ntemplate_sid = "{sid}"\n')
    with pytest.raises(ConfigError, match="line x: template_sid"):
        Settings.from_env({"INSTANCE_PATH": str(tmp_path), "SERVICE_CONFIG": str(bad)})
    bad.write_text(bad.read_text().replace(sid, "HX" + "0a" * 16).replace('"sms"', '"whatsapp"'))
    assert Settings.from_env({"INSTANCE_PATH": str(tmp_path), "SERVICE_CONFIG": str(bad)}).service.lines[0].template_sid


def test_line_routing_by_address(tmp_path):
    service = Settings.from_env({"INSTANCE_PATH": str(tmp_path)}).service
    assert service.line_for("sms", "+621708").id == "lapor-sms"
    assert service.line_for("whatsapp", "whatsapp:+6282147626662").agency == "dinsos-kupang"
    assert {a for a in service.agencies} == {"biro-organisasi", "bppd", "dinsos-kupang"}


def test_the_lines_a_citizen_may_be_answering_on_a_number(tmp_path):
    service = Settings.from_env({"INSTANCE_PATH": str(tmp_path)}).service
    sms, wa = service.line("lapor-sms"), service.line("dinsos-wa")
    assert service.answered_from(wa) == {"dinsos-wa"}
    assert service.answered_from(sms) == {"lapor-sms", ""}  # tickets registered by hand are answered by SMS
    wa_with_fallback = dataclasses.replace(wa, sms_fallback_from="+6281100001708")
    service = dataclasses.replace(service, lines=(sms, wa_with_fallback))
    assert service.answered_from(sms) == {"lapor-sms", "", "dinsos-wa"}  # its late answers go by SMS


def test_sandbox_phone_simulator(tmp_path, redis_conn):
    from rq import SimpleWorker

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}", "REDIS_URL": REDIS_URL,
                      "INSTANCE_PATH": str(tmp_path)})
    client = app.test_client()
    page = client.get("/sandbox/")
    assert page.status_code == 200 and b"Simulator ponsel" in page.data
    assert client.post("/webhooks/twilio/messages", data={"Body": "NTT x"}).status_code == 403
    sent = client.post("/sandbox/messages", json={"line": "lapor-sms", "phone": "0812 3456 7890",
                                                  "body": "NTT jalan rusak"})
    assert sent.status_code == 202
    queues = app.extensions["gateway"].queues
    SimpleWorker(queues.all, connection=queues.redis).work(burst=True)
    conversation = client.get("/sandbox/messages?line=lapor-sms&phone=081234567890").get_json()
    assert [m["dir"] for m in conversation] == ["in", "out"]
    assert conversation[1]["body"].startswith("Pengaduan Anda diterima") and conversation[1]["status"] == "delivered"
    with app.extensions["gateway"].db.sessions() as s:
        assert s.scalars(select(Ticket)).one().phone == "+6281234567890"
        assert s.scalars(select(OutboundMessage)).one().provider_sid.startswith("SB")
    for body in ("lokasinya di Oesapa", "sudah lama"):  # the rest of the complaint: confirmed once
        client.post("/sandbox/messages", json={"line": "lapor-sms", "phone": "081234567890", "body": body})
        SimpleWorker(queues.all, connection=queues.redis).work(burst=True)
    held = client.get("/sandbox/messages?line=lapor-sms&phone=081234567890").get_json()[-1]
    assert held["status"] == "suppressed" and held["note"] == "tambahan baru saja dikonfirmasi ke nomor ini"


def test_sandbox_is_off_with_credentials(make_gateway):
    assert make_gateway().client.get("/sandbox/").status_code == 404


def test_web_processes_do_not_build_the_twilio_client(make_gateway):
    """Its API classes cost a process 7 MB (bench/README.md, Memory); a web process only queues sends."""
    gateway = make_gateway()
    gateway.sms("NTT jalan rusak di Oesapa")  # the webhook, storing and queueing
    provider = gateway.services.sender.provider
    assert "client" not in vars(provider)
    gateway.drain()  # a worker sends: the client is made then
    assert "client" in vars(provider) and gateway.twilio.messages


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("REDIS_URL=redis://from-dotenv:6379/3\nSEND_RETRY_INTERVALS=7,8\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SEND_RETRY_INTERVALS", "1,2,3")
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.redis_url == "redis://from-dotenv:6379/3"
    assert settings.retry_intervals == (1, 2, 3)


def test_worker_burst_drains_the_queues(make_gateway, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import gateway_env

    gateway = make_gateway()
    gateway.sms("NTT lampu jalan mati di Oebobo")
    env = {**os.environ, **gateway_env(gateway.services.settings.database_url, tmp_path, gateway.twilio)}
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "worker.py", "--burst"], cwd=root, env=env, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(gateway.twilio.messages) == 1
    assert gateway.twilio.messages[0].body.startswith("Pengaduan Anda diterima")
    assert "lampu jalan" not in done.stderr  # the worker's log never carries a message body
    assert "+6281234567890" not in done.stderr and "+6281***890" in done.stderr  # masked, not absent


def _until(check, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_worker_stops_at_once_though_its_listener_read_the_unsubscribe_first(redis_conn):
    """RQ's worker listens for commands on a thread that waits up to 60 s; when that thread reads
    the reply to the unsubscribe before the stop, redis 8.2.0 waits for it to the end (every test
    drain and every worker shutdown risked a minute: CI took 26 min), hence redis<8.2 in pyproject."""
    worker = SimpleWorker([Queue("x", connection=redis_conn)], connection=redis_conn)
    worker.subscribe()
    _until(lambda: worker.pubsub.subscribed)
    worker.pubsub.unsubscribe()
    _until(lambda: not worker.pubsub.subscribed)
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < 5


def _start_after(barrier, env, errors) -> None:
    try:
        barrier.wait(10)
        create_app(env)
    except Exception as exc:  # reported to the test, which fails with it
        errors.put(repr(exc)[:500])


def test_several_processes_start_on_a_fresh_database_at_once(database_url, redis_conn, tmp_path):
    """gunicorn forks its workers and they start together: table creation and the counts must not race."""
    import multiprocessing

    from sqlalchemy import create_engine, text

    ctx = multiprocessing.get_context("fork")
    for round_ in range(4):  # the race is narrow: give it several chances
        url = database_url
        if database_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'round{round_}.db'}"
        else:
            engine = create_engine(database_url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        env = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "INSTANCE_PATH": str(tmp_path)}
        barrier, errors = ctx.Barrier(6), ctx.Queue()
        starts = [ctx.Process(target=_start_after, args=(barrier, env, errors)) for _ in range(6)]
        for proc in starts:
            proc.start()
        for proc in starts:
            proc.join(60)
        assert errors.empty(), errors.get()
        assert all(proc.exitcode == 0 for proc in starts)


def test_database_errors_do_not_carry_personal_data(gateway):
    """A failing statement's error (which RQ and the log print) names no phone number or text."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from gateway.ingest import inbound_row
    from store.models import InboundMessage

    row = inbound_row({"MessageSid": "SM1", "From": "+6281234567890", "To": "+621708",
                       "Body": "NTT rumah Maria Ndun di RT 07 kebanjiran"})
    with pytest.raises(IntegrityError) as failure:
        with gateway.services.db.engine.begin() as conn:
            conn.execute(insert(InboundMessage), [row, row])
    assert "6281234567890" not in str(failure.value) and "Maria" not in str(failure.value)


def test_postgresql_compiles_no_query_though_the_url_sets_options_of_its_own():
    """JIT compiling cost the recap of a month 0.54 s of its 0.59 (bench/README.md)."""
    from sqlalchemy import make_url, text

    from store.db import Database

    url = make_url(POSTGRES_URL).update_query_dict({"options": "-c statement_timeout=7000"})
    db = Database(url.render_as_string(hide_password=False))
    with db.engine.connect() as conn:
        assert conn.scalar(text("SHOW jit")) == "off"
        assert conn.scalar(text("SHOW statement_timeout")) == "7s"
    db.dispose()
