"""The queue's search by words: indexed full text on both databases (PostgreSQL's to_tsvector, SQLite's
FTS5), each word or a word it begins, whatever the case; in step with every change of a ticket's text."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, text

from store import migrate, queries
from store.db import Database
from store.models import Ticket

MADE = datetime(2026, 12, 1)
BODIES = ["Lampu jalan mati di Oesapa", "Jalan rusak di Kolhua, perjalanan sulit", "air PDAM keruh di oesapa RT 12",
          "potongan 50%_bansos", "Jalanan berlubang",
          "Surat a.n. Yohanes: bantuan belum cair, Jl.Sudirman No.7"]


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    migrate.upgrade(database)
    with database.transaction() as s:
        for i, body in enumerate(BODIES):
            s.add(Ticket(code=f"1000000{i}", agency="biro-organisasi", channel="sms", kind="pengaduan", body=body,
                         created_at=MADE, due_at=MADE + timedelta(hours=i), is_open=True))
    yield database
    database.dispose()


def _found(db, q: str, state: str = "") -> list[str]:
    with db.sessions() as s:
        return [r.excerpt for r in queries.queue_page(s, queries.QueueFilter("biro-organisasi", state=state, q=q))]


# Each way to the same tickets. SQLite: the matches by their ids, or the queue checked against the set of
# them. PostgreSQL: the first tickets of the queue checked, or the matches from the index.
@pytest.mark.parametrize("many, chunk", [(queries.MANY, queries.CHUNK), (1, 1)])
def test_words_and_their_beginnings_whatever_the_case(db, monkeypatch, many, chunk):
    monkeypatch.setattr(queries, "MANY", many)
    monkeypatch.setattr(queries, "CHUNK", chunk)
    assert _found(db, "OESAPA") == [BODIES[0], BODIES[2]]
    assert _found(db, "jalan oesapa") == [BODIES[0]]  # every word
    assert _found(db, "jalan") == [BODIES[0], BODIES[1], BODIES[4]]  # and words it begins: Jalanan
    assert _found(db, "di") == BODIES[:3]  # two letters
    assert _found(db, "j") == [] and _found(db, "rt 1") == []  # one letter or digit is a word of its own
    assert _found(db, "rt 12") == [BODIES[2]] and _found(db, "air 12 di") == [BODIES[2]]
    assert _found(db, "a") == [BODIES[5]] and _found(db, "sudirman 7") == [BODIES[5]]  # Jl.Sudirman No.7
    assert _found(db, "bansos") == [BODIES[3]] and _found(db, "50%_") == [BODIES[3]]  # what is no word is left out
    assert _found(db, "%_") == [] and _found(db, "Lembata") == [] and _found(db, "qz") == []
    assert _found(db, "lanan") == []  # a word's middle is not a word
    assert _found(db, "oesapa", state="semua") == [BODIES[0], BODIES[2]]


def test_the_index_follows_every_change_of_the_text(db):
    with db.transaction() as s:  # the rest of a request, added to its text
        s.get(Ticket, 2).body += "\nsejak minggu lalu di Oesapa"
    assert _found(db, "oesapa") == [BODIES[0], BODIES[1] + " / sejak minggu lalu di Oesapa", BODIES[2]]
    with db.transaction() as s:
        s.execute(delete(Ticket).where(Ticket.id == 1))
    assert _found(db, "lampu") == [] and len(_found(db, "oesapa")) == 2


def test_the_search_is_answered_by_the_index(db):
    """The query's expression is the index's: PostgreSQL looks the words up in it; SQLite's FTS5 table
    answers MATCH."""
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))
            with db.sessions(bind=conn) as s:
                query = queries._QUEUE_ROW.where(queries._search(s, "oesapa keruh").condition)
                compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
                plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {compiled}").scalars())
            assert "ix_ticket_body_words" in plan, plan
            assert conn.execute(text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_ticket_body_trgm'")
                                ).scalar() == 0  # the trigrams are gone with their cost on every write
        else:
            assert conn.execute(text("SELECT rowid FROM tickets_text WHERE tickets_text MATCH 'keruh'")
                                ).scalars().all() == [3]
