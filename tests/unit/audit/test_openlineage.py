"""OpenLineage documents from stored runs, the JSON-lines log and a real HTTP endpoint."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from governance.core.errors import NotFoundError
from governance.lineage.openlineage import (
    JOB_NAMESPACE,
    emit_dataset_event,
    emit_run_event,
    lineage_dir,
    run_uuid,
)
from governance.policy import default_policy
from governance.services.datasets import register_dataset
from governance.services.runs.execute import record_policy
from governance.store.models import Candidate, Run
from tests.utils.data import MIXED_SCHEMA, mixed_table

PRIVACY = {"epsilon_target": 4.0, "epsilon_spent": 3.9, "delta": 1e-5, "mechanism": "dp_vae",
           "accountant": "prv"}
ATTACK = {"worst_auc": 0.53, "worst_epsilon_lb": 0.21, "worst_tpr_at_1pct": 0.012,
          "failed_audit": False}
UTILITY = {"utility_ratio": {"value": 0.91, "ci_low": 0.85, "ci_high": 0.96},
           "scenarios": {"tstr": {"primary": 0.73}}}


@pytest.fixture
def stored(gov, tmp_path):
    csv = tmp_path / "people.csv"
    mixed_table(300, seed=1).to_csv(csv, index=False)
    ds = register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="people", actor="owner")
    # Registration emits its own dataset event (tested below); start each test from none.
    (gov.settings.home / "openlineage" / "events.jsonl").unlink()
    loaded = default_policy()
    with gov.session() as s:
        record_policy(s, loaded, actor="owner")
        run = Run(id="run_000000000001", dataset_id=ds.id, policy_sha256=loaded.sha256,
                  task_json='{"target": "label"}', grid_json='[["dp_vae", 4.0]]', seed=0,
                  requested_by="bob", status="failed", error="worker lost",
                  control_json='{"primary": 0.8}')
        s.add(run)
        s.flush()
        rows = [("cand_dp", "dp_vae", 4.0, 3.9, "evaluated", "a" * 64),
                ("cand_copula", "gaussian_copula", None, None, "evaluated", "b" * 64),
                ("cand_broken", "dp_vae", 1.0, None, "failed", None)]
        for cid, gen, target, spent, status, sha in rows:
            s.add(Candidate(id=cid, run_id=run.id, idempotency_key=cid, generator=gen,
                            epsilon_target=target, epsilon_spent=spent, seed=0, status=status,
                            artifact_sha256=sha, delta=1e-5, privacy_json=json.dumps(PRIVACY),
                            attack_json=json.dumps(ATTACK), utility_json=json.dumps(UTILITY),
                            verdict_json='{"eligible": true, "violations": []}'))
    return {"gov": gov, "run": run, "ds": ds}


def _lines(gov, name="events.jsonl"):
    path = lineage_dir(gov) / name
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _assert_run_event_shape(ev, event_type):
    assert ev["eventType"] == event_type
    assert ev["schemaURL"].endswith("OpenLineage.json#/$defs/RunEvent")
    assert ev["producer"].startswith("https://") and ev["eventTime"].endswith("+00:00")
    assert uuid.UUID(ev["run"]["runId"]).version == 5
    assert ev["job"]["namespace"] == JOB_NAMESPACE
    for ds in ev["inputs"] + ev["outputs"]:
        assert ds["namespace"] == JOB_NAMESPACE and ds["name"]
        for facet in ds["facets"].values():
            assert facet["_producer"] and facet["_schemaURL"].startswith("https://")


@pytest.mark.parametrize("event_type, n_outputs", [("START", 0), ("COMPLETE", 2), ("FAIL", 2)])
def test_run_events_are_built_from_the_store(stored, event_type, n_outputs):
    # Setup
    gov, run = stored["gov"], stored["run"]

    # Run
    result = emit_run_event(gov, run.id, event_type)

    # Assert
    ev = result.event
    assert result.ok and result.http_status is None and _lines(gov) == [ev]
    _assert_run_event_shape(ev, event_type)
    assert ev["run"]["runId"] == run_uuid(run.id)
    assert ev["run"]["facets"]["synthGovernance_run"]["run_id"] == run.id
    assert [i["name"] for i in ev["inputs"]] == ["datasets/people"]
    assert len(ev["outputs"]) == n_outputs
    assert ("errorMessage" in ev["run"]["facets"]) is (event_type == "FAIL")


def test_candidate_facets_carry_epsilon_attack_and_utility(stored):
    # Setup / Run
    ev = emit_run_event(stored["gov"], stored["run"].id, "COMPLETE").event

    # Assert
    out = {o["name"]: o["facets"] for o in ev["outputs"]}
    dp, copula = out["candidates/cand_dp"], out["candidates/cand_copula"]
    assert dp["synthGovernance_epsilon"]["target"] == 4.0
    assert dp["synthGovernance_epsilon"]["spent"] == 3.9
    assert dp["synthGovernance_epsilon"]["accountant"] == "prv"
    assert copula["synthGovernance_epsilon"]["spent"] == "inf"
    assert dp["synthGovernance_attack"]["worst_auc"] == 0.53
    assert dp["synthGovernance_attack"]["epsilon_lower_bound"] == 0.21
    util = dp["synthGovernance_utility"]
    assert (util["control"], util["tstr"], util["ratio"]) == (0.8, 0.73, 0.91)
    assert util["ratio_ci"] == [0.85, 0.96]
    assert dp["version"]["datasetVersion"] == "a" * 64


def test_fail_event_carries_the_error(stored):
    ev = emit_run_event(stored["gov"], stored["run"].id, "FAIL").event
    assert ev["run"]["facets"]["errorMessage"]["message"] == "worker lost"


def test_dataset_event(stored):
    # Setup / Run
    result = emit_dataset_event(stored["gov"], stored["ds"].id)

    # Assert
    ev = result.event
    assert ev["schemaURL"].endswith("#/$defs/DatasetEvent") and "eventType" not in ev
    facets = ev["dataset"]["facets"]
    assert [f["name"] for f in facets["schema"]["fields"]] == list(MIXED_SCHEMA.columns)
    assert facets["version"]["datasetVersion"] == stored["ds"].source_sha256
    assert _lines(stored["gov"]) == [ev]


@pytest.mark.parametrize("call, arg, error", [
    ("run", "START_", ValueError), ("run_missing", "START", NotFoundError),
    ("dataset_missing", None, NotFoundError)])
def test_bad_arguments_are_refused(stored, call, arg, error):
    gov = stored["gov"]
    with pytest.raises(error):
        if call == "run":
            emit_run_event(gov, stored["run"].id, arg)
        elif call == "run_missing":
            emit_run_event(gov, "run_nope", arg)
        else:
            emit_dataset_event(gov, "ds_nope")


def test_concurrent_appends_give_one_valid_line_each(stored):
    # Setup
    gov, run_id = stored["gov"], stored["run"].id
    threads = [threading.Thread(target=emit_run_event, args=(gov, run_id, "COMPLETE"))
               for _ in range(8)]

    # Run
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Assert
    lines = _lines(gov)
    assert len(lines) == 8 and all(len(ev["outputs"]) == 2 for ev in lines)


class _Marquez(BaseHTTPRequestHandler):
    status = 201
    received: list[tuple[str, str, dict]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def marquez():
    handler = type("Handler", (_Marquez,), {"received": [], "status": 201})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_transport_posts_to_the_lineage_endpoint(stored, marquez):
    # Setup
    handler, url = marquez

    # Run
    result = emit_run_event(stored["gov"], stored["run"].id, "COMPLETE", url=url + "/")

    # Assert
    assert result.ok and result.http_status == 201
    ((path, ctype, body),) = handler.received
    assert path == "/api/v1/lineage" and ctype == "application/json"
    assert body == result.event == _lines(stored["gov"])[0]


def test_http_transport_reads_the_url_from_the_environment(stored, marquez, monkeypatch):
    handler, url = marquez
    monkeypatch.setenv("GOVERNANCE_OPENLINEAGE_URL", url)
    result = emit_dataset_event(stored["gov"], stored["ds"].id)
    assert result.http_status == 201 and len(handler.received) == 1


@pytest.mark.parametrize("failure", ["status_500", "unreachable"])
def test_http_failures_are_logged_and_recorded_not_raised(stored, marquez, failure, caplog):
    # Setup
    handler, url = marquez
    if failure == "status_500":
        handler.status = 500
    else:
        url = "http://127.0.0.1:9"  # discard port: nothing listens

    # Run
    with caplog.at_level(logging.WARNING, logger="governance.lineage.openlineage"):
        result = emit_run_event(stored["gov"], stored["run"].id, "START", url=url)

    # Assert
    assert not result.ok and result.file is not None
    assert result.http_status == (500 if failure == "status_500" else None)
    assert "OpenLineage delivery failed" in caplog.text
    (failed,) = _lines(stored["gov"], "failed.jsonl")
    assert failed["event"] == result.event and failed["errors"] == list(result.errors)
    assert _lines(stored["gov"]) == [result.event]  # the local log still has it


def test_registration_and_runs_emit_events(gov, tmp_path):
    from governance.services.runs.execute import RunRequest, execute_run, submit_run

    # Setup / Run
    csv = tmp_path / "t.csv"
    mixed_table(300, seed=2).to_csv(csv, index=False)
    ds = register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="t", actor="owner")
    run = submit_run(gov, RunRequest(dataset=ds.id, target="label", generators=["gaussian_copula"],
                                     epsilons=[float("inf")], executor="inline"), actor="a")
    execute_run(gov, run.id)

    # Assert: the dataset event, then START and COMPLETE sharing one runId.
    lines = _lines(gov)
    assert "eventType" not in lines[0] and lines[0]["dataset"]["name"]
    assert [ev["eventType"] for ev in lines[1:]] == ["START", "COMPLETE"]
    assert lines[1]["run"]["runId"] == lines[2]["run"]["runId"]
    assert len(lines[2]["outputs"]) == 1
