"""Executing a frontier run: split -> generate -> attack -> evaluate -> frontier -> record.

``execute_run`` can be called again on an interrupted run: candidates already
evaluated are skipped, and budget charges are idempotent per candidate, so nothing is
trained or charged twice. Its steps are named functions below, in the order they run:
``_start``, ``_prepare``, ``_plan``, ``_evaluate_resumed``, ``_generate``, ``_finish``
(or ``_cancelled`` / ``_failed``).

The real splits never mix: generators see ``train`` only; attacks use ``train`` rows as
members and ``holdout`` rows as non-members; downstream models are scored on
``validation`` (selection, policy gates) and ``eval`` (reported figures only), and the
real-only controls are computed once per run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from governance.core.delta import delta_warning, run_delta
from governance.core.errors import (
    BudgetExceededError,
    ConflictError,
    NotFoundError,
    PrivacyRecordError,
)
from governance.core.executor_config import ExecutorSpec
from governance.core.types import CandidateStatus, RunStatus
from governance.datasets.private_domain import PRIVATE_LABEL
from governance.datasets.schema import Schema, conform
from governance.datasets.splits import Splits
from governance.generators.base import Generator, PrivacySpend
from governance.generators.privacy.noise import with_noise_policy
from governance.generators.privacy.verify import verify_spend
from governance.generators.registry import create_generator, generator_class
from governance.policy.loader import LoadedPolicy, parse_policy
from governance.schemas.runs import RunOptions, read_grid, read_options, read_task
from governance.services.budget import charge, release_reservations
from governance.services.context import Governance
from governance.services.datasets import dataset_schema, get_dataset, load_splits
from governance.services.lineage import emit_run_event
from governance.services.runs.evaluate import CandidateEvaluator, Evaluation
from governance.services.runs.executors import (
    Executor,
    GenerationOutput,
    GenerationTask,
    check_output,
    failed_output,
    make_executor,
)
from governance.services.runs.frontier import finish_frontier
from governance.services.runs.leases import (
    Heartbeat,
    claim,
    finish_abandoned_cancel,
    held_message,
    new_owner,
)
from governance.services.runs.submit import (
    candidate_key,
    candidate_seed,
    eps_text,
    is_private,
)
from governance.store.auditlog import append_event
from governance.store.models import Candidate, Dataset, PolicyVersion, Run, new_id, utcnow

Progress = Callable[[float, str], None]
ATTACK_CAP = 5000  # members (and as many non-members) attacked per candidate
DATA_DERIVED_NOTE = "the dataset's schema was inferred from the data: preprocessing is NOT private"


class _Cancelled(Exception):
    pass


class _LeaseLost(Exception):
    """Another process holds the run's lease now; this execution stops without writing."""


@dataclass
class _Context:
    """What the steps of one execution share."""

    gov: Governance
    run: Run
    dataset: Dataset
    policy: LoadedPolicy
    progress: Progress | None
    schema: Schema | None = None
    splits: Splits | None = None
    evaluator: CandidateEvaluator | None = None
    options: RunOptions | None = None
    units: int = 0
    finished: int = 0
    spec: ExecutorSpec | None = None  # the configured executor (None: one was injected)
    owner: str = ""  # this execution's lease owner id
    beat: Heartbeat | None = None  # renews the lease; ``lost`` when another took the run

    @property
    def n_train(self) -> int:
        """Rows of the train split (what delta is sized against)."""
        assert self.splits is not None
        return len(self.splits.train)

    @property
    def delta_note(self) -> str | None:
        """Why the policy's delta limit is too large for this table, or None."""
        warning = delta_warning(self.policy.policy.risk.max_delta, self.n_train)
        if warning is None:
            return None
        return f"policy risk.max_delta: {warning}; trained with delta {_delta(self):g}"

    @property
    def executor_note(self) -> str:
        """The executor's name and transport for the record (never its address)."""
        return self.spec.describe() if self.spec is not None else self.run.executor

    def say(self, message: str) -> None:
        """Record progress on the run row and tell the caller."""
        fraction = self.finished / self.units if self.units else 0.0
        with self.gov.session() as session:
            row = session.get(Run, self.run.id)
            if (row is not None and row.lease_owner == self.owner
                    and row.status in (RunStatus.RUNNING, RunStatus.CANCELLING)):
                row.progress, row.message = round(fraction, 4), message
                session.add(row)
        if self.progress is not None:
            self.progress(fraction, message)


