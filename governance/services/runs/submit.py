"""Submitting a frontier run: validate everything before anything trains, then queue it.

``submit_run`` checks the dataset, target, generators, budgets and policy, reserves the
grid against the dataset's privacy budget (``services.budget.reserve_grid``), and
records a queued run with its ``run.requested`` event; ``execute_run``
(``runs.execute``) does the work.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from governance.core.errors import InputError
from governance.core.jsonsafe import dumps
from governance.datasets.schema import Schema
from governance.evaluation.task import TaskSpec
from governance.generators.privacy.noise import refuse_requested_flag
from governance.generators.registry import generator_class
from governance.policy.library import policy_path
from governance.policy.loader import LoadedPolicy, load_policy
from governance.policy.models import Policy
from governance.schemas.runs import RunOptions
from governance.services.budget import reserve_grid
from governance.services.context import Governance
from governance.services.datasets import dataset_schema, get_dataset
from governance.services.runs.quota import check_queue_quota
from governance.store.auditlog import append_event
from governance.store.models import PolicyVersion, Run, new_id


@dataclass(frozen=True)
class RunRequest:
    """What a requester asks for; validated by ``submit_run``."""

    dataset: str
    target: str | None = None
    policy: str | Path | LoadedPolicy | None = None  # a file, or one loaded already
    generators: Sequence[str] = ("gaussian_copula", "dp_vae")
    epsilons: Sequence[float] = (1.0, 4.0, math.inf)
    seed: int = 0
    executor: str | None = None  # a name the operator configured; None: GOVERNANCE_EXECUTOR
    n_synthetic: int | None = None
    task_kind: str | None = None
    metric: str | None = None
    generator_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def record_policy(session: Session, loaded: LoadedPolicy, *, actor: str) -> PolicyVersion:
    """Store a policy text under its hash (once) and log its first appearance."""
    pv = session.get(PolicyVersion, loaded.sha256)
    if pv is None:
        pv = PolicyVersion(sha256=loaded.sha256, name=loaded.policy.name, text=loaded.text,
                           source_path=str(loaded.path) if loaded.path else None)
        session.add(pv)
        session.flush()
        append_event(session=session, kind="policy.recorded", actor=actor, subject=loaded.sha256,
                     payload={"name": loaded.policy.name, "path": pv.source_path})
    return pv


def is_private(name: str) -> bool:
    """Whether a generator takes a finite privacy budget (class flag ``differentially_private``)."""
    return bool(getattr(generator_class(name), "differentially_private", False))


def plan_grid(generators: Sequence[str], epsilons: Sequence[float]) -> list[tuple[str, float]]:
    """Generator x epsilon pairs; a non-private generator runs once, at infinity.

    Raises:
        UnknownGeneratorError: for a name with no registered generator.
        InputError: for an empty list or a non-positive epsilon.
    """
    if not generators:
        raise InputError("name at least one generator, e.g. --generators gaussian_copula,dp_vae")
    if not epsilons:
        raise InputError("name at least one privacy budget, e.g. --epsilons 1,4,inf")
    bad = [e for e in epsilons if not (e > 0)]
    if bad:
        raise InputError(f"epsilon must be positive (or inf), got {bad[0]!r}")
    grid: list[tuple[str, float]] = []
    for name in dict.fromkeys(generators):
        cls = generator_class(name)
        if not is_private(name):
            eps_list = [math.inf]
        else:
            eps_list = sorted(e for e in set(epsilons)
                              if math.isfinite(e) or getattr(cls, "accepts_infinite_epsilon", True))
        if not eps_list:
            raise InputError(f"{name} is a DP mechanism with no non-private mode; give it a "
                             "finite epsilon (e.g. --epsilons 1,4)")
        grid.extend((name, eps) for eps in eps_list)
    return grid


def eps_text(eps: float) -> float | str:
    """An epsilon as stored in grids and keys: a number, or ``"inf"``."""
    return eps if math.isfinite(eps) else "inf"


def eps_value(text: float | str) -> float:
    """The inverse of ``eps_text``."""
    return math.inf if text == "inf" else float(text)


def candidate_seed(run_seed: int, generator: str, epsilon: float) -> int:
    """A stable per-candidate seed: the same run seed gives the same candidates."""
    digest = hashlib.sha256(f"{run_seed}:{generator}:{eps_text(epsilon)}".encode()).digest()
    return int.from_bytes(digest[:4], "little") % (2**31 - 1)


def candidate_key(run_id: str, run_seed: int, generator: str, epsilon: float) -> str:
    """A candidate's idempotency key; its row, budget reservation and charge share it."""
    seed = candidate_seed(run_seed, generator, epsilon)
    return f"{run_id}/{generator}/{eps_text(epsilon)}/{seed}"


