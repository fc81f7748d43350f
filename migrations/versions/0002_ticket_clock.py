"""The service standard's clock on each ticket: the pause while it waits for the citizen, the
stages' deadlines (verification, follow-up) and when it was answered; officers' phone numbers.

Revision ID: 0002
Revises: 0001
Created: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('paused_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('verify_due_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('follow_up_due_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('answered_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('officers') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=20), nullable=False, server_default=''))
    # What the history already says: a ticket waiting for the citizen since its last question, and
    # an answer sent (the first since the ticket was last opened again). The stages' deadlines of
    # tickets already under way are worked out when they are shown (working days are Python's).
    op.execute("UPDATE tickets SET paused_at = (SELECT max(e.created_at) FROM ticket_events e"
               " WHERE e.ticket_id = tickets.id AND e.action = 'tunda') WHERE state = 'ditunda'")
    op.execute("UPDATE tickets SET answered_at = (SELECT min(e.created_at) FROM ticket_events e"
               " WHERE e.ticket_id = tickets.id AND e.action = 'kirim' AND e.created_at >= coalesce("
               "(SELECT max(r.created_at) FROM ticket_events r WHERE r.ticket_id = tickets.id"
               " AND r.action = 'buka_kembali'), tickets.created_at)) WHERE state IN ('terkirim', 'selesai')")


def downgrade() -> None:
    with op.batch_alter_table('officers') as batch:
        batch.drop_column('phone')
    with op.batch_alter_table('tickets') as batch:
        for column in ('answered_at', 'follow_up_due_at', 'verify_due_at', 'paused_at'):
            batch.drop_column(column)
