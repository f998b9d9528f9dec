"""One service instance's collaborators: settings, database, artifacts, lineage sinks.

Everything a service function needs arrives through ``Governance``; nothing below the
services reads settings or the environment. Tests inject their own collaborators
(``Governance.open(settings, lineage_sinks=[...])``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from governance.core.config import Settings, get_settings
from governance.lineage.sinks import FileSink, HttpSink, LineageSink
from governance.store.artifacts import ArtifactStore
from governance.store.db import (
    PoolOptions,
    get_engine,
    no_connection_free,
    session_scope,
    unavailable_error,
)
from governance.store.private import private_dir

__all__ = ["Governance", "default_lineage_sinks", "no_connection_free", "unavailable_error"]


def default_lineage_sinks(settings: Settings) -> list[LineageSink]:
    """The JSON-lines log under ``home``, and Marquez when ``openlineage_url`` is set."""
    sinks: list[LineageSink] = [FileSink(settings.home / "openlineage" / "events.jsonl")]
    if settings.openlineage_url:
        sinks.append(HttpSink(settings.openlineage_url))
    return sinks


@dataclass
class Governance:
    """Everything a command or request needs; build it with ``Governance.open()``."""

    settings: Settings
    engine: Engine
    artifacts: ArtifactStore
    lineage_sinks: Sequence[LineageSink] = field(default_factory=list)

    @classmethod
    def open(cls, settings: Settings | None = None, *,
             lineage_sinks: Sequence[LineageSink] | None = None) -> Governance:
        """Open (and migrate) the store that ``settings`` point at."""
        settings = settings or get_settings()
        private_dir(settings.home)  # created 0700: it holds the database, keys and data
        return cls(
            settings=settings,
            engine=get_engine(settings.resolved_database_url, pool=PoolOptions(
                size=settings.db_pool_size, max_overflow=settings.db_pool_max_overflow,
                timeout_seconds=settings.db_pool_timeout_seconds)),
            artifacts=ArtifactStore(settings.artifacts_dir),
            lineage_sinks=(default_lineage_sinks(settings) if lineage_sinks is None
                           else list(lineage_sinks)),
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

    @property
    def lineage_dir(self) -> Path:
        """Where OpenLineage events are logged (``events.jsonl``, ``failed.jsonl``)."""
        return self.settings.home / "openlineage"

    @property
    def failed_lineage(self) -> FileSink:
        """Where undelivered OpenLineage events are kept for replay."""
        return FileSink(self.lineage_dir / "failed.jsonl")
