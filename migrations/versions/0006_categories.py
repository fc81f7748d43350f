"""What a complaint is about: a ticket's category, a key of its agency's categories in service.toml.

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


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('category')
