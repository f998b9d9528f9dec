"""Re-judge stored candidates when a policy changes, without rewriting history.

When a new version of a policy is adopted (same ``name``, different SHA-256),
``reevaluate`` re-runs ``decide()`` on the stored facts of every evaluated candidate
of every run made under an older version of it. Nothing is re-measured: the facts
come from the JSON recorded on each candidate row, through
``governance.services.runs.evaluate.candidate_facts``.

What changes, and how it is recorded:

* **open candidates** (evaluated, not yet released or rejected) take the new verdict:
  ``eligible`` and ``verdict_json`` are updated, so an approval of a candidate the new
  version refuses is blocked from now on (and one it now accepts may be approved;
  quorum and approver roles stay those of the run's own policy version). The old
  verdict is not lost: it is in the run's ``candidate.evaluated`` event and is
  repeated in the ``policy.reevaluated`` event appended for every candidate judged.
* **active releases** whose candidate fails the new version become ``flagged``, with a
  reason naming the version and the violated clauses, and a ``release.flagged`` event.
  They are never revoked here: a flagged release stays downloadable by its consumers
  (``authorize_access`` serves ``active`` and ``flagged``) until a person reviews it
  and revokes it or not. Releases still compliant are left alone.
* rejected candidates, revoked or already flagged releases are left alone; a candidate
  whose verdict is already under the new version is skipped, so a second call with the
  same policy changes and records nothing.

Everything happens in one transaction: the state changes and their audit events land
together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from governance.policy.decide import decide
from governance.policy.loader import LoadedPolicy
from governance.policy.verdict import Superseded
from governance.schemas.runs import candidate_public
from governance.services.context import Governance
from governance.services.runs.evaluate import candidate_facts
from governance.services.runs.submit import record_policy
from governance.store.auditlog import append_event
from governance.store.models import (
    AuditEvent,
    Candidate,
    PolicyVersion,
    Release,
    Run,
)

JUDGED = ("evaluated", "released")


@dataclass(frozen=True)
class CandidateChange:
    """One candidate judged again under the new policy version.

    Attributes:
        candidate_id: the candidate.
        run_id: its run.
        previous_policy_sha256: the version its run was made under.
        eligible_before: its eligibility before this call.
        eligible_after: its eligibility under the new version.
        clauses: the clauses the new version finds violated.
        release_id: its release, if any.
        release_status: the release's status after this call, if any.
        action: ``"eligibility_changed"``, ``"unchanged"``, ``"release_flagged"`` or
            ``"release_compliant"``.
    """

    candidate_id: str
    run_id: str
    previous_policy_sha256: str
    eligible_before: bool
    eligible_after: bool
    clauses: tuple[str, ...]
    release_id: str | None
    release_status: str | None
    action: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {**self.__dict__, "clauses": list(self.clauses)}


@dataclass(frozen=True)
class ReevaluationReport:
    """Outcome of ``reevaluate``.

    Attributes:
        policy_name: the policy's name.
        policy_sha256: the new version's hash.
        previous_versions: the older versions whose runs were re-judged.
        runs: the runs re-judged.
        changes: one entry per candidate judged.
        skipped: candidates already judged under this version.
    """

    policy_name: str
    policy_sha256: str
    previous_versions: tuple[str, ...]
    runs: tuple[str, ...]
    changes: tuple[CandidateChange, ...]
    skipped: int = 0

    @property
    def flagged(self) -> tuple[str, ...]:
        """Releases flagged for review by this call."""
        return tuple(c.release_id for c in self.changes
                     if c.action == "release_flagged" and c.release_id)

    @property
    def newly_ineligible(self) -> tuple[str, ...]:
        """Open candidates the new version no longer accepts."""
        return tuple(c.candidate_id for c in self.changes
                     if c.action == "eligibility_changed" and not c.eligible_after)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"policy_name": self.policy_name, "policy_sha256": self.policy_sha256,
                "previous_versions": list(self.previous_versions), "runs": list(self.runs),
                "changes": [c.as_dict() for c in self.changes], "skipped": self.skipped,
                "flagged": list(self.flagged)}


def reevaluate(gov: Governance, *, policy: LoadedPolicy, actor: str) -> ReevaluationReport:
    """Judge every candidate made under an older version of ``policy`` again.

    Args:
        gov: the service context.
        policy: the new version (recorded in the store if it is not yet).
        actor: who adopted the new version (recorded on every event).

    Returns:
        What was judged and what changed.
    """
    with gov.session() as session:
        record_policy(session, policy, actor=actor)
        older = session.exec(select(PolicyVersion.sha256).where(
            PolicyVersion.name == policy.name, PolicyVersion.sha256 != policy.sha256)).all()
        runs = session.exec(select(Run).where(col(Run.policy_sha256).in_(older))
                            .order_by(col(Run.created_at))).all() if older else []
        changes: list[CandidateChange] = []
        skipped = 0
        for run in runs:
            cands = session.exec(select(Candidate).where(
                Candidate.run_id == run.id, col(Candidate.status).in_(JUDGED))
                .order_by(col(Candidate.created_at))).all()
            for cand in cands:
                change = _judge(session, run, cand, policy, actor)
                skipped += change is None
                if change is not None:
                    changes.append(change)
        return ReevaluationReport(policy.name, policy.sha256, tuple(sorted(older)),
                                  tuple(r.id for r in runs), tuple(changes), skipped)


def _judge(session: Session, run: Run, cand: Candidate, policy: LoadedPolicy,
           actor: str) -> CandidateChange | None:
    view = candidate_public(cand)
    old = view.verdict
    done = session.exec(select(AuditEvent.seq).where(
        AuditEvent.subject == cand.id, AuditEvent.kind == "policy.reevaluated",
        col(AuditEvent.payload).contains(policy.sha256))).first()
    if done is not None or (old is not None and old.policy_sha256 == policy.sha256):
        return None
    assert view.privacy is not None and view.attack is not None and view.utility is not None
    facts = candidate_facts(privacy=view.privacy, attack=view.attack, utility=view.utility,
                            policy=policy.policy)
    verdict = decide(policy, facts)
    before, after = bool(cand.eligible), verdict.eligible
    release = session.exec(select(Release).where(Release.candidate_id == cand.id)).first()
    action = "unchanged" if before == after else "eligibility_changed"
    if cand.status == "released":
        action = "release_compliant" if after else "unchanged"
    else:
        verdict = verdict.model_copy(update={"supersedes": Superseded(
            policy_sha256=(old.policy_sha256 if old and old.policy_sha256
                           else run.policy_sha256), eligible=before)})
        cand.eligible, cand.verdict_json = after, verdict.to_json()
        session.add(cand)
    append_event(session=session, kind="policy.reevaluated", actor=actor, subject=cand.id,
                 payload={"run_id": run.id, "policy_name": policy.name,
                          "policy_sha256": policy.sha256,
                          "previous_policy_sha256": run.policy_sha256,
                          "candidate_status": cand.status, "eligible_before": before,
                          "eligible_after": after,
                          "previous_verdict": old.as_dict() if old else {},
                          "verdict": verdict.as_dict()})
    if release is not None and release.status == "active" and not after:
        clauses = "; ".join(f"{v.clause}: {v.message}" for v in verdict.violations)
        release.status = "flagged"
        release.reason = (f"flagged for review: policy {policy.name!r} version "
                          f"{policy.sha256[:12]} no longer accepts this release ({clauses}); "
                          "it stays downloadable until an approver revokes it or clears it")
        session.add(release)
        append_event(session=session, kind="release.flagged", actor=actor, subject=release.id,
                     payload={"candidate_id": cand.id, "run_id": run.id,
                              "policy_sha256": policy.sha256,
                              "release_policy_sha256": release.policy_sha256,
                              "clauses": list(verdict.clauses), "reason": release.reason})
        action = "release_flagged"
    return CandidateChange(
        candidate_id=cand.id, run_id=run.id, previous_policy_sha256=run.policy_sha256,
        eligible_before=before, eligible_after=after, clauses=verdict.clauses,
        release_id=release.id if release else None,
        release_status=release.status if release else None, action=action)
