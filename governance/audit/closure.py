"""The events that prove one release, candidate or run: its lineage closure.

A bundle carries only these events of the log, each with a Merkle inclusion proof
against a signed checkpoint. The closure of an object is read from the events
themselves, so the exporter and an offline verifier compute it the same way:

* the run's ``run.*`` events, its dataset's ``dataset.registered`` and its policy's
  ``policy.recorded`` (named by ``run.requested``);
* each candidate's ``candidate.*``, ``decision.recorded``, ``policy.reevaluated`` and
  ``access.*`` events, and the ``budget.charged`` events of its spend;
* each release made from those candidates (``release.*`` and ``access.*``).

A release's closure holds its one candidate; a candidate's, itself and its release; a
run's, every candidate of the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from governance.core.errors import IntegrityError
from governance.core.jsonsafe import canonical_json

RefKind = Literal["release", "candidate", "run"]
_FIELDS = ("seq", "created_at", "kind", "actor", "subject", "payload", "prev_hash", "hash")


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log as a bundle carries it (``payload`` as stored text)."""

    seq: int
    created_at: str
    kind: str
    actor: str
    subject: str
    payload: str
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: Any) -> LoggedEvent:
        """Copy a stored event (``AuditEvent`` or anything with its fields)."""
        return cls(**{name: getattr(row, name) for name in _FIELDS})

    @classmethod
    def from_doc(cls, doc: Any) -> LoggedEvent:
        """Read one ``events.jsonl`` object, checking its fields and their types.

        Raises:
            IntegrityError: missing, extra or mistyped fields.
        """
        if not isinstance(doc, dict) or sorted(doc) != sorted(_FIELDS):
            raise IntegrityError(f"an event must have exactly the fields {', '.join(_FIELDS)}")
        if type(doc["seq"]) is not int or not all(
                isinstance(doc[k], str) for k in _FIELDS if k != "seq"):
            raise IntegrityError("an event's seq must be an integer and its other fields text")
        return cls(**doc)

    @property
    def line(self) -> bytes:
        """The event's ``events.jsonl`` line: canonical JSON and a newline."""
        return canonical_json({name: getattr(self, name) for name in _FIELDS}) + b"\n"

    @cached_property
    def data(self) -> Any:
        """The payload's value."""
        return json.loads(self.payload)

    def field(self, name: str) -> Any:
        """A payload field (None when the payload is not an object or lacks it)."""
        return self.data.get(name) if isinstance(self.data, dict) else None


_CANDIDATE_KINDS = ("candidate.", "decision.recorded", "policy.reevaluated", "access.")
_RELEASE_KINDS = ("release.", "access.")


@dataclass(frozen=True)
class Closure:
    """The ids whose events prove ``ref``."""

    ref: str
    kind: RefKind
    run_id: str
    dataset_id: str
    policy_sha256: str
    candidate_ids: frozenset[str]
    release_ids: frozenset[str]

    @property
    def subjects(self) -> set[str]:
        """Every subject an event of the closure may have."""
        return {self.run_id, self.dataset_id, self.policy_sha256, *self.candidate_ids,
                *self.release_ids}

    def belongs(self, ev: LoggedEvent) -> bool:
        """Whether ``ev`` is one of the closure's events."""
        s, k = ev.subject, ev.kind
        if s == self.run_id:
            return k.startswith("run.")
        if s == self.dataset_id:
            return k == "dataset.registered" or (
                k == "budget.charged" and ev.field("candidate_id") in self.candidate_ids) or (
                k in ("budget.reserved", "budget.released") and ev.field("run_id") == self.run_id)
        if s == self.policy_sha256:
            return k == "policy.recorded"
        if s in self.candidate_ids:
            return k.startswith(_CANDIDATE_KINDS)
        if s in self.release_ids:
            return k.startswith(_RELEASE_KINDS)
        return False


def _first(events: Iterable[LoggedEvent], kind: str, subject: str) -> LoggedEvent | None:
    return next((e for e in events if e.kind == kind and e.subject == subject), None)


