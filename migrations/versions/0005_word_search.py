"""The queue's search by words, and every ticket ("semua") by deadline on an index of its own.

Full text on both databases, words and their beginnings. PostgreSQL: the words of the text, stored
beside it (to_tsvector 'simple', a generated column), under a GIN index in place of pg_trgm's trigrams. SQLite: the FTS5 table of the tickets'
text (tickets_text) by words (unicode61, case folded), the beginnings of two and three letters
indexed, in place of its trigrams; kept in step with tickets by triggers.

Revision ID: 0005
Revises: 0004
Created: 2026-12-08
"""
import logging
import sqlite3

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
_TRIGGERS = ("tickets_text_insert", "tickets_text_delete", "tickets_text_update")


def upgrade() -> None:
    op.create_index("ix_ticket_all_queue", "tickets", ["agency", "due_at", "id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_ticket_body_trgm")
        # Words as runs of letters and digits, as FTS5 has them: PostgreSQL's own parser would keep
        # "Jl.Sudirman" and "No.12" whole. Stored: checking a ticket's words then costs a microsecond,
        # not the ten of making them (store/queries.py reads the queue's first tickets so).
        op.execute("ALTER TABLE tickets ADD COLUMN body_words tsvector GENERATED ALWAYS AS"
                   " (to_tsvector('simple'::regconfig, regexp_replace(body, '[^[:alnum:]]+', ' ', 'g'))) STORED")
        op.execute("CREATE INDEX ix_ticket_body_words ON tickets USING gin (body_words)")
    elif bind.dialect.name == "sqlite":
        if "ENABLE_FTS5" not in {row[0] for row in bind.exec_driver_sql("PRAGMA compile_options")}:
            log.warning("SQLite %s has no FTS5: searching the tickets' text scans them", sqlite3.sqlite_version)
            return
        _sqlite_index("tokenize='unicode61 remove_diacritics 2', prefix='2 3'")


def _sqlite_index(options: str) -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS tickets_text")
    op.execute(f"CREATE VIRTUAL TABLE tickets_text USING fts5(body, content='tickets', content_rowid='id', {options})")
    op.execute("INSERT INTO tickets_text (tickets_text) VALUES ('rebuild')")
    op.execute("CREATE TRIGGER tickets_text_insert AFTER INSERT ON tickets BEGIN"
               " INSERT INTO tickets_text (rowid, body) VALUES (new.id, new.body); END")
    op.execute("CREATE TRIGGER tickets_text_delete AFTER DELETE ON tickets BEGIN"
               " INSERT INTO tickets_text (tickets_text, rowid, body) VALUES ('delete', old.id, old.body); END")
    op.execute("CREATE TRIGGER tickets_text_update AFTER UPDATE OF body ON tickets BEGIN"
               " INSERT INTO tickets_text (tickets_text, rowid, body) VALUES ('delete', old.id, old.body);"
               " INSERT INTO tickets_text (rowid, body) VALUES (new.id, new.body); END")


def downgrade() -> None:
    op.drop_index("ix_ticket_all_queue", table_name="tickets")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_ticket_body_words")
        op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS body_words")
        if bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first():
            op.execute("CREATE INDEX IF NOT EXISTS ix_ticket_body_trgm ON tickets USING gin (body gin_trgm_ops)")
    elif bind.dialect.name == "sqlite" and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'tickets_text'").first():
        _sqlite_index("tokenize='trigram'")
