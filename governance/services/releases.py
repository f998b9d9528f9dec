"""Decisions on candidates, releases made by a quorum, and logged access to them.

Rules (each enforced here, in the core, and each refusal an error a caller can read):

- a candidate that failed its policy or its privacy audit cannot be approved;
- only keys whose role the policy lists may approve; each approver counts once;
- with ``separation_of_duties`` the requester of a run cannot approve its candidates;
- the policy's quorum of distinct approvals creates a release pinned to that policy
  version, for the policy's consumers, expiring after its ``expires_after_days``;
- decisions on one candidate are serialised by a lock on its row (``SELECT ... FOR
  UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so
  approvals are counted, and the release activated, under the same lock: concurrent
  approvals give exactly one release, and a second decision by the same approver is a
  conflict that names the first;
- every download attempt on a release is exactly one audit event: ``access.denied``,
  ``access.allowed`` once the artifact has been read and its hash checked, or
  ``access.failed`` when the stored artifact is missing or altered (nothing is served).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlmodel import Session, select

from governance.core.errors import (
    ArtifactUnavailableError,
    ConflictError,
    GovernanceError,
    InputError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    ReleaseGoneError,
)
from governance.core.types import Principal
from governance.datasets.export import CSV_NEUTRALISATION, to_spreadsheet_csv
from governance.policy.loader import parse_policy
from governance.policy.models import Policy
from governance.policy.verdict import Verdict
from governance.schemas.releases import DecisionOutcomePublic, DecisionPublic, ReleasePublic
from governance.services.context import Governance
from governance.services.permissions import can_see_release
from governance.store.auditlog import append_event
from governance.store.models import (
    Candidate,
    Decision,
    PolicyVersion,
    Release,
    Run,
    new_id,
    utcnow,
)


def policy_of(session: Session, sha256: str) -> Policy:
    """The exact policy version recorded under ``sha256``."""
    pv = session.get(PolicyVersion, sha256)
    if pv is None:
        raise NotFoundError(f"policy version {sha256[:12]}… is not recorded")
    return parse_policy(pv.text, source=f"policy {pv.name}").policy


def get_candidate(session: Session, candidate_id: str, *, lock: bool = False) -> Candidate:
    """A candidate by id (with ``lock``: its row locked until the transaction ends).

    Raises:
        NotFoundError: no such candidate.
    """
    if lock:
        cand = session.exec(select(Candidate).where(Candidate.id == candidate_id)
                            .with_for_update().execution_options(populate_existing=True)).first()
    else:
        cand = session.get(Candidate, candidate_id)
    if cand is None:
        raise NotFoundError(f"no candidate {candidate_id!r}")
    return cand


@dataclass(frozen=True)
class DecisionOutcome:
    """The decision recorded and, when it completed a quorum, the release it created."""

    decision: Decision
    approvals: int
    quorum: int
    release: Release | None
    pending_release: Release | None = None


def record_decision(
    *, session: Session, candidate_id: str, actor: Principal, decision: str, reason: str = ""
) -> DecisionOutcome:
    """Approve or reject a candidate as ``actor``.

    Raises:
        InputError: ``decision`` is neither "approve" nor "reject".
        PermissionDeniedError: the actor's role may not approve, or the actor requested the run.
        ConflictError: the candidate is not eligible, already decided by this actor, rejected
            or released.
    """
    if decision not in ("approve", "reject"):
        raise InputError(f"decision must be 'approve' or 'reject', not {decision!r}")
    # First statement of the transaction: every decision on this candidate waits here, so
    # the duplicate check, the count and the activation below see each other's commits.
    cand = get_candidate(session, candidate_id, lock=True)
    run = session.get(Run, cand.run_id)
    assert run is not None
    policy = policy_of(session, run.policy_sha256)
    if actor.role not in policy.approvals.roles:
        raise PermissionDeniedError(
            f"role {actor.role!r} may not decide on candidates under policy "
            f"{policy.name!r}; allowed roles: {', '.join(policy.approvals.roles)}"
        )
    if policy.approvals.separation_of_duties and actor.name == run.requested_by:
        raise PermissionDeniedError(
            f"{actor.name!r} requested run {run.id} and cannot decide on its candidates "
            "(separation of duties); ask another approver"
        )
    if cand.status in ("pending", "failed"):
        raise ConflictError(f"candidate {cand.id} is {cand.status}; only evaluated candidates "
                            "can be decided")
    _check_not_decided(session, cand, actor)
    if cand.status in ("rejected", "released"):
        raise ConflictError(f"candidate {cand.id} is already {cand.status}")
    if decision == "approve" and not cand.eligible:
        verdict = (Verdict.model_validate_json(cand.verdict_json)
                   if cand.verdict_json is not None else None)
        clauses = [v.message for v in verdict.violations] if verdict is not None else []
        raise ConflictError(
            f"candidate {cand.id} fails policy {policy.name!r} and cannot be approved: "
            + ("; ".join(clauses) or "no verdict recorded")
        )
    dec = Decision(id=new_id("dec"), candidate_id=cand.id, actor=actor.name, role=actor.role,
                   decision=decision, reason=reason, policy_sha256=run.policy_sha256)
    session.add(dec)
    session.flush()
    approvals = len(session.exec(select(Decision).where(
        Decision.candidate_id == cand.id, Decision.decision == "approve")).all())
    append_event(session=session, kind="decision.recorded", actor=actor.name, subject=cand.id,
                 payload={"decision": decision, "reason": reason, "role": actor.role,
                          "policy_sha256": run.policy_sha256, "approvals": approvals,
                          "quorum": policy.approvals.quorum})
    release = release_for_candidate(session, cand.id)
    if decision == "reject":
        cand.status = "rejected"
        if release is not None:
            release.status, release.reason = "rejected", f"rejected by {actor.name}: {reason}"
            session.add(release)
    else:
        release = release or _pending_release(session=session, cand=cand, run=run, policy=policy)
        if approvals >= policy.approvals.quorum:
            _activate_release(session=session, rel=release, cand=cand, run=run, policy=policy,
                              actor=actor.name)
            cand.status = "released"
        else:
            cand.status = "evaluated"
    session.add(cand)
    active = release if release is not None and release.status == "active" else None
    return DecisionOutcome(dec, approvals, policy.approvals.quorum, active, release)


def _check_not_decided(session: Session, cand: Candidate, actor: Principal) -> None:
    """Refuse a second decision by the same approver, naming the first.

    Raises:
        ConflictError: with the existing decision in ``details["decision"]``.
    """
    prior = session.exec(select(Decision).where(Decision.candidate_id == cand.id,
                                                Decision.actor == actor.name)).first()
    if prior is not None:
        raise ConflictError(
            f"{actor.name!r} already decided on candidate {cand.id}: {prior.decision} at "
            f"{prior.created_at.isoformat()}; a decision is made once",
            code="already_decided",
            details={"decision": DecisionPublic.from_row(prior).as_dict()})


def _pending_release(*, session: Session, cand: Candidate, run: Run, policy: Policy) -> Release:
    """The release row a first approval opens; it serves nothing until the quorum."""
    assert cand.artifact_sha256 is not None
    rel = Release(id=new_id("rel"), candidate_id=cand.id, run_id=run.id,
                  policy_sha256=run.policy_sha256, artifact_sha256=cand.artifact_sha256,
                  requested_by=run.requested_by, status="pending",
                  consumers_json=json.dumps(list(policy.access.consumers)))
    session.add(rel)
    session.flush()
    return rel


def _activate_release(
    *, session: Session, rel: Release, cand: Candidate, run: Run, policy: Policy, actor: str
) -> Release:
    days = policy.access.expires_after_days
    expires = utcnow() + timedelta(days=days) if days else None
    rel.status, rel.expires_at = "active", expires
    session.add(rel)
    session.flush()
    append_event(session=session, kind="release.created", actor=actor, subject=rel.id,
                 payload={"candidate_id": cand.id, "run_id": run.id,
                          "artifact_sha256": cand.artifact_sha256,
                          "policy_sha256": run.policy_sha256,
                          "consumers": list(policy.access.consumers),
                          "expires_at": expires.isoformat() if expires else None})
    return rel


def get_release(session: Session, release_id: str) -> Release:
    """A release by id, or NotFoundError."""
    rel = session.get(Release, release_id)
    if rel is None:
        raise NotFoundError(f"no release {release_id!r}")
    return rel


def release_for_candidate(session: Session, candidate_id: str) -> Release | None:
    """The release made from a candidate, if any."""
    return session.exec(select(Release).where(Release.candidate_id == candidate_id)).first()


def revoke_release(*, session: Session, release_id: str, actor: Principal, reason: str) -> Release:
    """Revoke a release; later downloads get 'gone' with the reason."""
    if actor.role not in ("approver", "admin"):
        raise PermissionDeniedError("only approvers and admins may revoke a release")
    if not reason.strip():
        raise InputError("a revocation needs a reason; it is shown to consumers")
    rel = get_release(session, release_id)
    if rel.status != "active":
        raise ConflictError(f"release {rel.id} is {rel.status}; only active releases can be "
                            "revoked")
    rel.status, rel.reason = "revoked", reason
    session.add(rel)
    append_event(session=session, kind="release.revoked", actor=actor.name, subject=rel.id,
                 payload={"reason": reason})
    return rel


def check_access(
    *, session: Session, release_id: str, consumer: Principal, fmt: str,
    now: datetime | None = None,
) -> Release:
    """Check a download; a refusal is logged (``access.denied``) and raised.

    The denial event is written in ``session`` even though an error is raised, so the
    caller must commit the session before propagating (``open_release`` does).

    Raises:
        NotFoundError, ReleaseGoneError, PermissionDeniedError, InputError.
    """
    now = now or datetime.now(UTC)
    rel = session.get(Release, release_id)
    try:
        if rel is None:
            raise NotFoundError(f"no release {release_id!r}")
        _check_access(session, rel, consumer, fmt, now)
    except GovernanceError as exc:
        append_event(session=session, kind="access.denied", actor=consumer.name,
                     subject=release_id, payload={"format": fmt, "code": exc.code,
                                                  "reason": exc.message})
        raise
    return rel


def authorize_access(
    *, session: Session, release_id: str, consumer: Principal, fmt: str, now: datetime | None = None
) -> Release:
    """Check a download and log exactly one event, allowed or denied (no artifact read).

    Raises:
        NotFoundError, ReleaseGoneError, PermissionDeniedError, InputError.
    """
    rel = check_access(session=session, release_id=release_id, consumer=consumer, fmt=fmt,
                       now=now)
    append_event(session=session, kind="access.allowed", actor=consumer.name, subject=rel.id,
                 payload={"format": fmt, "artifact_sha256": rel.artifact_sha256})
    return rel


def _check_access(session: Session, rel: Release, consumer: Principal, fmt: str,
                  now: datetime) -> None:
    # Audience first: someone who is not a consumer learns nothing about the release
    # (not whether it is pending, revoked or expired).
    consumers = json.loads(rel.consumers_json)
    allowed = consumer.role == "admin" or consumer.name == rel.requested_by or (
        consumer.role == "requester" and ("*" in consumers or consumer.name in consumers))
    if not allowed:
        raise PermissionDeniedError(f"{consumer.name!r} is not a consumer of release {rel.id}")
    policy = policy_of(session, rel.policy_sha256)
    if rel.status == "revoked":
        raise ReleaseGoneError(f"release {rel.id} was revoked: {rel.reason}")
    if rel.status not in ("active", "flagged"):
        approvals = len(session.exec(select(Decision).where(
            Decision.candidate_id == rel.candidate_id, Decision.decision == "approve")).all())
        raise PermissionDeniedError(
            f"release {rel.id} is {rel.status}, not approved for download "
            f"({approvals} of {policy.approvals.quorum} approvals)")
    expires = rel.expires_at
    if expires is not None:
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        if now >= expires:
            raise PermissionDeniedError(f"release {rel.id} expired on {expires.date()}")
    if fmt not in policy.access.formats:
        raise InputError(f"format {fmt!r} is not allowed for this release; allowed: "
                         f"{', '.join(policy.access.formats)}")


def open_release(
    gov: Governance, *, release_id: str, consumer: Principal, fmt: str = "parquet"
) -> tuple[Release, bytes]:
    """Authorise a download, read and verify the artifact, log the outcome, return the bytes.

    Exactly one event is logged, in the same transaction, and committed even when an
    error is raised: ``access.denied`` for a refusal, ``access.failed`` when the artifact
    is missing or does not hash to its name (nothing is served), else ``access.allowed``.
    What is served hashes to the SHA-256 the release's audit event carries.

    Raises:
        NotFoundError, ReleaseGoneError, PermissionDeniedError, InputError: refused.
        ArtifactUnavailableError: the stored artifact is missing or altered.
    """
    error: GovernanceError | None = None
    with gov.session() as session:
        try:
            rel = check_access(session=session, release_id=release_id, consumer=consumer,
                               fmt=fmt)
            data = _verified_artifact(gov, session, rel, consumer=consumer, fmt=fmt)
            append_event(session=session, kind="access.allowed", actor=consumer.name,
                         subject=rel.id,
                         payload={"format": fmt, "artifact_sha256": rel.artifact_sha256})
        except GovernanceError as exc:
            error = exc
    if error is not None:
        raise error
    return rel, data


def _verified_artifact(gov: Governance, session: Session, rel: Release, *,
                       consumer: Principal, fmt: str) -> bytes:
    """The release's bytes, hash-checked; a missing or altered file is logged and refused."""
    try:
        return gov.artifacts.get_bytes(rel.artifact_sha256)
    except (NotFoundError, IntegrityError) as exc:
        append_event(session=session, kind="access.failed", actor=consumer.name,
                     subject=rel.id, payload={"format": fmt, "code": exc.code,
                                              "reason": exc.message,
                                              "artifact_sha256": rel.artifact_sha256})
        state = "is missing" if isinstance(exc, NotFoundError) else "failed its integrity check"
        raise ArtifactUnavailableError(
            f"release {rel.id} cannot be served: its stored data {state}, so nothing was sent; "
            "the attempt is logged, and an operator has to restore the artifact "
            f"{rel.artifact_sha256[:12]}… before it can be downloaded again") from None