def execute_run(gov: Governance, run_id: str, *, progress: Progress | None = None,
                workers: int | None = None, executor: Executor | None = None,
                resumed_by: str | None = None) -> Run:
    """Carry out (or resume) a run and return its final record.

    The run is claimed under a lease first (``leases.claim``): a run that has ended or
    was cancelled before it started is returned as it is, without training, and a run
    another process is executing is refused. The lease is renewed while the run executes.

    Args:
        gov: the service context.
        run_id: a submitted run.
        progress: called with (fraction, message) as the run advances.
        workers: processes of the local pool (one per core by default).
        executor: where to train (injected); by default the one the run recorded.
        resumed_by: who asked for this execution, when it resumes the run (the record's).

    Raises:
        NotFoundError: no such run.
        ConflictError: another process holds a live lease on the run.
    """
    owner = new_owner()
    if not _start(gov, run_id, owner, resumed_by):
        with gov.session() as session:
            return _get_run(session, run_id)
    emit_run_event(gov, run_id, "START")
    with Heartbeat(gov, run_id, owner) as beat:
        try:
            ctx = _context(gov, run_id, progress, owner, beat)
            chosen = executor or _configured_executor(ctx, workers)
            _prepare(ctx)
            tasks, resumed = _plan(ctx)
            _evaluate_resumed(ctx, resumed)
            _generate(ctx, tasks, chosen)
            run = _finish(ctx)
        except _Cancelled:
            run = _cancelled(gov, run_id, owner)
        except _LeaseLost:  # another process took the run over; it owns the record now
            with gov.session() as session:
                run = _get_run(session, run_id)
        except Exception as exc:
            _failed(gov, run_id, owner, exc)
            raise
    return run


def _configured_executor(ctx: _Context, workers: int | None) -> Executor:
    """The executor the run recorded, as the operator configured it (never an address)."""
    ctx.spec = ctx.gov.settings.executor_spec(ctx.run.executor)
    return make_executor(ctx.spec, settings=ctx.gov.settings, workers=workers)


def _get_run(session: Any, run_id: str) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"no run {run_id!r}")
    return run


def _start(gov: Governance, run_id: str, owner: str, resumed_by: str | None) -> bool:
    """Claim the run and mark it started; False when it has ended (nothing to do).

    Raises:
        NotFoundError: no such run.
        ConflictError: another process holds a live lease on it.
    """
    if not claim(gov, run_id, owner):
        with gov.session() as session:
            run = _get_run(session, run_id)
        if run.status in (RunStatus.SUCCEEDED, RunStatus.CANCELLED):
            return False
        if run.status == RunStatus.CANCELLING and finish_abandoned_cancel(gov, run_id):
            return False
        raise ConflictError(held_message(run))
    with gov.session() as session:
        run = _get_run(session, run_id)
        resumed = run.started_at is not None
        run.started_at, run.message = run.started_at or utcnow(), "starting"
        session.add(run)
        payload: dict[str, Any] = {"resumed": resumed}
        if resumed and resumed_by:
            payload["resumed_by"] = resumed_by
        append_event(session=session, kind="run.started", actor="runner", subject=run.id,
                     payload=payload)
    return True


def _context(gov: Governance, run_id: str, progress: Progress | None, owner: str,
             beat: Heartbeat) -> _Context:
    """What the steps share: the run, its dataset and the exact policy it was submitted under."""
    with gov.session() as session:
        run = _get_run(session, run_id)
        ds = get_dataset(session, run.dataset_id)
        pv = session.get(PolicyVersion, run.policy_sha256)
        if pv is None:
            raise NotFoundError(f"policy version {run.policy_sha256[:12]} is not recorded")
    return _Context(gov=gov, run=run, dataset=ds, policy=parse_policy(pv.text),
                    progress=progress, owner=owner, beat=beat)


