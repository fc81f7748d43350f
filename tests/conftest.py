"""Fixtures on real things: Redis, SQLite and PostgreSQL, a local Twilio API server."""
from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import create_engine, select, text
from twilio.request_validator import RequestValidator

from tests.fake_twilio import FakeTwilio

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://lapor.example.go.id"  # what Twilio sees; the app is behind a proxy
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SMS_LINE = "+621708"
WA_LINE = "whatsapp:+6282147626662"
CITIZEN = "+6281234567890"


def new_sid() -> str:
    return f"SM{uuid.uuid4().hex}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.db'}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:  # a clean schema for every test
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def db(tmp_path):
    """A migrated SQLite database with the shipped agencies' counts, for the workflow without the app."""
    from config import Settings
    from store import migrate
    from store.db import Database
    from store.tickets import seed_counts

    database = Database(f"sqlite:///{tmp_path / 'workflow.db'}")
    migrate.upgrade(database)
    with database.transaction() as s:
        seed_counts(s, list(Settings.from_env({}).service.agencies))
    yield database
    database.dispose()


@pytest.fixture
def redis_conn():
    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def twilio():
    server = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, stall_seconds=1.5).start()
    yield server
    server.stop()


def gateway_env(database_url: str, tmp_path, twilio: FakeTwilio, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": twilio.url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SECRET_KEY": "test-secret", "SEND_RETRY_INTERVALS": "0,0,0", "TWILIO_HTTP_TIMEOUT": "0.5",
        "INSTANCE_PATH": str(tmp_path / "instance"), "MEDIA_DIR": str(tmp_path / "media"),
        **extra,
    }


class Gateway:
    """The app under test, with helpers to send signed webhooks and drain the queues."""

    def __init__(self, app, twilio: FakeTwilio):
        self.app = app
        self.client = app.test_client()
        self.services = app.extensions["gateway"]
        self.twilio = twilio
        self.validator = RequestValidator(AUTH_TOKEN)

    def post(self, path: str, params: dict, *, signature: str | None = None, query: str = ""):
        url = PUBLIC_BASE_URL + path + (f"?{query}" if query else "")
        if signature is None:
            signature = self.validator.compute_signature(url, params)
        return self.client.post(path + (f"?{query}" if query else ""), data=params,
                                headers={"X-Twilio-Signature": signature})

    def inbound(self, body: str, *, frm: str = CITIZEN, to: str = SMS_LINE, sid: str | None = None, **extra):
        params = {"MessageSid": sid or new_sid(), "AccountSid": ACCOUNT_SID, "From": frm, "To": to,
                  "Body": body, "NumMedia": "0", **extra}
        return self.post("/webhooks/twilio/messages", params)

    def sms(self, body: str, **kw):
        return self.inbound(body, **kw)

    def whatsapp(self, body: str, *, frm: str = "whatsapp:" + CITIZEN, **kw):
        kw.setdefault("to", WA_LINE)
        kw.setdefault("ProfileName", "Maria Ndun")
        kw.setdefault("WaId", frm.split("+")[-1])
        return self.inbound(body, frm=frm, **kw)

    def drain(self) -> None:
        queues = self.services.queues
        SimpleWorker(queues.all, connection=queues.redis).work(burst=True, logging_level="WARNING")

    def converse(self, body: str, **kw) -> str:
        """Send one SMS, process it, and return the reply the citizen received."""
        before = len(self.twilio.messages)
        assert self.sms(body, **kw).status_code == 200
        self.drain()
        assert len(self.twilio.messages) == before + 1, "expected exactly one reply"
        return self.twilio.messages[-1].body

    def session(self):
        return self.services.db.sessions()

    def move_back(self, column, by: timedelta) -> None:
        """Move a timestamp of every row back in time, as if by was gone since. In Python: on SQLite,
        SQL's `column - interval` stores a number, which sorts before every date."""
        with self.session() as s, s.begin():
            for row in s.scalars(select(column.class_)):
                if getattr(row, column.key) is not None:
                    setattr(row, column.key, getattr(row, column.key) - by)


@pytest.fixture
def make_gateway(database_url, redis_conn, twilio, tmp_path):
    from app import create_app

    made = []

    def make(**extra: str) -> Gateway:
        app = create_app(gateway_env(database_url, tmp_path, twilio, **extra))
        made.append(app)
        return Gateway(app, twilio)

    yield make
    for app in made:
        app.extensions["ingestor"].close()
        app.extensions["gateway"].db.dispose()


@pytest.fixture
def gateway(make_gateway) -> Gateway:
    return make_gateway()
