"""Alembic environment: runs on the connection handed over by ``governance.store.db``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import governance.store.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` CLI use: build an engine from the settings
    from governance.core.config import get_settings
    from governance.store.db import make_engine

    connection = make_engine(get_settings().resolved_database_url).connect()

context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