def _owned(session: Any, run_id: str, owner: str) -> Run:
    """The run row, locked, if ``owner`` still holds its lease (else ``_LeaseLost``)."""
    run = session.get(Run, run_id, with_for_update=True, populate_existing=True)
    if run is None or run.lease_owner != owner:
        raise _LeaseLost
    return run


def _prepare(ctx: _Context) -> None:
    """Load the splits and fit the real-only control (once per run)."""
    ctx.splits = load_splits(ctx.gov, ctx.dataset)
    ctx.schema = dataset_schema(ctx.dataset)
    ctx.options = read_options(ctx.run)
    ctx.units = 2 * len(read_grid(ctx.run))
    ctx.say("training the real-only control")
    ctx.evaluator = CandidateEvaluator(splits=ctx.splits, schema=ctx.schema,
                                       task=read_task(ctx.run), policy=ctx.policy,
                                       seed=ctx.run.seed, attack_cap=ATTACK_CAP)
    with ctx.gov.session() as session:
        row = _get_run(session, ctx.run.id)
        row.control_json = ctx.evaluator.control.to_json()
        session.add(row)


def _plan(ctx: _Context) -> tuple[list[GenerationTask], list[Candidate]]:
    """Tasks still to train, and candidates generated but never evaluated (a resume)."""
    assert ctx.splits is not None and ctx.options is not None
    with ctx.gov.session() as session:
        done = {c.idempotency_key: c for c in session.exec(
            select(Candidate).where(Candidate.run_id == ctx.run.id)).all()}
    n_synthetic = ctx.options.n_synthetic or len(ctx.splits.train)
    tasks: list[GenerationTask] = []
    resumed: list[Candidate] = []
    for gen, eps in read_grid(ctx.run):
        seed = candidate_seed(ctx.run.seed, gen, eps)
        key = candidate_key(ctx.run.id, ctx.run.seed, gen, eps)
        prior = done.get(key)
        if prior is not None and prior.status == CandidateStatus.GENERATED:
            # Killed between generation and evaluation: the artifact is stored and the
            # budget charged; evaluate it, never retrain or recharge it.
            ctx.finished += 1
            resumed.append(prior)
        elif prior is not None and prior.status != CandidateStatus.PENDING:
            ctx.finished += 2
        else:
            tasks.append(GenerationTask(
                key=key, generator=gen, epsilon=eps, delta=_delta(ctx),
                seed=seed, n_synthetic=n_synthetic, schema_yaml=ctx.dataset.schema_yaml,
                train=ctx.splits.train, options=_options(ctx, gen)))
    return tasks, resumed


def _evaluate_resumed(ctx: _Context, resumed: list[Candidate]) -> None:
    """Evaluate candidates whose generation survived an interruption."""
    assert ctx.evaluator is not None and ctx.schema is not None
    for cand in resumed:
        _check_cancelled(ctx)
        assert cand.artifact_sha256 is not None and cand.privacy_json is not None
        synthetic = conform(ctx.gov.artifacts.get_frame(cand.artifact_sha256), ctx.schema)
        privacy = PrivacySpend.model_validate_json(cand.privacy_json)
        result = ctx.evaluator.evaluate(synthetic, privacy=privacy,
                                        generator_factory=_factory(ctx, cand))
        _record_evaluation(ctx, cand.id, result)
        ctx.finished += 1
        ctx.say(f"evaluated {cand.generator} (resumed)")


def _generate(ctx: _Context, tasks: list[GenerationTask], executor: Executor) -> None:
    """Train the remaining candidates on the executor and evaluate each as it lands.

    Every reply is checked against the task it claims to answer; a reply for no pending
    task is ignored, and a task left without a reply fails its candidate.
    """
    assert ctx.evaluator is not None
    _check_cancelled(ctx)
    ctx.say(f"training {len(tasks)} candidate(s) on {ctx.executor_note}")
    pending = {t.key: t for t in tasks}
    for reply in executor.run(tasks):
        key = reply.key if isinstance(reply, GenerationOutput) else None
        task = pending.pop(key, None) if isinstance(key, str) else None
        if task is None:
            continue
        _land(ctx, task, check_output(reply, task))
    for task in pending.values():
        _land(ctx, task, failed_output(task, "the executor returned no reply for it"))


