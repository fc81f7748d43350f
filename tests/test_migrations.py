"""The schema's migrations: what they make is what the models say; a database made before them is
taken over with its rows; starting processes upgrade an empty database once, refuse an old one, and
start without a database that does not answer."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect, select, text

from store import migrate
from store.db import Database
from store.models import Base, Ticket
from tests.conftest import free_port, gateway_env

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def _differences(db: Database, metadata: MetaData) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": migrate.include_name, "compare_type": True})
        return compare_metadata(context, metadata)


def test_the_migrations_make_what_the_models_describe(database_url):
    """CI's guard: a model changed without its migration (or the reverse) fails here."""
    db = Database(database_url)
    migrate.upgrade(db)
    assert _differences(db, Base.metadata) == []
    changed = MetaData()  # the comparison sees a difference where there is one
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["tickets"].append_column(Column("rating", Integer, nullable=True))
    assert [d[0] for d in _differences(db, changed)] == ["add_column"]
    db.dispose()


# A database the code before the migrations made and used: an officer, a ticket from an SMS, its
# acknowledgement and its first event, the state counts.
_ROWS = [
    "INSERT INTO officers (id, username, full_name, agency, roles, password_hash, active, created_at)"
    " VALUES (1, 'yohanes', 'Yohanes Bria', 'biro-organisasi', 'liaison', 'x', true, '2026-11-02 01:00:00')",
    "INSERT INTO tickets (id, code, agency, line_id, channel, kind, state, phone, citizen_address, line_address,"
    " citizen_name, citizen_home, body, body_hash, created_at, updated_at, due_at, is_open, held_state,"
    " assignee_id, instruction, draft, review_note) VALUES (1, '48213579', 'biro-organisasi', 'sms-1708', 'sms',"
    " 'pengaduan', 'baru', '+6281234567890', '+6281234567890', '+621708', '', '', 'Jalan rusak di Oesapa',"
    " 'h', '2026-11-02 02:00:00', '2026-11-02 02:00:00', '2026-11-07 02:00:00', true, '', 1, '', '', '')",
    "INSERT INTO inbound_messages (id, message_sid, account_sid, channel, from_address, phone, to_address, body,"
    " num_media, profile_name, params, received_at, processed_at, attempts, intent, line_id, ticket_id)"
    " VALUES (1, 'SM1', 'AC1', 'sms', '+6281234567890', '+6281234567890', '+621708', 'NTT Jalan rusak di Oesapa',"
    " 0, '', '{}', '2026-11-02 02:00:00', '2026-11-02 02:00:01', 1, 'complaint', 'sms-1708', 1)",
    "INSERT INTO outbound_messages (id, idempotency_key, ticket_id, inbound_id, purpose, channel, to_address,"
    " from_address, body, content_sid, content_variables, status, status_rank, provider_sid, error_code,"
    " error_message, attempts, created_at, updated_at) VALUES (1, 'ack:1', 1, 1, 'ack', 'sms', '+6281234567890',"
    " '+621708', 'Terima kasih', '', '', 'delivered', 50, 'SMa', '', '', 1, '2026-11-02 02:00:01',"
    " '2026-11-02 02:00:05')",
    "INSERT INTO ticket_events (id, ticket_id, officer_id, action, from_state, to_state, agency, note, created_at)"
    " VALUES (1, 1, NULL, 'created', '', 'baru', 'biro-organisasi', '', '2026-11-02 02:00:01')",
    # A ticket waiting for the citizen since a question, and one answered: the clock's columns (0002)
    # take what their history says.
    "INSERT INTO tickets (id, code, agency, line_id, channel, kind, state, phone, citizen_address, line_address,"
    " citizen_name, citizen_home, body, body_hash, created_at, updated_at, due_at, is_open, held_state,"
    " assignee_id, instruction, draft, review_note) VALUES (2, '48213580', 'biro-organisasi', 'sms-1708', 'sms',"
    " 'pengaduan', 'ditunda', '+6281234567891', '+6281234567891', '+621708', '', '', 'Air mati', 'h2',"
    " '2026-11-03 02:00:00', '2026-11-04 02:00:00', '2026-11-11 02:00:00', true, 'ditelaah', NULL, '', '', ''),"
    " (3, '48213581', 'biro-organisasi', 'sms-1708', 'sms', 'pengaduan', 'terkirim', '+6281234567892',"
    " '+6281234567892', '+621708', '', '', 'Lampu mati', 'h3', '2026-11-03 02:00:00', '2026-11-05 02:00:00',"
    " '2026-11-11 02:00:00', true, '', NULL, '', 'Sudah diperbaiki.', '')",
    "INSERT INTO ticket_events (id, ticket_id, officer_id, action, from_state, to_state, agency, note, created_at)"
    " VALUES (2, 2, 1, 'tunda', 'ditelaah', 'ditunda', 'biro-organisasi', 'RT berapa?', '2026-11-04 02:00:00'),"
    " (3, 3, 1, 'kirim', 'disetujui', 'terkirim', 'biro-organisasi', '', '2026-11-05 02:00:00')",
    "INSERT INTO state_counts (agency, state, n) VALUES ('biro-organisasi', 'baru', 1),"
    " ('biro-organisasi', 'ditunda', 1), ('biro-organisasi', 'terkirim', 1)",
]
_TABLES = ["officers", "tickets", "inbound_messages", "outbound_messages", "ticket_events", "state_counts"]


