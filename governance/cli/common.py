"""What several command groups share: the service context, acting keys, epsilon parsing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlmodel import Session

from governance.core.config import get_settings
from governance.core.errors import InputError
from governance.core.types import Principal, Role
from governance.services.auth import authenticate, read_key_file
from governance.services.context import Governance
from governance.services.permissions import require_role

#: ``--key-file``: the API key a deciding command acts as (else ``GOVERNANCE_API_KEY``).
KeyFileOpt = Annotated[Path | None, typer.Option(
    "--key-file", help="File holding your API key (mode 600); default: GOVERNANCE_API_KEY.")]
#: ``--as`` is refused: a name is not a credential.
AsRefused = Annotated[str | None, typer.Option("--as", hidden=True)]


def open_governance() -> Governance:
    """The service context the environment's settings point at.

    Raises:
        InputError: settings that fail validation (e.g. an insecure executor), in one line.
    """
    try:
        return Governance.open()
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise InputError(f"invalid settings: {problems}") from None


def parse_epsilons(text: str) -> list[float]:
    """Parse ``"1,4,inf"`` into floats.

    Raises:
        InputError: naming the bad item.

    >>> parse_epsilons("1, 4,inf")
    [1.0, 4.0, inf]
    """
    values = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        try:
            value = math.inf if item.lower() in ("inf", "infinity") else float(item)
        except ValueError:
            raise InputError(f"--epsilons: {item!r} is not a number; use e.g. 1,4,inf") from None
        if not value > 0:
            raise InputError(f"--epsilons: {item!r} must be positive (or inf)")
        values.append(value)
    return values


def refuse_as(name: str | None) -> None:
    """Refuse ``--as NAME``: deciding commands act as the holder of an API key.

    Raises:
        InputError: whenever ``--as`` was given.
    """
    if name is not None:
        raise InputError("--as is not accepted: a decision acts as the holder of an API key; "
                         "pass --key-file PATH or set GOVERNANCE_API_KEY")


def _secret(key_file: Path | None) -> str:
    if key_file is not None:
        return read_key_file(key_file)
    configured = get_settings().api_key
    if configured is None or not configured.get_secret_value().strip():
        raise InputError("this command decides something, so it acts as the holder of an API "
                         "key: pass --key-file PATH (a file only you can read) or set "
                         "GOVERNANCE_API_KEY")
    return configured.get_secret_value().strip()


def acting_key(session: Session, key_file: Path | None, roles: frozenset[Role]) -> Principal:
    """The holder of the caller's API key, if its role may do what the command does.

    The key comes from ``--key-file`` (refused when others may read it or it is a
    symbolic link) or ``GOVERNANCE_API_KEY``, and is checked like an API request's.

    Raises:
        InputError: no key given, or an unsafe key file.
        AuthenticationError: a key that matches no live key (revoked keys included).
        PermissionDeniedError: the key's role may not do this.
    """
    return require_role(authenticate(session=session, secret=_secret(key_file)), roles)