def _land(ctx: _Context, task: GenerationTask, out: GenerationOutput) -> None:
    """Record one candidate's generation (charging only a verified spend) and evaluate it."""
    assert ctx.evaluator is not None
    ctx.finished += 1
    label = out.key.split("/", 1)[1]
    ctx.say(f"generated {label}" if not out.error else f"failed {label}")
    _check_cancelled(ctx)
    cand, privacy = _record_generation(ctx, task, _verified(ctx, task, out))
    if privacy is not None and out.synthetic is not None:
        result = ctx.evaluator.evaluate(out.synthetic, privacy=privacy,
                                        generator_factory=_factory(ctx, cand))
        _record_evaluation(ctx, cand.id, result)
    ctx.finished += 1
    ctx.say(f"evaluated {label}")


def _verified(ctx: _Context, task: GenerationTask, out: GenerationOutput) -> GenerationOutput:
    """The output with the server's own privacy figure, or a failure if they disagree."""
    if out.error or out.privacy is None:
        return out
    try:
        privacy = verify_spend(out.privacy, generator=generator_class(task.generator),
                               epsilon=task.epsilon, delta=task.delta, options=task.options)
    except PrivacyRecordError as exc:
        return failed_output(task, f"privacy record rejected: {exc.message}",
                             fit_seconds=out.fit_seconds)
    return replace(out, privacy=privacy)


def _finish(ctx: _Context) -> Run:
    """Draw the frontier, mark the run succeeded and log it."""
    assert ctx.evaluator is not None
    control = ctx.evaluator.control
    with ctx.gov.session() as session:
        run = _owned(session, ctx.run.id, ctx.owner)
        cands = list(session.exec(select(Candidate).where(Candidate.run_id == run.id)).all())
        frontier, png = finish_frontier(cands, policy=ctx.policy.policy,
                                        title=f"run {run.id} on {ctx.dataset.name}")
        run.frontier_json = frontier.to_json()
        run.plot_sha256 = ctx.gov.artifacts.put_bytes(png, ".png")
        run.status, run.progress, run.finished_at = RunStatus.SUCCEEDED, 1.0, utcnow()
        run.lease_owner = run.lease_expires_at = None
        evaluated = sum(c.status != CandidateStatus.FAILED for c in cands)
        run.message = f"{evaluated} of {len(cands)} candidates evaluated"
        if ctx.spec is not None and ctx.spec.insecure:
            run.message += f"; trained on {ctx.executor_note}"
        if ctx.delta_note is not None:
            run.message += f"; {ctx.delta_note}"
        session.add(run)
        release_reservations(session, run_id=run.id, reason="the run finished")
        append_event(session=session, kind="run.finished", actor="runner", subject=run.id,
                     payload={"candidates": [c.id for c in cands], "plot_sha256": run.plot_sha256,
                              "pareto": frontier.pareto, "control": control.as_dict(),
                              "executor": ctx.executor_note, "delta": _delta(ctx),
                              "delta_warning": ctx.delta_note})
    emit_run_event(ctx.gov, run.id, "COMPLETE")
    ctx.finished = ctx.units
    if ctx.progress is not None:
        ctx.progress(1.0, "done")
    return run


def _cancelled(gov: Governance, run_id: str, owner: str) -> Run:
    with gov.session() as session:
        try:
            run = _owned(session, run_id, owner)
        except _LeaseLost:
            return _get_run(session, run_id)
        run.status, run.finished_at = RunStatus.CANCELLED, utcnow()
        run.message = "cancelled on request"
        run.lease_owner = run.lease_expires_at = None
        session.add(run)
        release_reservations(session, run_id=run.id, reason="the run was cancelled")
        append_event(session=session, kind="run.cancelled", actor="runner", subject=run.id,
                     payload={"progress": run.progress})
    emit_run_event(gov, run.id, "ABORT")
    return run


