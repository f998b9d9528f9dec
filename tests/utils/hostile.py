"""Builders for hostile inputs and the checks the security tests share."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from governance.cli.app import main
from governance.core.config import get_settings
from governance.store.db import dispose_engines

REPO = Path(__file__).resolve().parents[2]

#: An absolute server path in a message (under /home, /tmp and so on); API routes are not paths.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~/-])/(?!v1[/\s'\"]|v1$)[^\s'\"/]+/[^\s'\"]*")


def upload(client: TestClient, hdr: dict[str, str], *, content: bytes,
           filename: str = "table.csv", schema: str | bytes | None = None,
           **fields: Any) -> Any:
    """POST /v1/datasets with a file part, an optional schema part and form fields."""
    files: dict[str, tuple[str, bytes | str, str]] = {
        "file": (filename, content, "application/octet-stream")}
    if schema is not None:
        files["schema"] = ("schema.yaml", schema, "application/yaml")
    data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
    return client.post("/v1/datasets", files=files, data=data, headers=hdr)


def raw_upload(client: TestClient, hdr: dict[str, str], *, content: bytes,
               filename: bytes, schema: str) -> Any:
    """POST /v1/datasets with a hand-written multipart body (``filename`` sent verbatim)."""
    b = b"rawboundary"
    body = (b"--" + b + b'\r\nContent-Disposition: form-data; name="file"; filename="' + filename
            + b'"\r\n\r\n' + content + b"\r\n--" + b + b'\r\nContent-Disposition: form-data; '
            b'name="schema"; filename="s.yaml"\r\n\r\n' + schema.encode() + b"\r\n--" + b
            + b"--\r\n")
    return client.post("/v1/datasets", content=body, headers={
        **hdr, "Content-Type": "multipart/form-data; boundary=rawboundary"})


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV bytes (no index)."""
    return frame.to_csv(index=False).encode()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as Parquet bytes."""
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def files_under(root: Path) -> list[Path]:
    """Every file below ``root`` (empty when it does not exist)."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def deep_yaml(depth: int) -> str:
    """A schema whose ``columns`` is a flow sequence nested ``depth`` levels deep."""
    return "columns: " + "[" * depth + "]" * depth + "\n"


def billion_laughs(levels: int = 9, fanout: int = 9) -> str:
    """The "billion laughs" alias bomb: ``fanout ** levels`` strings from a few lines."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * fanout)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"columns: *a{levels}")
    return "\n".join(lines) + "\n"


def _cli_env(home: Path, env: dict[str, str] | None) -> dict[str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNANCE_")}
    full_env.update({"GOVERNANCE_HOME": str(home),
                     "GOVERNANCE_POLICIES_DIR": str(REPO / "policies"),
                     "GOVERNANCE_AUDITS_DIR": str(home.parent / "audits"),
                     "GOVERNANCE_ENVIRONMENT": "test", **(env or {})})
    return full_env


def run_cli(args: list[str], home: Path, *, env: dict[str, str] | None = None,
            timeout: float = 120, in_process: bool = True,
            ) -> subprocess.CompletedProcess[str]:
    """``govern ARGS`` with its state in ``home``: in this process, or as a subprocess.

    In process, the same entry point (:func:`governance.cli.app.main`) runs under the
    environment a subprocess would get, with stdout and stderr captured, which saves the
    seconds of imports each ``python -m governance`` costs. Not thread-safe: the
    environment is the process's own.
    """
    full_env = _cli_env(home, env)
    if not in_process:
        return subprocess.run([sys.executable, "-m", "governance", *args], cwd=REPO,
                              env=full_env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_tmp = dict(os.environ), tempfile.tempdir
    os.environ.clear()
    os.environ.update(full_env)
    tempfile.tempdir = full_env.get("TMPDIR", saved_tmp)
    get_settings.cache_clear()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(args)
                code: int = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        tempfile.tempdir = saved_tmp
        get_settings.cache_clear()
        dispose_engines()
    return subprocess.CompletedProcess(["govern", *args], code, out.getvalue(), err.getvalue())


def assert_one_line_exit_2(proc: subprocess.CompletedProcess[str]) -> str:
    """A refused CLI input: exit 2, one line on stderr, no traceback; return the line."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "internal error" not in proc.stderr
    return lines[0]


def assert_error_body(r: Any, *statuses: int) -> dict[str, Any]:
    """A 4xx JSON ``{code, message}`` (one of ``statuses`` when given); return the body."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    if statuses:
        assert r.status_code in statuses, (r.status_code, r.text[:500])
    body = r.json()
    assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str), body
    assert "Traceback" not in r.text
    return body
