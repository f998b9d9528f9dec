"""Dataset budgets, grants and budget reservations.

The privacy budget becomes a property of the dataset (``dataset.budget_epsilon``).
Datasets registered before this revision get the bundled default policy's
``max_total_epsilon`` (40), which their owner or an admin can change. ``datasetgrant``
lets an owner share a dataset with another key; ``budgetreservation`` holds a run's
grid from submission until each candidate is charged or released.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None

#: ``max_total_epsilon`` of the bundled default policy, for datasets registered before.
LEGACY_BUDGET_EPSILON = 40.0


def upgrade() -> None:
    """Apply the revision."""
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('budget_epsilon', sa.Float(), nullable=False,
                                      server_default=sa.text(repr(LEGACY_BUDGET_EPSILON))))
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.alter_column('budget_epsilon', server_default=None)

    op.create_table('datasetgrant',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('dataset_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('grantee', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('granted_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dataset_id', 'grantee')
    )
    with op.batch_alter_table('datasetgrant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_datasetgrant_dataset_id'), ['dataset_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_datasetgrant_grantee'), ['grantee'], unique=False)

    op.create_table('budgetreservation',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('dataset_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('epsilon', sa.Float(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('settled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('budgetreservation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budgetreservation_dataset_id'), ['dataset_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_budgetreservation_run_id'), ['run_id'],
                              unique=False)


def downgrade() -> None:
    """Revert the revision."""
    with op.batch_alter_table('budgetreservation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budgetreservation_run_id'))
        batch_op.drop_index(batch_op.f('ix_budgetreservation_dataset_id'))
    op.drop_table('budgetreservation')
    with op.batch_alter_table('datasetgrant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_datasetgrant_grantee'))
        batch_op.drop_index(batch_op.f('ix_datasetgrant_dataset_id'))
    op.drop_table('datasetgrant')
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.drop_column('budget_epsilon')
