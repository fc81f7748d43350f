"""What a complaint is about: a ticket's category, a key of its agency's categories in service.toml;
its SP4N-LAPOR! tracking ID, and whether it is confidential (rahasia).

Revision ID: 0006
Revises: 0005
Created: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('category', sa.String(length=32), nullable=False, server_default=''))
        batch.add_column(sa.Column('lapor_id', sa.String(length=16), nullable=False, server_default=''))
        batch.add_column(sa.Column('confidential', sa.Boolean(), nullable=False, server_default='0'))
    op.create_index('ix_ticket_lapor', 'tickets', ['lapor_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ticket_lapor', table_name='tickets')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('confidential')
        batch.drop_column('lapor_id')
        batch.drop_column('category')