def _failed(gov: Governance, run_id: str, owner: str, exc: Exception) -> None:
    with gov.session() as session:
        try:
            run = _owned(session, run_id, owner)
        except _LeaseLost:
            return
        run.status, run.finished_at = RunStatus.FAILED, utcnow()
        run.error = run.message = f"{type(exc).__name__}: {exc}"
        run.lease_owner = run.lease_expires_at = None
        session.add(run)
        release_reservations(session, run_id=run.id, reason="the run failed")
        append_event(session=session, kind="run.failed", actor="runner", subject=run.id,
                     payload={"error": run.error})
    emit_run_event(gov, run_id, "FAIL")


def _delta(ctx: _Context) -> float:
    """The delta candidates train with: ``min(risk.max_delta, 1/(10 n))``."""
    return run_delta(ctx.policy.policy.risk.max_delta, ctx.n_train)


def _factory(ctx: _Context, cand: Candidate) -> Callable[[int], Generator]:
    """Fresh generators with a candidate's settings, for shadow-model attacks."""
    assert ctx.options is not None
    eps = math.inf if cand.epsilon_target is None else cand.epsilon_target
    opts = _options(ctx, cand.generator)
    delta = _delta(ctx)
    return lambda seed: create_generator(cand.generator, epsilon=eps, delta=delta, seed=seed,
                                         **opts)


def _options(ctx: _Context, generator: str) -> dict[str, Any]:
    """A generator's options, with the policy's ``risk.reproducible_noise`` for DP ones."""
    assert ctx.options is not None
    return with_noise_policy(ctx.options.generator_options.get(generator, {}),
                             private=is_private(generator),
                             reproducible=ctx.policy.policy.risk.reproducible_noise)


def _check_cancelled(ctx: _Context) -> None:
    """Stop if the run was asked to, or if another process took its lease over."""
    if ctx.beat is not None and ctx.beat.lost.is_set():
        raise _LeaseLost
    with ctx.gov.session() as session:
        run = session.get(Run, ctx.run.id)
        if run is None or run.lease_owner != ctx.owner:
            raise _LeaseLost
        if run.status == RunStatus.CANCELLING:
            raise _Cancelled


def request_cancel(gov: Governance, run_id: str) -> Run:
    """Cancel a queued run at once, or ask a running one to stop after the candidate in hand.

    A queued run ends ``cancelled`` here and now (atomically, so a worker that picks it
    up afterwards finds nothing to do): it never trains and charges nothing.

    Raises:
        NotFoundError: no such run.
        ConflictError: the run has ended.
    """
    now = utcnow()
    with gov.session() as session:
        _get_run(session, run_id)
        before_start = session.exec(
            update(Run).where(col(Run.id) == run_id, col(Run.status) == RunStatus.QUEUED.value)
            .values(status=RunStatus.CANCELLED.value, finished_at=now,
                    message="cancelled before it started")).rowcount == 1
        stopping = not before_start and session.exec(
            update(Run).where(col(Run.id) == run_id, col(Run.status) == RunStatus.RUNNING.value)
            .values(status=RunStatus.CANCELLING.value)).rowcount == 1
        run = session.get(Run, run_id, populate_existing=True)
        assert run is not None
        if not (before_start or stopping):
            raise ConflictError(f"run {run_id} is {run.status}; only queued or running runs "
                                "can be cancelled")
        if before_start:
            release_reservations(session, run_id=run_id, reason="the run was cancelled")
            append_event(session=session, kind="run.cancelled", actor="runner", subject=run_id,
                         payload={"progress": 0.0, "before_start": True})
        return run


def _privacy_of(ctx: _Context, out: GenerationOutput, eps: float) -> PrivacySpend | None:
    if out.error or out.privacy is None or out.synthetic is None:
        return None
    privacy = out.privacy
    if (ctx.dataset.data_derived_schema and math.isfinite(eps)
            and privacy.preprocessing != PRIVATE_LABEL):
        privacy = privacy.model_copy(update={
            "notes": (*privacy.notes, DATA_DERIVED_NOTE),
            "preprocessing": "data-derived schema (NOT private)"})
    if ctx.delta_note is not None and math.isfinite(eps):
        privacy = privacy.model_copy(update={"notes": (*privacy.notes, ctx.delta_note)})
    return privacy


