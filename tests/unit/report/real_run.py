"""The records of one real run, stored and read back as the runner stores and reads them.

A small mixed table is split into train, holdout, validation and eval; the holdout
repeats 30 train rows (real tables hold repeated records), so the membership audit
records a duplicate rate. ``CandidateEvaluator`` attacks, scores and judges two
``FakeGenerator`` candidates under a policy that reads the ``sex`` subgroups:

* ``cand_audit`` publishes the training rows and claims epsilon 1: its privacy audit
  fails (the attacks' epsilon estimate exceeds the claim);
* ``cand_good`` publishes fresh rows of the same distribution, which never saw the
  training data, and claims epsilon 4: it meets every clause. (A non-private stand-in,
  epsilon inf, could not: ``risk.max_epsilon`` always fails a non-private candidate.)

Two more candidates are what the runner stores when a stage or a generation fails:
``cand_broken`` holds ``cand_good``'s records with its attack stage failed
(``StageError``) and its verdict decided again by ``decide`` on ``candidate_facts``;
``cand_failed`` is a generation that crashed, with no records at all.

Every record is stored on ``Candidate`` / ``Run`` rows exactly as
``services.runs.execute`` stores it (``to_json`` of the typed results), the frontier is
drawn by ``finish_frontier`` over those rows, and the report tests read everything back
through ``candidate_public`` / ``run_public``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from governance.attacks.suite import AuditReport
from governance.core.types import StageError
from governance.datasets.splits import Splits
from governance.evaluation.downstream.metrics import get_metric
from governance.evaluation.lift.bootstrap import Interval
from governance.evaluation.lift.summary import lift_sentence
from governance.evaluation.task import TaskSpec
from governance.generators.base import PrivacySpend
from governance.generators.fake import FakeGenerator
from governance.policy import LoadedPolicy, Verdict, decide, parse_policy
from governance.schemas.runs import CandidatePublic, RunPublic, candidate_public, run_public
from governance.services.runs.evaluate import CandidateEvaluator, Evaluation, candidate_facts
from governance.services.runs.frontier import finish_frontier
from governance.services.runs.submit import candidate_seed, eps_text
from governance.store.models import Candidate, Run
from tests.utils.data import MIXED_SCHEMA, mixed_table

EVIL = "boom <script>alert('x')</script>"
RUN_ID = "run_test"
GOOD, AUDIT, BROKEN, FAILED = "cand_good", "cand_audit", "cand_broken", "cand_failed"
IDS = (GOOD, AUDIT, BROKEN, FAILED)
POLICY_TEXT = "version: 1\nname: report-tests\nutility:\n  subgroups: [sex]\n"
CREATED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
CLAIMS = {GOOD: 4.0, AUDIT: 1.0}


@dataclass(frozen=True)
class Records:
    """The stored rows of one real run and what produced them."""

    loaded: LoadedPolicy
    task: TaskSpec
    evaluator: CandidateEvaluator
    synthetic: dict[str, pd.DataFrame]  # the rows each evaluated candidate published
    evaluations: dict[str, Evaluation]
    rows: dict[str, Candidate]  # in report order: good, audit, broken, failed
    run_row: Run
    png: bytes  # the frontier plot finish_frontier drew

    def candidates(self) -> list[CandidatePublic]:
        """The four candidates read back from their rows."""
        return [candidate_public(row) for row in self.rows.values()]

    def run(self) -> RunPublic:
        """The run read back from its row, with its candidates' summaries."""
        return run_public(self.run_row, list(self.rows.values()))


def splits() -> Splits:
    """Train, holdout (with 30 repeated train rows), validation and eval of the mixed table."""
    train = mixed_table(300, seed=1)
    holdout = pd.concat([mixed_table(300, seed=2), train.iloc[:30]], ignore_index=True)
    return Splits(train=train, holdout=holdout, validation=mixed_table(200, seed=4),
                  eval=mixed_table(200, seed=3), split=None)


def _row(cid: str, generator: str, eps: float, **fields: Any) -> Candidate:
    """A candidate row keyed as ``services.runs.execute`` keys it."""
    seed = candidate_seed(7, generator, eps)
    return Candidate(id=cid, run_id=RUN_ID, idempotency_key=f"{RUN_ID}/{generator}/"
                     f"{eps_text(eps)}/{seed}", generator=generator,
                     epsilon_target=eps if math.isfinite(eps) else None, seed=seed, **fields)


