"""Read models of runs and candidates, built from stored rows in one place.

Stored JSON columns are read back into their typed results here (``model_validate_json``
through ``schemas.common``); nothing else digs into stored JSON.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from governance.attacks.suite import AuditReport
from governance.core.types import CandidateStatus, InfFloat, Record, RunStatus, StageError
from governance.evaluation.lift.results import ControlScores, UtilityResult
from governance.evaluation.task import TaskSpec
from governance.frontier.record import FrontierRecord
from governance.generators.base import PrivacySpend
from governance.policy.verdict import Verdict
from governance.schemas.common import (
    AttackOutcome,
    FidelityOutcome,
    UtilityOutcome,
    read_attack,
    read_control_json,
    read_fidelity,
    read_utility,
)
from governance.schemas.releases import DecisionPublic, ReleasePublic
from governance.store.models import Candidate, Run


class CandidateSummary(Record):
    """The figures a candidate table shows in one row.

    Utility figures are the model panel's under the run policy's ``utility.aggregate``:
    ``selection_ratio_above_chance`` is read on validation and is what the frontier, the
    gates and "best candidate" use; ``ratio_above_chance`` and ``ratio_raw`` are the
    reported figures on eval. ``worst_attack_auc_ci`` is the DeLong 95 % interval of the
    attack with the worst AUC (each attack's own intervals are in the attack record).
    ``empirical_risk_ucb`` is the worst attack's one-sided 95 % upper confidence bound on
    its TPR at the run policy's ``risk.max_tpr_at_fpr`` FPR (1 % when it names none).
    """

    worst_attack_auc: float | None = None
    worst_attack_auc_ci: tuple[float, float] | None = None
    empirical_risk_ucb: float | None = None
    epsilon_estimate: float | None = None
    tpr_at_1pct_fpr: float | None = None
    duplicate_rate: float | None = None
    failed_privacy_audit: bool | None = None
    selection_ratio_above_chance: float | None = None
    ratio_above_chance: float | None = None
    ratio_raw: float | None = None
    utility_aggregate: str | None = None
    violations: list[str] = []
    clauses: list[str] = []


class CandidateBrief(Record):
    """A candidate's identity, status, privacy spend and one-line summary."""

    id: str
    run_id: str
    generator: str
    epsilon_target: InfFloat
    epsilon_spent: InfFloat
    delta: float
    seed: int
    status: CandidateStatus
    eligible: bool
    artifact_sha256: str | None
    n_rows: int
    fit_seconds: float
    error: str | None
    summary: CandidateSummary


class CandidatePublic(CandidateBrief):
    """A candidate with its privacy, attack, utility, fidelity and verdict records."""

    privacy: PrivacySpend | None
    attack: AttackOutcome | None
    utility: UtilityOutcome | None
    fidelity: FidelityOutcome | None
    verdict: Verdict | None


class CandidateDetail(CandidatePublic):
    """A candidate as the API serves it: its records, decisions and release."""

    decisions: list[DecisionPublic]
    release: ReleasePublic | None


def _eps(value: float | None) -> float:
    return math.inf if value is None else value


def _worst_auc_ci(attack: AuditReport) -> tuple[float, float] | None:
    worst = max(attack.results.values(), key=lambda r: r.auc, default=None)
    if worst is None or worst.auc_ci is None:
        return None
    return (worst.auc_ci.low, worst.auc_ci.high)


def summarize(attack: AttackOutcome | None, utility: UtilityOutcome | None,
              verdict: Verdict | None) -> CandidateSummary:
    """The one-row summary of a candidate's records."""
    fields: dict[str, Any] = {}
    if isinstance(attack, AuditReport):
        fields.update(worst_attack_auc=attack.worst_auc, epsilon_estimate=attack.epsilon_estimate,
                      tpr_at_1pct_fpr=attack.worst_tpr_at_1pct,
                      duplicate_rate=attack.duplicate_rate,
                      failed_privacy_audit=attack.failed_audit,
                      worst_attack_auc_ci=_worst_auc_ci(attack),
                      empirical_risk_ucb=attack.empirical_risk_ucb)
    if isinstance(utility, UtilityResult):
        fields.update(selection_ratio_above_chance=utility.selection.ratio_above_chance.value,
                      ratio_above_chance=utility.reported.ratio_above_chance.value,
                      ratio_raw=utility.reported.ratio_raw.value,
                      utility_aggregate=utility.aggregate)
    if verdict is not None:
        fields.update(violations=[v.message for v in verdict.violations],
                      clauses=[v.clause for v in verdict.violations])
    return CandidateSummary(**fields)


def candidate_public(c: Candidate) -> CandidatePublic:
    """The full read model of a stored candidate (its JSON columns typed)."""
    attack, utility = read_attack(c.attack_json), read_utility(c.utility_json)
    verdict = None if c.verdict_json is None else Verdict.model_validate_json(c.verdict_json)
    privacy = (None if c.privacy_json is None
               else PrivacySpend.model_validate_json(c.privacy_json))
    return CandidatePublic(
        id=c.id, run_id=c.run_id, generator=c.generator,
        epsilon_target=_eps(c.epsilon_target), epsilon_spent=_eps(c.epsilon_spent),
        delta=c.delta, seed=c.seed, status=CandidateStatus(c.status), eligible=c.eligible,
        artifact_sha256=c.artifact_sha256, n_rows=c.n_rows, fit_seconds=round(c.fit_seconds, 3),
        error=c.error, summary=summarize(attack, utility, verdict), privacy=privacy,
        attack=attack, utility=utility, fidelity=read_fidelity(c.fidelity_json), verdict=verdict)


def candidate_brief(c: Candidate) -> CandidateBrief:
    """The summary read model of a stored candidate."""
    full = candidate_public(c)
    return CandidateBrief(**{k: getattr(full, k) for k in CandidateBrief.model_fields})


class RunOptions(Record):
    """Options a run was submitted with, beyond its grid."""

    n_synthetic: int | None = None
    generator_options: dict[str, dict[str, Any]] = {}


class RunPublic(Record):
    """A run's status, progress, controls, frontier and (optionally) its candidates.

    ``control`` holds the real-only control of every panel model on validation and eval
    (``ControlScores``), or a ``StageError`` when it failed or was recorded in the
    one-model format.
    """

    id: str
    dataset_id: str
    policy_sha256: str
    task: TaskSpec
    grid: list[tuple[str, InfFloat]]
    seed: int
    status: RunStatus
    progress: float
    message: str
    requested_by: str
    executor: str
    control: ControlScores | StageError | None
    frontier: FrontierRecord | None
    plot_sha256: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    candidates: list[CandidateBrief] | None = None


class RunsPublic(Record):
    """A page of runs (without their candidates)."""

    data: list[RunPublic]
    count: int


class FrontierPublic(Record):
    """A run's frontier, or ``None`` while it runs."""

    run_id: str
    status: RunStatus
    frontier: FrontierRecord | None


class RunStatusPublic(Record):
    """A run's id and status (the answer to a cancellation)."""

    id: str
    status: RunStatus


def read_task(run: Run) -> TaskSpec:
    """The resolved task a run was submitted with."""
    return TaskSpec.model_validate_json(run.task_json)


def read_grid(run: Run) -> list[tuple[str, float]]:
    """A run's generator x epsilon grid (``"inf"`` read back as infinity)."""
    return [(g, math.inf if e == "inf" else float(e)) for g, e in json.loads(run.grid_json)]


def read_options(run: Run) -> RunOptions:
    """A run's options (rows per candidate, generator options)."""
    return RunOptions.model_validate_json(run.options_json or "{}")


def read_control(run: Run) -> ControlScores | StageError | None:
    """The run's real-only controls, once computed (a ``StageError`` for a stale record)."""
    return None if run.control_json is None else read_control_json(run.control_json)


def run_public(run: Run, candidates: list[Candidate] | None = None) -> RunPublic:
    """The read model of a stored run, with candidate summaries when given."""
    frontier = (None if run.frontier_json is None
                else FrontierRecord.model_validate_json(run.frontier_json))
    return RunPublic(
        id=run.id, dataset_id=run.dataset_id, policy_sha256=run.policy_sha256,
        task=read_task(run), grid=read_grid(run), seed=run.seed, status=RunStatus(run.status),
        progress=round(run.progress, 4), message=run.message, requested_by=run.requested_by,
        executor=run.executor, control=read_control(run), frontier=frontier,
        plot_sha256=run.plot_sha256, error=run.error, created_at=run.created_at,
        started_at=run.started_at, finished_at=run.finished_at,
        candidates=None if candidates is None else [candidate_brief(c) for c in candidates])
