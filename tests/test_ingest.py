"""The ingest writer: how rows are stored, a lost database connection, SQLite's writers taking
turns, and the web processes as deployed (gunicorn with gevent workers)."""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, insert, select, text

from gateway.ingest import _COLUMNS, _Pending, inbound_row
from store.db import Database
from store.models import InboundMessage
from tests.conftest import ACCOUNT_SID, CITIZEN, PUBLIC_BASE_URL, SMS_LINE, free_port, gateway_env, new_sid

ROOT = Path(__file__).resolve().parent.parent


def test_the_writer_fills_every_column_the_model_gives_a_default():
    """Its INSERT is written by hand: a column added with a default must be added there too."""
    defaulted = {c.name for c in InboundMessage.__table__.columns if c.default is not None and not c.primary_key}
    assert defaulted <= set(_COLUMNS)


def test_rows_are_stored_as_sqlalchemy_stores_them(gateway):
    """Timestamps (text on SQLite, compared as text there), the JSON of the fields and the defaults
    are stored exactly as an ORM insert of the same row stores them."""
    params = {"MessageSid": new_sid(), "AccountSid": ACCOUNT_SID, "From": CITIZEN, "To": SMS_LINE,
              "Body": "NTT jalan rusak 🙏 di \"Oesapa\" \\ RT 5\nbaris baru", "NumMedia": "0"}
    written = inbound_row(params)
    gateway.app.extensions["ingestor"]._write([_Pending(written)])
    with gateway.services.db.engine.begin() as conn:
        conn.execute(insert(InboundMessage), [dict(written, message_sid=new_sid())])
        columns = ", ".join(c for c in _COLUMNS if c != "message_sid")
        by_writer, by_orm = conn.execute(text(f"SELECT {columns} FROM inbound_messages ORDER BY id")).all()
    assert by_writer == by_orm
    with gateway.session() as s:
        stored = s.scalars(select(InboundMessage).order_by(InboundMessage.id)).first()
    assert stored.received_at == written["received_at"] and stored.params == params


def test_a_database_connection_dropped_between_batches_costs_no_message(gateway, database_url):
    """The writer keeps its connection; a database restart drops it, and the next batch is written on a new one."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite connection is a file, nothing to drop")
    assert gateway.sms("NTT lampu jalan mati").status_code == 200
    engine = create_engine(database_url)
    with engine.begin() as conn:  # what a restart does to every other session
        dropped = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    engine.dispose()
    assert dropped >= 1
    assert gateway.sms("NTT jalan berlubang", frm="+6281300000002").status_code == 200
    with gateway.session() as s:
        assert len(s.scalars(select(InboundMessage)).all()) == 2


def test_a_nul_character_is_dropped_not_refused(gateway):
    """PostgreSQL text cannot hold NUL: the message is stored without it, with its batch."""
    sids = [new_sid(), new_sid()]
    batch = [_Pending(inbound_row({"MessageSid": sids[0], "From": CITIZEN, "To": SMS_LINE, "Body": "NTT jalan\x00 rusak"})),
             _Pending(inbound_row({"MessageSid": sids[1], "From": CITIZEN, "To": SMS_LINE, "Body": "NTT lampu mati"}))]
    gateway.app.extensions["ingestor"]._write(batch)
    assert [p.error for p in batch] == [None, None]
    with gateway.session() as s:
        stored = s.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert [m.body for m in stored] == ["NTT jalan rusak", "NTT lampu mati"]
    assert stored[0].params["Body"] == "NTT jalan rusak"


def test_a_row_the_database_refuses_fails_alone(gateway, database_url):
    """One bad row must not cost the messages stored with it theirs (Twilio does not deliver again)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite refuses no value of these columns")
    rows = [inbound_row({"MessageSid": new_sid(), "From": CITIZEN, "To": SMS_LINE, "Body": f"NTT jalan rusak {i}"})
            for i in range(3)]
    rows[1]["channel"] = "x" * 100  # longer than the column: what a row the database refuses looks like
    batch = [_Pending(row) for row in rows]
    gateway.app.extensions["ingestor"]._write(batch)
    assert batch[1].error is not None and batch[1].result is None
    assert [p.error for p in (batch[0], batch[2])] == [None, None]
    assert batch[0].result.queued and batch[2].result.queued
    with gateway.session() as s:
        assert [m.body for m in s.scalars(select(InboundMessage).order_by(InboundMessage.id))] == \
            ["NTT jalan rusak 0", "NTT jalan rusak 2"]
    gateway.drain()
    assert len(gateway.twilio.messages) == 2


def _hold_lock(path: str, held, release) -> None:
    with Database(f"sqlite:///{path}").write_lock:
        held.set()
        release.wait(10)


def test_sqlite_writers_of_all_processes_take_turns(tmp_path):
    """The write lock is the machine's, not the process's: a writer waits while another process holds it."""
    ctx = multiprocessing.get_context("fork")
    held, release = ctx.Event(), ctx.Event()
    db_file = tmp_path / "gateway.db"
    other = ctx.Process(target=_hold_lock, args=(str(db_file), held, release))
    other.start()
    assert held.wait(10)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    with Database(f"sqlite:///{db_file}").write_lock:
        waited = time.monotonic() - started
    other.join(10)
    assert waited >= 0.25


