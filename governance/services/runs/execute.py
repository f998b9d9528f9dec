"""One frontier run: split -> generate -> attack -> evaluate -> frontier -> record.

``submit_run`` validates a request completely (dataset, target, generators, budgets,
policy) before anything trains and records it; ``execute_run`` does the work and can
be called again on an interrupted run: candidates already evaluated are skipped, and
budget charges are idempotent per candidate, so nothing is trained or charged twice.

The three real splits never mix: generators see ``train`` only; attacks use ``train``
rows as members and ``holdout`` rows as non-members; downstream models are scored on
``eval`` only, and the real-only control is computed once per run.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from governance.core.errors import BudgetExceededError, ConflictError, InputError, NotFoundError
from governance.datasets.private_domain import PRIVATE_LABEL
from governance.datasets.schema import conform
from governance.generators import generator_class
from governance.lineage.openlineage import emit_run_event
from governance.policy import LoadedPolicy
from governance.policy.loader import load_policy, parse_policy
from governance.services.budget import charge, remaining_budget
from governance.services.context import Governance
from governance.services.datasets import dataset_schema, get_dataset, load_splits
from governance.services.runs.executors import (
    GenerationOutput,
    GenerationTask,
    finite_or_none,
    run_tasks,
)
from governance.store.auditlog import append_event
from governance.store.models import Candidate, PolicyVersion, Run, loads, new_id, utcnow

Progress = Callable[[float, str], None]
ATTACK_CAP = 5000  # members (and as many non-members) attacked per candidate


@dataclass(frozen=True)
class RunRequest:
    """What a requester asks for; validated by ``submit_run``."""

    dataset: str
    target: str | None = None
    policy: str | Path | None = None
    generators: Sequence[str] = ("gaussian_copula", "dp_vae")
    epsilons: Sequence[float] = (1.0, 4.0, math.inf)
    seed: int = 0
    executor: str = "local"
    n_synthetic: int | None = None
    task_kind: str | None = None
    metric: str | None = None
    generator_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def default_policy_path() -> Path:
    """``policies/default.yaml`` in the working directory, else the packaged copy."""
    local = Path("policies/default.yaml")
    return local if local.is_file() else Path(__file__).parent / "policy" / "default.yaml"


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


def submit_run(gov: Governance, request: RunRequest, *, actor: str) -> Run:
    """Validate a request, check the privacy budget, and record a queued run.

    Raises:
        NotFoundError, UnknownColumnError, UnknownGeneratorError, PolicyError, InputError,
        BudgetExceededError: before anything trains.
    """
    from governance.evaluation import TaskSpec as UtilityTask

    loaded = load_policy(request.policy or default_policy_path())
    policy = loaded.policy
    grid = plan_grid(request.generators, request.epsilons)
    with gov.session() as session:
        ds = get_dataset(session, request.dataset)
        schema = dataset_schema(ds)
        target = request.target or (policy.task.target if policy.task else None)
        if not target:
            raise InputError("name the prediction target with --target COLUMN "
                             f"(one of {', '.join(schema.names)})")
        schema.require(target)
        kind = request.task_kind or _kind_from_policy(policy, schema, target)
        metric = request.metric or (policy.task.metric if policy.task and
                                    policy.task.target == target else None)
        task = UtilityTask(target=target, kind=kind, metric=metric).resolve(schema)  # type: ignore[arg-type]
        delta = policy.risk.max_delta
        needed = sum(eps for _, eps in grid if math.isfinite(eps))
        left = remaining_budget(session, dataset_id=ds.id, total=policy.risk.max_total_epsilon)
        if needed > left + 1e-12:
            raise BudgetExceededError(
                f"the grid needs epsilon {needed:g} but dataset {ds.name!r} has {left:g} left of "
                f"its {policy.risk.max_total_epsilon:g} under policy {policy.name!r}; "
                "run fewer or smaller budgets"
            )
        record_policy(session, loaded, actor=actor)
        run = Run(
            id=new_id("run"), dataset_id=ds.id, policy_sha256=loaded.sha256,
            task_json=json.dumps(task.as_dict()),
            grid_json=json.dumps([[g, _eps_text(e)] for g, e in grid]),
            options_json=json.dumps({"n_synthetic": request.n_synthetic, "generator_options": {
                k: dict(v) for k, v in request.generator_options.items()}}),
            seed=request.seed, requested_by=actor, executor=request.executor,
            message="queued",
        )
        session.add(run)
        session.flush()
        append_event(session=session, kind="run.requested", actor=actor, subject=run.id, payload={
            "dataset_id": ds.id, "source_sha256": ds.source_sha256, "split_sha256": ds.split_sha256,
            "policy_sha256": loaded.sha256, "task": task.as_dict(), "grid": json.loads(run.grid_json),
            "seed": request.seed, "delta": delta, "budget_needed": needed, "budget_left": left,
            "executor": request.executor, "n_synthetic": request.n_synthetic,
            "generator_options": {k: dict(v) for k, v in request.generator_options.items()},
        })
    return run


def _kind_from_policy(policy: Any, schema: Any, target: str) -> str | None:
    if policy.task and policy.task.target == target:
        return None if policy.task.kind == "classification" else policy.task.kind
    return None


def _eps_text(eps: float) -> float | str:
    return eps if math.isfinite(eps) else "inf"


def _eps_value(text: float | str) -> float:
    return math.inf if text == "inf" else float(text)


def candidate_seed(run_seed: int, generator: str, epsilon: float) -> int:
    """A stable per-candidate seed: the same run seed gives the same candidates."""
    digest = hashlib.sha256(f"{run_seed}:{generator}:{_eps_text(epsilon)}".encode()).digest()
    return int.from_bytes(digest[:4], "little") % (2**31 - 1)


def _options_for(run: Run) -> tuple[int | None, dict[str, Any]]:
    opts = json.loads(run.options_json or "{}")
    return opts.get("n_synthetic"), opts.get("generator_options", {})


def execute_run(gov: Governance, run_id: str, *, progress: Progress | None = None,
                workers: int | None = None) -> Run:
    """Carry out (or resume) a run and return its final record."""
    from governance.services.runs.evaluate import CandidateEvaluator, finish_frontier

    def say(fraction: float, message: str) -> None:
        with gov.session() as session:
            row = session.get(Run, run_id)
            if row is not None and row.status in ("running", "cancelling"):
                row.progress, row.message = round(fraction, 4), message
                session.add(row)
        if progress is not None:
            progress(fraction, message)

    with gov.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id!r}")
        if run.status in ("succeeded", "cancelled"):
            return run
        ds = get_dataset(session, run.dataset_id)
        loaded = parse_policy(session.get(PolicyVersion, run.policy_sha256).text)
        policy = loaded.policy
        resumed = run.started_at is not None
        run.status, run.started_at, run.message = "running", run.started_at or utcnow(), "starting"
        session.add(run)
        append_event(session=session, kind="run.started", actor="runner", subject=run.id,
                     payload={"resumed": resumed})
    emit_run_event(gov, run.id, "START")
    try:
        splits = load_splits(gov, ds)
        schema = dataset_schema(ds)
        grid = [(g, _eps_value(e)) for g, e in json.loads(run.grid_json)]
        n_syn_opt, gen_opts = _options_for(run)
        n_synthetic = n_syn_opt or len(splits.train)
        say(0.0, "training the real-only control")
        evaluator = CandidateEvaluator(splits=splits, schema=schema, task=loads(run.task_json),
                                       policy=loaded, seed=run.seed, attack_cap=ATTACK_CAP)
        control = evaluator.control_dict()
        with gov.session() as session:
            r = session.get(Run, run.id)
            r.control_json = json.dumps(control)
            session.add(r)
            done = {c.idempotency_key: c for c in session.exec(
                select(Candidate).where(Candidate.run_id == run.id)).all()}
        units, finished = 2 * len(grid), 0
        tasks, unevaluated = [], []
        for gen, eps in grid:
            seed = candidate_seed(run.seed, gen, eps)
            key = f"{run.id}/{gen}/{_eps_text(eps)}/{seed}"
            prior = done.get(key)
            if prior is not None and prior.status == "generated":
                # Killed between generation and evaluation: the artifact is stored and the
                # budget charged; evaluate it, never retrain or recharge it.
                finished += 1
                unevaluated.append(prior)
                continue
            if prior is not None and prior.status != "pending":
                finished += 2
                continue
            tasks.append(GenerationTask(
                key=key, generator=gen, epsilon=eps, delta=policy.risk.max_delta,
                seed=seed, n_synthetic=n_synthetic,
                schema_yaml=ds.schema_yaml, train=splits.train, options=dict(gen_opts.get(gen, {}))))
        for cand in unevaluated:
            _check_cancelled(gov, run.id)
            synthetic = gov.artifacts.get_frame(cand.artifact_sha256)
            result = evaluator.evaluate(conform(synthetic, schema),
                                        privacy=loads(cand.privacy_json),
                                        generator_factory=_factory(cand, policy, gen_opts))
            _record_evaluation(gov, cand.id, result)
            finished += 1
            say(finished / units, f"evaluated {cand.generator} (resumed)")
        say(finished / units, f"training {len(tasks)} candidate(s) on {run.executor}")
        for out in run_tasks(tasks, executor=run.executor, workers=workers):
            finished += 1
            label = out.key.split("/", 1)[1]
            say(finished / units, f"generated {label}" if not out.error else f"failed {label}")
            _check_cancelled(gov, run.id)
            cand = _record_generation(gov, run, ds.id, ds.data_derived_schema, out)
            if cand.status != "failed":
                synthetic = out.synthetic
                assert synthetic is not None
                result = evaluator.evaluate(synthetic, privacy=loads(cand.privacy_json),
                                            generator_factory=_factory(cand, policy, gen_opts))
                _record_evaluation(gov, cand.id, result)
            finished += 1
            say(finished / units, f"evaluated {label}")
        with gov.session() as session:
            r = session.get(Run, run.id)
            cands = session.exec(select(Candidate).where(Candidate.run_id == run.id)).all()
            frontier, png = finish_frontier(cands, control=control, policy=policy,
                                            title=f"run {run.id} on {ds.name}")
            r.frontier_json = json.dumps(frontier)
            r.plot_sha256 = gov.artifacts.put_bytes(png, ".png")
            r.status, r.progress, r.finished_at = "succeeded", 1.0, utcnow()
            r.message = f"{sum(c.status != 'failed' for c in cands)} of {len(cands)} candidates evaluated"
            session.add(r)
            append_event(session=session, kind="run.finished", actor="runner", subject=r.id,
                         payload={"candidates": [c.id for c in cands], "plot_sha256": r.plot_sha256,
                                  "pareto": frontier["pareto"], "control": control})
            run = r
        emit_run_event(gov, run.id, "COMPLETE")
        say(1.0, "done")
        return run
    except _Cancelled:
        with gov.session() as session:
            r = session.get(Run, run.id)
            r.status, r.finished_at, r.message = "cancelled", utcnow(), "cancelled on request"
            session.add(r)
            append_event(session=session, kind="run.cancelled", actor="runner", subject=r.id,
                         payload={"progress": r.progress})
        emit_run_event(gov, r.id, "ABORT")
        return r
    except Exception as exc:
        with gov.session() as session:
            r = session.get(Run, run.id)
            r.status, r.finished_at = "failed", utcnow()
            r.error = r.message = f"{type(exc).__name__}: {exc}"
            session.add(r)
            append_event(session=session, kind="run.failed", actor="runner", subject=r.id,
                         payload={"error": r.error})
        emit_run_event(gov, r.id, "FAIL")
        raise


def _factory(cand: Candidate, policy: Any, gen_opts: Mapping[str, Any]) -> Callable[[int], Any]:
    """Fresh generators with a candidate's settings, for shadow-model attacks."""
    from governance.generators import create_generator

    eps = math.inf if cand.epsilon_target is None else cand.epsilon_target
    opts = dict(gen_opts.get(cand.generator, {}))
    return lambda seed: create_generator(cand.generator, epsilon=eps,
                                         delta=policy.risk.max_delta, seed=seed, **opts)