def _legacy_database(db: Database) -> None:
    dialect = db.engine.dialect.name
    schema = (DATA / f"schema-before-alembic.{dialect}.sql").read_text()
    if dialect == "sqlite":
        raw = db.engine.raw_connection()
        raw.driver_connection.executescript(schema)
        raw.close()
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(schema)
    with db.engine.begin() as conn:
        for row in _ROWS:
            conn.execute(text(row))
        if dialect == "postgresql":  # the ids given above, as if the sequences had made them
            for table in _TABLES[:-1]:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def _rows(db: Database, columns: dict[str, list[str]]) -> dict[str, list]:
    with db.engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT {', '.join(columns[t])} FROM {t} ORDER BY 1, 2"))]
                for t in _TABLES}


def test_a_database_made_before_the_migrations_is_upgraded_in_place(database_url, make_gateway):
    db = Database(database_url)
    _legacy_database(db)
    with db.engine.connect() as conn:
        legacy = {t: [c["name"] for c in inspect(conn).get_columns(t)] for t in _TABLES}
    before = _rows(db, legacy)
    with pytest.raises(migrate.SchemaBehind, match="db upgrade"):  # a web process or worker refuses it
        migrate.ready(db)
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
    assert _rows(db, legacy) == before
    assert _differences(db, Base.metadata) == []
    with db.sessions() as s:  # read as the gateway reads them
        clock = s.execute(select(Ticket.id, Ticket.paused_at, Ticket.answered_at, Ticket.verify_due_at,
                                 Ticket.follow_up_due_at).order_by(Ticket.id)).all()
    assert [tuple(r) for r in clock] == [
        (1, None, None, None, None), (2, datetime(2026, 11, 4, 2), None, None, None),
        (3, None, datetime(2026, 11, 5, 2), None, None)]
    db.dispose()
    gateway = make_gateway()  # and the gateway works on it
    gateway.sms("NTT lampu jalan mati di Kelapa Lima", frm="+6281299990000")
    gateway.drain()
    with gateway.session() as s:
        assert s.execute(text("SELECT count(*) FROM tickets")).scalar() == 4
    assert [m.to for m in gateway.twilio.messages] == ["+6281299990000"]


def test_a_foreign_database_is_not_taken_over(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'other.db'}")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE tickets (id INTEGER PRIMARY KEY)"))
    with pytest.raises(RuntimeError, match="not this gateway's"):
        migrate.upgrade(db)
    with db.engine.connect() as conn:
        assert migrate.current(conn) is None
    db.dispose()


def test_processes_starting_at_once_on_an_empty_database_upgrade_it_once(database_url):
    """Several web processes and workers started together: one upgrades, the others wait and find it done."""
    errors = []
    handles = [Database(database_url) for _ in range(4)]

    def start(db: Database) -> None:
        try:
            migrate.ready(db)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(db,)) for db in handles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with handles[0].engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    for db in handles:
        db.dispose()


def test_the_db_commands_upgrade_and_report(tmp_path, twilio):
    env = {**os.environ, **gateway_env(f"sqlite:///{tmp_path / 'g.db'}", tmp_path, twilio)}
    db = Database(env["DATABASE_URL"])
    _legacy_database(db)

    def flask(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "none" in flask("current") and "db upgrade" in flask("current")
    assert f"database at revision {migrate.head()}" in flask("upgrade")
    assert flask("current").strip() == migrate.head()
    assert "0001" in flask("history")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT code FROM tickets ORDER BY id")).scalar() == "48213579"
    db.dispose()


def test_a_process_starts_without_its_database_and_serves_once_it_answers(twilio, tmp_path, redis_conn):
    """PostgreSQL down while gunicorn replaces a worker: the new one must boot, answer 500 (Twilio
    retries nothing, but never 200 for a message not stored) and /healthz 503."""
    from app import create_app
    from tests.conftest import Gateway

    down = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres?connect_timeout=2"
    app = create_app(gateway_env(down, tmp_path, twilio))
    gateway = Gateway(app, twilio)
    assert gateway.client.get("/healthz").status_code == 503
    assert gateway.sms("NTT jalan rusak", frm="+6281200001111").status_code == 500
    app.extensions["ingestor"].close()
    app.extensions["gateway"].db.dispose()


def test_a_schema_left_behind_stops_the_start_with_what_to_do(tmp_path, twilio):
    from app import create_app

    url = f"sqlite:///{tmp_path / 'g.db'}"
    _legacy_database(Database(url))
    with pytest.raises(migrate.SchemaBehind, match="flask --app app db upgrade"):
        create_app(gateway_env(url, tmp_path, twilio))
    assert not inspect(create_engine(url)).has_table("alembic_version")


def test_the_release_knows_its_newest_revision():
    """A start compares the database with migrate.HEAD without importing Alembic: a new migration
    must move HEAD with it."""
    assert migrate.HEAD == migrate.head(), "a migration was added: set store.migrate.HEAD to its revision"


def test_a_database_is_taken_over_by_the_tables_of_the_baseline(tmp_path):
    """The tables a database made before the migrations has are those of the baseline, not of today."""
    db = Database(f"sqlite:///{tmp_path / 'base.db'}")
    migrate.upgrade(db, migrate.BASELINE)
    with db.engine.connect() as conn:
        made = {t for t in inspect(conn).get_table_names() if t != "alembic_version" and not t.startswith("tickets_text")}
    db.dispose()
    assert made == migrate.BASELINE_TABLES


def test_a_start_at_the_newest_revision_does_not_import_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    migrate.upgrade(Database(url))
    code = ("import sys; from store import migrate; from store.db import Database; "
            f"migrate.ready(Database({url!r})); print('alembic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