def _record_generation(ctx: _Context, task: GenerationTask, out: GenerationOutput
                       ) -> tuple[Candidate, PrivacySpend | None]:
    """Verify a candidate's privacy record, charge its budget, store its artifact, log it.

    The charge comes first (the dataset row is locked before the audit head); a spend
    that no longer fits the dataset's budget fails the candidate and charges nothing.
    """
    gen, eps, seed = task.generator, task.epsilon, task.seed
    eps_label = eps_text(eps)
    privacy = _privacy_of(ctx, out, eps)
    artifact = ctx.gov.artifacts.put_frame(out.synthetic) if out.synthetic is not None else None
    with ctx.gov.session() as session:
        cand = session.exec(select(Candidate).where(Candidate.idempotency_key == out.key)).first()
        if cand is None:
            cand = Candidate(id=new_id("cand"), run_id=ctx.run.id, idempotency_key=out.key,
                             generator=gen, epsilon_target=eps if math.isfinite(eps) else None,
                             seed=seed)
        cand.fit_seconds = out.fit_seconds
        error = out.error
        if privacy is not None and math.isfinite(privacy.epsilon_spent):
            # epsilon_spent is the candidate's total, preprocessing included; it is
            # re-checked against the dataset's budget, and over it nothing is charged.
            try:
                charge(session=session, dataset_id=ctx.dataset.id, key=out.key,
                       candidate_id=cand.id, epsilon=privacy.epsilon_spent,
                       delta=float(privacy.delta or 0.0))
            except BudgetExceededError as exc:
                privacy, error = None, exc.message
        if privacy is None or out.synthetic is None:
            release_reservations(session, run_id=ctx.run.id, keys=[out.key],
                                 reason="the candidate failed")
            cand.status, cand.error = CandidateStatus.FAILED, error
            session.add(cand)
            session.flush()
            append_event(session=session, kind="candidate.failed", actor="runner",
                         subject=cand.id, payload={"run_id": ctx.run.id, "generator": gen,
                                                   "epsilon_target": eps_label, "error": error})
            return cand, None
        spent = privacy.epsilon_spent
        cand.epsilon_spent = spent if math.isfinite(spent) else None
        cand.delta = float(privacy.delta or 0.0)
        cand.privacy_json = privacy.to_json()
        cand.artifact_sha256, cand.n_rows = artifact, len(out.synthetic)
        cand.status = CandidateStatus.GENERATED
        session.add(cand)
        session.flush()
        append_event(session=session, kind="candidate.generated", actor="runner", subject=cand.id,
                     payload={"run_id": ctx.run.id, "generator": gen, "seed": seed,
                              "artifact_sha256": artifact, "n_rows": len(out.synthetic),
                              "fit_seconds": round(out.fit_seconds, 3),
                              "privacy": privacy.as_dict()})
        return cand, privacy


def _record_evaluation(ctx: _Context, candidate_id: str, result: Evaluation) -> None:
    """Store a candidate's typed results through the codec and log them."""
    task = read_task(ctx.run)
    with ctx.gov.session() as session:
        cand = session.get(Candidate, candidate_id)
        assert cand is not None
        cand.attack_json = result.attack.to_json()
        cand.utility_json = result.utility.to_json()
        cand.fidelity_json = result.fidelity.to_json()
        cand.verdict_json = result.verdict.to_json()
        cand.eligible = bool(result.verdict.eligible)
        cand.status = CandidateStatus.EVALUATED
        session.add(cand)
        summary = result.attack_summary()
        append_event(session=session, kind="candidate.evaluated", actor="runner", subject=cand.id,
                     payload={"attack": summary, "utility": result.utility_summary(task.metric),
                              "verdict": result.verdict.as_dict()})
        if summary.get("failed_audit"):
            append_event(session=session, kind="candidate.audit_failed", actor="runner",
                         subject=cand.id,
                         payload={"epsilon_estimate": summary.get("epsilon_estimate"),
                                  "epsilon_spent": cand.epsilon_spent})


__all__ = ["ATTACK_CAP", "Progress", "execute_run", "request_cancel"]

