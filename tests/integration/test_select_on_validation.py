"""Select on validation, report on eval: what each real split feeds, checked on real runs."""

from __future__ import annotations

import json
from typing import ClassVar, Self

import pandas as pd
import pytest
from sqlmodel import select

from governance.datasets.schema import Schema
from governance.evaluation import LiftEvaluator, TaskSpec
from governance.generators.registry import register_generator, unregister_generator
from governance.policy import Policy, decide
from governance.policy.facts import CandidateFacts
from governance.schemas.runs import candidate_public, summarize
from governance.services.datasets import load_splits, register_dataset
from governance.services.runs import RunRequest, execute_run, submit_run
from governance.services.runs.evaluate import utility_facts
from governance.store.models import Candidate, Dataset
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.generators import GaussianStandIn
from tests.utils.scenario import loose_policy


class RecordingStandIn(GaussianStandIn):
    """The stand-in generator, keeping a copy of every frame it is fitted on."""

    name: ClassVar[str] = "recording_standin"
    seen: ClassVar[list[pd.DataFrame]] = []

    def fit(self, data: pd.DataFrame, schema: Schema) -> Self:
        """Record ``data``, then fit."""
        RecordingStandIn.seen.append(data.copy())
        return super().fit(data, schema)


def _rows(frame: pd.DataFrame) -> set[tuple[object, ...]]:
    """Rows as hashable tuples (the mixed table's rows are unique)."""
    plain = frame[MIXED_SCHEMA.names].astype(object)
    return set(plain.itertuples(index=False, name=None))


@pytest.fixture
def run_with_recorder(gov, tmp_path):
    csv, policy = tmp_path / "people.csv", tmp_path / "loose.yaml"
    mixed_table(400, seed=8).to_csv(csv, index=False)
    policy.write_text(loose_policy("select-on-validation"))
    ds = register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="people", actor="owner")
    RecordingStandIn.seen.clear()
    register_generator(RecordingStandIn.name, RecordingStandIn)
    try:
        request = RunRequest(dataset=ds.id, target="label", policy=policy, executor="inline",
                             generators=[RecordingStandIn.name], epsilons=[2.0, 8.0])
        run = execute_run(gov, submit_run(gov, request, actor="alice").id)
    finally:
        unregister_generator(RecordingStandIn.name)
    with gov.session() as s:
        cands = s.exec(select(Candidate).where(Candidate.run_id == run.id)).all()
        dataset = s.get(Dataset, ds.id)
    return {"run": run, "cands": cands, "splits": load_splits(gov, dataset),
            "seen": list(RecordingStandIn.seen)}


def test_generators_never_receive_validation_or_eval_rows(run_with_recorder):
    # Setup
    splits = run_with_recorder["splits"]
    train = _rows(splits.train)

    # Assert: every fit saw exactly the train rows, none of the other splits'.
    assert len(run_with_recorder["seen"]) == 2
    for frame in run_with_recorder["seen"]:
        seen = _rows(frame)
        assert seen == train and len(frame) == len(splits.train)
        for other in (splits.holdout, splits.validation, splits.eval):
            assert not seen & _rows(other)


def test_a_run_gates_on_validation_and_reports_eval(run_with_recorder):
    # Setup
    policy = Policy.model_validate({"name": "p", "utility": {"min_utility_ratio": 0.0}})

    for row in run_with_recorder["cands"]:
        view = candidate_public(row)
        u = view.utility
        assert view.verdict is not None and u is not None and not hasattr(u, "error")

        # Run: the facts the verdict was decided on
        facts = utility_facts(u, policy)

        # Assert: gates read validation, the summary reports eval beside it.
        assert facts["ratio_above_chance"] == {
            m: s.ratio_above_chance.value for m, s in u.validation.models.items()}
        assert view.summary.selection_ratio_above_chance == \
            u.validation.panel["min"].ratio_above_chance.value
        assert view.summary.ratio_above_chance == u.eval.panel["min"].ratio_above_chance.value
        assert view.summary.ratio_raw == u.eval.panel["min"].ratio_raw.value
        assert u.validation.n_rows == len(run_with_recorder["splits"].validation) == 60
        assert u.eval.n_rows == len(run_with_recorder["splits"].eval) == 60
    points = {p["candidate_id"]: p["utility"]
              for p in json.loads(run_with_recorder["run"].frontier_json)["points"]}
    assert points == {row.id: candidate_public(row).summary.selection_ratio_above_chance
                      for row in run_with_recorder["cands"]}


@pytest.fixture(scope="module")
def crossed():
    """Real splits where eval's labels are reversed: useful data scores below chance there."""
    train, validation = mixed_table(800, seed=1), mixed_table(400, seed=2)
    flipped = mixed_table(400, seed=3)
    flipped["label"] = pd.Categorical(1 - flipped["label"].astype(int), categories=[0, 1])
    return {"train": train, "validation": validation, "eval": flipped,
            "candidate": mixed_table(800, seed=4)}


@pytest.mark.parametrize("scored", ["validation", "eval"])
def test_only_the_validation_split_decides(crossed, scored):
    # Setup: the same useful candidate; the reversed labels sit in eval, then in validation.
    splits = dict(crossed)
    if scored == "validation":
        splits["validation"], splits["eval"] = crossed["eval"], crossed["validation"]
    ev = LiftEvaluator(train=splits["train"], validation=splits["validation"],
                       eval=splits["eval"], schema=MIXED_SCHEMA, task=TaskSpec(target="label"),
                       n_boot=20)
    policy = Policy.model_validate({"name": "p", "utility": {"min_utility_ratio": 0.5}})

    # Run
    utility = ev.evaluate(crossed["candidate"])
    verdict = decide(policy, CandidateFacts(
        generator="g", epsilon_spent=1.0, delta=1e-6, preprocessing_private=True,
        reproducible_noise=False,
        worst_attack_auc=0.5, epsilon_estimate=0.0, **utility_facts(utility, policy)))
    summary = summarize(None, utility, verdict)

    # Assert
    reversed_split = utility.eval if scored == "eval" else utility.validation
    assert all(s.control.primary < 0.5 for s in reversed_split.models.values())
    if scored == "eval":
        # Bad reported figures never decide: the candidate passes on validation.
        assert verdict.eligible
        assert summary.selection_ratio_above_chance > 0.8
    else:
        # The control cannot beat chance on reversed labels, so nothing can be verified.
        assert not verdict.eligible and verdict.clauses == ("utility.min_utility_ratio",)
        assert verdict.violations[0].unverifiable
        assert summary.ratio_above_chance > 0.8  # the good eval figure did not save it
