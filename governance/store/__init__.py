"""Persistence: SQLModel tables, engines and sessions, content-addressed artifacts."""

from governance.store.artifacts import ArtifactStore
from governance.store.db import dispose_engines, get_engine, make_engine, migrate, session_scope

__all__ = ["ArtifactStore", "dispose_engines", "get_engine", "make_engine", "migrate",
           "session_scope"]
