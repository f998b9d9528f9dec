"""Finding 1c: nothing a worker returns is trusted for privacy.

A requester's scheduler had a forged ``epsilon_spent`` recorded and charged, and the
server unpickled the worker's reply. Now every reply is checked against the task it
answers, and the privacy record is recomputed on the server from its mechanism
parameters before anything is charged or shown: a forged figure fails the candidate
and charges nothing. Dask replies are plain msgpack data; a worker answering with an
object that needs unpickling fails its candidate without the object being loaded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlmodel import select

from governance.core.errors import PrivacyRecordError
from governance.generators.base import PrivacySpend
from governance.generators.marginal.mst import MSTGenerator
from governance.generators.privacy.accounting import spent_epsilon
from governance.generators.privacy.verify import verify_spend
from governance.generators.privacy.zcdp import cdp_eps
from governance.generators.sdv.copula import GaussianCopulaGenerator
from governance.generators.vae.dp_vae import MECHANISM, DPVAEGenerator
from governance.services.runs import execute_run
from governance.services.runs.executors import (
    DaskExecutor,
    GenerationOutput,
    GenerationTask,
    decode_reply,
)
from governance.store.models import Candidate
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.runs import charges, events, loose_policy, register_people, submit
from tests.utils.workers import answer_with_tripwire, echo_rows

SGD = {"noise_multiplier": 2.0, "sample_rate": 0.1, "steps": 100, "accountant": "rdp"}


def sgd_record(task: GenerationTask, **changes: object) -> PrivacySpend:
    """An honest DP-SGD record for ``task`` (the truth per the RDP accountant), changed."""
    truth = spent_epsilon(noise_multiplier=2.0, sample_rate=0.1, steps=100, delta=task.delta,
                          accountant="rdp")
    record = PrivacySpend(epsilon_target=task.epsilon, epsilon_spent=truth, delta=task.delta,
                          mechanism=MECHANISM, **SGD)
    return record.model_copy(update=changes)


class ForgingExecutor:
    """Answers each task with echoed rows and the privacy record ``forge`` makes for it."""

    name = "forging"

    def __init__(self, forge: Callable[[GenerationTask], PrivacySpend | None],
                 key: Callable[[GenerationTask], str] = lambda t: t.key) -> None:
        self.forge, self.key = forge, key

    def run(self, tasks: list[GenerationTask], fn: object = None) -> Iterator[GenerationOutput]:
        """One forged reply per task."""
        for task in tasks:
            rows = echo_rows(task).synthetic
            yield GenerationOutput(self.key(task), rows, self.forge(task), 0.1, 0.1)


@pytest.fixture
def people(gov, tmp_path: Path) -> str:
    return register_people(gov, tmp_path)


def _candidates(gov, run_id: str) -> dict[float | None, Candidate]:
    with gov.session() as s:
        rows = s.exec(select(Candidate).where(Candidate.run_id == run_id)).all()
    return {c.epsilon_target: c for c in rows}


def test_a_forged_epsilon_fails_the_candidate_and_charges_nothing(gov, people, tmp_path):
    # Setup: at epsilon 4 the worker reports a tenth of the truth; at 8 it is honest
    run = submit(gov, people, policy=loose_policy(tmp_path), generators=["dp_vae"],
                 epsilons=[4.0, 8.0])

    def forge(task: GenerationTask) -> PrivacySpend:
        record = sgd_record(task)
        if task.epsilon == 4.0:
            return record.model_copy(update={"epsilon_spent": record.epsilon_spent / 10})
        return record

    # Run
    done = execute_run(gov, run.id, executor=ForgingExecutor(forge))
    # Assert
    assert done.status == "succeeded"
    cands = _candidates(gov, run.id)
    forged, honest = cands[4.0], cands[8.0]
    assert forged.status == "failed" and forged.epsilon_spent is None
    assert forged.artifact_sha256 is None and forged.privacy_json is None
    assert "privacy record rejected" in forged.error and "rdp accountant" in forged.error
    truth = sgd_record(GenerationTask("k", "dp_vae", 8.0, 1e-5, 0, 1, "", mixed_table(2)))
    assert honest.status == "evaluated" and honest.epsilon_spent == truth.epsilon_spent
    assert [(c.candidate_id, c.epsilon) for c in charges(gov)] == [
        (honest.id, truth.epsilon_spent)]
    (failed,) = events(gov, "candidate.failed")
    assert failed["epsilon_target"] == 4.0 and "privacy record rejected" in failed["error"]


@pytest.mark.parametrize(("what", "forge"), [
    ("non-private claim", lambda t: sgd_record(t, epsilon_spent=math.inf)),
    ("other target", lambda t: sgd_record(t, epsilon_target=100.0)),
    ("no record", lambda t: None),
])
def test_other_forged_records_fail_the_candidate_and_charge_nothing(gov, people, tmp_path,
                                                                    what, forge):
    # Setup
    run = submit(gov, people, policy=loose_policy(tmp_path), generators=["dp_vae"],
                 epsilons=[4.0])
    # Run
    execute_run(gov, run.id, executor=ForgingExecutor(forge))
    # Assert
    (cand,) = _candidates(gov, run.id).values()
    assert cand.status == "failed", what
    assert charges(gov) == []


def test_a_reply_for_another_task_is_ignored_and_its_task_fails(gov, people, tmp_path):
    # Setup: the reply claims the key of a candidate of some other run
    run = submit(gov, people, policy=loose_policy(tmp_path), generators=["dp_vae"],
                 epsilons=[4.0])
    other = "run_other/dp_vae/0.1/7"
    # Run
    execute_run(gov, run.id, executor=ForgingExecutor(sgd_record, key=lambda t: other))
    # Assert
    with gov.session() as s:
        assert s.exec(select(Candidate).where(Candidate.idempotency_key == other)).all() == []
    (cand,) = _candidates(gov, run.id).values()
    assert cand.status == "failed" and "no reply" in cand.error
    assert charges(gov) == []


def _task(epsilon: float = 4.0, **options: object) -> GenerationTask:
    return GenerationTask(key="r/dp_vae/4/1", generator="dp_vae", epsilon=epsilon, delta=1e-5,
                          seed=1, n_synthetic=10, schema_yaml=MIXED_SCHEMA.to_yaml(),
                          train=mixed_table(20), options=dict(options))


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"noise_multiplier": 8.0}, "rdp accountant gives"),
    ({"steps": 10}, "rdp accountant gives"),
    ({"accountant_delta": 0.5}, "accountant's delta"),
    ({"delta": 0.1, "accountant_delta": 1e-5}, "delta 0.1 is not in"),
    ({"mechanism": "none (non-private)"}, "names mechanism"),
    ({"sample_rate": 1.5}, "cannot be accounted"),
    ({"steps": None}, "lacks its noise multiplier"),
    ({"preprocessing_epsilon": 0.5}, "preprocessing epsilon 0.5"),
])
def test_verify_spend_refuses_records_that_disagree_with_the_server(changes, fragment):
    # Setup
    record = sgd_record(_task(), **changes)
    # Run / Assert
    with pytest.raises(PrivacyRecordError, match=fragment):
        verify_spend(record, generator=DPVAEGenerator, epsilon=4.0, delta=1e-5)


def test_verify_spend_checks_zcdp_records_by_their_rho():
    # Setup: the record MST writes for rho spent at delta 1e-5
    rho = 0.05
    mst = PrivacySpend(epsilon_target=2.0, epsilon_spent=cdp_eps(rho, 1e-5), delta=1e-5,
                       mechanism=MSTGenerator.mechanism, rho=rho)
    # Run
    checked = verify_spend(mst, generator=MSTGenerator, epsilon=2.0, delta=1e-5)
    # Assert
    assert checked.epsilon_spent == mst.epsilon_spent
    assert checked.notes[-1].startswith("epsilon_spent recomputed on the server")
    with pytest.raises(PrivacyRecordError, match="zCDP accountant gives"):
        verify_spend(mst.model_copy(update={"epsilon_spent": 0.1}),
                     generator=MSTGenerator, epsilon=2.0, delta=1e-5)
    with pytest.raises(PrivacyRecordError, match="rho"):
        verify_spend(mst.model_copy(update={"rho": None}),
                     generator=MSTGenerator, epsilon=2.0, delta=1e-5)
    with pytest.raises(PrivacyRecordError, match="finite epsilon for a non-private task"):
        verify_spend(mst.model_copy(update={"epsilon_target": math.inf}),
                     generator=GaussianCopulaGenerator, epsilon=math.inf, delta=1e-5)


@pytest.mark.parametrize("payload", [
    b"\x80\x04K\x01.", ["r/dp_vae/4/1"], {"key": "r/dp_vae/4/1"},
    {"key": "r/dp_vae/4/1", "synthetic": b"not parquet", "privacy": "{}", "fit_seconds": 1.0,
     "sample_seconds": 1.0, "error": None},
    {"key": "r/dp_vae/4/1", "synthetic": None, "privacy": None, "fit_seconds": -1.0,
     "sample_seconds": 1.0, "error": None},
])
def test_malformed_plain_replies_become_error_rows(payload):
    # Run
    out = decode_reply(payload, _task())
    # Assert
    assert out.synthetic is None and out.privacy is None
    assert out.error.startswith("the executor's reply was rejected")


def test_a_dask_reply_that_needs_unpickling_is_not_loaded(tmp_path, monkeypatch):
    # Setup: a real scheduler and worker process on loopback
    distributed = pytest.importorskip("distributed")
    marker, raw_marker = tmp_path / "unpickled", tmp_path / "unpickled-raw"
    try:
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
    except Exception as exc:  # noqa: BLE001 - any failure to start means skip, with the cause
        pytest.skip(f"could not start a dask LocalCluster on 127.0.0.1: {exc!r}")
    try:
        executor = DaskExecutor(str(cluster.scheduler_address), label="near", timeout=20)
        # Run: a worker function answering with an object that only a pickle can carry
        (out,) = executor.run([_task()], partial(answer_with_tripwire, marker=str(marker)))
        # ... and a worker that skips the plain-reply wrapper altogether
        monkeypatch.setattr("governance.services.runs.executors.plain_reply",
                            lambda fn, task: answer_with_tripwire(task, str(raw_marker)))
        (raw,) = executor.run([_task()])
    finally:
        cluster.close()
    # Assert
    for reply in (out, raw):
        assert reply.synthetic is None and reply.privacy is None and reply.error
    assert not marker.exists() and not raw_marker.exists()
    assert "could not be read" in raw.error
