"""Engines and sessions for SQLite (default) and PostgreSQL, migrated by Alembic.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE`` so that concurrent writers queue on the database lock instead of
failing on upgrade; appends to the audit chain are therefore serialised. PostgreSQL
serialises appends by locking the audit head row (``governance.store.auditlog``).

Each process keeps a bounded pool of connections (``PoolOptions``, from the settings
``GOVERNANCE_DB_POOL_*``). When no connection can be had, because the pool stayed
exhausted for its timeout or the server refuses more clients, ``session_scope`` raises
``ServiceUnavailableError`` (the API answers 503 with ``Retry-After``) instead of a bare
driver error; nothing was written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from governance.core.errors import GovernanceError, ServiceUnavailableError
from governance.store.private import create_private, private_dir, tighten

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Seconds a caller is told to wait (``Retry-After``) when no connection was free.
RETRY_AFTER_SECONDS = 5
#: What PostgreSQL says when it refuses a connection for want of slots.
_NO_SLOTS = ("too many clients", "too many connections", "remaining connection slots")


@dataclass(frozen=True)
class PoolOptions:
    """How many connections one process may hold, and how long a request waits for one."""

    size: int = 5
    max_overflow: int = 5
    timeout_seconds: float = 10.0


_ENGINES: dict[tuple[str, PoolOptions], Engine] = {}
_LOCK = threading.Lock()


def make_engine(url: str, pool: PoolOptions | None = None) -> Engine:
    """Create an engine for ``url`` with the project's SQLite settings and a bounded pool."""
    pool = pool or PoolOptions()
    sizing: dict[str, Any] = {"pool_size": pool.size, "max_overflow": pool.max_overflow,
                              "pool_timeout": pool.timeout_seconds}
    if url.startswith("sqlite"):
        memory = url in {"sqlite://", "sqlite:///:memory:"}
        if not memory:
            _private_sqlite_file(Path(url.split("sqlite:///", 1)[1]))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 60},
            **({"poolclass": StaticPool} if memory else sizing),
        )
        _sqlite_pragmas(engine, wal=not memory)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, **sizing)
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


def get_engine(url: str, *, migrate_schema: bool = True,
               pool: PoolOptions | None = None) -> Engine:
    """Return the process-wide engine for ``url`` (and pool sizing), migrated on first use."""
    pool = pool or PoolOptions()
    with _LOCK:
        engine = _ENGINES.get((url, pool))
        if engine is None:
            engine = make_engine(url, pool)
            if migrate_schema:
                try:
                    migrate(engine)
                except Exception as exc:
                    engine.dispose()
                    if no_connection_free(exc):
                        raise unavailable_error() from exc
                    raise GovernanceError(
                        f"could not open or migrate the database at {_redact(url)}: "
                        f"{type(exc).__name__}: {str(exc).splitlines()[0]}",
                        code="database_unavailable",
                    ) from exc
            _ENGINES[(url, pool)] = engine
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


def no_connection_free(exc: BaseException) -> bool:
    """Whether ``exc`` means no database connection could be had (pool or server full)."""
    if isinstance(exc, sa_exc.TimeoutError):  # the pool stayed exhausted for its timeout
        return True
    if isinstance(exc, sa_exc.OperationalError):
        text = str(exc.orig if exc.orig is not None else exc).lower()
        return any(marker in text for marker in _NO_SLOTS)
    return False


def unavailable_error() -> ServiceUnavailableError:
    """The error a request gets when no database connection was free."""
    return ServiceUnavailableError(
        "the service has no free database connection just now; nothing was changed. Retry in "
        f"{RETRY_AFTER_SECONDS} s (operators: GOVERNANCE_DB_POOL_SIZE, "
        "GOVERNANCE_DB_POOL_MAX_OVERFLOW and the server's max_connections)",
        retry_after=RETRY_AFTER_SECONDS)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error.

    Raises:
        ServiceUnavailableError: no connection could be had (the transaction did nothing).
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException as exc:
            session.rollback()
            if no_connection_free(exc):
                raise unavailable_error() from exc
            raise
