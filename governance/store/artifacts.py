"""Content-addressed artifacts on local disk.

An artifact's name is the SHA-256 of its bytes: ``<root>/<ab>/<sha256><suffix>``.
Writes go to a temporary file in the same directory, are flushed and fsynced, then
renamed into place, so a reader never sees a partial file and a crash leaves at most
a stray ``.tmp`` file. Reads verify the hash.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

import pandas as pd

from governance.core.errors import IntegrityError, NotFoundError


def frame_to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Serialise a frame to Parquet deterministically (same frame, same bytes)."""
    buf = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buf, index=False, engine="pyarrow",
                                             compression="zstd")
    return buf.getvalue()


class ArtifactStore:
    """A directory of immutable, hash-named files."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str, suffix: str = ".parquet") -> Path:
        """Where the artifact with this hash lives."""
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def put_bytes(self, data: bytes, suffix: str) -> str:
        """Store bytes atomically and return their SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        final = self.path(sha, suffix)
        if final.exists():
            return sha
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def put_frame(self, frame: pd.DataFrame) -> str:
        """Store a frame as Parquet; return the SHA-256 of the file's bytes."""
        return self.put_bytes(frame_to_parquet_bytes(frame), ".parquet")

    def get_bytes(self, sha256: str, suffix: str = ".parquet") -> bytes:
        """Read an artifact and check that it still hashes to its name.

        Raises:
            NotFoundError: no such artifact.
            IntegrityError: the file's bytes no longer match its hash.
        """
        path = self.path(sha256, suffix)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"artifact {sha256[:12]}… is missing from the artifact store"
                                ) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"artifact {sha256[:12]}… does not match its SHA-256; it was "
                                 "altered")
        return data

    def get_frame(self, sha256: str) -> pd.DataFrame:
        """Read a Parquet artifact (hash-checked)."""
        return pd.read_parquet(io.BytesIO(self.get_bytes(sha256, ".parquet")))
