"""The database handle: engine, sessions, schema creation."""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, literal, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import CreateIndex

log = logging.getLogger(__name__)


# The largest value of the schema's INTEGER columns (ids, counts) on every database: a number
# from outside (a form field, a URL) beyond it is no row's and no count's, and PostgreSQL and SQLite
# would refuse it in a query.
INT_MAX = 2**31 - 1


def as_int(value: str | None) -> int | None:
    """Read a non-negative whole number that fits an INTEGER column; None for anything else."""
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # ValueError too for a string of more than 4,300 digits
        return None
    return number if 0 <= number <= INT_MAX else None


def now() -> datetime:
    """Return the current UTC time, naive, as every timestamp is stored."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets the web processes read while a worker writes; busy_timeout makes
    # concurrent writers wait for the lock instead of failing at once.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Database:
    """One engine and session factory per process."""

    def __init__(self, url: str):
        self.url = url
        # hide_parameters: a failing statement's error (logged, and kept by RQ) must not carry
        # the citizen's number or text.
        if url.startswith("sqlite"):
            self.engine: Engine = create_engine(url, connect_args={"timeout": 10}, hide_parameters=True)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            # No JIT compilation (PostgreSQL's default is on): the gateway's queries take milliseconds,
            # but the planner's cost for the recap's subqueries over a month of tickets passes
            # jit_above_cost, and compiling took 0.54 s of its 0.59 (README, Performance). Options
            # given in DATABASE_URL come after, so they win.
            options = f"-c jit=off {make_url(url).query.get('options', '')}".strip()
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                                        hide_parameters=True, connect_args={"options": options})
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        file = self.engine.url.database if self.is_sqlite else None
        self.sqlite_file = Path(file) if file and file != ":memory:" else None
        # The web processes' ingest writers (and schema creation) of this machine take turns on a
        # file beside the database; other writers wait in SQLite's busy handler.
        self.write_lock = (_FileLock(self.sqlite_file.with_name(self.sqlite_file.name + ".lock"))
                           if self.sqlite_file else contextlib.nullcontext())

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_all(self) -> None:
        """Create missing tables, and the columns and indexes a later release added to tables that
        exist; several processes starting at once take turns."""
        if self.sqlite_file:
            self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            with self.write_lock, self.engine.begin() as conn:
                _create_all(conn)
            return
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(1708)"))
            _create_all(conn)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session whose work commits at the end, or rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _create_all(conn) -> None:
    from store.models import Base

    Base.metadata.create_all(conn)
    for table in Base.metadata.sorted_tables:  # create_all passes over a table that exists, indexes and all
        _add_missing_columns(conn, table)
        for index in table.indexes:
            conn.execute(CreateIndex(index, if_not_exists=True))
    if conn.dialect.name == "postgresql":
        _text_search_index(conn)
    elif conn.dialect.name == "sqlite":
        _sqlite_text_index(conn)


def _text_search_index(conn) -> None:
    """Index the tickets' text by trigrams (pg_trgm), so that the inbox's search for a word in no
    ticket is an index lookup, not a scan of every ticket of the agency (0.3 s for a million).

    Common words need no index (the queue's own finds a page of them at once); PostgreSQL
    chooses. Without the right to create the extension the search works, unindexed.
    """
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError as exc:
        log.warning("pg_trgm not available (%s): searching the tickets' text scans them", type(exc).__name__)
        return
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_ticket_body_trgm ON tickets USING gin (body gin_trgm_ops)"))


# The tickets' text by trigrams on SQLite (FTS5): a table of the index alone, its text read from
# tickets (content=), kept in step with every change by these triggers.
TEXT_INDEX = "tickets_text"
_TEXT_TRIGGERS = (
    f"CREATE TRIGGER IF NOT EXISTS {TEXT_INDEX}_insert AFTER INSERT ON tickets BEGIN"
    f" INSERT INTO {TEXT_INDEX} (rowid, body) VALUES (new.id, new.body); END",
    f"CREATE TRIGGER IF NOT EXISTS {TEXT_INDEX}_delete AFTER DELETE ON tickets BEGIN"
    f" INSERT INTO {TEXT_INDEX} ({TEXT_INDEX}, rowid, body) VALUES ('delete', old.id, old.body); END",
    f"CREATE TRIGGER IF NOT EXISTS {TEXT_INDEX}_update AFTER UPDATE OF body ON tickets BEGIN"
    f" INSERT INTO {TEXT_INDEX} ({TEXT_INDEX}, rowid, body) VALUES ('delete', old.id, old.body);"
    f" INSERT INTO {TEXT_INDEX} (rowid, body) VALUES (new.id, new.body); END",
)


def _sqlite_text_index(conn) -> None:
    """Index the tickets' text by trigrams (FTS5), as pg_trgm does on PostgreSQL: a word in few
    tickets is found from the index, not by reading every ticket of the agency (0.14-0.19 s for a
    million). A database made before it gets it built from its tickets (about 10 s a million).
    An SQLite without FTS5's trigrams (before 3.34) searches unindexed."""
    if sqlite3.sqlite_version_info < (3, 34) or "ENABLE_FTS5" not in {
            row[0] for row in conn.execute(text("PRAGMA compile_options"))}:
        log.warning("SQLite %s has no FTS5 trigrams: searching the tickets' text scans them", sqlite3.sqlite_version)
        return
    if not has_text_index(conn):
        conn.execute(text(f"CREATE VIRTUAL TABLE {TEXT_INDEX} USING fts5(body, content='tickets',"
                          " content_rowid='id', tokenize='trigram')"))
        conn.execute(text(f"INSERT INTO {TEXT_INDEX} ({TEXT_INDEX}) VALUES ('rebuild')"))
    for trigger in _TEXT_TRIGGERS:
        conn.execute(text(trigger))


def has_text_index(conn) -> bool:
    """Whether this SQLite database (a connection or a session on it) has the trigram index."""
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": TEXT_INDEX}).first() is not None


def _add_missing_columns(conn, table) -> None:
    """Add the columns a later release gave a table that exists; each must have a default.

    A change to a column that exists (its type, a constraint) is beyond this: it needs a migration.
    """
    present = {column["name"] for column in inspect(conn).get_columns(table.name)}
    for column in table.columns:
        if column.name in present:
            continue
        default = column.default.arg if column.default is not None and column.default.is_scalar else None
        if default is None and not column.nullable:
            raise RuntimeError(f"table {table.name} lacks column {column.name}, which has no default:"
                               " migrate by hand")
        sql = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(conn.dialect)}"
        if default is not None:
            value = literal(default, column.type).compile(dialect=conn.dialect,
                                                          compile_kwargs={"literal_binds": True})
            sql += f" DEFAULT {value}" + ("" if column.nullable else " NOT NULL")
        conn.execute(text(sql))


class _FileLock:
    """One holder at a time among this machine's processes and threads.

    A writer that finds SQLite locked sleeps in its busy handler, 1 ms and then longer steps;
    one waiting here is woken the moment the lock is free.
    """

    def __init__(self, path: Path):
        self.path = path
        self._threads = threading.Lock()  # flock() does not exclude threads sharing a descriptor
        self._fd: int | None = None
        self._pid: int | None = None

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._pid != os.getpid():  # a forked child opens its own, or it would share the parent's lock
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()
