"""A run killed mid-way resumes without retraining or recharging finished candidates.

The killed process held the run's lease; ``govern resume`` takes it over once it expires
(``GOVERNANCE_RUN_LEASE_SECONDS`` is 2 here).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.utils.data import MIXED_SCHEMA, mixed_table

REPO = Path(__file__).resolve().parents[2]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GOVERNANCE_DATABASE_URL"}
    env.update(GOVERNANCE_HOME=str(tmp / "home"), GOVERNANCE_AUDITS_DIR=str(tmp / "audits"),
               GOVERNANCE_RUN_LEASE_SECONDS="2")
    return env


def _govern(env, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "governance", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def _rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def test_kill_then_resume(tmp_path):
    # Setup: a registered table and a run of three candidates, the first one private.
    env = _env(tmp_path)
    csv, schema = tmp_path / "t.csv", tmp_path / "t.yaml"
    mixed_table(1000, seed=9).to_csv(csv, index=False)
    schema.write_text(MIXED_SCHEMA.to_yaml())
    ds = _govern(env, "datasets", "add", str(csv), "--schema", str(schema)).stdout.strip()
    db = tmp_path / "home" / "governance.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "governance", "run", ds, "--target", "label", "--generators",
         "dp_vae,gaussian_copula", "--epsilons", "4,inf", "--executor", "inline"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # Run: kill it (no cleanup at all) as soon as the first candidate is recorded.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if _rows(db, "SELECT id FROM candidate"):
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = _rows(db, "SELECT id, idempotency_key, artifact_sha256, status FROM candidate")
    assert len(first) == 1, first
    (run_id,) = _rows(db, "SELECT id FROM run")[0]
    assert _rows(db, "SELECT status FROM run")[0][0] == "running"
    time.sleep(2.5)  # the killed process's lease (2 s, no longer renewed) runs out
    resumed = _govern(env, "resume", run_id, "--json")

    # Assert: the run finished; the first candidate kept its id and artifact; one charge.
    assert resumed.returncode == 0, resumed.stderr
    doc = json.loads(resumed.stdout)
    assert doc["status"] == "succeeded"
    assert len(doc["candidates"]) == 3
    cands = {c[1]: c for c in _rows(db, "SELECT id, idempotency_key, artifact_sha256, status "
                                        "FROM candidate")}
    cid, key, artifact, _ = first[0]
    assert cands[key][0] == cid and cands[key][2] == artifact
    assert all(c[3] == "evaluated" for c in cands.values())
    charges = _rows(db, "SELECT idempotency_key, epsilon FROM budgetcharge")
    assert len(charges) == 1 and 0 < charges[0][1] <= 4
    generated = _rows(db, "SELECT subject FROM auditevent WHERE kind='candidate.generated'")
    assert len(generated) == len({g[0] for g in generated}) == 3
    assert not list((tmp_path / "home" / "artifacts").rglob("*.tmp"))
    assert _govern(env, "audit", "verify").returncode == 0
