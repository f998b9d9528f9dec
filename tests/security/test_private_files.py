"""Finding: the SQLite database and key files were world-readable.

With the usual umask (022) the database and its ``-wal``/``-shm`` files came out 0644,
readable by every local user, with every approval, API key hash and audit event in
them. Now the home folder is created 0700, the database file 0600 before SQLite opens
it (its ``-wal`` and ``-shm`` files take the same mode), files left readable by an
older version are tightened, and key files are 0600 in a 0700 folder.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.core.config import Settings
from governance.services.context import Governance
from governance.services.signing import installation_signer
from governance.store.auditlog import append_event
from governance.store.db import dispose_engines


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)
        dispose_engines()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write_one_event(gov: Governance) -> None:
    with gov.session() as s:
        append_event(session=s, kind="run.requested", actor="a", subject="s", payload={})


def test_a_new_home_its_database_and_its_keys_are_private(tmp_path: Path, usual_umask):
    # Setup
    settings = Settings(home=tmp_path / "home", environment="test")
    # Run
    gov = Governance.open(settings)
    _write_one_event(gov)
    installation_signer(settings)
    # Assert: while the engine is open, the WAL and shared-memory files exist too.
    db = settings.home / "governance.db"
    files = {p.name: _mode(p) for p in settings.home.iterdir() if p.is_file()}
    assert _mode(settings.home) == 0o700
    assert files == {"governance.db": 0o600, "governance.db-wal": 0o600,
                     "governance.db-shm": 0o600}, files
    assert _mode(db.parent / "keys") == 0o700
    assert _mode(db.parent / "keys" / "audit-signing.key") == 0o600


def test_a_database_left_readable_is_tightened(tmp_path: Path, usual_umask):
    # Setup: a home an older version left world-readable.
    settings = Settings(home=tmp_path / "home", environment="test")
    _write_one_event(Governance.open(settings))
    dispose_engines()
    db = settings.home / "governance.db"
    db.chmod(0o644)
    # Run
    _write_one_event(Governance.open(settings))
    # Assert
    assert _mode(db) == 0o600
    assert all(_mode(p) == 0o600 for p in settings.home.glob("governance.db*"))
