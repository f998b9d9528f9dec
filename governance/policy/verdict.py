"""The outcome of checking one candidate against a policy."""

from __future__ import annotations

from governance.core.errors import ConflictError
from governance.core.types import Record

Value = float | str | None


class PolicyViolation(Record):
    """One violated clause.

    Attributes:
        clause: dotted path of the policy field, e.g. ``"risk.max_attack_auc"``; the
            built-in clauses that no policy can switch off are ``risk.privacy_audit``
            and ``risk.preprocessing``.
        limit: the policy's limit.
        observed: the measured value, ``None`` when it could not be measured.
        message: what is wrong and why it matters.
        unverifiable: the clause failed because its fact is missing or its metric
            errored, not because a measured value broke the limit.
    """

    clause: str
    limit: Value
    observed: Value
    message: str
    unverifiable: bool = False


class Superseded(Record):
    """The verdict a re-evaluation under a newer policy version replaced."""

    policy_sha256: str
    eligible: bool


class Verdict(Record):
    """Every violated clause of a policy for one candidate.

    Attributes:
        eligible: ``True`` exactly when there are no violations.
        violations: every violated clause, in policy order.
        notes: things worth recording that are not violations.
        policy_sha256: hash of the policy file the verdict was reached under, if known.
        supersedes: the earlier verdict this one replaced (``services.reevaluate``).
    """

    eligible: bool
    violations: tuple[PolicyViolation, ...]
    notes: tuple[str, ...] = ()
    policy_sha256: str | None = None
    supersedes: Superseded | None = None

    @property
    def clauses(self) -> tuple[str, ...]:
        """The violated clauses' names."""
        return tuple(v.clause for v in self.violations)


class PolicyViolationError(ConflictError):
    """A candidate is not eligible under the policy (raised by ``decide(strict=True)``).

    Attributes:
        verdict: the full verdict, with every violation.
    """

    code = "policy_violation"

    def __init__(self, verdict: Verdict, *, candidate: str = "the candidate") -> None:
        lines = "; ".join(f"{v.clause}: {v.message}" for v in verdict.violations)
        super().__init__(
            f"{candidate} is not eligible under the policy ({len(verdict.violations)} "
            f"violation(s)): {lines}. Pick an eligible candidate or rerun with settings "
            "that meet these clauses."
        )
        self.verdict = verdict
