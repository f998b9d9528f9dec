"""What a candidate's run measured, as the policy decision reads it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from governance.core.errors import InputError

#: One figure per panel model (model name -> value), or one number for a single model.
PanelFigure = Mapping[str, float | None] | float | None

# Names that stand for several facts, so a whole failed stage can be reported at once.
FACT_GROUPS: dict[str, tuple[str, ...]] = {
    "privacy": ("epsilon_spent", "delta"),
    "attack": ("worst_attack_auc", "tpr_at_fpr", "epsilon_estimate", "disclosure"),
    "utility": ("ratio_above_chance", "lift", "subgroup_gap"),
}


@dataclass(frozen=True)
class MetricError:
    """A metric that failed instead of producing its fact.

    Attributes:
        fact: the ``CandidateFacts`` field the metric would have filled, e.g.
            ``"worst_attack_auc"``; ``"disclosure.linkability"`` names one disclosure
            risk and a ``FACT_GROUPS`` name (``"attack"``, ``"utility"``, ``"privacy"``)
            all of a stage's facts. Every clause reading that fact becomes
            unverifiable, hence violated; an error no clause reads becomes a note.
        message: the metric's error message.
    """

    fact: str
    message: str


@dataclass(frozen=True, kw_only=True)
class CandidateFacts:
    """The measured facts about one candidate that ``decide()`` checks.

    ``None`` (or NaN) means "not measured": every clause that needs a missing fact is
    a violation, never a pass.

    Attributes:
        generator: registered generator name.
        epsilon_spent: the accountant's epsilon; ``math.inf`` for non-private generators.
        delta: the delta of the guarantee.
        preprocessing_private: whether preprocessing used only the schema's public
            domain (or spent accounted budget); ``False`` voids a DP claim.
        reproducible_noise: whether the privacy noise was seeded from the logged seed
            (``True`` voids a DP claim against log readers), ``False`` when it came from
            fresh OS entropy; ``None`` when the record does not say (unverifiable).
        worst_attack_auc: the largest membership-attack ROC AUC across attacks.
        tpr_at_fpr: attack TPR keyed by FPR; a ``None`` value means too few samples.
        epsilon_estimate: empirical epsilon estimate from the privacy audit (Bonferroni
            over the attacks; an estimate, not a lower bound).
        failed_privacy_audit: whether the audit found ``epsilon_estimate > epsilon_spent``.
        disclosure: disclosure risks keyed ``singling_out``, ``linkability``, ``inference``.
        ratio_above_chance: chance-corrected utility on the validation split,
            ``(TSTR - chance) / (control - chance)`` of the primary metric, per panel model
            (a mapping from model name to figure; a plain number is a one-model panel).
        ratio_above_chance_ci: bootstrap interval of the panel's figure under the
            policy's ``utility.aggregate``.
        lift: augmented (real + synthetic) metric's lift over the control, per panel model.
        subgroup_gap: largest gap between subgroup metrics, per panel model.
        errors: metrics that failed. Besides ``MetricError``, dicts with ``fact`` and
            ``message`` (or ``error``) keys and strings ``"fact: message"`` are accepted
            and converted; a string without a known fact or group prefix is kept whole
            under the fact ``"unattributed"``.
    """

    generator: str
    epsilon_spent: float
    delta: float
    preprocessing_private: bool
    reproducible_noise: bool | None = None
    worst_attack_auc: float | None = None
    tpr_at_fpr: Mapping[float, float | None] | None = None
    epsilon_estimate: float | None = None
    failed_privacy_audit: bool = False
    disclosure: Mapping[str, float | None] | None = None
    ratio_above_chance: PanelFigure = None
    ratio_above_chance_ci: tuple[float | None, float | None] | None = None
    lift: PanelFigure = None
    subgroup_gap: PanelFigure = None
    errors: Sequence[MetricError | Mapping[str, Any] | str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "errors", tuple(_as_error(e) for e in self.errors))

    @property
    def is_private(self) -> bool:
        """Whether the candidate claims a finite epsilon."""
        eps = self.epsilon_spent
        return isinstance(eps, int | float) and not isinstance(eps, bool) and math.isfinite(eps)

    def errors_for(self, fact: str) -> list[str]:
        """Messages of failed metrics that feed ``fact`` (or a part or whole of it)."""
        return [e.message for e in self.metric_errors if related_facts(e.fact, fact)]

    @property
    def metric_errors(self) -> tuple[MetricError, ...]:
        """``errors``, each converted to a ``MetricError``."""
        return tuple(e for e in self.errors if isinstance(e, MetricError))


def related_facts(a: str, b: str) -> bool:
    """Whether two fact names overlap: equal, one a dotted part of the other, or grouped.

    >>> related_facts("disclosure", "disclosure.inference"), related_facts("attack", "lift")
    (True, False)
    """
    for x in FACT_GROUPS.get(a, (a,)):
        for y in FACT_GROUPS.get(b, (b,)):
            if x == y or x.startswith(y + ".") or y.startswith(x + "."):
                return True
    return False


def _known(fact: str) -> bool:
    names = {f.name for f in fields(CandidateFacts)} | set(FACT_GROUPS)
    return fact.split(".", 1)[0] in names


def _as_error(item: MetricError | Mapping[str, Any] | str) -> MetricError:
    if isinstance(item, MetricError):
        return item
    if isinstance(item, str):
        fact, sep, message = item.partition(":")
        if sep and _known(fact.strip()):
            return MetricError(fact=fact.strip(), message=message.strip())
        return MetricError(fact="unattributed", message=item)
    if isinstance(item, Mapping) and "fact" in item:
        message = item.get("message", item.get("error"))
        if message is not None:
            return MetricError(fact=str(item["fact"]), message=str(message))
    raise InputError(
        f"metric error {item!r} is not a MetricError, a 'fact: message' string or a mapping "
        "with 'fact' and 'message' keys; build it as MetricError(fact=..., message=...)"
    )
