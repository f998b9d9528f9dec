"""Executors as server configuration: names an operator configured, and what each stands for.

A requester never names an address: runs name an executor the operator configured
(``GOVERNANCE_EXECUTORS``, a JSON object of name -> address) or one of the built-in
names ``local`` (a process pool on this machine) and ``inline`` (the server process
itself). An address is ``local``, ``inline``, ``tls://HOST:PORT`` or ``tcp://HOST:PORT``
(a Dask scheduler); plain TCP to anything but loopback is refused unless the operator
allows it explicitly, and such runs say so in their record.

>>> spec = executor_spec("gpu", {"gpu": "tls://10.0.0.5:8786"})
>>> spec.kind, spec.transport, spec.address
('dask', 'tls', 'tls://10.0.0.5:8786')
>>> executor_spec("local", {}).describe()
'local (process pool on this machine)'
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from governance.core.errors import InputError

BUILTIN_EXECUTORS = ("local", "inline")
NAME_RULE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_HOST_RULE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")

Kind = Literal["inline", "local", "dask"]
Transport = Literal["in-process", "process-pool", "tls", "tcp-loopback", "tcp-insecure"]

_DESCRIPTIONS: dict[str, str] = {
    "in-process": "in the server process",
    "process-pool": "process pool on this machine",
    "tls": "Dask over TLS",
    "tcp-loopback": "Dask over plain TCP on loopback",
    "tcp-insecure": "Dask over plain TCP to another host: NOT encrypted or authenticated, "
                    "allowed by GOVERNANCE_ALLOW_INSECURE_EXECUTOR",
}


@dataclass(frozen=True)
class ExecutorSpec:
    """One configured executor: its name, what runs it, and how the server talks to it.

    ``address`` is set for Dask executors only and is never shown to requesters.
    """

    name: str
    kind: Kind
    transport: Transport
    address: str | None = None

    @property
    def insecure(self) -> bool:
        """Whether training data travels unencrypted to another host."""
        return self.transport == "tcp-insecure"

    def describe(self) -> str:
        """The name and transport, for run records (no host or port)."""
        return f"{self.name} ({_DESCRIPTIONS[self.transport]})"


def parse_dask_address(address: str) -> tuple[str, str, int]:
    """Split ``tcp://HOST:PORT`` or ``tls://HOST:PORT`` into scheme, host and port.

    Raises:
        InputError: anything else (other schemes, paths, credentials, missing port).

    >>> parse_dask_address("tls://sched.internal:8786")
    ('tls', 'sched.internal', 8786)
    """
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    if (parts.scheme not in ("tcp", "tls") or port is None or not 0 < port < 65536
            or parts.path or parts.query or parts.fragment or parts.username
            or parts.password or not (_HOST_RULE.match(host) or _is_ip(host))):
        raise InputError(
            "an executor address is 'local', 'inline', tls://HOST:PORT or tcp://HOST:PORT "
            "(a Dask scheduler)")
    return parts.scheme, host, port


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback IP address (no DNS lookup)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def spec_for(name: str, address: str) -> ExecutorSpec:
    """The executor an address stands for under ``name``.

    Raises:
        InputError: an address that is none of the accepted forms.
    """
    if address == "inline":
        return ExecutorSpec(name, "inline", "in-process")
    if address == "local":
        return ExecutorSpec(name, "local", "process-pool")
    scheme, host, _ = parse_dask_address(address)
    transport: Transport = ("tls" if scheme == "tls" else
                            "tcp-loopback" if is_loopback(host) else "tcp-insecure")
    return ExecutorSpec(name, "dask", transport, address)


def executor_spec(name: str, configured: Mapping[str, str]) -> ExecutorSpec:
    """The executor configured under ``name`` (a built-in or one of ``configured``).

    Raises:
        InputError: a name the operator did not configure (addresses are never accepted).
    """
    if name in BUILTIN_EXECUTORS:
        return spec_for(name, name)
    if name in configured:
        return spec_for(name, configured[name])
    known = ", ".join([*BUILTIN_EXECUTORS, *sorted(configured)])
    what = f"unknown executor {name!r}" if NAME_RULE.match(name) else "not an executor name"
    raise InputError(
        f"{what}: runs use an executor the operator configured, by name ({known}); "
        "addresses are set in GOVERNANCE_EXECUTORS, never by a request")


__all__ = ["BUILTIN_EXECUTORS", "NAME_RULE", "ExecutorSpec", "executor_spec", "is_loopback",
           "parse_dask_address", "spec_for"]