class _Cancelled(Exception):
    pass


def _check_cancelled(gov: Governance, run_id: str) -> None:
    with gov.session() as session:
        run = session.get(Run, run_id)
        if run is not None and run.status == "cancelling":
            raise _Cancelled


def request_cancel(gov: Governance, run_id: str) -> Run:
    """Ask a queued or running run to stop after the candidate in hand."""
    with gov.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id!r}")
        if run.status not in ("queued", "running"):
            raise ConflictError(f"run {run_id} is {run.status}; only queued or running runs "
                                "can be cancelled")
        run.status = "cancelling"
        session.add(run)
        return run


def _record_generation(gov: Governance, run: Run, dataset_id: str, data_derived: bool,
                       out: GenerationOutput) -> Candidate:
    _, gen, eps_text, seed = out.key.split("/")
    eps = _eps_value(eps_text)
    artifact = gov.artifacts.put_frame(out.synthetic) if out.synthetic is not None else None
    with gov.session() as session:
        cand = session.exec(select(Candidate).where(Candidate.idempotency_key == out.key)).first()
        if cand is None:
            cand = Candidate(id=new_id("cand"), run_id=run.id, idempotency_key=out.key,
                             generator=gen, epsilon_target=finite_or_none(eps), seed=int(seed))
        cand.fit_seconds = out.fit_seconds
        if out.error or out.privacy is None or out.synthetic is None:
            cand.status, cand.error = "failed", out.error
            session.add(cand)
            session.flush()
            append_event(session=session, kind="candidate.failed", actor="runner",
                         subject=cand.id, payload={"run_id": run.id, "generator": gen,
                                                   "epsilon_target": eps_text, "error": out.error})
            return cand
        privacy = dict(out.privacy)
        if data_derived and math.isfinite(eps) and privacy.get("preprocessing") != PRIVATE_LABEL:
            privacy.setdefault("notes", []).append(
                "the dataset's schema was inferred from the data: preprocessing is NOT private")
            privacy["preprocessing"] = "data-derived schema (NOT private)"
        spent = privacy.get("epsilon_spent")
        spent_f = math.inf if spent in (None, "inf") else float(spent)
        cand.epsilon_spent = finite_or_none(spent_f)
        cand.delta = float(privacy.get("delta") or 0.0)
        cand.privacy_json = json.dumps(privacy)
        cand.artifact_sha256, cand.n_rows = artifact, len(out.synthetic)
        cand.status = "generated"
        session.add(cand)
        session.flush()
        append_event(session=session, kind="candidate.generated", actor="runner", subject=cand.id,
                     payload={"run_id": run.id, "generator": gen, "seed": int(seed),
                              "artifact_sha256": artifact, "n_rows": len(out.synthetic),
                              "fit_seconds": round(out.fit_seconds, 3), "privacy": privacy})
        if math.isfinite(spent_f):
            # epsilon_spent is the candidate's total, preprocessing included.
            charge(session=session, dataset_id=dataset_id, key=out.key, candidate_id=cand.id,
                   epsilon=spent_f, delta=cand.delta)
        return cand


def _record_evaluation(gov: Governance, candidate_id: str, result: Any) -> None:
    with gov.session() as session:
        cand = session.get(Candidate, candidate_id)
        cand.attack_json = json.dumps(result.attack)
        cand.utility_json = json.dumps(result.utility)
        cand.fidelity_json = json.dumps(result.fidelity)
        cand.verdict_json = json.dumps(result.verdict)
        cand.eligible = bool(result.verdict.get("eligible"))
        cand.status = "evaluated"
        session.add(cand)
        append_event(session=session, kind="candidate.evaluated", actor="runner", subject=cand.id,
                     payload={"attack": result.attack_summary, "utility": result.utility_summary,
                              "verdict": result.verdict})
        if result.attack_summary.get("failed_audit"):
            append_event(session=session, kind="candidate.audit_failed", actor="runner",
                         subject=cand.id, payload={
                             "epsilon_lb": result.attack_summary.get("worst_epsilon_lb"),
                             "epsilon_spent": cand.epsilon_spent})
