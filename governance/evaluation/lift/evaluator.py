"""Downstream lift of a synthetic candidate over the real-only control.

Three real splits never mix: the models train on real ``train`` and/or the synthetic
candidate and are scored on real ``eval`` only. The control (real train -> eval) and the
scarce subset's model are fitted once per evaluator and reused for every candidate; all
models share one family, fixed hyperparameters and the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from governance.core.errors import InputError
from governance.datasets.schema import Schema, conform
from governance.evaluation.domain import describe_violations, domain_violations
from governance.evaluation.downstream.metrics import (
    confusion_matrix,
    get_metric,
    metrics_for,
    per_class_precision_recall,
)
from governance.evaluation.lift.bootstrap import Interval, PairedBootstrap
from governance.evaluation.lift.models import (
    HYPERPARAMETERS,
    FeatureBuilder,
    Prediction,
    category_codes,
    fit_predict,
)
from governance.evaluation.lift.results import ScenarioScore, UtilityResult
from governance.evaluation.lift.sampling import scarce_indices
from governance.evaluation.lift.subgroups import subgroup_scores
from governance.evaluation.lift.summary import build_summary
from governance.evaluation.task import TaskSpec

SCENARIOS: tuple[str, ...] = ("tstr", "augmented", "scarce", "scarce_augmented")
_Scored = tuple[ScenarioScore, dict[str, float], dict[str, np.ndarray]]


class LiftEvaluator:
    """Score synthetic candidates by what they add to a downstream model on real eval.

    Args:
        train: the real train split (the only rows the generators saw), conformed.
        eval: the real eval split, used for scoring only, conformed.
        schema: the table schema with public domains.
        task: the downstream task (kind and metric are inferred when unset).
        seed: seed of the models, the scarce subset and the bootstrap plan.
        n_boot: paired bootstrap replicates for every interval.
        subgroups: categorical columns to break the primary metric down by.
        level: confidence level of the intervals.
        n_threads: cap on native threads per model fit (None: library default).

    Raises:
        DatasetError: if a split does not conform to the schema.
        UnknownColumnError: if the target or a subgroup column is not in the schema.
        InputError: if the task does not fit the schema, eval has fewer than two target
            classes (or a constant regression target), train cannot fit the control, or
            a subgroup column is not categorical.

    >>> from tests.utils.data import mixed_table, MIXED_SCHEMA
    >>> ev = LiftEvaluator(train=mixed_table(400, seed=1), eval=mixed_table(300, seed=2),
    ...                    schema=MIXED_SCHEMA, task=TaskSpec(target="label"), n_boot=50)
    >>> ev.evaluate(mixed_table(400, seed=3)).utility_ratio.value > 0.8
    True
    """

    def __init__(
        self, *, train: pd.DataFrame, eval: pd.DataFrame, schema: Schema, task: TaskSpec,
        seed: int = 0, n_boot: int = 200, subgroups: Sequence[str] = (),
        level: float = 0.95, n_threads: int | None = 1,
    ) -> None:
        self.task = task.resolve(schema)
        self.schema, self.seed, self.n_boot, self.n_threads = schema, seed, n_boot, n_threads
        train, eval = conform(train, schema), conform(eval, schema)
        self._builder = FeatureBuilder(schema, self.task)
        self._x_train, self._y_train = self._builder.matrix(train), self._builder.target(train)
        self._x_eval, self._y_eval = self._builder.matrix(eval), self._builder.target(eval)
        self._check_target()
        self._metrics = metrics_for(self.task.kind or "")
        self._primary = get_metric(self.task.metric or "")
        self._plan = PairedBootstrap(len(eval), n_boot=n_boot, seed=seed, level=level)
        self._scarce = scarce_indices(
            self._y_train, fraction=self.task.scarce_fraction,
            min_rows=self.task.min_scarce_rows, seed=seed,
            regression=self.task.kind == "regression",
        )
        self._groups: dict[str, tuple[np.ndarray, list[Any]]] = {}
        for col in subgroups:
            spec = schema.require(col)
            if spec.type != "categorical":
                raise InputError(f"subgroup column {col!r} is {spec.type}; subgroups must be "
                                 "categorical columns")
            self._groups[col] = (category_codes(eval[col], spec.categories or []),
                                 list(spec.categories or []))
        self._cache: dict[str, _Scored] = {}

    def _check_target(self) -> None:
        target = self.task.target
        if self.task.kind == "regression":
            if np.ptp(self._y_eval) == 0:
                raise InputError(f"the eval split's target {target!r} is constant; R squared "
                                 "and lifts are undefined - use a larger or different split")
            return
        for split, y in (("eval", self._y_eval), ("train", self._y_train)):
            if len(np.unique(y)) < 2:
                raise InputError(
                    f"the {split} split has a single class of target {target!r}; scoring needs "
                    "at least two classes - use a larger or stratified split"
                )

    def control(self) -> ScenarioScore:
        """The real-only control (real train -> eval), fitted once and cached."""
        return self._real("control")[0]

    def prepare(self) -> LiftEvaluator:
        """Fit both real-only models (the control and the scarce subset's) now; return self.

        They are otherwise fitted by the first ``control()`` or ``evaluate()`` call; both
        are cached and shared by every candidate of the run.
        """
        self._real("control")
        self._real("scarce")
        return self

    def _real(self, name: str) -> _Scored:
        if name not in self._cache:
            rows = slice(None) if name == "control" else self._scarce
            pred = self._fit(self._x_train[rows], self._y_train[rows], strict=name == "control")
            self._cache[name] = self._score(name, pred)
        return self._cache[name]

    def _fit(self, x: np.ndarray, y: np.ndarray, *, strict: bool = False) -> Prediction:
        return fit_predict(task=self.task, builder=self._builder, x_train=x, y_train=y,
                           x_eval=self._x_eval, seed=self.seed, n_threads=self.n_threads,
                           strict=strict)

    def _score(self, name: str, pred: Prediction) -> _Scored:
        y, p = self._y_eval, pred.values
        values = {m.key: m.compute(y, p) for m in self._metrics}
        metrics = {k: (None if np.isnan(v) else v) for k, v in values.items()}
        reps = self._plan.replicates_all(self._metrics, y, p)
        labels = self._builder.target_spec.categories
        extra: dict[str, Any] = {}
        if labels is not None:
            extra = {"per_class": per_class_precision_recall(y, p, labels),
                     "confusion": confusion_matrix(y, p, labels)}
        groups = {col: subgroup_scores(self._primary, y, p, codes, cats)
                  for col, (codes, cats) in self._groups.items()}
        score = ScenarioScore(name=name, metrics=metrics, primary=metrics[self._primary.key],
                              n_train=pred.n_train, error=pred.error, subgroups=groups,
                              n_dropped=pred.n_dropped, **extra)
        return score, values, reps

    def evaluate(self, synthetic: pd.DataFrame) -> UtilityResult:
        """Score one synthetic candidate in every scenario against the control.

        Raises:
            InputError: if ``synthetic`` is not a DataFrame. Problems inside it (values
                outside the domain, a single target class) are recorded, not raised.
        """
        if not isinstance(synthetic, pd.DataFrame):
            raise InputError(f"the candidate must be a pandas DataFrame, got "
                             f"{type(synthetic).__name__}")
        report = domain_violations(synthetic, self.schema)
        frame = synthetic.reindex(columns=self.schema.names)
        x_syn, y_syn = self._builder.matrix(frame), self._builder.target(frame)
        sc = self._scarce
        scored: dict[str, _Scored] = {
            "tstr": self._score("tstr", self._fit(x_syn, y_syn)),
            "augmented": self._score("augmented", self._fit(
                np.vstack([self._x_train, x_syn]), np.concatenate([self._y_train, y_syn]))),
            "scarce": self._real("scarce"),
            "scarce_augmented": self._score("scarce_augmented", self._fit(
                np.vstack([self._x_train[sc], x_syn]),
                np.concatenate([self._y_train[sc], y_syn]))),
        }
        return self._result(scored, report, len(synthetic))

    def _result(
        self, scored: dict[str, _Scored], report: dict[str, Any], n_rows: int
    ) -> UtilityResult:
        control = self._real("control")
        plan, key = self._plan, self._primary.key
        lifts = {
            name: {m.key: plan.difference(s[1][m.key], s[2][m.key],
                                          control[1][m.key], control[2][m.key])
                   for m in self._metrics}
            for name, s in scored.items()
        }
        tstr, s_aug, scarce = scored["tstr"], scored["scarce_augmented"], scored["scarce"]
        ratio = plan.ratio(self._primary.goal, tstr[1][key], tstr[2][key],
                           control[1][key], control[2][key])
        gain = plan.difference(s_aug[1][key], s_aug[2][key], scarce[1][key], scarce[2][key])
        scenarios = {name: s[0] for name, s in scored.items()}
        issues = describe_violations(report)
        summary = build_summary(
            metric=key, goal=self._primary.goal, level=plan.level, control=control[0],
            scenarios=scenarios, lifts=lifts, ratio=ratio, scarce_gain=gain,
            n_eval=plan.n, n_boot=self.n_boot, candidate_issues=issues,
        ) + tuple(_undefined_notes(lifts, ratio, self.n_boot))
        return UtilityResult(
            task=self.task, control=control[0], scenarios=scenarios, lifts=lifts,
            utility_ratio=ratio, scarce_gain=gain, n_eval=plan.n, n_boot=self.n_boot,
            seed=self.seed,
            model={"name": self.task.model, "hyperparameters": HYPERPARAMETERS[self.task.model],
                   "n_threads": self.n_threads},
            candidate={"n_rows": n_rows, "issues": issues,
                       "violations": report["total_violations"],
                       "rows_with_violation": report["rows_with_violation"]},
            summary=summary,
        )


def _undefined_notes(
    lifts: dict[str, dict[str, Interval]], ratio: Interval, n_boot: int
) -> list[str]:
    notes = []
    for name, per_metric in lifts.items():
        for metric, iv in per_metric.items():
            if iv.value is not None and 0 < n_boot - iv.n_valid:
                notes.append(f"{name} {metric}: {n_boot - iv.n_valid} of {n_boot} bootstrap "
                             "replicates were undefined and left out of the interval")
    if ratio.value is not None and 0 < n_boot - ratio.n_valid:
        notes.append(f"utility ratio: {n_boot - ratio.n_valid} of {n_boot} bootstrap "
                     "replicates were undefined and left out of the interval")
    return notes
