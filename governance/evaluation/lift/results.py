"""Immutable results of a lift evaluation (``Record`` models: one codec, typed read-back).

A result holds two real splits' scores. ``validation`` is what selection and the
policy's utility gates read; ``eval`` is touched once, for the figures a report states.
Each split holds every panel model's scores, and the panel's summaries under both
aggregation rules (``min``: the worst model; ``median``).

Ratios come in two forms, named so they cannot be confused:

* ``ratio_raw``: TSTR / control on the primary metric (control / TSTR for an error
  metric). It counts chance as utility and is reported, never gated.
* ``ratio_above_chance``: ``(TSTR - chance) / (control - chance)``, the share of the
  control's margin over chance that the synthetic data keeps; 0 is chance. This is the
  figure ``utility.min_utility_ratio`` applies to.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from governance.core.types import Record
from governance.evaluation.lift.bootstrap import Interval
from governance.evaluation.task import TaskSpec

SplitName = Literal["validation", "eval"]
AGGREGATES: tuple[str, ...] = ("min", "median")


class ScenarioScore(Record):
    """One downstream model trained on one scenario's rows and scored on one real split.

    Attributes:
        name: ``control``, ``tstr``, ``augmented``, ``scarce`` or ``scarce_augmented``.
        metrics: the scored metrics (every metric of the task kind on eval, the primary
            one on validation; None where undefined).
        primary: the task's primary metric.
        n_train: training rows the model used.
        n_dropped: training rows left out because their target was unusable.
        error: why the model could not be trained (it was then scored as a constant
            predictor, i.e. at chance); None when it trained normally.
        per_class: precision, recall and support per class (classification, eval).
        confusion: ``{"labels", "matrix"}`` with rows = true class (classification, eval).
        subgroups: per requested column, the primary metric per group and the max gap.
    """

    name: str
    metrics: dict[str, float | None]
    primary: float | None
    n_train: int
    error: str | None = None
    per_class: dict[str, Any] | None = None
    confusion: dict[str, Any] | None = None
    subgroups: dict[str, Any] = Field(default_factory=dict)
    n_dropped: int = 0


class ModelScores(Record):
    """One panel model's scores on one real split.

    Attributes:
        model: the panel family (``linear``, ``random_forest``, ``hgb``).
        control: the real-only control of this model (shared by every candidate).
        scenarios: ``tstr``, ``augmented``, ``scarce``, ``scarce_augmented``.
        lifts: per scenario, per scored metric, ``scenario - control`` with a paired
            bootstrap percentile interval (chance cancels out of a difference).
        ratio_raw: TSTR primary metric over the control's, with its interval.
        ratio_above_chance: ``(TSTR - chance) / (control - chance)``, with its interval.
        scarce_gain: ``scarce_augmented - scarce`` on the primary metric.
    """

    model: str
    control: ScenarioScore
    scenarios: dict[str, ScenarioScore]
    lifts: dict[str, dict[str, Interval]]
    ratio_raw: Interval
    ratio_above_chance: Interval
    scarce_gain: Interval


class PanelSummary(Record):
    """The panel's figures under one aggregation rule.

    Intervals come from the paired bootstrap: every model is scored on the same
    resamples, so the rule is applied replicate by replicate.

    Attributes:
        aggregate: ``min`` (the worst model) or ``median``.
        ratio_raw: the rule over the models' raw ratios.
        ratio_above_chance: the rule over the models' chance-corrected ratios.
        lift: the rule over the models' augmented-scenario lifts (primary metric).
        subgroup_gap: the largest TSTR subgroup gap (``min``) or the median model's.
        tstr_at_or_below_chance: whether ``ratio_above_chance`` is 0 or less.
    """

    aggregate: str
    ratio_raw: Interval
    ratio_above_chance: Interval
    lift: Interval
    subgroup_gap: float | None
    tstr_at_or_below_chance: bool | None


class SplitScores(Record):
    """Every panel model's scores on one real split, with the panel's summaries.

    Attributes:
        split: ``validation`` (selection and gates) or ``eval`` (reported figures).
        n_rows: real rows of the split every model was scored on.
        chance: the primary metric's chance level on this split's labels.
        models: the panel, by family, in panel order.
        panel: the panel's figures keyed by aggregation rule (``min``, ``median``).
    """

    split: SplitName
    n_rows: int
    chance: float | None
    models: dict[str, ModelScores]
    panel: dict[str, PanelSummary]


class ControlScores(Record):
    """The real-only control of every panel model on both scored splits.

    Attributes:
        metric: the task's primary metric.
        chance_rule: how the chance level is set for that metric.
        validation: the control per model on validation (primary metric only).
        eval: the control per model on eval (every metric).
        chance: the primary metric's chance level per split.
    """

    metric: str
    chance_rule: str
    validation: dict[str, ScenarioScore]
    eval: dict[str, ScenarioScore]
    chance: dict[str, float | None]


class UtilityResult(Record):
    """Downstream utility of one synthetic candidate against the real-only control.

    Attributes:
        task: the resolved task.
        chance_rule: how the primary metric's chance level is set.
        aggregate: the rule of the run's policy, which ``selection`` and ``reported``
            read (a policy re-evaluation reads ``panel`` under its own rule).
        validation: every model's scores on the validation split (selection, gates).
        eval: every model's scores on the eval split (the reported figures).
        n_boot: bootstrap replicates.
        seed: seed of the models, the scarce subset and the bootstrap plans.
        models: each panel family's estimator and fixed hyperparameters.
        candidate: rows of the synthetic candidate and problems found in it.
        summary: plain-language findings on the reported (eval) figures; negative or
            insignificant lifts are stated.
    """

    task: TaskSpec
    chance_rule: str
    aggregate: str
    validation: SplitScores
    eval: SplitScores
    n_boot: int
    seed: int
    models: dict[str, dict[str, Any]]
    candidate: dict[str, Any]
    summary: tuple[str, ...]

    @property
    def selection(self) -> PanelSummary:
        """The validation figures under the run's rule: what selects and gates."""
        return self.validation.panel[self.aggregate]

    @property
    def reported(self) -> PanelSummary:
        """The eval figures under the run's rule: what a report states."""
        return self.eval.panel[self.aggregate]
