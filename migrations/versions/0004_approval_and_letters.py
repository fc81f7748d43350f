"""Approval up the hierarchy: the level a head approves at and a draft waits at; an officer's position;
the answer letters and their numbers.

Revision ID: 0004
Revises: 0003
Created: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('officers') as batch:
        batch.add_column(sa.Column('position', sa.String(length=120), nullable=False, server_default=''))
        batch.add_column(sa.Column('approval_level', sa.String(length=32), nullable=False, server_default=''))
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('approval_level', sa.String(length=32), nullable=False, server_default=''))
    op.create_table('letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('approver_name', sa.String(length=120), nullable=False),
    sa.Column('approver_position', sa.String(length=120), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_letter_number', 'letters', ['agency', 'year', 'seq'], unique=True)
    op.create_index(op.f('ix_letters_ticket_id'), 'letters', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_letters_ticket_id'), table_name='letters')
    op.drop_index('ix_letter_number', table_name='letters')
    op.drop_table('letters')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('approval_level')
    with op.batch_alter_table('officers') as batch:
        batch.drop_column('approval_level')
        batch.drop_column('position')
