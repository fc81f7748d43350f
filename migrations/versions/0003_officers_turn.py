"""Each officer's turn: the morning digests, the immediate notices and whether an officer wants them;
a one-time password an officer must change; a letter's scan attached at intake (no message of its own).

Revision ID: 0003
Revises: 0002
Created: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('officers') as batch:
        batch.add_column(sa.Column('notify', sa.Boolean(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default='0'))
    with op.batch_alter_table('attachments') as batch:
        batch.alter_column('inbound_id', existing_type=sa.Integer(), nullable=True)
    op.create_table('digests',
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('outbound_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], ),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_messages.id'], ),
    sa.PrimaryKeyConstraint('officer_id', 'day')
    )
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('outbound_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], ),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_messages.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_notice_officer', 'notices', ['officer_id', 'sent_at'], unique=False)
    op.create_index('ix_notice_waiting', 'notices', ['sent_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notice_waiting', table_name='notices')
    op.drop_index('ix_notice_officer', table_name='notices')
    op.drop_table('notices')
    op.drop_table('digests')
    with op.batch_alter_table('attachments') as batch:
        batch.alter_column('inbound_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('officers') as batch:
        batch.drop_column('must_change_password')
        batch.drop_column('notify')