def _ref_kind(ref: str, events: Sequence[LoggedEvent]) -> tuple[RefKind, str]:
    """What ``ref`` is, and its run id, from the events that created it."""
    for ev in events:
        if ev.subject != ref:
            continue
        if ev.kind == "release.created":
            return "release", str(ev.field("run_id"))
        if ev.kind in ("candidate.generated", "candidate.failed"):
            return "candidate", str(ev.field("run_id"))
        if ev.kind == "run.requested":
            return "run", ref
    raise IntegrityError(f"no event records the creation of {ref!r} (release.created, "
                         "candidate.generated or run.requested)")


def closure_of(ref: str, events: Sequence[LoggedEvent]) -> Closure:
    """The closure of ``ref`` as ``events`` (a superset of it is fine) describe it.

    Raises:
        IntegrityError: ``ref`` or its run is not recorded in ``events``.
    """
    kind, run_id = _ref_kind(ref, events)
    requested = _first(events, "run.requested", run_id)
    if requested is None:
        raise IntegrityError(f"no run.requested event for run {run_id!r}")
    in_run = {e.subject for e in events if e.kind in ("candidate.generated", "candidate.failed")
              and e.field("run_id") == run_id}
    if kind == "release":
        created = _first(events, "release.created", ref)
        assert created is not None
        candidates = {str(created.field("candidate_id"))}
    else:
        candidates = in_run if kind == "run" else {ref}
    releases = {e.subject for e in events if e.kind == "release.created"
                and e.field("candidate_id") in candidates}
    return Closure(ref=ref, kind=kind, run_id=run_id,
                   dataset_id=str(requested.field("dataset_id")),
                   policy_sha256=str(requested.field("policy_sha256")),
                   candidate_ids=frozenset(candidates), release_ids=frozenset(releases))


def missing_events(closure: Closure, events: Sequence[LoggedEvent]) -> list[str]:
    """What the closure needs but ``events`` lack, and approvals that do not add up."""
    problems = []
    have = {(e.kind, e.subject) for e in events}
    for kind, subject in [("dataset.registered", closure.dataset_id),
                          ("policy.recorded", closure.policy_sha256),
                          ("run.requested", closure.run_id)]:
        if (kind, subject) not in have:
            problems.append(f"the {kind} event of {subject} is missing")
    for cid in sorted(closure.candidate_ids):
        if ("candidate.generated", cid) not in have and ("candidate.failed", cid) not in have:
            problems.append(f"the creation event of candidate {cid} is missing")
        decisions = [e for e in events if e.subject == cid and e.kind == "decision.recorded"]
        problems += _approvals(cid, decisions, released=any(
            e.kind == "release.created" and e.field("candidate_id") == cid for e in events))
    finished = _first(events, "run.finished", closure.run_id)
    if closure.kind == "run" and finished is not None:
        listed = finished.field("candidates") or []
        lost = sorted(set(map(str, listed)) - closure.candidate_ids)
        if lost:
            problems.append(f"run.finished lists candidates whose events are missing: {lost}")
    return problems


def _approvals(cid: str, decisions: Sequence[LoggedEvent], *, released: bool) -> list[str]:
    """Approvals count 1, 2, 3, ... in log order, and a release has its quorum of them."""
    approvals = [d for d in decisions if d.field("decision") == "approve"]
    counts = [d.field("approvals") for d in approvals]
    if counts != list(range(1, len(counts) + 1)):
        return [f"the approvals of candidate {cid} are counted {counts}: an approval event "
                "is missing or was added"]
    quorum = approvals[-1].field("quorum") if approvals else None
    if released and (not isinstance(quorum, int) or len(approvals) < quorum):
        return [f"candidate {cid} was released with {len(approvals)} approval(s) in the "
                f"bundle, short of its quorum ({quorum}): an approval event is missing"]
    return []


__all__ = ["Closure", "LoggedEvent", "RefKind", "closure_of", "missing_events"]
