"""Finding 1: spreadsheet formulas in released CSVs are neutralised (OWASP CSV injection).

A table whose categorical values begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is registered through the API, run, approved and downloaded. The CSV download
prefixes such text cells with a single quote and says so in ``X-CSV-Neutralised``; numeric
columns (negative numbers are data, not formulas) and the Parquet bytes are untouched.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import select

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.services.context import Governance
from governance.services.runs import RunRequest, execute_run, submit_run
from governance.store.db import dispose_engines
from governance.store.models import Candidate
from tests.utils.api import make_key
from tests.utils.generators import stand_in_registered
from tests.utils.hostile import parquet_bytes, upload
from tests.utils.scenario import loose_policy, settings_for

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NOTES = ["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd|' /C calc'!A0", "\tTAB", "\rCR", "plain"]
SCHEMA = {"columns": {
    "note": {"type": "categorical", "categories": NOTES},
    "delta": {"type": "numeric", "min": -10, "max": 10},
    "count": {"type": "integer", "min": -5, "max": 5},
    "label": {"type": "categorical", "categories": [0, 1]},
}}


def formula_table(n: int = 350, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    note = [NOTES[i % len(NOTES)] for i in range(n)]
    delta = rng.uniform(-10, 10, n).round(3)
    count = rng.integers(-5, 6, n)
    label = ((delta + rng.normal(0, 3, n)) > 0).astype(int)
    return pd.DataFrame({"note": note, "delta": delta, "count": count, "label": label})


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("formula")
    gov = Governance.open(settings_for(root / "home"))
    hdr = {"requester": make_key(gov, "req", "requester"),
           "approver": make_key(gov, "appr", "approver")}
    app.dependency_overrides[get_governance] = lambda: gov
    app.dependency_overrides[get_rate_limiter] = lambda: RateLimiter(per_minute=0)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            r = upload(client, hdr["requester"], content=parquet_bytes(formula_table()),
                       filename="formulas.parquet", schema=yaml.safe_dump(SCHEMA),
                       name="formulas")
            assert r.status_code == 201, r.text
            policy = root / "loose.yaml"
            policy.write_text(loose_policy("formula-loose", quorum=1, consumers="req"))
            with stand_in_registered() as generator:
                request = RunRequest(dataset=r.json()["id"], target="label", policy=policy,
                                     generators=[generator], epsilons=[8.0], executor="inline")
                run = execute_run(gov, submit_run(gov, request, actor="req").id)
            assert run.status == "succeeded", run.error
            with gov.session() as s:
                cand = s.exec(select(Candidate).where(Candidate.run_id == run.id)).one()
            d = client.post(f"/v1/candidates/{cand.id}/decisions", json={"decision": "approve"},
                            headers=hdr["approver"])
            assert d.status_code == 201, d.text
            yield {"client": client, "hdr": hdr, "release_id": d.json()["release"]["id"]}
    finally:
        app.dependency_overrides.clear()
        dispose_engines()


def _download(release: dict[str, Any], fmt: str) -> Any:
    r = release["client"].get(f"/v1/releases/{release['release_id']}/data?format={fmt}",
                              headers=release["hdr"]["requester"])
    assert r.status_code == 200, r.text
    return r


def test_csv_cells_that_start_a_formula_are_prefixed_with_a_quote(release):
    # Setup: the released rows as stored (Parquet).
    stored = pd.read_parquet(io.BytesIO(_download(release, "parquet").content))
    # Run
    r = _download(release, "csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8"), newline="")))
    # Assert: the header announces the transformation, and every text cell that a
    # spreadsheet would evaluate is quoted, exactly the stored value behind one quote.
    assert r.headers["x-csv-neutralised"] == "formula-prefix"
    assert len(rows) == len(stored)
    notes = [str(v) for v in stored["note"]]
    assert any(v.startswith(TRIGGERS) for v in notes), "the release holds no formula cell"
    for got, want in zip((row["note"] for row in rows), notes, strict=True):
        assert not got.startswith(TRIGGERS), repr(got)
        assert got == ("'" + want if want.startswith(TRIGGERS) else want)


def test_numeric_columns_keep_their_negative_numbers(release):
    # Run
    rows = list(csv.DictReader(io.StringIO(_download(release, "csv").content.decode())))
    # Assert: -3 is a number, not a formula; numeric columns are left alone.
    deltas = [float(row["delta"]) for row in rows]
    counts = [int(row["count"]) for row in rows]
    assert min(deltas) < 0 and min(counts) < 0
    assert all(not row["delta"].startswith("'") and not row["count"].startswith("'")
               for row in rows)


def test_parquet_stays_byte_identical_to_the_artifact(release):
    # Run
    r = _download(release, "parquet")
    # Assert
    assert hashlib.sha256(r.content).hexdigest() == r.headers["x-artifact-sha256"]
    assert "x-csv-neutralised" not in r.headers
