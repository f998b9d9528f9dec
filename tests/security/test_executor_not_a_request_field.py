"""Finding 1a: the requester must not choose where training runs.

``POST /v1/runs`` took any ``executor`` string (a requester's own Dask scheduler, even
``file:///etc/passwd``, was accepted with 202). The executor is now server
configuration: a body naming one is refused with 422 naming the setting, the CLI may
choose only among names the operator configured, and settings refuse addresses that
would send training data unencrypted to another host unless explicitly allowed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import select

from governance.cli.app import main
from governance.core.config import Settings, get_settings
from governance.core.errors import InputError
from governance.services.datasets import register_dataset
from governance.services.runs import RunRequest, submit_run
from governance.store.models import Run
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.hostile import assert_error_body, csv_bytes, upload

HOSTILE = ["file:///etc/passwd", "tcp://203.0.113.7:8786", "tls://127.0.0.1:1", "local",
           "inline", None, 7, {"address": "tcp://127.0.0.1:8786"}]


@pytest.fixture
def dataset_id(client, headers) -> str:
    r = upload(client, headers["requester"], content=csv_bytes(mixed_table(120)),
               schema=MIXED_SCHEMA.to_yaml(), name="people")
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_a_run_body_naming_an_executor_is_422_naming_the_setting(client, headers, gov,
                                                                 dataset_id, value):
    # Run
    r = client.post("/v1/runs", json={"dataset": dataset_id, "target": "label",
                                      "generators": ["gaussian_copula"], "epsilons": ["inf"],
                                      "executor": value}, headers=headers["requester"])
    # Assert
    body = assert_error_body(r, 422)
    assert "GOVERNANCE_EXECUTOR" in body["message"] and "executor" in body["message"]
    assert "passwd" not in body["message"] and "203.0.113.7" not in body["message"]
    with gov.session() as s:
        assert s.exec(select(Run)).all() == []


def test_the_openapi_spec_offers_no_executor_field(client):
    # Run
    spec = client.get("/openapi.json").json()
    # Assert
    assert "executor" not in spec["components"]["schemas"]["RunCreate"]["properties"]


def test_an_unknown_field_is_refused_with_a_clear_message(client, headers, dataset_id):
    # Run
    r = client.post("/v1/runs", json={"dataset": dataset_id, "scheduler": "tcp://x:1"},
                    headers=headers["requester"])
    # Assert
    body = assert_error_body(r, 422)
    assert body["message"].startswith("scheduler: unknown field")


@pytest.fixture
def people(gov, tmp_path: Path) -> str:
    csv = tmp_path / "people.csv"
    mixed_table(120).to_csv(csv, index=False)
    return register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="people", actor="bob").id


def _request(dataset: str, executor: str | None) -> RunRequest:
    return RunRequest(dataset=dataset, target="label", generators=["gaussian_copula"],
                      epsilons=[float("inf")], executor=executor)


def test_runs_use_the_configured_executor_by_name(gov, people, monkeypatch):
    # Setup
    monkeypatch.setattr(gov.settings, "executor", "inline")
    monkeypatch.setattr(gov.settings, "executors", {"cluster": "tls://10.0.0.9:8786"})
    # Run
    default = submit_run(gov, _request(people, None), actor="bob")
    named = submit_run(gov, _request(people, "cluster"), actor="bob")
    # Assert: the run records the name, never the address
    assert (default.executor, named.executor) == ("inline", "cluster")


@pytest.mark.parametrize(("name", "fragment"), [
    ("file:///etc/passwd", "not an executor name"),
    ("tcp://127.0.0.1:8786", "not an executor name"),
    ("gpu", "unknown executor 'gpu'"),
])
def test_an_unconfigured_executor_is_refused_before_anything_is_queued(gov, people, name,
                                                                       fragment):
    # Run
    with pytest.raises(InputError, match=fragment) as caught:
        submit_run(gov, _request(people, name), actor="bob")
    # Assert
    assert "GOVERNANCE_EXECUTORS" in caught.value.message
    with gov.session() as s:
        assert s.exec(select(Run)).all() == []


@pytest.mark.parametrize("name", ["file:///etc/passwd", "tcp://127.0.0.1:8786", "nosuch"])
def test_the_cli_refuses_an_unconfigured_executor_in_one_line(gov, people, monkeypatch,
                                                              capsys, name):
    # Setup
    monkeypatch.setattr(sys, "argv", ["govern", "run", "people", "--target", "label",
                                      "--generators", "gaussian_copula", "--epsilons", "inf",
                                      "--executor", name])
    # Run
    with pytest.raises(SystemExit) as caught:
        main()
    # Assert
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert caught.value.code == 2 and len(err) == 1, err
    assert "GOVERNANCE_EXECUTORS" in err[0] and "Traceback" not in err[0]


@pytest.mark.parametrize(("executors", "extra", "fragment"), [
    ({"far": "tcp://203.0.113.7:8786"}, {}, "GOVERNANCE_ALLOW_INSECURE_EXECUTOR"),
    ({"far": "tls://203.0.113.7:8786"}, {}, "GOVERNANCE_EXECUTOR_TLS_CA_FILE"),
    ({"far": "file:///etc/passwd"}, {}, "tls://HOST:PORT"),
    ({"far": "tcp://user:pw@127.0.0.1:8786"}, {}, "tls://HOST:PORT"),
    ({"Bad Name": "local"}, {}, "not a usable executor name"),
    ({"local": "tcp://127.0.0.1:8786"}, {}, "not a usable executor name"),
    ({}, {"executor": "gpu"}, "GOVERNANCE_EXECUTOR: unknown executor 'gpu'"),
])
def test_unsafe_or_malformed_executor_settings_are_refused(tmp_path, executors, extra,
                                                           fragment):
    # Run
    with pytest.raises(ValidationError, match=fragment):
        Settings(home=tmp_path, environment="test", executors=executors, **extra)


def test_plain_tcp_elsewhere_is_accepted_only_when_allowed_explicitly(tmp_path):
    # Run
    loopback = Settings(home=tmp_path, executors={"near": "tcp://127.0.0.1:8786"})
    far = Settings(home=tmp_path, executors={"far": "tcp://203.0.113.7:8786"},
                   allow_insecure_executor=True)
    # Assert
    assert loopback.executor_spec("near").transport == "tcp-loopback"
    spec = far.executor_spec("far")
    assert spec.insecure and "NOT encrypted" in spec.describe()
    assert "203.0.113.7" not in spec.describe()


def test_the_cli_names_an_insecure_executor_setting_in_one_line(settings, monkeypatch, capsys):
    # Setup: the operator configured plain TCP to another host without allowing it
    monkeypatch.setenv("GOVERNANCE_EXECUTORS", '{"far": "tcp://203.0.113.7:8786"}')
    get_settings.cache_clear()
    monkeypatch.setattr(sys, "argv", ["govern", "datasets", "list"])
    # Run
    with pytest.raises(SystemExit) as caught:
        main()
    # Assert
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert caught.value.code == 2 and len(err) == 1, err
    assert "invalid settings" in err[0] and "GOVERNANCE_ALLOW_INSECURE_EXECUTOR" in err[0]
