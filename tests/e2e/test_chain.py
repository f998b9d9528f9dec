"""The whole chain: register -> run -> frontier -> approvals -> release -> download -> audit.

Runs the real CLI in subprocesses (exit codes and ``--json`` output are part of the
contract) and the real FastAPI app, on one isolated GOVERNANCE_HOME, with the real
Gaussian-copula generator, attacks and utility evaluation on a small table.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.deps import get_governance
from api.main import app
from tests.utils.data import MIXED_SCHEMA, mixed_table

REPO = Path(__file__).resolve().parents[2]


def govern(env: dict[str, str], *args: str, check: int | None = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "governance", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    if check is not None:
        assert proc.returncode == check, proc.stderr + proc.stdout
    return proc


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A registered table and a finished run, shared by the tests below."""
    tmp = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "GOVERNANCE_HOME": str(tmp / "home"),
           "GOVERNANCE_AUDITS_DIR": str(tmp / "audits"), "GOVERNANCE_DATABASE_URL": ""}
    env.pop("GOVERNANCE_DATABASE_URL")
    csv, schema = tmp / "people.csv", tmp / "people.schema.yaml"
    mixed_table(1200, seed=5).to_csv(csv, index=False)
    schema.write_text(MIXED_SCHEMA.to_yaml())
    ds = json.loads(govern(env, "datasets", "add", str(csv), "--schema", str(schema),
                           "--json").stdout)
    run = json.loads(govern(env, "run", ds["id"], "--target", "label", "--generators",
                            "gaussian_copula", "--epsilons", "inf", "--executor", "inline",
                            "--as", "alice", "--json").stdout)
    return {"env": env, "tmp": tmp, "ds": ds, "run": run}


def test_run_record_is_complete(world):
    run = world["run"]
    assert run["status"] == "succeeded"
    (cand,) = run["candidates"]
    assert cand["status"] == "evaluated" and cand["epsilon_spent"] == "inf"
    # The label is learnable from real data by every model of the panel.
    assert all(s["primary"] > 0.7 for s in run["control"]["eval"].values())
    assert 0.5 <= cand["summary"]["worst_attack_auc"] <= 1
    summary = cand["summary"]
    assert None not in (summary["selection_ratio_above_chance"], summary["ratio_above_chance"],
                        summary["ratio_raw"])
    assert run["frontier"]["pareto"] == [cand["id"]]


def test_frontier_plot_is_a_png(world):
    out = json.loads(govern(world["env"], "frontier", world["run"]["id"], "--json").stdout)
    assert Path(out["plot_path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_errors_are_one_line_and_exit_2(world):
    env = world["env"]
    for args, needle in [
        (("run", world["ds"]["id"], "--target", "salary"), "unknown column 'salary'"),
        (("run", world["ds"]["id"], "--target", "label", "--generators", "magic"),
         "unknown generator 'magic'"),
        (("run", "nope", "--target", "label"), "no dataset 'nope'"),
        (("run", world["ds"]["id"], "--target", "label", "--epsilons", "1,x"), "not a number"),
        (("datasets", "add", str(world["tmp"] / "missing.csv"), "--infer-schema"),
         "does not exist"),
    ]:
        proc = govern(env, *args, check=2)
        assert needle in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_json_error_document(world):
    proc = govern(world["env"], "run", "nope", "--target", "label", "--json", check=2)
    assert json.loads(proc.stdout)["error"]["code"] == "not_found"


def test_release_flow_through_the_api(world, monkeypatch):
    from governance.core.config import Settings
    from governance.services.context import Governance
    from governance.store.db import dispose_engines

    # Setup: the API on the same home as the CLI run.
    env = world["env"]
    root = json.loads(govern(env, "keys", "create", "root", "--role", "admin",
                             "--json").stdout)["key"]  # the first admin needs no key
    keys = {}
    for name, role in [("bob", "approver"), ("carol", "approver"), ("dave", "requester"),
                       ("erin", "auditor")]:
        keys[name] = json.loads(govern({**env, "GOVERNANCE_API_KEY": root}, "keys", "create",
                                       name, "--role", role, "--json").stdout)["key"]
    hdr = {n: {"Authorization": f"Bearer {k}"} for n, k in keys.items()}
    gov = Governance.open(Settings(home=Path(env["GOVERNANCE_HOME"]),
                                   audits_dir=Path(env["GOVERNANCE_AUDITS_DIR"])))
    app.dependency_overrides[get_governance] = lambda: gov
    cand = world["run"]["candidates"][0]["id"]
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            # Before approval: 403, and the attempt is logged.
            r = client.get(f"/v1/candidates/{cand}/data", headers=hdr["dave"])
            assert r.status_code == 403, r.text
            # The default policy refuses an infinite-epsilon candidate: approval is a 409.
            r = client.post(f"/v1/candidates/{cand}/decisions", json={"decision": "approve"},
                            headers=hdr["bob"])
            assert r.status_code == 409 and "max_epsilon" in r.text
    finally:
        app.dependency_overrides.clear()
        dispose_engines()
    # The CLI refuses the same approval with one line and exit 2; it acts as a key's
    # holder, never as a name given with --as.
    proc = govern({**env, "GOVERNANCE_API_KEY": keys["carol"]}, "approve", cand, check=2)
    assert "cannot be approved" in proc.stderr and "risk.max_epsilon" not in proc.stdout
    proc = govern(env, "approve", cand, "--as", "carol", check=2)
    assert "--as is not accepted" in proc.stderr
    out = json.loads(govern(env, "audit", "verify", "--json").stdout)
    assert out["ok"] and out["checked"] > 5


def test_tampering_makes_verify_exit_1(world, tmp_path):
    # Setup: a copy of the database with one stored event altered.
    env = dict(world["env"])
    home = tmp_path / "home"
    import shutil

    shutil.copytree(env["GOVERNANCE_HOME"], home)
    env["GOVERNANCE_HOME"] = str(home)
    db = sqlite3.connect(home / "governance.db")
    db.execute("UPDATE auditevent SET actor='mallory' WHERE seq=2")
    db.commit()
    db.close()
    # Run
    proc = govern(env, "audit", "verify", check=1)
    # Assert
    assert "event 2 was altered" in proc.stderr
