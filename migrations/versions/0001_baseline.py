"""The schema as create_all made it before the migrations (d56d722), with the tickets' text indexes.

Revision ID: 0001
Revises:
Created: 2026-12-07
"""
import logging
import sqlite3

import sqlalchemy as sa
from alembic import op

log = logging.getLogger("alembic.runtime.migration")

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('canned_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_canned_replies_agency'), 'canned_replies', ['agency'], unique=False)
    op.create_table('contacts',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('phone')
    )
    op.create_table('officers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('roles', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_index(op.f('ix_officers_agency'), 'officers', ['agency'], unique=False)
    op.create_table('state_counts',
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency', 'state')
    )
    op.create_table('whatsapp_windows',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('line_address', sa.String(length=64), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('phone', 'line_address')
    )
    op.create_table('login_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_login_sessions_officer_id'), 'login_sessions', ['officer_id'], unique=False)
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('line_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('citizen_address', sa.String(length=64), nullable=False),
    sa.Column('line_address', sa.String(length=64), nullable=False),
    sa.Column('citizen_name', sa.String(length=120), nullable=False),
    sa.Column('citizen_home', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('last_inbound_at', sa.DateTime(), nullable=True),
    sa.Column('new_since', sa.DateTime(), nullable=True),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('held_state', sa.String(length=24), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('instruction', sa.Text(), nullable=False),
    sa.Column('draft', sa.Text(), nullable=False),
    sa.Column('draft_author_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['officers.id'], ),
    sa.ForeignKeyConstraint(['assignee_id'], ['officers.id'], ),
    sa.ForeignKeyConstraint(['draft_author_id'], ['officers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index('ix_ticket_assignee', 'tickets', ['assignee_id', 'due_at', 'id'], unique=False)
    op.create_index('ix_ticket_open_queue', 'tickets', ['agency', 'is_open', 'due_at', 'id'], unique=False)
    op.create_index('ix_ticket_queue', 'tickets', ['agency', 'state', 'due_at', 'id'], unique=False)
    op.create_index('ix_ticket_received', 'tickets', ['agency', 'created_at'], unique=False)
    op.create_index('ix_ticket_resend', 'tickets', ['phone', 'body_hash', 'created_at'], unique=False)
    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=False),
    sa.Column('account_sid', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('from_address', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('to_address', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('num_media', sa.Integer(), nullable=False),
    sa.Column('profile_name', sa.String(length=120), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('queued_at', sa.DateTime(), nullable=True),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('intent', sa.String(length=32), nullable=False),
    sa.Column('line_id', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_sid')
    )
    op.create_index(op.f('ix_inbound_messages_ticket_id'), 'inbound_messages', ['ticket_id'], unique=False)
    op.create_index('ix_inbound_unprocessed', 'inbound_messages', ['processed_at', 'queued_at'], unique=False)
    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=False),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_event_action', 'ticket_events', ['action', 'agency'], unique=False)
    op.create_index(op.f('ix_ticket_events_ticket_id'), 'ticket_events', ['ticket_id'], unique=False)
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=255), nullable=False),
    sa.Column('stored_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_messages.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_attachments_inbound_id'), 'attachments', ['inbound_id'], unique=False)
    op.create_index(op.f('ix_attachments_ticket_id'), 'attachments', ['ticket_id'], unique=False)
    op.create_table('outbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('to_address', sa.String(length=64), nullable=False),
    sa.Column('from_address', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('content_sid', sa.String(length=64), nullable=False),
    sa.Column('content_variables', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_rank', sa.Integer(), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.String(length=16), nullable=False),
    sa.Column('error_message', sa.String(length=255), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('unsure_since', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_messages.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('provider_sid')
    )
    op.create_index(op.f('ix_outbound_messages_ticket_id'), 'outbound_messages', ['ticket_id'], unique=False)
    op.create_index('ix_outbound_status', 'outbound_messages', ['status', 'updated_at'], unique=False)
    op.create_index('ix_outbound_to', 'outbound_messages', ['to_address', 'created_at'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _trigram_index(bind)
    elif bind.dialect.name == "sqlite":
        _sqlite_text_index(bind)


def _trigram_index(bind) -> None:
    """Index the tickets' text by trigrams (pg_trgm), so that the inbox's search for a word in no
    ticket is an index lookup, not a scan of every ticket of the agency (0.3 s for a million).
    Without the right to create the extension the search works, unindexed."""
    try:
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm not available (%s): searching the tickets' text scans them", type(exc).__name__)
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_ticket_body_trgm ON tickets USING gin (body gin_trgm_ops)")


def _sqlite_text_index(bind) -> None:
    """The same on SQLite (FTS5 trigrams, 3.34 and later): a table of the index alone, its text read
    from tickets (content=), kept in step with every change by triggers."""
    if sqlite3.sqlite_version_info < (3, 34) or "ENABLE_FTS5" not in {
            row[0] for row in bind.exec_driver_sql("PRAGMA compile_options")}:
        log.warning("SQLite %s has no FTS5 trigrams: searching the tickets' text scans them", sqlite3.sqlite_version)
        return
    op.execute("CREATE VIRTUAL TABLE IF NOT EXISTS tickets_text USING fts5(body, content='tickets',"
               " content_rowid='id', tokenize='trigram')")
    op.execute("INSERT INTO tickets_text (tickets_text) VALUES ('rebuild')")
    op.execute("CREATE TRIGGER IF NOT EXISTS tickets_text_insert AFTER INSERT ON tickets BEGIN"
               " INSERT INTO tickets_text (rowid, body) VALUES (new.id, new.body); END")
    op.execute("CREATE TRIGGER IF NOT EXISTS tickets_text_delete AFTER DELETE ON tickets BEGIN"
               " INSERT INTO tickets_text (tickets_text, rowid, body) VALUES ('delete', old.id, old.body); END")
    op.execute("CREATE TRIGGER IF NOT EXISTS tickets_text_update AFTER UPDATE OF body ON tickets BEGIN"
               " INSERT INTO tickets_text (tickets_text, rowid, body) VALUES ('delete', old.id, old.body);"
               " INSERT INTO tickets_text (rowid, body) VALUES (new.id, new.body); END")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS tickets_text")  # its triggers go with tickets
    op.execute("DROP INDEX IF EXISTS ix_ticket_body_trgm")
    op.drop_index('ix_outbound_to', table_name='outbound_messages')
    op.drop_index('ix_outbound_status', table_name='outbound_messages')
    op.drop_index(op.f('ix_outbound_messages_ticket_id'), table_name='outbound_messages')
    op.drop_table('outbound_messages')
    op.drop_index(op.f('ix_attachments_ticket_id'), table_name='attachments')
    op.drop_index(op.f('ix_attachments_inbound_id'), table_name='attachments')
    op.drop_table('attachments')
    op.drop_index(op.f('ix_ticket_events_ticket_id'), table_name='ticket_events')
    op.drop_index('ix_event_action', table_name='ticket_events')
    op.drop_table('ticket_events')
    op.drop_index('ix_inbound_unprocessed', table_name='inbound_messages')
    op.drop_index(op.f('ix_inbound_messages_ticket_id'), table_name='inbound_messages')
    op.drop_table('inbound_messages')
    op.drop_index('ix_ticket_resend', table_name='tickets')
    op.drop_index('ix_ticket_received', table_name='tickets')
    op.drop_index('ix_ticket_queue', table_name='tickets')
    op.drop_index('ix_ticket_open_queue', table_name='tickets')
    op.drop_index('ix_ticket_assignee', table_name='tickets')
    op.drop_table('tickets')
    op.drop_index(op.f('ix_login_sessions_officer_id'), table_name='login_sessions')
    op.drop_table('login_sessions')
    op.drop_table('whatsapp_windows')
    op.drop_table('state_counts')
    op.drop_index(op.f('ix_officers_agency'), table_name='officers')
    op.drop_table('officers')
    op.drop_table('contacts')
    op.drop_index(op.f('ix_canned_replies_agency'), table_name='canned_replies')
    op.drop_table('canned_replies')
