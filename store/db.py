"""The database handle: engine and sessions (the schema: store/migrate.py)."""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker


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
            # jit_above_cost, and compiling took 0.54 s of its 0.59 (bench/README.md). Options
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

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session whose work commits at the end, or rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """Yield a connection on which each statement commits by itself: for a single statement, two
        round trips fewer than a transaction (no BEGIN, no COMMIT)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()


# The tickets' text by words on SQLite (FTS5), made by the migrations where SQLite has FTS5 (0005).
TEXT_INDEX = "tickets_text"


def has_text_index(conn) -> bool:
    """Whether this SQLite database (a connection or a session on it) has the text index."""
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": TEXT_INDEX}).first() is not None


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
