"""The schema's migrations (Alembic, migrations/): upgrade, and what a starting process checks.

Every change to the schema is a migration; `flask --app app db upgrade` applies them. Processes that
upgrade at once take turns (a PostgreSQL advisory lock, the SQLite file's lock): one upgrades, the
others then find nothing to do. A database made before the migrations (by create_all) is recognised
by its tables and taken over at the first revision, which is its schema.

Alembic is imported only to change or describe the schema: a process that starts on a schema at
this release's revision (HEAD) reads one row, and spares the 12 MB Alembic costs a process.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from store.db import Database

log = logging.getLogger(__name__)

FOLDER = Path(__file__).resolve().parent.parent / "migrations"
HEAD = "0006"  # this release's revision: the newest migration's (tests/test_migrations.py checks)
BASELINE = "0001"  # the schema create_all made before the migrations
# Its tables: a database that has them all was made by the gateway before the migrations.
BASELINE_TABLES = frozenset({"attachments", "canned_replies", "contacts", "inbound_messages", "login_sessions",
                             "officers", "outbound_messages", "state_counts", "ticket_events", "tickets",
                             "whatsapp_windows"})
LOCK = 1708  # PostgreSQL advisory lock of schema changes
# The tickets' text indexes are made by the migrations' own SQL (0005: FTS5 on SQLite, full text on
# PostgreSQL; the baseline's trigrams before), outside the models: the comparison passes over them.
UNMODELLED = ("tickets_text", "ix_ticket_body_trgm", "ix_ticket_body_words", "body_words")


def include_name(name: str | None, type_: str, _parents) -> bool:
    return not (name and name.startswith(UNMODELLED))


def config(connection: Connection | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(FOLDER))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest migration's revision, as Alembic reads the folder."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def current(connection: Connection) -> str | None:
    """The database's revision; None for a database without the migrations' table."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_empty(connection: Connection) -> bool:
    return not inspect(connection).get_table_names()


@contextmanager
def _locked(db: Database) -> Iterator[Connection]:
    """A transaction that alone may change the schema among this database's processes."""
    if db.sqlite_file:
        db.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    with db.write_lock, db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
        yield conn


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to the revision; a database made before the migrations is taken over first."""
    from alembic import command

    with _locked(db) as conn:
        if current(conn) is None and not is_empty(conn):
            _take_over(conn)
        command.upgrade(config(conn), revision)


def _take_over(conn: Connection) -> None:
    """Mark a database made by create_all as at the baseline, after checking it has its tables."""
    from alembic import command

    missing = BASELINE_TABLES - set(inspect(conn).get_table_names())
    if missing:
        raise RuntimeError(f"the database has tables but not {', '.join(sorted(missing))}: it is not this"
                           " gateway's, or older than any release that can be upgraded")
    log.warning("database made before the migrations: taken over at revision %s", BASELINE)
    command.stamp(config(conn), BASELINE)


class SchemaBehind(RuntimeError):
    pass


def ready(db: Database) -> None:
    """What a starting process does: upgrade an empty database (a first start), refuse one that is
    behind this release (an upgrade is a step of its own: docs/operations.md), change nothing else.
    It looks under the lock, as another process may be making the schema (or, on SQLite, switching a
    new file to WAL, which fails a connection opened meanwhile)."""
    with _locked(db) as conn:
        if is_empty(conn):
            from alembic import command

            command.upgrade(config(conn), "head")
            log.info("an empty database: its schema made, at revision %s", HEAD)
            return
        revision = current(conn)
    if revision != HEAD:
        raise SchemaBehind(f"the database's schema is at revision {revision or 'before the migrations'},"
                           f" this release needs {HEAD}: run `flask --app app db upgrade` first")


def history() -> None:
    from alembic import command

    command.history(config())


def revision(db: Database, message: str) -> None:
    from alembic import command

    with db.engine.begin() as conn:
        command.revision(config(conn), message=message, autogenerate=True)
