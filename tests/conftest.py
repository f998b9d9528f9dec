"""Shared fixtures: isolated service homes, SQLite and PostgreSQL stores."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.core.config import Settings, get_settings
from governance.services.context import Governance
from governance.store.db import dispose_engines

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("GOVERNANCE_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def make_settings(tmp_path: Path, database_url: str | None = None) -> Settings:
    """Settings whose whole state lives under ``tmp_path``."""
    return Settings(home=tmp_path / "home", audits_dir=tmp_path / "audits",
                    policies_dir=REPO / "policies", database_url=database_url,
                    environment="test")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for an isolated SQLite home; ``get_settings()`` returns them too."""
    s = make_settings(tmp_path)
    monkeypatch.setenv("GOVERNANCE_HOME", str(s.home))
    monkeypatch.setenv("GOVERNANCE_AUDITS_DIR", str(s.audits_dir))
    monkeypatch.setenv("GOVERNANCE_POLICIES_DIR", str(s.policies_dir))
    get_settings.cache_clear()
    yield s
    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture
def gov(settings: Settings) -> Governance:
    """A service context on a fresh SQLite file."""
    return Governance.open(settings)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg2")
    name = f"gov_test_{secrets.token_hex(4)}"
    try:
        admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means skip
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable ({type(exc).__name__}); "
                    "start it with `pg_ctlcluster --skip-systemctl-redirect "
                    "$(ls /etc/postgresql) main start`")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_gov(request: pytest.FixtureRequest, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Governance]:
    """The same test on SQLite and on PostgreSQL."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    s = make_settings(tmp_path, url)
    monkeypatch.setenv("GOVERNANCE_HOME", str(s.home))
    if url:
        monkeypatch.setenv("GOVERNANCE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield Governance.open(s)
    get_settings.cache_clear()
    dispose_engines()
