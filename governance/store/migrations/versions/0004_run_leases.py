"""Run leases: who executes a run, and until when their claim holds.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 04:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply the revision."""
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_run_requested_by'), ['requested_by'], unique=False)


def downgrade() -> None:
    """Revert the revision."""
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_requested_by'))
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('lease_owner')
