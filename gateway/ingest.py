"""Make an inbound message safe: store it once, queue it, nothing slow.

Concurrent webhooks in one process are written together (group commit): one
statement (which commits itself) and one Redis command for all the messages that
arrived while the previous batch was being written. Each request still waits until
its own message is committed before it answers 200. Nothing here parses more than
the envelope: the worker reads the number and the text.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone

from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import Connection

from gateway.provider import Provider
from parsers.phone import mask, split_address
from store.db import Database, as_int, now
from store.models import InboundMessage
from store.queues import Queues

log = logging.getLogger(__name__)
MAX_BATCH = 64
WAIT_SECONDS = 10.0


class DatabaseUnreachable(Exception):
    """The database dropped the writer's connection and a new one failed too: no row of the batch is stored."""


@dataclass(frozen=True)
class Ingested:
    inbound_id: int | None  # None: a repeated delivery of a message already stored
    queued: bool


@dataclass
class _Pending:
    row: dict
    done: threading.Event = field(default_factory=threading.Event)
    result: Ingested | None = None
    error: BaseException | None = None


def inbound_row(params: Mapping[str, str], received_at: datetime | None = None) -> dict:
    """Turn a provider's form fields into an inbound_messages row (all fields kept in params);
    received_at: when the provider received it, for a message stored late (naive UTC; default now).

    NUL characters, which no phone sends as text and PostgreSQL's text cannot hold, are dropped,
    from names and values alike; a NumMedia that is no count of files (or too large to store) is absent.
    """
    if any("\x00" in name or "\x00" in value for name, value in params.items()):
        params = {name.replace("\x00", ""): value.replace("\x00", "") for name, value in params.items()}
    sender = params.get("From", "")
    stamp = now()
    return dict(
        message_sid=(params.get("MessageSid") or params.get("SmsMessageSid") or "")[:64],
        account_sid=params.get("AccountSid", "")[:64],
        channel=split_address(sender)[0],
        from_address=sender[:64],
        to_address=params.get("To", "")[:64],
        body=params.get("Body", ""),
        num_media=as_int(params.get("NumMedia")) or 0,
        profile_name=params.get("ProfileName", "")[:120],
        params=dict(params),
        received_at=received_at or stamp,
        queued_at=stamp,  # optimistic, so the happy path commits once; cleared if Redis fails
        attempts=1,
        intent="",
        line_id="",
    )


# The columns the ingest writer fills (every one the model gives a default), in order.
_COLUMNS = tuple(inbound_row({}))
_TABLE = InboundMessage.__tablename__
_COLUMN_LIST = ", ".join(_COLUMNS)
_SKIP_REPEATS = " ON CONFLICT (message_sid) DO NOTHING RETURNING id, message_sid"
# PostgreSQL: the whole batch as one JSON parameter, so the statement is one text for every batch
# size, which psycopg keeps parsed and prepared. With a parameter per value (14 a row) psycopg
# parsed the text anew for every batch over 50 values: 200 us of CPU for five rows, this 70 us.
_PG_INSERT = (f"INSERT INTO {_TABLE} ({_COLUMN_LIST}) SELECT {_COLUMN_LIST}"
              f" FROM json_populate_recordset(NULL::{_TABLE}, %s)" + _SKIP_REPEATS)


@functools.lru_cache(maxsize=None)
def _sqlite_insert(count: int) -> str:
    """INSERT of count rows (SQLite binds values in C: a parameter per value is its fastest way)."""
    row = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    return f"INSERT INTO {_TABLE} ({_COLUMN_LIST}) VALUES {', '.join([row] * count)}" + _SKIP_REPEATS


