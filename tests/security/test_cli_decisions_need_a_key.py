"""Finding: ``govern approve --as NAME`` needed no credential; one operator met a quorum of
two alone by naming two approvers.

CLI decisions now act as the holder of an API key (``--key-file`` or
``GOVERNANCE_API_KEY``), checked by the permission module the API uses; ``--as`` is
refused, and so is a key file others may read or a symbolic link (one line, exit 2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from governance.services.auth import revoke_api_key
from governance.store.db import dispose_engines
from governance.store.models import Decision, Release
from tests.utils.cli import CliResult, govern, key_file, secret_of
from tests.utils.scenario import World


@pytest.fixture
def world(undecided_world: World, tmp_path: Path) -> Iterator[World]:
    w = undecided_world.clone(tmp_path)
    yield w
    dispose_engines()


def _one_line_exit_2(result: CliResult) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.code == 2 and len(lines) == 1, result
    assert "Traceback" not in result.stderr
    return lines[0]


def _decisions(w: World) -> list[tuple[str, str]]:
    with w.gov.session() as s:
        return [(d.actor, d.decision) for d in s.exec(select(Decision)).all()]


def test_as_name_is_refused_and_decides_nothing(world: World):
    # Run: the old way, naming both approvers.
    cand = world.candidates["req"][0]
    first = govern("approve", cand, "--as", "appr1", home=world.home)
    second = govern("approve", cand, "--as", "appr2", home=world.home)
    # Assert
    for result in (first, second):
        assert "--as is not accepted" in _one_line_exit_2(result)
    assert _decisions(world) == []


def test_one_key_cannot_meet_a_quorum_of_two(world: World, tmp_path: Path):
    # Setup
    cand = world.candidates["req"][0]
    mine = key_file(tmp_path / "appr1.key", world.headers["appr1"])
    # Run
    first = govern("approve", cand, "--key-file", str(mine), "--json", home=world.home)
    again = govern("approve", cand, "--key-file", str(mine), home=world.home)
    # Assert
    assert first.code == 0 and json.loads(first.stdout)["decision"]["actor"] == "appr1"
    assert "already decided" in _one_line_exit_2(again)
    with world.gov.session() as s:
        assert s.exec(select(Release).where(Release.status == "active")).first() is None
    assert _decisions(world) == [("appr1", "approve")]


def test_two_key_holders_meet_the_quorum(world: World, tmp_path: Path):
    # Setup
    cand = world.candidates["req"][0]
    # Run: one approver by key file, the other through GOVERNANCE_API_KEY.
    a = govern("approve", cand, "--key-file",
               str(key_file(tmp_path / "a.key", world.headers["appr1"])), home=world.home)
    b = govern("approve", cand, "--json", home=world.home,
               env={"GOVERNANCE_API_KEY": secret_of(world.headers["appr2"])})
    # Assert
    assert a.code == 0 and b.code == 0
    assert json.loads(b.stdout)["release"]["status"] == "active"
    assert sorted(_decisions(world)) == [("appr1", "approve"), ("appr2", "approve")]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_may_read_is_refused(world: World, tmp_path: Path, mode: int):
    # Setup
    loose = key_file(tmp_path / "loose.key", world.headers["appr1"], mode=mode)
    # Run
    result = govern("approve", world.candidates["req"][0], "--key-file", str(loose),
                    home=world.home)
    # Assert
    assert "may be read by others" in _one_line_exit_2(result)
    assert _decisions(world) == []


def test_a_key_file_that_is_a_symlink_is_refused(world: World, tmp_path: Path):
    # Setup
    real = key_file(tmp_path / "real.key", world.headers["appr1"])
    link = tmp_path / "link.key"
    os.symlink(real, link)
    # Run
    result = govern("approve", world.candidates["req"][0], "--key-file", str(link),
                    home=world.home)
    # Assert
    assert "symbolic link" in _one_line_exit_2(result)
    assert _decisions(world) == []


@pytest.mark.parametrize(("holder", "needle"), [
    ("req", "role 'requester' may not do this"),
    ("aud", "role 'auditor' may not do this"),
    (None, "pass --key-file PATH"),
])
def test_the_key_must_be_an_approvers(world: World, tmp_path: Path, holder, needle):
    # Setup
    args = ["--key-file", str(key_file(tmp_path / "k.key", world.headers[holder]))] if holder \
        else []
    # Run
    results = [govern(cmd, world.candidates["req"][0], *args, home=world.home)
               for cmd in ("approve", "reject")]
    # Assert
    for result in results:
        assert needle in _one_line_exit_2(result)
    assert _decisions(world) == []


def test_a_revoked_key_decides_nothing(world: World, tmp_path: Path):
    # Setup
    with world.gov.session() as s:
        revoke_api_key(session=s, name="appr1", actor="test")
    # Run
    result = govern("approve", world.candidates["req"][0], "--key-file",
                    str(key_file(tmp_path / "k.key", world.headers["appr1"])), home=world.home)
    # Assert
    assert "was revoked" in _one_line_exit_2(result)
    assert _decisions(world) == []


def test_revoking_a_release_needs_a_key_too(world: World, tmp_path: Path):
    # Setup: released by two key holders.
    cand = world.candidates["req"][0]
    for name in ("appr1", "appr2"):
        assert govern("approve", cand, "--key-file",
                      str(key_file(tmp_path / f"{name}.key", world.headers[name])),
                      home=world.home).code == 0
    with world.gov.session() as s:
        rel = s.exec(select(Release)).one()
    # Run
    by_name = govern("revoke", rel.id, "--reason", "leak", "--as", "appr1", home=world.home)
    by_key = govern("revoke", rel.id, "--reason", "leak", "--key-file",
                    str(tmp_path / "appr2.key"), home=world.home)
    # Assert
    assert "--as is not accepted" in _one_line_exit_2(by_name)
    assert by_key.code == 0 and "revoked by appr2" in by_key.stdout


def test_key_management_needs_an_admin_key_after_the_first(world: World, tmp_path: Path):
    # Setup
    admin = key_file(tmp_path / "adm.key", world.headers["adm"])
    approver = key_file(tmp_path / "appr.key", world.headers["appr1"])
    # Run
    anonymous = govern("keys", "create", "sockpuppet", "--role", "approver", home=world.home)
    second_admin = govern("keys", "create", "root2", "--role", "admin", home=world.home)
    by_approver = govern("keys", "create", "sock2", "--role", "approver", "--key-file",
                         str(approver), home=world.home)
    by_admin = govern("keys", "create", "carol", "--role", "approver", "--key-file",
                      str(admin), "--json", home=world.home)
    # Assert
    assert "pass --key-file PATH" in _one_line_exit_2(anonymous)
    assert "pass --key-file PATH" in _one_line_exit_2(second_admin)
    assert "role 'approver' may not do this" in _one_line_exit_2(by_approver)
    created = json.loads(by_admin.stdout)
    assert by_admin.code == 0 and created["role"] == "approver" and created["key"]
