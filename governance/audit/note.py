r"""Signed notes (c2sp.org/signed-note) with Ed25519 keys: sign, open, key texts.

A signed note is a text ending in a newline, a blank line, then one signature line
per key: ``— <key name> <base64(key id || signature)>``. The key id is the first four
bytes of ``SHA-256(key name || 0x0A || 0x01 || public key)`` (0x01: Ed25519). Keys are
written as Go's ``golang.org/x/mod/sumdb/note`` writes them, so standard tooling reads
them and the checkpoints signed with them:

* verifier key: ``<name>+<key id, 8 hex digits>+<base64(0x01 || public key)>``
* signer key: ``PRIVATE+KEY+<name>+<key id>+<base64(0x01 || 32-byte seed)>``

>>> signer = signer_from_seed("example.com/log", bytes(32))
>>> note = sign_note("hello\n", signer)
>>> open_note(note, [parse_verifier(signer.verifier.text)])
'hello\n'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from governance.core.errors import InputError, IntegrityError

ED25519 = 0x01
EM_DASH = "\u2014"
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict standard base64 (padding required, no stray characters)."""
    if not text or not text.isascii():
        raise ValueError("not base64")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None


def check_name(name: str) -> str:
    """A key name: non-empty, no Unicode space, no ``+``.

    Raises:
        InputError: naming the rule broken.
    """
    if not name or "+" in name or any(ch.isspace() for ch in name) or not name.isprintable():
        raise InputError(f"key name {name!r} is not allowed: it must be non-empty, printable, "
                         "without spaces or '+'")
    return name


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte id of an Ed25519 key: ``SHA-256(name || 0x0A || 0x01 || key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        """The key's 4-byte id."""
        return key_id(self.name, self.public_key)

    @property
    def text(self) -> str:
        """The verifier key text, ``name+keyid+base64(0x01 || key)``."""
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key (its seed never appears in ``repr``)."""

    name: str
    seed: bytes = field(repr=False)

    @property
    def verifier(self) -> Verifier:
        """The matching public key."""
        pub = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return Verifier(self.name, pub.public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def text(self) -> str:
        """The signer key text, ``PRIVATE+KEY+name+keyid+base64(0x01 || seed)`` (secret)."""
        return (f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+"
                f"{_b64(bytes([ED25519]) + self.seed)}")

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def signer_from_seed(name: str, seed: bytes) -> Signer:
    """A signer from a 32-byte Ed25519 seed.

    Raises:
        InputError: a bad name or a seed that is not 32 bytes.
    """
    if len(seed) != 32:
        raise InputError(f"an Ed25519 seed is 32 bytes, not {len(seed)}")
    return Signer(check_name(name), bytes(seed))


def generate_signer(name: str) -> Signer:
    """A new signer with a seed from the operating system's entropy."""
    return signer_from_seed(name, os.urandom(32))


def _parse_key(text: str, *, private: bool) -> tuple[str, bytes, bytes]:
    """``(name, 32-byte key, 4-byte id)`` of a key text."""
    what = "signer" if private else "verifier"
    parts = text.strip().split("+", 4 if private else 2)  # base64 may hold '+'
    if private:
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InputError(f"not a {what} key: expected PRIVATE+KEY+<name>+<id>+<key>")
        parts = parts[2:]
    if len(parts) != 3:
        raise InputError(f"not a {what} key: expected <name>+<id>+<key>")
    name, hex_id, b64 = parts
    check_name(name)
    try:
        raw = _unb64(b64)
        wanted = bytes.fromhex(hex_id) if len(hex_id) == 8 else b""
    except ValueError:
        raise InputError(f"not a {what} key: the id or the key is not encoded right") from None
    if len(raw) != 33 or raw[0] != ED25519 or len(wanted) != 4:
        raise InputError(f"not a {what} key: only 32-byte Ed25519 keys (type 0x01) are read")
    return name, raw[1:], wanted


def parse_verifier(text: str) -> Verifier:
    """Read a verifier key text.

    Raises:
        InputError: malformed, not Ed25519, or its id does not match its name and key.
    """
    name, key, wanted = _parse_key(text, private=False)
    verifier = Verifier(name, key)
    if verifier.key_id != wanted:
        raise InputError("not a verifier key: its id does not match its name and key")
    return verifier


def parse_signer(text: str) -> Signer:
    """Read a signer key text (as ``Signer.text`` writes it).

    Raises:
        InputError: malformed, not Ed25519, or its id does not match its name and key.
    """
    name, seed, wanted = _parse_key(text, private=True)
    signer = Signer(name, seed)
    if signer.verifier.key_id != wanted:
        raise InputError("not a signer key: its id does not match its name and key")
    return signer


def signature_line(text: str, signer: Signer) -> str:
    """One signature line of ``text`` (ending in a newline)."""
    sig = signer.verifier.key_id + signer.sign(text.encode("utf-8"))
    return f"{EM_DASH} {signer.name} {_b64(sig)}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise InputError("a note's text must end with a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise InputError("a note's text must not hold control characters other than newline")


def sign_note(text: str, *signers: Signer) -> str:
    """The signed note of ``text`` (which must end with a newline).

    Raises:
        InputError: text without its final newline, or with control characters.
    """
    _check_text(text)
    return text + "\n" + "".join(signature_line(text, s) for s in signers)


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> str:
    """The text of ``note`` once a signature by one of ``verifiers`` checks out.

    Signatures by unknown keys (another name or id) are ignored, as the spec requires;
    a signature by a known key that fails rejects the whole note.

    Raises:
        IntegrityError: malformed note, a known key's signature fails, or no known key
            signed it.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise IntegrityError("the signed note is not valid UTF-8") from None
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise IntegrityError("the signed note holds control characters")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise IntegrityError("malformed signed note: no blank line before the signatures")
    text, lines = note[:split + 1], note[split + 2:].splitlines()
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = 0
    if not lines or len(lines) > MAX_SIGNATURES:
        raise IntegrityError("malformed signed note: no signature lines, or too many")
    for line in lines:
        prefix, _, rest = line.partition(" ")
        name, _, b64 = rest.partition(" ")
        try:
            sig = _unb64(b64)
            check_name(name)
        except (ValueError, InputError):
            raise IntegrityError(f"malformed signature line {line[:80]!r}") from None
        if prefix != EM_DASH or len(sig) < 5:
            raise IntegrityError(f"malformed signature line {line[:80]!r}")
        verifier = known.get((name, sig[:4]))
        if verifier is None:
            continue  # someone else's signature: ignored
        if not verifier.verify(text.encode("utf-8"), sig[4:]):
            raise IntegrityError(f"the signature by {name!r} does not verify: the note was "
                                 "altered or signed by another key")
        verified += 1
    if not verified:
        names = ", ".join(sorted(v.name for v in verifiers)) or "none"
        raise IntegrityError(f"the note carries no signature by a trusted key (trusted: {names})")
    return text


__all__ = ["ED25519", "EM_DASH", "Signer", "Verifier", "check_name", "generate_signer", "key_id",
           "open_note", "parse_signer", "parse_verifier", "sign_note", "signature_line",
           "signer_from_seed"]