def _evaluated(cid: str, rows: pd.DataFrame, privacy: PrivacySpend, result: Evaluation, *,
               attack: AuditReport | StageError | None = None,
               verdict: Verdict | None = None) -> Candidate:
    """A candidate stored as ``_record_generation`` and ``_record_evaluation`` store it.

    ``attack`` and ``verdict`` replace the evaluation's own when given.
    """
    attack = result.attack if attack is None else attack
    verdict = result.verdict if verdict is None else verdict
    assert verdict is not None
    spent = privacy.epsilon_spent
    return _row(cid, "fake", privacy.epsilon_target,
                epsilon_spent=spent if math.isfinite(spent) else None,
                delta=float(privacy.delta or 0.0), privacy_json=privacy.to_json(),
                artifact_sha256=hashlib.sha256(rows.to_csv(index=False).encode()).hexdigest(),
                n_rows=len(rows), fit_seconds=0.25, attack_json=attack.to_json(),
                utility_json=result.utility.to_json(), fidelity_json=result.fidelity.to_json(),
                verdict_json=verdict.to_json(), eligible=bool(verdict.eligible),
                status="evaluated")


def build_records() -> Records:
    """Evaluate, store and frame the run's candidates (a few seconds)."""
    parts = splits()
    loaded = parse_policy(POLICY_TEXT, source="report-tests")
    task = TaskSpec(target="label").resolve(MIXED_SCHEMA)
    evaluator = CandidateEvaluator(splits=parts, schema=MIXED_SCHEMA, task=task, policy=loaded,
                                   seed=0)
    synthetic = {GOOD: mixed_table(300, seed=9), AUDIT: parts.train}
    privacy = {cid: FakeGenerator(rows=frame, epsilon=CLAIMS[cid]).fit(
        parts.train, MIXED_SCHEMA).privacy() for cid, frame in synthetic.items()}
    evaluations = {cid: evaluator.evaluate(frame, privacy=privacy[cid])
                   for cid, frame in synthetic.items()}
    good = evaluations[GOOD]
    failed_attack = StageError(error=EVIL)
    facts = candidate_facts(privacy=privacy[GOOD], attack=failed_attack, utility=good.utility,
                            policy=loaded.policy)
    rows = {
        GOOD: _evaluated(GOOD, synthetic[GOOD], privacy[GOOD], good),
        AUDIT: _evaluated(AUDIT, synthetic[AUDIT], privacy[AUDIT], evaluations[AUDIT]),
        BROKEN: _evaluated(BROKEN, synthetic[GOOD], privacy[GOOD], good, attack=failed_attack,
                           verdict=decide(loaded, facts)),
        FAILED: _row(FAILED, "ctgan", math.inf, status="failed", fit_seconds=1.5,
                     error="fit crashed: <oom>"),
    }
    frontier, png = finish_frontier(list(rows.values()), policy=loaded.policy,
                                    title=f"run {RUN_ID} on ds_test")
    grid = [["fake", eps_text(4.0)], ["fake", eps_text(1.0)], ["ctgan", eps_text(math.inf)]]
    run_row = Run(id=RUN_ID, dataset_id="ds_test", policy_sha256=loaded.sha256,
                  task_json=task.to_json(), grid_json=json.dumps(grid), seed=7,
                  status="succeeded", progress=1.0, message="3 of 4 candidates evaluated",
                  requested_by="alice", executor="local",
                  control_json=evaluator.control.to_json(), frontier_json=frontier.to_json(),
                  plot_sha256=hashlib.sha256(png).hexdigest(), created_at=CREATED,
                  started_at=CREATED.replace(second=6), finished_at=CREATED.replace(minute=5))
    return Records(loaded=loaded, task=task, evaluator=evaluator, synthetic=synthetic,
                   evaluations=evaluations, rows=rows, run_row=run_row, png=png)


def section(page: str, start: str, end: str) -> str:
    """The part of ``page`` from the marker ``start`` up to the next marker ``end``."""
    begin = page.index(start)
    return page[begin:page.index(end, begin)]


def candidate_sections(page: str, ids: Sequence[str]) -> dict[str, str]:
    """Each candidate's section of a page, by candidate id (in the page's order)."""
    marks = [f'id="candidate-{i}"' for i in range(1, len(ids) + 1)] + ['id="control"']
    return {cid: section(page, marks[i], marks[i + 1]) for i, cid in enumerate(ids)}


def expected_reading(scenario: str, metric: str, lift: Interval) -> str:
    """The reading of a lift, in the words of the evaluator's own summary sentence.

    ``lift_sentence`` is what ``LiftEvaluator`` writes into a utility record's summary;
    the report must read every lift the same way.
    """
    sentence = lift_sentence(scenario, metric, get_metric(metric).goal, lift, 0.95)
    for said, reading in (("is better than", "better than the real-only control"),
                          ("is worse than", "worse than the real-only control"),
                          ("gives no significant lift", "no significant difference from "
                                                        "the real-only control"),
                          ("is undefined", "undefined")):
        if said in sentence:
            return reading
    raise AssertionError(f"unexpected lift sentence: {sentence}")


def ci_text(lift: Interval) -> str:
    """A signed lift as the report prints it: ``+0.010 [-0.020, +0.040]``."""
    assert lift.value is not None and lift.ci_low is not None and lift.ci_high is not None
    return f"{lift.value:+.3f} [{lift.ci_low:+.3f}, {lift.ci_high:+.3f}]"
