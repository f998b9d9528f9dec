"""The policy file format: pydantic models, frozen, with every unknown key refused.

A policy says how much privacy risk is tolerable, how much utility a release needs,
who must approve it and who may receive it. The field descriptions below are the
reference documentation of the format: they feed ``govern policy schema`` (the JSON
Schema), and the loader quotes their ranges in its error messages.

Numbers are validated strictly (a quoted ``"8"`` is text, not a number) so that a
policy means exactly what it says; ``inf``/``nan`` limits are refused, because an
infinite limit would silently switch a clause off.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

POLICY_FORMAT_VERSION: Literal[1] = 1
ROLES = ("requester", "approver", "auditor", "admin")
Role = Literal["requester", "approver", "auditor", "admin"]
ReleaseFormat = Literal["parquet", "csv"]
Aggregate = Literal["min", "median"]



class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(value: tuple[str, ...]) -> tuple[str, ...]:
    dupes = sorted({v for v in value if value.count(v) > 1})
    if dupes:
        raise ValueError(f"lists {', '.join(map(repr, dupes))} more than once; list each once")
    return value


class TprAtFpr(_Section):
    """A limit on the attack's true-positive rate at one low false-positive rate."""

    fpr: float = Field(
        gt=0, lt=1, strict=True, allow_inf_nan=False,
        description="False-positive rate at which the attack's TPR is read, in (0, 1).",
    )
    tpr: float = Field(
        ge=0, le=1, strict=True, allow_inf_nan=False,
        description="Largest tolerated true-positive rate at that FPR, in [0, 1].",
    )


class DisclosureLimits(_Section):
    """Upper limits on anonymeter-style disclosure risks; an absent limit is not checked."""

    singling_out: float | None = Field(
        None, ge=0, le=1, strict=True, allow_inf_nan=False,
        description="Largest singling-out risk, in [0, 1].")
    linkability: float | None = Field(
        None, ge=0, le=1, strict=True, allow_inf_nan=False,
        description="Largest linkability risk, in [0, 1].")
    inference: float | None = Field(
        None, ge=0, le=1, strict=True, allow_inf_nan=False,
        description="Largest attribute-inference risk, in [0, 1].")


class RiskPolicy(_Section):
    """Privacy limits every candidate must meet."""

    max_epsilon: float = Field(
        8.0, gt=0, strict=True, allow_inf_nan=False,
        description="Largest accountant-spent epsilon per candidate. Non-private candidates "
        "(epsilon = inf) always fail this clause.",
    )
    max_delta: float = Field(
        1e-5, ge=0, lt=1, strict=True, allow_inf_nan=False,
        description="Largest delta per candidate, in [0, 1). Runs train with "
        "min(max_delta, 1/(10 n)) for n training rows, and say so when max_delta is larger.")
    max_total_epsilon: float = Field(
        40.0, gt=0, validate_default=True, strict=True, allow_inf_nan=False,
        description="Privacy budget per source dataset across all runs (the ledger's limit); "
        "must be at least max_epsilon.",
    )
    max_attack_auc: float = Field(
        0.60, ge=0.5, le=1, strict=True, allow_inf_nan=False,
        description="Largest ROC AUC of the worst membership-inference attack, in [0.5, 1] "
        "(0.5 is random guessing).",
    )
    max_tpr_at_fpr: TprAtFpr | None = Field(
        None, description="Optional limit on the attack's TPR at a low FPR, e.g. "
        "{fpr: 0.01, tpr: 0.05}. A TPR that could not be estimated fails the clause.",
    )
    max_epsilon_lb_ratio: float = Field(
        1.0, ge=0, strict=True, allow_inf_nan=False,
        description="Largest empirical epsilon estimate / claimed epsilon. An estimate "
        "above the claim is a failed privacy audit and fails regardless of this ratio.",
    )
    max_disclosure_risk: DisclosureLimits | None = Field(
        None, description="Optional limits on singling-out, linkability and inference risk.")
    reproducible_noise: bool = Field(
        False, strict=True,
        description="Research sandboxes only. If true, runs under this policy seed DP "
        "generators' privacy noise from the logged candidate seed (bit-reproducible), and "
        "candidates whose noise is reproducible may pass. Such noise is not differentially "
        "private against anyone who can read the log, so every policy without this flag "
        "refuses those candidates (clause risk.reproducible_noise).",
    )
    audit_depth: Literal["standard", "shadow"] = Field(
        "standard", description="'standard' runs the cheap attacks; 'shadow' adds shadow-model "
        "membership inference (slower, stronger).",
    )

    @field_validator("max_total_epsilon")
    @classmethod
    def _budget_fits_one_candidate(cls, value: float, info: ValidationInfo) -> float:
        per_candidate = info.data.get("max_epsilon")
        if per_candidate is not None and value < per_candidate:
            raise ValueError(
                f"max_total_epsilon ({value:g}) is below max_epsilon ({per_candidate:g}), so no "
                "candidate at the limit could ever be charged; raise it or lower max_epsilon"
            )
        return value