def open_candidate_data(
    gov: Governance, *, candidate_id: str, consumer: Principal, fmt: str = "parquet"
) -> tuple[Release, bytes]:
    """Download a candidate's data through its release; 403 while it has no release.

    Raises:
        NotFoundError: no such candidate.
        PermissionDeniedError: the candidate has not been released (the attempt is logged).
    """
    with gov.session() as session:
        get_candidate(session, candidate_id)
        rel = release_for_candidate(session, candidate_id)
        if rel is None:
            append_event(session=session, kind="access.denied", actor=consumer.name,
                         subject=candidate_id, payload={"format": fmt, "code": "forbidden",
                                                        "reason": "candidate not released"})
    if rel is None:
        raise PermissionDeniedError(
            f"candidate {candidate_id} has not been approved for release; it needs the "
            "policy's quorum of approvals first")
    return open_release(gov, release_id=rel.id, consumer=consumer, fmt=fmt)


def as_format(data: bytes, fmt: str) -> bytes:
    """A release's Parquet bytes as served: unchanged, or CSV with formulas neutralised.

    CSV cells that a spreadsheet would evaluate (text starting with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return) get a leading ``'``; numeric columns are untouched
    (see ``governance.datasets.export``). Parquet is served byte for byte.
    """
    if fmt == "csv":
        return to_spreadsheet_csv(pd.read_parquet(io.BytesIO(data)))
    return data