def test_served_by_gunicorn_as_deployed(make_gateway, tmp_path):
    """gunicorn.conf.py's gevent workers: concurrent webhooks are each stored once and answered,
    the inbox's pages render, and every acknowledgement reaches Twilio."""
    gateway = make_gateway()
    port = free_port()
    env = {**os.environ, **gateway_env(gateway.services.settings.database_url, tmp_path, gateway.twilio)}
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", "2",
                            "-b", f"127.0.0.1:{port}", "app:create_app()"],
                           cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    path = "/webhooks/twilio/messages"

    def post(params: dict) -> int:
        signature = gateway.validator.compute_signature(PUBLIC_BASE_URL + path, params)
        request = urllib.request.Request(base + path, data=urlencode(params).encode(), headers={
            "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status

    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        messages = [{"MessageSid": new_sid(), "AccountSid": ACCOUNT_SID, "From": f"+6281300000{i:03d}",
                     "To": SMS_LINE, "Body": f"NTT lampu jalan mati di gang {i}", "NumMedia": "0"}
                    for i in range(40)]
        messages += [messages[0]] * 5  # Twilio delivering one of them again
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            assert list(pool.map(post, messages)) == [200] * 45
        login = urllib.request.urlopen(base + "/inbox/", timeout=10)
        assert login.status == 200 and "/login?next=/inbox/" in login.url
    finally:
        web.terminate()
        log = web.communicate(timeout=20)[1]
    with gateway.session() as s:
        assert len(s.scalars(select(InboundMessage)).all()) == 40
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == sorted(p["From"] for p in messages[:40])
    assert "Traceback" not in log and "lampu jalan" not in log


def test_close_stops_the_writer_and_returns_its_connection(gateway):
    assert gateway.sms("NTT lampu jalan mati").status_code == 200
    pool = gateway.services.db.engine.pool
    assert pool.checkedout() == 1  # the writer keeps its connection between batches
    gateway.app.extensions["ingestor"].close()
    assert pool.checkedout() == 0
    assert gateway.sms("NTT air PDAM mati").status_code == 200  # a writer starts again on first use
    assert pool.checkedout() == 1


HOSTILE_FIELDS = [
    {"NumMedia": "99999999999999999999"},       # SQLite: OverflowError, and its whole batch answered 500
    {"NumMedia": str(2**31)},                   # PostgreSQL: out of range for integer
    {"NumMedia": "-3"},
    {"NumMedia": "tiga"},
    {"NumMedia": "9" * 5000},                   # more digits than int() reads
    {"Num\x00Media": "1", "Body": "NTT jalan\x00 rusak"},
    {"Media\x00Url0": "https://example.org/a.jpg"},  # NUL in a name alone: PostgreSQL refused the row
    {"Body": "NTT " + "\u202e\ufffd\U0001f64f\x07\x1b" * 1000},
    {"From": "whatsapp:" + "9" * 200, "To": "x" * 500},
    {"From": "", "To": ""},
    {"ProfileName": "🙏" * 500},
]


@pytest.mark.parametrize("fields", HOSTILE_FIELDS)
def test_no_field_value_fails_a_message(gateway, fields):
    """A value the columns cannot take is stored as text in the raw form, a number that does not fit
    is absent; the message is answered 200, stored once, and the worker reads it without failing."""
    sid = new_sid()
    assert gateway.inbound("NTT lampu jalan mati", sid=sid, **fields).status_code == 200
    gateway.drain()
    with gateway.session() as s:
        stored = s.scalars(select(InboundMessage)).one()
    assert stored.message_sid == sid and stored.processed_at is not None
    assert 0 <= stored.num_media <= 10 or fields.get("NumMedia") is None
    assert all("\x00" not in name + value for name, value in stored.params.items())


def test_a_value_the_database_refuses_costs_no_other_row_its_place(gateway):
    """The refused row fails alone; the rows written in the same batch are stored and queued."""
    rows = [inbound_row({"MessageSid": new_sid(), "From": CITIZEN, "To": SMS_LINE, "Body": f"NTT jalan rusak {i}"})
            for i in range(3)]
    rows[1]["num_media"] = 10**20  # past inbound_row, which no longer lets such a number through
    batch = [_Pending(row) for row in rows]
    gateway.app.extensions["ingestor"]._write(batch)
    assert batch[1].error is not None
    assert [p.error for p in (batch[0], batch[2])] == [None, None]
    assert batch[0].result.queued and batch[2].result.queued
    with gateway.session() as s:
        assert [m.body for m in s.scalars(select(InboundMessage).order_by(InboundMessage.id))] == \
            ["NTT jalan rusak 0", "NTT jalan rusak 2"]


def test_a_form_without_a_message_sid_is_no_message(gateway):
    params = {"AccountSid": ACCOUNT_SID, "From": CITIZEN, "To": SMS_LINE, "Body": "NTT jalan rusak"}
    assert gateway.post("/webhooks/twilio/messages", params).status_code == 400
    assert gateway.post("/webhooks/twilio/messages", {**params, "MessageSid": "\x00"}).status_code == 400
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage)).all() == []


@pytest.mark.parametrize("query, fields", [
    ("o=99999999999999999999", {}),
    ("o=2147483648", {"ErrorCode": "9" * 40}),
    ("o=-1", {"MessageSid": "SM" + "9" * 5000}),
    ("", {"MessageSid": "SM\x00x", "MessageStatus": "deliv\x00ered", "ErrorCode": "\x00"}),
])
def test_a_status_callback_with_odd_values_is_answered_200(gateway, query, fields):
    params = {"MessageSid": new_sid(), "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID, **fields}
    assert gateway.post("/webhooks/twilio/status", params, query=query).status_code == 200