def _timestamp(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")


def _statement(rows: list[dict], sqlite: bool) -> tuple[str, tuple]:
    """The driver's own SQL and parameters that insert the rows, skipping MessageSids already stored.

    Stored the way SQLAlchemy's types store them (tests/test_ingest.py compares the two);
    not SQLAlchemy's many-row INSERT, whose named parameters cost more than the insert.
    """
    if not sqlite:
        return _PG_INSERT, (json.dumps(rows, default=_timestamp),)
    values = []
    for row in rows:
        for name in _COLUMNS:
            value = row[name]
            if name == "params":
                value = json.dumps(value)
            elif isinstance(value, datetime):
                value = _timestamp(value)
            values.append(value)
    return _sqlite_insert(len(rows)), tuple(values)


class Ingestor:
    """Store inbound messages (unique by MessageSid) and queue their processing."""

    def __init__(self, db: Database, queues: Queues):
        self.db = db
        self.queues = queues
        self._inbox: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()  # None: stop
        self._writer: threading.Thread | None = None
        self._writer_pid: int | None = None
        self._start_lock = threading.Lock()
        self._conn: Connection | None = None  # the writer's own, kept between batches

    def ingest(self, params: Mapping[str, str], received_at: datetime | None = None) -> Ingested:
        """Store one message and queue it; return once it is committed."""
        self._ensure_writer()
        pending = _Pending(inbound_row(params, received_at))
        self._inbox.put(pending)
        if not pending.done.wait(WAIT_SECONDS):
            raise TimeoutError("inbound message not stored in time")
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _ensure_writer(self) -> None:
        # Started on first use in each process: gunicorn forks after create_app().
        if self._writer_pid == os.getpid():
            return
        with self._start_lock:
            if self._writer_pid != os.getpid():
                self._inbox = queue.SimpleQueue()
                self._conn = None  # the parent's connection is not this process's to use
                self._writer = threading.Thread(target=self._write_forever, name="ingest-writer", daemon=True)
                self._writer.start()
                self._writer_pid = os.getpid()

    def close(self) -> None:
        """Stop this process's writer after what it holds, and close its connection (an app that
        goes away before its process does, as in the tests, would keep one open otherwise)."""
        if self._writer_pid == os.getpid() and self._writer is not None:
            self._inbox.put(None)
            self._writer.join(WAIT_SECONDS)
            self._writer_pid = self._writer = None
        elif self._conn is not None:
            self._conn.close()
            self._conn = None

    def _write_forever(self) -> None:
        stopping = False
        while not stopping:
            first = self._inbox.get()
            if first is None:
                break
            batch = [first]
            time.sleep(0)  # a turn for the requests under way to reach the queue: bigger batches
            while len(batch) < MAX_BATCH:
                try:
                    pending = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if pending is None:
                    stopping = True
                    break
                batch.append(pending)
            try:
                self._write(batch)
            except BaseException as exc:  # handed to each waiting request, which answers 500
                for pending in batch:
                    pending.error = exc
            finally:
                for pending in batch:
                    pending.done.set()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _store(self, rows: list[dict]) -> dict[str, int]:
        """Insert the rows in one statement that commits itself; return {MessageSid: id} of the new ones.

        The writer keeps its connection (no pool checkout or pre-ping per batch), so a connection
        the database dropped (a restart) is found here: the batch is tried once more on a new one.
        The statement runs on the driver's own cursor: SQLAlchemy's execution and result objects
        cost about 50 us a batch in a web process, a tenth of a small batch's CPU (bench/README.md,
        Performance). So the errors are the driver's, told apart by the dialect as SQLAlchemy would.
        """
        statement = _statement(rows, self.db.is_sqlite)  # before the lock, which other processes wait for
        dialect = self.db.engine.dialect
        for last_try in (False, True):
            if self._conn is None:
                try:
                    self._conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                except DBAPIError as exc:
                    raise DatabaseUnreachable(type(exc.orig).__name__) from exc
            try:
                with closing(self._conn.connection.cursor()) as cursor, self.db.write_lock:
                    cursor.execute(*statement)
                    return {sid: row_id for row_id, sid in cursor.fetchall()}
            except dialect.loaded_dbapi.Error as exc:
                if not dialect.is_disconnect(exc, self._conn.connection.dbapi_connection, None):
                    raise
                self._conn.invalidate()
                self._conn.close()
                self._conn = None
                if last_try:
                    raise DatabaseUnreachable(type(exc).__name__) from exc
                log.warning("inbound: database connection lost, writing the batch again on a new one")

    def _write(self, batch: list[_Pending]) -> None:
        try:
            stored = self._store([p.row for p in batch])
        except DatabaseUnreachable:
            raise
        except Exception:  # the driver's or the database's refusal of a value (SQLite: OverflowError)
            if len(batch) == 1:
                raise
            # A row the database refuses must not cost the others theirs: each is written alone,
            # and only the refused one's request fails.
            log.warning("inbound: the database refused a batch of %d, writing each alone", len(batch))
            for pending in batch:
                try:
                    self._write([pending])
                except Exception as exc:
                    pending.error = exc
            return
        new_ids = []
        for pending in batch:
            # A repeated MessageSid inside one batch: the first one is the message, the rest repeats.
            row_id = stored.pop(pending.row["message_sid"], None)
            pending.result = Ingested(row_id, row_id is not None)
            if row_id is not None:
                new_ids.append(row_id)
            else:
                log.info("inbound %s: repeated delivery, ignored", pending.row["message_sid"])
        if not new_ids:
            return
        try:
            self.queues.inbound_stored(*new_ids)
        except RedisError as exc:
            # The rows are the record: the sweeper queues them once Redis answers again.
            with self.db.engine.begin() as conn:
                conn.execute(update(InboundMessage).where(InboundMessage.id.in_(new_ids))
                             .values(queued_at=None, attempts=0))
            for pending in batch:
                if pending.result.inbound_id is not None:
                    pending.result = Ingested(pending.result.inbound_id, False)
            log.warning("inbound %s stored, not queued (%s)", new_ids, type(exc).__name__)
            return
        if log.isEnabledFor(logging.INFO):
            for pending in batch:
                if pending.result.inbound_id is not None:
                    log.info("inbound %s from %s stored and queued", pending.row["message_sid"],
                             mask(pending.row["from_address"]))


def backfill(ingestor: Ingestor, provider: Provider, since: datetime) -> tuple[int, int]:
    """Store and queue the messages the provider received since then that were never stored
    (the webhook was down or refused them); return how many it listed and how many were missing."""
    listed = stored = 0
    for fields in provider.received_since(since):
        listed += 1
        # Deadlines count from when the citizen's message arrived, not from now.
        sent = datetime.fromisoformat(fields["DateSent"]).astimezone(timezone.utc).replace(tzinfo=None) \
            if fields.get("DateSent") else None
        stored += ingestor.ingest(fields, sent).inbound_id is not None  # a MessageSid stored before is skipped
    return listed, stored