def format_headers(fmt: str) -> dict[str, str]:
    """Headers that describe how ``as_format`` changed the bytes for ``fmt``."""
    return {"X-CSV-Neutralised": CSV_NEUTRALISATION} if fmt == "csv" else {}


def read_release(gov: Governance, release_id: str, key: Principal) -> ReleasePublic:
    """A release the caller may see (others' releases look absent to requesters).

    Raises:
        NotFoundError: no such release, or not visible to the caller.
    """
    with gov.session() as s:
        rel = get_release(s, release_id)
    if not can_see_release(key, rel):
        raise NotFoundError(f"no release {release_id!r}")
    return ReleasePublic.from_row(rel)


def decide_candidate(gov: Governance, *, candidate_id: str, actor: Principal, decision: str,
                     reason: str = "") -> DecisionOutcomePublic:
    """Record a decision and describe it with the release it opened or activated."""
    with gov.session() as s:
        outcome = record_decision(session=s, candidate_id=candidate_id, actor=actor,
                                  decision=decision, reason=reason)
        rel = outcome.release or outcome.pending_release
        return DecisionOutcomePublic(decision=DecisionPublic.from_row(outcome.decision),
                                     approvals=outcome.approvals, quorum=outcome.quorum,
                                     release=ReleasePublic.from_row(rel) if rel else None)


def revoke(gov: Governance, *, release_id: str, actor: Principal, reason: str) -> ReleasePublic:
    """Revoke a release and describe it."""
    with gov.session() as s:
        return ReleasePublic.from_row(revoke_release(session=s, release_id=release_id,
                                                     actor=actor, reason=reason))
