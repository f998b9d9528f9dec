"""Files that hold secrets: created readable by their owner only, read only when private.

``create_private`` writes a complete file with mode 0600 under a 0700 folder and
publishes it with ``link``, so a concurrent reader sees either no file or the whole
file, and two processes creating the same file agree on one winner.
``read_private`` refuses a symbolic link (it could point anywhere) and a file whose
mode lets the group or others read it: a secret others can read is no secret.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from governance.core.errors import GovernanceError, InputError

#: Bits of a private file's mode that must be clear (group and others: any access).
LOOSE_BITS = 0o077
MAX_SECRET_BYTES = 64 * 1024


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; a folder created here is 0700."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def create_private(path: Path, data: bytes) -> bool:
    """Write ``data`` to a new file readable only by its owner (0600).

    Returns:
        True when this call created the file, False when it already existed (the
        existing file is left as it is).
    """
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def read_private(path: Path, *, what: str,
                 error: type[GovernanceError] = InputError) -> bytes:
    """The bytes of a secret file that only its owner may read.

    Args:
        path: the file.
        what: what the file is, for the message ("the API key file").
        error: the error class to raise (``InputError`` for a user's file,
            ``ConfigurationError`` for the installation's own).

    Raises:
        GovernanceError: (of class ``error``) missing, a symbolic link, not a regular
            file, readable by others, or too large; the message says how to fix it.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{what} {path} is a symbolic link; refusing to follow it: "
                        "point at the file itself") from None
        raise error(f"{what} {path} cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{what} {path} is not a regular file")
        if st.st_mode & LOOSE_BITS:
            raise error(f"{what} {path} may be read by others (mode "
                        f"{stat.S_IMODE(st.st_mode):04o}); run `chmod 600 {path}`")
        data = fh.read(MAX_SECRET_BYTES + 1)
    if len(data) > MAX_SECRET_BYTES:
        raise error(f"{what} {path} is larger than a secret can be")
    return data


def tighten(path: Path) -> None:
    """Clear the group and other bits of an existing file we own (no-op otherwise)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_mode & LOOSE_BITS and st.st_uid == os.getuid():
        os.chmod(path, stat.S_IMODE(st.st_mode) & ~LOOSE_BITS)


__all__ = ["LOOSE_BITS", "create_private", "private_dir", "read_private", "tighten"]
