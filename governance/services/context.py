"""One service instance's collaborators: settings, database engine, artifact store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from governance.core.config import Settings, get_settings
from governance.store.artifacts import ArtifactStore
from governance.store.db import get_engine, session_scope


@dataclass
class Governance:
    """Everything a command or request needs; build it with ``Governance.open()``."""

    settings: Settings
    engine: Engine
    artifacts: ArtifactStore

    @classmethod
    def open(cls, settings: Settings | None = None) -> Governance:
        """Open (and migrate) the store that ``settings`` point at."""
        settings = settings or get_settings()
        settings.home.mkdir(parents=True, exist_ok=True)
        return cls(
            settings=settings,
            engine=get_engine(settings.resolved_database_url),
            artifacts=ArtifactStore(settings.artifacts_dir),
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: commits on success, rolls back on error."""
        with session_scope(self.engine) as session:
            yield session

    @property
    def plots_dir(self) -> Path:
        """Where frontier plots are written (named by run id)."""
        return self.settings.home / "plots"
