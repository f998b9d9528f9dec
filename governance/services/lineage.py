"""Lineage: from any released file, candidate, run or dataset back to the source.

``lineage`` answers with every hash an auditor needs to check independently: the
source file's SHA-256, the split's hash, the policy version, the generator with its
seed and accountant-spent epsilon, the artifact's SHA-256, every decision and every
access, and the audit events (with their chain hashes) that record each step.
``emit_run_event`` and ``emit_dataset_event`` send the same facts to OpenLineage sinks.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from governance.core.errors import NotFoundError
from governance.core.jsonsafe import loads
from governance.datasets.schema import schema_from_yaml
from governance.lineage.openlineage import (
    CandidateOutput,
    DatasetFacts,
    RunFacts,
    candidate_document,
    dataset_document,
    dataset_event,
    run_event,
)
from governance.lineage.sinks import EmitResult, deliver
from governance.schemas.audit import (
    LineageCandidate,
    LineageEvent,
    LineagePolicy,
    LineagePublic,
    LineageRun,
)
from governance.schemas.datasets import DatasetPublic
from governance.schemas.releases import DecisionPublic, ReleasePublic
from governance.schemas.runs import candidate_public, read_grid, read_task
from governance.services.context import Governance
from governance.store.auditlog import events_for
from governance.store.models import Candidate, Dataset, Decision, PolicyVersion, Release, Run


def lineage(session: Session, ref: str) -> LineagePublic:
    """Trace ``ref`` (a release, candidate, run or dataset id) to its source.

    Raises:
        NotFoundError: when ``ref`` is none of these.
    """
    release = session.get(Release, ref)
    cand = session.get(Candidate, release.candidate_id if release else ref)
    run = session.get(Run, cand.run_id if cand else ref)
    ds = session.get(Dataset, run.dataset_id if run else ref)
    if ds is None:
        raise NotFoundError(f"{ref!r} is not a release, candidate, run or dataset id")
    parts: dict[str, object] = {}
    subjects = {ds.id}
    if run is not None:
        pv = session.get(PolicyVersion, run.policy_sha256)
        parts["run"] = LineageRun(id=run.id, seed=run.seed, task=read_task(run),
                                  grid=read_grid(run), requested_by=run.requested_by,
                                  status=run.status, executor=run.executor)
        parts["policy"] = LineagePolicy(sha256=run.policy_sha256, name=pv.name if pv else None,
                                        source_path=pv.source_path if pv else None)
        subjects |= {run.id, run.policy_sha256}
    if cand is not None:
        view = candidate_public(cand)
        parts["candidate"] = LineageCandidate(**{k: getattr(view, k) for k in (
            "id", "generator", "seed", "epsilon_target", "epsilon_spent", "delta",
            "artifact_sha256", "n_rows", "status", "eligible", "summary", "privacy")})
        decisions = session.exec(select(Decision).where(Decision.candidate_id == cand.id)
                                 .order_by(col(Decision.created_at))).all()
        parts["decisions"] = [DecisionPublic.from_row(d) for d in decisions]
        subjects.add(cand.id)
    if release is not None:
        parts["release"] = ReleasePublic.from_row(release)
        subjects.add(release.id)
    events = [LineageEvent(seq=e.seq, kind=e.kind, actor=e.actor, subject=e.subject,
                           created_at=e.created_at, hash=e.hash, payload=loads(e.payload))
              for e in events_for(session, subjects)]
    return LineagePublic(ref=ref, dataset=DatasetPublic.from_row(ds), events=events,
                         access=[e for e in events if e.kind.startswith("access.")],
                         **parts)


def _dataset_facts(ds: Dataset) -> DatasetFacts:
    return DatasetFacts(
        dataset_id=ds.id, name=ds.name,
        schema=schema_from_yaml(ds.schema_yaml, source=f"dataset {ds.id} schema"),
        source_filename=ds.source_filename, source_sha256=ds.source_sha256, n_rows=ds.n_rows,
        schema_sha256=ds.schema_sha256, data_derived_schema=ds.data_derived_schema,
        split_seed=ds.split_seed, split_sha256=ds.split_sha256)


def _output(c: Candidate) -> CandidateOutput:
    view = candidate_public(c)
    return CandidateOutput(
        candidate_id=c.id, generator=c.generator, artifact_sha256=c.artifact_sha256,
        epsilon_target=view.epsilon_target, epsilon_spent=view.epsilon_spent, delta=c.delta,
        privacy=view.privacy, attack=view.attack, utility=view.utility,
        eligible=view.verdict.eligible if view.verdict else None,
        clauses=view.summary.clauses)


def emit_run_event(gov: Governance, run_id: str, event_type: str) -> EmitResult:
    """Build a run's RunEvent from the store and send it to every lineage sink.

    Raises:
        ValueError: for an event type the spec does not define.
        NotFoundError: when no run has this id.

    Transport failures never raise: they are in the result and in ``failed.jsonl``.
    """
    with gov.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id!r}; pass the id of a submitted run")
        ds = session.get(Dataset, run.dataset_id)
        outputs = []
        if event_type != "START":
            cands = session.exec(select(Candidate).where(Candidate.run_id == run.id)
                                 .order_by(col(Candidate.created_at))).all()
            outputs = [candidate_document(_output(c))
                       for c in cands if c.artifact_sha256 is not None and c.status != "failed"]
        facts = RunFacts(run_id=run.id, status=run.status, policy_sha256=run.policy_sha256,
                         grid=read_grid(run), seed=run.seed, requested_by=run.requested_by,
                         executor=run.executor, error=run.error, message=run.message)
        event = run_event(event_type, facts, job_name=f"frontier_run.{ds.name if ds else '?'}",
                          inputs=[dataset_document(_dataset_facts(ds))] if ds else [],
                          outputs=outputs)
    return deliver(event, gov.lineage_sinks, failed=gov.failed_lineage)


def emit_dataset_event(gov: Governance, dataset_id: str) -> EmitResult:
    """Send a static DatasetEvent for a registered source table (see ``emit_run_event``).

    Raises:
        NotFoundError: when no dataset has this id.
    """
    with gov.session() as session:
        ds = session.get(Dataset, dataset_id)
        if ds is None:
            raise NotFoundError(f"no dataset {dataset_id!r}; register it first")
        event = dataset_event(dataset_document(_dataset_facts(ds)))
    return deliver(event, gov.lineage_sinks, failed=gov.failed_lineage)