class UtilityPolicy(_Section):
    """Utility a candidate must deliver on held-out real data.

    Every clause reads the real validation split (eval only reports), and every figure
    comes from a panel of model families that ``aggregate`` summarises.
    """

    min_utility_ratio: float = Field(
        0.80, ge=0, strict=True, allow_inf_nan=False,
        description="Smallest chance-corrected utility: (TSTR - chance) / (real-only control "
        "- chance) on the primary metric, i.e. the share of the control's margin over chance "
        "that training on the synthetic data keeps (the raw TSTR / control ratio is reported "
        "beside it, never gated). A candidate whose figure could not be measured fails, and "
        "one at or below chance fails whatever this limit says.",
    )
    aggregate: Aggregate = Field(
        "min", description="How the model panel's figures are summarised for every utility "
        "clause: 'min' (the worst model; for subgroup gaps the largest) or 'median'.",
    )
    min_lift: float | None = Field(
        None, strict=True, allow_inf_nan=False,
        description="Optional smallest lift of the augmented scenario (real + synthetic) over "
        "the real-only control.",
    )
    subgroups: tuple[str, ...] = Field(
        (), description="Columns whose per-group metric is checked against max_subgroup_gap.")
    max_subgroup_gap: float | None = Field(
        None, ge=0, strict=True, allow_inf_nan=False,
        description="Optional largest gap between the best and worst subgroup metric; needs "
        "subgroups.",
    )

    _unique_subgroups = field_validator("subgroups")(_unique)

    @field_validator("max_subgroup_gap")
    @classmethod
    def _gap_needs_subgroups(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("subgroups") == ():
            raise ValueError(
                "max_subgroup_gap is set but subgroups is empty; list the columns to check "
                "under utility.subgroups or remove max_subgroup_gap"
            )
        return value


class TaskSpec(_Section):
    """The default downstream task of runs under this policy."""

    target: str = Field(min_length=1, strict=True, description="Column the model predicts.")
    kind: Literal["classification", "regression"] = Field(
        description="Whether the target is a class label or a number.")
    metric: str | None = Field(
        None, min_length=1, strict=True,
        description="Primary metric name (higher is better); the task kind's default if absent.",
    )


class ApprovalPolicy(_Section):
    """Who must approve a candidate before it is released."""

    quorum: int = Field(2, ge=1, strict=True, description="Number of distinct approvers, >= 1.")
    roles: tuple[Role, ...] = Field(
        ("approver",), min_length=1, description="Roles whose keys may approve.")
    separation_of_duties: bool = Field(
        True, strict=True, description="If true, a run's requester cannot approve its candidates.")

    _unique_roles = field_validator("roles")(_unique)


class AccessPolicy(_Section):
    """Who may download an approved release, in which formats, for how long."""

    consumers: tuple[str, ...] = Field(
        ("*",), description="API key names allowed to download; '*' allows any requester. "
        "An empty list allows nobody.",
    )
    formats: tuple[ReleaseFormat, ...] = Field(
        ("parquet", "csv"), min_length=1, description="Formats a release is served in.")
    expires_after_days: int | None = Field(
        90, ge=1, strict=True,
        description="Days after approval a release stays downloadable; null never expires.",
    )

    _unique_consumers = field_validator("consumers")(_unique)
    _unique_formats = field_validator("formats")(_unique)

    def allows(self, consumer: str) -> bool:
        """Whether the API key named ``consumer`` may download under this policy."""
        return "*" in self.consumers or consumer in self.consumers


class Policy(_Section):
    """A governance policy: risk and utility limits, approvals and access."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Policy",
        json_schema_extra={"$comment": "synth-governance policy file format"},
    )

    version: Literal[1] = Field(
        POLICY_FORMAT_VERSION, description="Version of the policy file format; only 1 exists.")
    name: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", strict=True,
        description="Short identifier: letters, digits, '_', '.', '-'.",
    )
    description: str | None = Field(None, strict=True, description="What the policy is for.")
    risk: RiskPolicy = Field(default_factory=RiskPolicy, description="Privacy limits.")
    utility: UtilityPolicy = Field(
        default_factory=UtilityPolicy, description="Utility requirements.")
    task: TaskSpec | None = Field(None, description="Optional default task for runs.")
    approvals: ApprovalPolicy = Field(
        default_factory=ApprovalPolicy, description="Approval quorum and roles.")
    access: AccessPolicy = Field(default_factory=AccessPolicy, description="Download access.")
