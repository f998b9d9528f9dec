"""Finding 6a: no API error message names a server filesystem path.

Before: an unreadable upload was described by its temporary path ("file '/tmp/tmpab12/
x.parquet' could not be read"), a broken policy by its absolute path under the policies
directory, and a missing artifact by the artifact folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.hostile import ABSOLUTE_PATH, assert_error_body, csv_bytes, upload


def _no_server_path(message: str, *roots: Path | str) -> None:
    assert not ABSOLUTE_PATH.search(message), message
    for root in (tempfile.gettempdir(), *roots):
        assert str(root) not in message, message


@pytest.mark.parametrize(("filename", "content"), [
    ("broken.parquet", b"PAR1" + b"\x00" * 64),
    ("garbage.parquet", bytes(range(256)) * 8),
    ("quoted.csv", b'age,income\n"17,3\n'),
    ("binary.csv", b"\xff\xfe\x00\x01" * 100),
])
def test_unreadable_uploads_are_described_without_server_paths(client, headers, gov,
                                                               filename, content):
    # Run
    r = upload(client, headers["requester"], content=content, filename=filename,
               schema=MIXED_SCHEMA.to_yaml())
    # Assert: the message names the file as the client sent it.
    body = assert_error_body(r, 422)
    assert filename in body["message"]
    _no_server_path(body["message"], gov.settings.home)


@pytest.fixture
def broken_policy(gov, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "operator-policies"
    folder.mkdir()
    (folder / "broken.yaml").write_text("version: 1\nname: broken\nrisk: {max_epsilon: -1}\n")
    monkeypatch.setattr(gov.settings, "policies_dir", folder)
    return folder


def test_a_broken_policy_is_described_without_its_server_path(client, headers, gov,
                                                              broken_policy):
    # Setup
    ds = upload(client, headers["requester"], content=csv_bytes(mixed_table(80)),
                schema=MIXED_SCHEMA.to_yaml(), name="people").json()
    # Run
    read = client.get("/v1/policies/broken", headers=headers["auditor"])
    run = client.post("/v1/runs", json={"dataset": ds["id"], "target": "label",
                                        "policy": "broken"}, headers=headers["requester"])
    # Assert
    for r in (read, run):
        body = assert_error_body(r, 422)
        assert "broken" in body["message"] and "max_epsilon" in body["message"]
        _no_server_path(body["message"], broken_policy, gov.settings.home)
        _no_server_path(" ".join(body.get("problems") or []), broken_policy)
