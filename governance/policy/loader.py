"""Load policy YAML into a validated ``Policy``, reporting every problem with its line.

A policy is domain data: the ledger records the SHA-256 of the exact file bytes, so
``LoadedPolicy`` keeps the bytes' hash and text next to the parsed model. Loading
never stops at the first problem: syntax errors aside (after which nothing can be
read), every duplicate key, unknown key, wrong type and out-of-range value is
collected and raised together in one ``PolicyError`` whose ``problems`` read like
``policies/x.yaml line 7: risk.max_atack_auc: unknown key; did you mean
'max_attack_auc'?``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from governance.core.errors import PolicyError
from governance.policy._messages import message_for, render_loc
from governance.policy._yaml import locate, read_yaml
from governance.policy.models import Policy


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with the provenance the ledger records.

    Attributes:
        policy: the validated model.
        sha256: hex SHA-256 of the exact bytes read (UTF-8 text for ``parse_policy``).
        text: the YAML text.
        path: the file it came from, or ``None`` when parsed from text.
    """

    policy: Policy
    sha256: str
    text: str
    path: Path | None = None

    @property
    def name(self) -> str:
        """The policy's ``name``."""
        return self.policy.name


def parse_policy(text: str, *, source: str = "policy") -> LoadedPolicy:
    """Validate policy YAML text.

    Args:
        text: the YAML document.
        source: how messages name the document, e.g. its path.

    Returns:
        The validated policy; ``sha256`` is the hash of ``text`` encoded as UTF-8.

    Raises:
        PolicyError: listing every problem, each with its line number.
    """
    return _parse(text, text.encode("utf-8"), source=source, path=None)


def load_policy(path: str | Path, *, source: str | None = None) -> LoadedPolicy:
    """Read and validate a policy file.

    >>> from governance.policy import default_policy_path
    >>> load_policy(default_policy_path()).policy.name
    'default'

    Args:
        path: the YAML file.
        source: how messages name the file (default: its path), e.g. "policy 'strict'"
            where the path is the server's business.

    Returns:
        The validated policy with the SHA-256 of the file's exact bytes.

    Raises:
        PolicyError: when the file is missing, not UTF-8, or not a valid policy; the
            ``problems`` attribute lists every problem with its line number.
    """
    path = Path(path)
    source = str(path) if source is None else source
    if not path.is_file():
        raise PolicyError(
            f"policy file {source!r} does not exist; pass the path of a policy YAML file "
            "such as policies/default.yaml"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"policy file {source!r} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    return _parse(text, raw, source=source, path=path)


def check_policy(path: str | Path) -> list[str]:
    """Every problem with a policy file, empty when it is valid (``govern policy check``)."""
    try:
        load_policy(path)
    except PolicyError as exc:
        return list(exc.problems)
    return []


def policy_json_schema() -> dict[str, Any]:
    """JSON Schema of the policy format (``govern policy schema``)."""
    return Policy.model_json_schema()


def default_policy_path() -> Path:
    """Path of the default policy shipped inside the package."""
    return Path(str(resources.files("governance.policy").joinpath("default.yaml")))


def default_policy() -> LoadedPolicy:
    """The default policy shipped inside the package (same as ``policies/default.yaml``)."""
    return load_policy(default_policy_path())


def _parse(text: str, raw: bytes, *, source: str, path: Path | None) -> LoadedPolicy:
    policy, problems = _validate(text, source)
    if policy is None:
        raise PolicyError(
            f"{source} is not a valid policy ({len(problems)} problem(s)):\n  - "
            + "\n  - ".join(problems),
            problems=problems,
        )
    return LoadedPolicy(policy=policy, sha256=hashlib.sha256(raw).hexdigest(), text=text,
                        path=path)


def _validate(text: str, source: str) -> tuple[Policy | None, list[str]]:
    """The policy, or ``None`` and every problem sorted by line."""
    try:
        doc = read_yaml(text)
    except yaml.MarkedYAMLError as exc:
        return None, [_yaml_problem(exc, source)]
    except yaml.YAMLError as exc:
        return None, [f"{source}: invalid YAML: {exc}"]
    if doc.root is None or doc.data is None:
        return None, [
            f"{source}: the file is empty; a policy needs at least 'version: 1' and 'name'"
        ]
    if not isinstance(doc.data, dict):
        return None, [
            f"{source} line {doc.root.start_mark.line + 1}: the top level must be a mapping of "
            f"keys (version, name, risk, utility, ...), not a {type(doc.data).__name__}"
        ]
    found: list[tuple[int, int, str]] = [
        (line, 0, f"{source} line {line}: {path}: duplicate key (first set on line {first}); "
                  "YAML would keep only the last value, so remove one")
        for line, path, first in doc.duplicates
    ]
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(doc.data)
    except ValidationError as exc:
        for order, error in enumerate(exc.errors(include_url=False), start=1):
            line, _ = locate(doc.root, error["loc"])
            found.append((line, order, f"{source} line {line}: {render_loc(error['loc'])}: "
                                       f"{message_for(Policy, error)}"))
    problems = [message for _, _, message in sorted(found)]
    return (None if problems else policy), problems


def _yaml_problem(exc: yaml.MarkedYAMLError, source: str) -> str:
    mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
    where = f"{source} line {mark.line + 1}" if mark else source
    what = exc.problem or "unreadable YAML"
    if exc.context:
        started = ""
        if context is not None and mark is not None and context.line != mark.line:
            started = f" started on line {context.line + 1}"
        if exc.context.startswith("while"):
            what = f"{what} ({exc.context}{started})"
        else:  # e.g. "expected a single document in the stream" / "but found another document"
            what = f"{exc.context}{started} {what}"
    return f"{where}: invalid YAML: {what}; fix the YAML first, nothing else was checked"
