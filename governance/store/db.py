"""Engines and sessions for SQLite (default) and PostgreSQL, migrated by Alembic.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE`` so that concurrent writers queue on the database lock instead of
failing on upgrade; appends to the audit chain are therefore serialised. PostgreSQL
serialises appends by locking the audit head row (``governance.store.auditlog``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from governance.core.errors import GovernanceError
from governance.store.private import create_private, private_dir, tighten

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the project's SQLite settings."""
    if url.startswith("sqlite"):
        memory = url in {"sqlite://", "sqlite:///:memory:"}
        if not memory:
            _private_sqlite_file(Path(url.split("sqlite:///", 1)[1]))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 60},
            poolclass=StaticPool if memory else None,
        )
        _sqlite_pragmas(engine, wal=not memory)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "PostgreSQL needs a driver: pip install 'synth-governance[postgres]'"
        ) from exc


def _private_sqlite_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode; files an
    older version left readable by others are tightened.
    """
    private_dir(path.parent)
    if not path.exists():
        create_private(path, b"")
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        tighten(p)


def _sqlite_pragmas(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" below emit BEGIN
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def get_engine(url: str, *, migrate_schema: bool = True) -> Engine:
    """Return the process-wide engine for ``url``, migrated on first use."""
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = make_engine(url)
            if migrate_schema:
                try:
                    migrate(engine)
                except Exception as exc:
                    engine.dispose()
                    raise GovernanceError(
                        f"could not open or migrate the database at {_redact(url)}: "
                        f"{type(exc).__name__}: {str(exc).splitlines()[0]}",
                        code="database_unavailable",
                    ) from exc
            _ENGINES[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, and after a fork)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
