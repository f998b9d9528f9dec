"""Real API server processes on loopback, and throw-away PostgreSQL databases, for race tests.

``fresh_pg_database()`` creates an empty database on the test server (127.0.0.1:5432)
and drops it afterwards; ``api_servers()`` starts API server processes of this
worktree's app, each on its own pre-bound loopback socket (no port races), all on one
database, and stops exactly those processes afterwards.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("GOVERNANCE_TEST_PG",
                              "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def fresh_pg_database(*, connection_limit: int | None = None) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (skips the test when the server is down).

    Args:
        connection_limit: connect as a new role that owns the database and may hold at
            most this many connections (a small server, without taking connections from
            anyone else on the shared server; superusers would not be limited).
    """
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg2")
    name = f"gov_race_{secrets.token_hex(4)}"
    role = name if connection_limit else None
    try:
        admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if role:
                conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT "
                                     f"{int(connection_limit or 0)}")
            conn.exec_driver_sql(f"CREATE DATABASE {name}" + (f" OWNER {role}" if role else ""))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means skip
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable ({type(exc).__name__})")
    scheme, rest = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)
    host = rest.split("@", 1)[-1]
    try:
        yield f"{scheme}://{role}@{host}/{name}" if role else f"{scheme}://{rest}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            if role:
                conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


@dataclass
class Servers:
    """Running API processes: their base URLs, in start order."""

    urls: list[str]
    logs: list[Path]

    def tail(self, lines: int = 20) -> str:
        """The end of every server's log (for assertion messages)."""
        return "\n".join(f"--- {p.name}\n" + "\n".join(p.read_text().splitlines()[-lines:])
                         for p in self.logs)


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def api_servers(n: int, *, home: Path, database_url: str,
                env: Mapping[str, str] | None = None, timeout: float = 240) -> Iterator[Servers]:
    """Start ``n`` API server processes sharing ``home`` and the database.

    The processes are forked from one parent after it imported the app
    (``tests.utils.forked_servers``), each serving one pre-bound loopback socket with its
    own connection pool. The schema must already be migrated (so they do not race to
    migrate it). Rate limiting is off; ``env`` adds or overrides settings.
    """
    home.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "GOVERNANCE_HOME": str(home),
                "GOVERNANCE_DATABASE_URL": database_url, "GOVERNANCE_ENVIRONMENT": "test",
                "GOVERNANCE_POLICIES_DIR": str(REPO / "policies"),
                "GOVERNANCE_RATE_LIMIT_PER_MINUTE": "0", **(env or {})}
    socks = [_listening_socket() for _ in range(n)]
    fds = [sock.fileno() for sock in socks]
    servers = Servers(urls=[f"http://127.0.0.1:{sock.getsockname()[1]}" for sock in socks],
                      logs=[home / "servers.log"])
    proc = None
    try:
        with open(servers.logs[0], "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.utils.forked_servers", *map(str, fds)],
                cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT, pass_fds=fds)
        _wait_until_up(servers, proc, timeout=timeout)
        yield servers
    finally:
        if proc is not None:
            proc.terminate()  # the parent stops its children, then exits
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()  # its children notice and stop by themselves
                proc.wait()
        for sock in socks:
            sock.close()


def _wait_until_up(servers: Servers, proc: subprocess.Popen[bytes], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = set(servers.urls)
    with httpx.Client(timeout=2) as client:
        while pending:
            if proc.poll() is not None:
                raise RuntimeError(f"the servers exited:\n{servers.tail(40)}")
            for url in sorted(pending):
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{url}/healthz").status_code == 200:
                        pending.discard(url)
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} server(s) did not start:\n"
                                   f"{servers.tail(40)}")
            time.sleep(0.2)