def _resolve_task(request: RunRequest, policy: Policy, schema: Schema) -> TaskSpec:
    target = request.target or (policy.task.target if policy.task else None)
    if not target:
        raise InputError("name the prediction target with --target COLUMN "
                         f"(one of {', '.join(schema.names)})")
    schema.require(target)
    same = policy.task is not None and policy.task.target == target
    kind = request.task_kind
    if kind is None and same and policy.task is not None and policy.task.kind != "classification":
        kind = policy.task.kind
    metric = request.metric or (policy.task.metric if same and policy.task else None)
    return TaskSpec(target=target, kind=kind, metric=metric).resolve(schema)


def submit_run(gov: Governance, request: RunRequest, *, actor: str) -> Run:
    """Validate a request, reserve its grid against the dataset's budget, record a queued run.

    Raises:
        NotFoundError, UnknownColumnError, UnknownGeneratorError, PolicyError, InputError,
        BudgetExceededError: before anything trains.
        QuotaExceededError: the requester already has as many active runs as allowed.
    """
    loaded = (request.policy if isinstance(request.policy, LoadedPolicy) else load_policy(
        request.policy or policy_path("default", directory=gov.settings.policies_dir)))
    policy = loaded.policy
    executor = gov.settings.executor_spec(request.executor).name  # a configured name only
    grid = plan_grid(request.generators, request.epsilons)
    refuse_requested_flag(request.generator_options)  # the policy decides it
    options = RunOptions(n_synthetic=request.n_synthetic, generator_options={
        k: dict(v) for k, v in request.generator_options.items()})
    with gov.session() as session:
        check_queue_quota(session, actor=actor, limit=gov.settings.max_queued_runs_per_requester)
        ds = get_dataset(session, request.dataset)
        task = _resolve_task(request, policy, dataset_schema(ds))
        run_id = new_id("run")
        held = reserve_grid(session, dataset=ds, run_id=run_id, actor=actor, epsilons={
            candidate_key(run_id, request.seed, g, e): e for g, e in grid})
        record_policy(session, loaded, actor=actor)
        stored_grid = [[g, eps_text(e)] for g, e in grid]
        run = Run(id=run_id, dataset_id=ds.id, policy_sha256=loaded.sha256,
                  task_json=task.to_json(), grid_json=dumps(stored_grid, sort_keys=False),
                  options_json=options.to_json(), seed=request.seed, requested_by=actor,
                  executor=executor, message="queued")
        session.add(run)
        session.flush()
        append_event(session=session, kind="run.requested", actor=actor, subject=run.id, payload={
            "dataset_id": ds.id, "source_sha256": ds.source_sha256, "split_sha256": ds.split_sha256,
            "policy_sha256": loaded.sha256, "task": task.as_dict(), "grid": stored_grid,
            "seed": request.seed, "delta": policy.risk.max_delta, "budget_needed": held.epsilon,
            "budget_left": held.epsilon_left_before, "executor": executor,
            "n_synthetic": request.n_synthetic,
            "generator_options": options.generator_options,
        })
    return run
