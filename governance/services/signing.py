"""The installation's audit-signing key: generated on first use, never a shipped constant.

One Ed25519 key per installation signs the log's checkpoints and every bundle
manifest. It comes from, in this order:

* ``GOVERNANCE_CHECKPOINT_KEY``: a secret of at least 32 bytes (settings refuse a
  shorter one) from which the key is derived, or a signer key text
  (``PRIVATE+KEY+...``); for deployments that keep secrets in the environment;
* ``GOVERNANCE_SIGNING_KEY_FILE``: a signer key file, which must exist, be a regular
  file (not a symbolic link) and be readable by its owner only;
* otherwise ``<GOVERNANCE_HOME>/keys/audit-signing.key``, created 0600 (in a 0700
  folder) the first time something is signed.

The key's name, which is also the checkpoints' origin, is
``synth-governance/<first 16 hex digits of SHA-256(public key)>``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from governance.audit.note import Signer, Verifier, parse_signer, parse_verifier
from governance.core.config import Settings
from governance.core.errors import ConfigurationError, InputError
from governance.store.private import create_private, read_private

DERIVE_DOMAIN = b"governance.audit.signing-key.v1\x00"
KEY_PREFIX = "synth-governance/"


def key_name(public_key: bytes) -> str:
    """The name of an installation key (and the origin of its checkpoints)."""
    return KEY_PREFIX + hashlib.sha256(public_key).hexdigest()[:16]


def _named(seed: bytes) -> Signer:
    return Signer(key_name(Signer("unnamed", seed).verifier.public_key), seed)


def _from_secret(secret: str) -> Signer:
    if secret.startswith("PRIVATE+KEY+"):
        try:
            return parse_signer(secret)
        except InputError as exc:
            raise ConfigurationError(f"GOVERNANCE_CHECKPOINT_KEY: {exc.message}") from None
    return _named(hashlib.sha256(DERIVE_DOMAIN + secret.encode()).digest())


def _generate(path: Path) -> None:
    """Create the default key file unless another process got there first."""
    create_private(path, (_named(os.urandom(32)).text + "\n").encode())


def installation_signer(settings: Settings) -> Signer:
    """The installation's signing key, created on first use when none is configured.

    Raises:
        ConfigurationError: the configured key is missing, unsafe or malformed.
    """
    if settings.checkpoint_key is not None:
        return _from_secret(settings.checkpoint_key.get_secret_value())
    path = settings.resolved_signing_key_file
    if settings.signing_key_file is None and not os.path.lexists(path):
        _generate(path)
    text = read_private(path, what="the audit-signing key file", error=ConfigurationError)
    try:
        return parse_signer(text.decode("utf-8"))
    except (UnicodeDecodeError, InputError) as exc:
        reason = exc.message if isinstance(exc, InputError) else "not UTF-8 text"
        raise ConfigurationError(f"the audit-signing key file {path} holds no signer key: "
                                 f"{reason}") from None


def has_signing_key(settings: Settings) -> bool:
    """Whether the installation has (or is configured with) a signing key already."""
    return (settings.checkpoint_key is not None or settings.signing_key_file is not None
            or os.path.lexists(settings.resolved_signing_key_file))


def installation_verifier(settings: Settings) -> Verifier:
    """The public half of the installation's key (never creates one).

    Raises:
        ConfigurationError: the installation has no key yet, or it is unsafe.
    """
    if not has_signing_key(settings):
        raise ConfigurationError(
            "this installation has no audit-signing key yet, so it has signed nothing; pass "
            "the signer's public key with --pubkey FILE")
    return installation_signer(settings).verifier


def read_verifier(path: Path) -> Verifier:
    """A verifier key from a file (``govern audit pubkey`` output; not a secret).

    Raises:
        InputError: unreadable, or not a verifier key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the public key {path}: {exc}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise InputError(f"{path} must hold one verifier key line (from `govern audit pubkey`)")
    return parse_verifier(lines[0])


__all__ = ["has_signing_key", "installation_signer", "installation_verifier", "key_name",
           "read_verifier"]
