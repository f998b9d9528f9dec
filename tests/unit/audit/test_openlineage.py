"""OpenLineage documents from stored runs, the JSON-lines log and a real HTTP endpoint."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from governance.core.errors import NotFoundError
from governance.lineage.openlineage import JOB_NAMESPACE, run_uuid
from governance.lineage.sinks import FileSink, HttpSink
from governance.schemas.runs import candidate_public
from governance.services.context import Governance
from governance.services.datasets import register_dataset
from governance.services.lineage import emit_dataset_event, emit_run_event
from governance.services.runs import RunRequest, execute_run, submit_run
from governance.store.db import dispose_engines
from governance.store.models import Candidate, Dataset, Run
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.scenario import ScenarioBuilder, settings_for


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A real run with two evaluated candidates claiming epsilon 4 and 8 (the stand-in)."""
    return ScenarioBuilder(tmp_path_factory.mktemp("lineage"), rows=600).run(
        "bob", epsilons=(4.0, 8.0)).build()


@pytest.fixture
def stored(template, tmp_path):
    world = template.clone(tmp_path)
    gov = world.gov
    # Each test starts from an empty event log; the run is marked failed so FAIL events
    # have an error to carry.
    (gov.lineage_dir / "events.jsonl").unlink()
    with gov.session() as s:
        run = s.get(Run, world.runs["bob"])
        run.status, run.error = "failed", "worker lost"
        s.add(run)
        ds = s.get(Dataset, world.dataset_id)
    yield {"gov": gov, "run": run, "ds": ds, "world": world}
    dispose_engines()


def lineage_dir(gov):
    return gov.lineage_dir


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

    # Assert: every facet carries the stored record's figure
    out = {o["name"]: o["facets"] for o in ev["outputs"]}
    with stored["gov"].session() as s:
        rows = s.exec(select(Candidate).where(Candidate.run_id == stored["run"].id)).all()
        views = [candidate_public(c) for c in rows]
        control = s.get(Run, stored["run"].id)
    for view in views:
        facets = out[f"candidates/{view.id}"]
        eps = facets["synthGovernance_epsilon"]
        assert eps["target"] == view.epsilon_target and eps["spent"] == view.epsilon_spent
        assert eps["accountant"] == view.privacy.accountant and eps["accountant"]
        attack = facets["synthGovernance_attack"]
        assert attack["worst_auc"] == view.attack.worst_auc
        assert attack["epsilon_estimate"] == view.attack.epsilon_estimate
        util = facets["synthGovernance_utility"]
        reported = view.utility.reported
        assert (util["split"], util["aggregate"]) == ("eval", "min")
        assert util["ratio_above_chance"] == view.summary.ratio_above_chance
        assert util["ratio_raw"] == view.summary.ratio_raw
        above, raw = reported.ratio_above_chance, reported.ratio_raw
        assert util["ratio_above_chance_ci"] == [above.ci_low, above.ci_high]
        assert util["ratio_raw_ci"] == [raw.ci_low, raw.ci_high]
        assert util["selection_ratio_above_chance"] == view.summary.selection_ratio_above_chance
        assert util["models"] == list(json.loads(control.control_json)["eval"])
        assert facets["version"]["datasetVersion"] == view.artifact_sha256


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


def _with_http(gov, url):
    """The same store with the file sink and an HTTP sink (injected, as an operator would)."""
    return Governance.open(gov.settings, lineage_sinks=[
        FileSink(gov.lineage_dir / "events.jsonl"), HttpSink(url)])


def test_http_transport_posts_to_the_lineage_endpoint(stored, marquez):
    # Setup
    handler, url = marquez
    gov = _with_http(stored["gov"], url + "/")

    # Run
    result = emit_run_event(gov, stored["run"].id, "COMPLETE")

    # Assert
    assert result.ok and result.http_status == 201
    ((path, ctype, body),) = handler.received
    assert path == "/api/v1/lineage" and ctype == "application/json"
    assert body == result.event == _lines(stored["gov"])[0]


def test_http_transport_reads_the_url_from_the_settings(stored, marquez, monkeypatch):
    handler, url = marquez
    monkeypatch.setenv("GOVERNANCE_OPENLINEAGE_URL", url)
    gov = Governance.open(settings_for(stored["gov"].settings.home))  # reads the variable
    result = emit_dataset_event(gov, stored["ds"].id)
    assert result.http_status == 201 and len(handler.received) == 1


@pytest.mark.parametrize("failure", ["status_500", "unreachable"])
def test_http_failures_are_logged_and_recorded_not_raised(stored, marquez, failure, caplog):
    # Setup
    handler, url = marquez
    if failure == "status_500":
        handler.status = 500
    else:
        url = "http://127.0.0.1:9"  # discard port: nothing listens
    gov = _with_http(stored["gov"], url)

    # Run
    with caplog.at_level(logging.WARNING, logger="governance.lineage.sinks"):
        result = emit_run_event(gov, stored["run"].id, "START")

    # Assert
    assert not result.ok and result.file is not None
    assert result.http_status == (500 if failure == "status_500" else None)
    assert "OpenLineage delivery failed" in caplog.text
    (failed,) = _lines(stored["gov"], "failed.jsonl")
    assert failed["event"] == result.event and failed["errors"] == list(result.errors)
    assert _lines(stored["gov"]) == [result.event]  # the local log still has it


def test_registration_and_runs_emit_events(gov, tmp_path):
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
