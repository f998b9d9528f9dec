"""Downstream lift of a synthetic candidate over the real-only control.

The real splits never mix: the models train on real ``train`` and/or the synthetic
candidate, and are scored on real ``validation`` (what selection and the policy's gates
read) and real ``eval`` (what a report states, and nothing else). Every scenario is
scored by each model of the panel (``models.PANEL``). The controls (real train only)
and the scarce subset's models are fitted once per evaluator and reused for every
candidate; every model of a family shares its fixed hyperparameters and the seed.

Utility is measured above chance: next to the raw ratio TSTR / control, each model
gets ``(TSTR - chance) / (control - chance)`` with the chance level of the primary metric
on the scored labels (``DownstreamMetric.chance_rule`` says which).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from governance.core.errors import InputError
from governance.datasets.schema import Schema, conform
from governance.evaluation.domain import describe_violations, domain_violations
from governance.evaluation.downstream.base import DownstreamMetric
from governance.evaluation.downstream.metrics import (
    confusion_matrix,
    get_metric,
    metrics_for,
    per_class_precision_recall,
)
from governance.evaluation.lift.bootstrap import (
    Interval,
    PairedBootstrap,
    above_chance_replicates,
    ratio_replicates,
)
from governance.evaluation.lift.models import (
    PANEL,
    FeatureBuilder,
    Features,
    Prediction,
    category_codes,
    describe_panel,
    fit_predict,
)
from governance.evaluation.lift.results import (
    AGGREGATES,
    ControlScores,
    ModelScores,
    PanelSummary,
    ScenarioScore,
    SplitName,
    SplitScores,
    UtilityResult,
)
from governance.evaluation.lift.sampling import scarce_indices
from governance.evaluation.lift.subgroups import subgroup_scores, worst_gap
from governance.evaluation.lift.summary import build_summary
from governance.evaluation.task import TaskSpec

SCENARIOS: tuple[str, ...] = ("tstr", "augmented", "scarce", "scarce_augmented")
SPLITS: tuple[SplitName, ...] = ("validation", "eval")


@dataclass(frozen=True)
class _Scored:
    """One model's scores on one split, with the replicates the intervals need."""

    score: ScenarioScore
    values: dict[str, float]
    reps: dict[str, np.ndarray]


@dataclass(frozen=True)
class _Target:
    """A scored real split: its features, labels, plan, metrics and chance level."""

    name: SplitName
    x: Features
    y: np.ndarray
    plan: PairedBootstrap
    metrics: list[type[DownstreamMetric]]
    groups: dict[str, tuple[np.ndarray, list[Any]]]
    chance: float
    chance_reps: np.ndarray
    detail: bool


#: One scenario of one model: its score on each split.
_Fitted = dict[SplitName, _Scored]


class LiftEvaluator:
    """Score synthetic candidates by what they add to a panel of models on real data.

    Args:
        train: the real train split (the only rows the generators saw), conformed.
        validation: the real validation split: scores for selection and policy gates.
        eval: the real eval split: scores for the reported figures, nothing else.
        schema: the table schema with public domains.
        task: the downstream task (kind and metric are inferred when unset).
        seed: seed of the models, the scarce subset and the bootstrap plans.
        n_boot: paired bootstrap replicates for every interval.
        subgroups: categorical columns to break the primary metric down by.
        level: confidence level of the intervals.
        n_threads: cap on native threads per model fit (None: library default).
        models: the panel families (the services always score the whole ``PANEL``).
        aggregate: the rule (``min`` or ``median``) the result's ``selection`` and
            ``reported`` read; both rules are computed either way.

    Raises:
        DatasetError: if a split does not conform to the schema.
        UnknownColumnError: if the target or a subgroup column is not in the schema.
        InputError: if the task does not fit the schema, a scored split has fewer than
            two target classes (or a constant regression target), train cannot fit a
            control, a subgroup column is not categorical, or a model is unknown.

    >>> from tests.utils.data import mixed_table, MIXED_SCHEMA
    >>> ev = LiftEvaluator(train=mixed_table(400, seed=1), validation=mixed_table(300, seed=4),
    ...                    eval=mixed_table(300, seed=2), schema=MIXED_SCHEMA,
    ...                    task=TaskSpec(target="label"), n_boot=50)
    >>> result = ev.evaluate(mixed_table(400, seed=3))
    >>> result.selection.ratio_above_chance.value > 0.6, list(result.eval.models)
    (True, ['linear', 'random_forest', 'hgb'])
    """

    def __init__(
        self, *, train: pd.DataFrame, validation: pd.DataFrame, eval: pd.DataFrame,
        schema: Schema, task: TaskSpec, seed: int = 0, n_boot: int = 200,
        subgroups: Sequence[str] = (), level: float = 0.95, n_threads: int | None = 1,
        models: Sequence[str] = PANEL, aggregate: str = "min",
    ) -> None:
        self.task = task.resolve(schema)
        self.schema, self.seed, self.n_boot, self.n_threads = schema, seed, n_boot, n_threads
        self.models = tuple(dict.fromkeys(models))
        if not self.models:
            raise InputError("the model panel is empty; name at least one model family")
        if aggregate not in AGGREGATES:
            raise InputError(f"aggregate must be one of {', '.join(AGGREGATES)}, got "
                             f"{aggregate!r}")
        self.aggregate = aggregate
        self._panel = describe_panel(self.models, self.task.kind)  # checks the names
        self._builder = FeatureBuilder(schema, self.task)
        self._primary = get_metric(self.task.metric or "")
        train = conform(train, schema)
        self._x_train, self._y_train = self._builder.matrix(train), self._builder.target(train)
        self._check_target("train", self._y_train)
        self._k = len(self._builder.target_spec.categories or [])
        self._targets = {
            "validation": self._target("validation", validation, [self._primary], subgroups,
                                       level, detail=False),
            "eval": self._target("eval", eval, metrics_for(self.task.kind or ""), subgroups,
                                 level, detail=True),
        }
        self._scarce = scarce_indices(
            self._y_train, fraction=self.task.scarce_fraction,
            min_rows=self.task.min_scarce_rows, seed=seed,
            regression=self.task.kind == "regression",
        )
        self._cache: dict[tuple[str, str], _Fitted] = {}

    def _target(self, name: SplitName, frame: pd.DataFrame,
                metrics: list[type[DownstreamMetric]], subgroups: Sequence[str], level: float,
                *, detail: bool) -> _Target:
        frame = conform(frame, self.schema)
        y = self._builder.target(frame)
        self._check_target(name, y)
        groups: dict[str, tuple[np.ndarray, list[Any]]] = {}
        for col in subgroups:
            spec = self.schema.require(col)
            if spec.type != "categorical":
                raise InputError(f"subgroup column {col!r} is {spec.type}; subgroups must be "
                                 "categorical columns")
            groups[col] = (category_codes(frame[col], spec.categories or []),
                           list(spec.categories or []))
        plan = PairedBootstrap(len(frame), n_boot=self.n_boot, seed=self.seed, level=level)
        chance_parts = [self._primary.chance_weighted(y, w, n_classes=self._k)
                        for w in plan.weights()]
        return _Target(name=name, x=self._builder.matrix(frame), y=y, plan=plan,
                       metrics=metrics, groups=groups,
                       chance=self._primary.chance(y, n_classes=self._k),
                       chance_reps=np.concatenate(chance_parts), detail=detail)

    def _check_target(self, split: str, y: np.ndarray) -> None:
        target = self.task.target
        if self.task.kind == "regression":
            if split != "train" and np.ptp(y) == 0:
                raise InputError(f"the {split} split's target {target!r} is constant; R "
                                 "squared and lifts are undefined - use a larger or different "
                                 "split")
            return
        if len(np.unique(y)) < 2:
            raise InputError(
                f"the {split} split has a single class of target {target!r}; scoring needs "
                "at least two classes - use a larger or stratified split"
            )

    def control(self) -> ControlScores:
        """The real-only control of every panel model on both splits (fitted once, cached)."""
        fitted = {m: self._real(m, "control") for m in self.models}
        return ControlScores(
            metric=self._primary.key, chance_rule=self._primary.chance_rule or "",
            validation={m: f["validation"].score for m, f in fitted.items()},
            eval={m: f["eval"].score for m, f in fitted.items()},
            chance={name: t.chance for name, t in self._targets.items()})

    def prepare(self) -> LiftEvaluator:
        """Fit every real-only model (the controls and the scarce subset's) now; return self.

        They are otherwise fitted by the first ``control()`` or ``evaluate()`` call; all
        are cached and shared by every candidate of the run.
        """
        for m in self.models:
            self._real(m, "control")
            self._real(m, "scarce")
        return self

    def _real(self, model: str, name: str) -> _Fitted:
        if (model, name) not in self._cache:
            rows = np.arange(len(self._y_train)) if name == "control" else self._scarce
            pred = self._fit(model, self._x_train.rows(rows), self._y_train[rows],
                             strict=name == "control")
            self._cache[(model, name)] = self._score_all(name, pred)
        return self._cache[(model, name)]

    def _fit(self, model: str, x: Features, y: np.ndarray, *, strict: bool = False
             ) -> Prediction:
        return fit_predict(
            model=model, task=self.task, builder=self._builder, x_train=x.for_model(model),
            y_train=y, x_score=[self._targets[s].x.for_model(model) for s in SPLITS],
            seed=self.seed, n_threads=self.n_threads, strict=strict)

    def _score_all(self, name: str, pred: Prediction) -> _Fitted:
        return {s: self._score(name, pred, self._targets[s], values)
                for s, values in zip(SPLITS, pred.values, strict=True)}

    def _score(self, name: str, pred: Prediction, target: _Target, p: np.ndarray) -> _Scored:
        y = target.y
        values = {m.key: m.compute(y, p) for m in target.metrics}
        metrics = {k: (None if np.isnan(v) else v) for k, v in values.items()}
        reps = target.plan.replicates_all(target.metrics, y, p)
        labels = self._builder.target_spec.categories
        extra: dict[str, Any] = {}
        if labels is not None and target.detail:
            extra = {"per_class": per_class_precision_recall(y, p, labels),
                     "confusion": confusion_matrix(y, p, labels)}
        groups = {col: subgroup_scores(self._primary, y, p, codes, cats)
                  for col, (codes, cats) in target.groups.items()}
        score = ScenarioScore(name=name, metrics=metrics, primary=metrics[self._primary.key],
                              n_train=pred.n_train, error=pred.error, subgroups=groups,
                              n_dropped=pred.n_dropped, **extra)
        return _Scored(score, values, reps)

    def evaluate(self, synthetic: pd.DataFrame) -> UtilityResult:
        """Score one synthetic candidate in every scenario, with every model, on both splits.

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
        fitted: dict[str, dict[str, _Fitted]] = {}
        for m in self.models:
            fitted[m] = {
                "tstr": self._score_all("tstr", self._fit(m, x_syn, y_syn)),
                "augmented": self._score_all("augmented", self._fit(
                    m, self._x_train.stack(x_syn), np.concatenate([self._y_train, y_syn]))),
                "scarce": self._real(m, "scarce"),
                "scarce_augmented": self._score_all("scarce_augmented", self._fit(
                    m, self._x_train.rows(sc).stack(x_syn),
                    np.concatenate([self._y_train[sc], y_syn]))),
            }
        splits = {s: self._split_scores(self._targets[s], fitted) for s in SPLITS}
        issues = describe_violations(report)
        return UtilityResult(
            task=self.task, chance_rule=self._primary.chance_rule or "",
            aggregate=self.aggregate, validation=splits["validation"], eval=splits["eval"],
            n_boot=self.n_boot, seed=self.seed,
            models={m: {**info, "n_threads": self.n_threads} for m, info in self._panel.items()},
            candidate={"n_rows": len(synthetic), "issues": issues,
                       "violations": report["total_violations"],
                       "rows_with_violation": report["rows_with_violation"]},
            summary=build_summary(
                metric=self._primary.key, goal=self._primary.goal,
                level=self._targets["eval"].plan.level,
                scores=splits["eval"], selection=splits["validation"].panel[self.aggregate],
                aggregate=self.aggregate, chance_rule=self._primary.chance_rule or "",
                n_boot=self.n_boot, candidate_issues=issues),
        )

    def _split_scores(self, target: _Target, fitted: dict[str, dict[str, _Fitted]]
                      ) -> SplitScores:
        parts = {m: self._model_scores(m, target, f) for m, f in fitted.items()}
        models = {m: p[0] for m, p in parts.items()}
        panel = {rule: self._panel_summary(rule, target, parts) for rule in AGGREGATES}
        return SplitScores(split=target.name, n_rows=target.plan.n,
                           chance=_finite(target.chance), models=models, panel=panel)

    def _model_scores(self, model: str, target: _Target, fitted: dict[str, _Fitted]
                      ) -> tuple[ModelScores, dict[str, tuple[float | None, np.ndarray]]]:
        plan, key, goal, s = target.plan, self._primary.key, self._primary.goal, target.name
        control = self._real(model, "control")[s]
        scored = {name: f[s] for name, f in fitted.items()}
        lifts = {
            name: {m.key: plan.difference(sc.values[m.key], sc.reps[m.key],
                                          control.values[m.key], control.reps[m.key])
                   for m in target.metrics}
            for name, sc in scored.items()
        }
        tstr, aug = scored["tstr"], scored["augmented"]
        raw = ratio_replicates(goal, tstr.values[key], tstr.reps[key], control.values[key],
                               control.reps[key])
        above = above_chance_replicates(goal, tstr.values[key], tstr.reps[key],
                                        control.values[key], control.reps[key],
                                        target.chance, target.chance_reps)
        lift = (_finite(aug.values[key] - control.values[key]),
                aug.reps[key] - control.reps[key])
        gain = plan.difference(scored["scarce_augmented"].values[key],
                               scored["scarce_augmented"].reps[key],
                               scored["scarce"].values[key], scored["scarce"].reps[key])
        scores = ModelScores(model=model, control=control.score,
                             scenarios={n: sc.score for n, sc in scored.items()}, lifts=lifts,
                             ratio_raw=plan.interval(*raw),
                             ratio_above_chance=plan.interval(*above), scarce_gain=gain)
        return scores, {"ratio_raw": raw, "ratio_above_chance": above, "lift": lift}

    def _panel_summary(self, rule: str, target: _Target,
                       parts: dict[str, tuple[ModelScores, dict[str, Any]]]) -> PanelSummary:
        combine = _RULES[rule]
        figures: dict[str, Interval] = {}
        for name in ("ratio_raw", "ratio_above_chance", "lift"):
            points = [p[1][name][0] for p in parts.values()]
            reps = np.stack([p[1][name][1] for p in parts.values()])
            value = None if any(v is None for v in points) else combine(points)
            with np.errstate(invalid="ignore"):
                figures[name] = target.plan.interval(value, _combine_rows(rule, reps))
        gaps = [worst_gap(p[0].scenarios["tstr"]) for p in parts.values()]
        gap = None if any(g is None for g in gaps) or not gaps else (
            max(g for g in gaps if g is not None) if rule == "min"
            else statistics.median(g for g in gaps if g is not None))
        above = figures["ratio_above_chance"].value
        return PanelSummary(aggregate=rule, ratio_raw=figures["ratio_raw"],
                            ratio_above_chance=figures["ratio_above_chance"],
                            lift=figures["lift"], subgroup_gap=gap,
                            tstr_at_or_below_chance=None if above is None else above <= 0)


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


_RULES: dict[str, Callable[[list[Any]], float]] = {
    "min": lambda values: float(min(values)),
    "median": lambda values: float(statistics.median(values)),
}


def _combine_rows(rule: str, reps: np.ndarray) -> np.ndarray:
    """The rule across models, replicate by replicate (NaN when any model's is undefined)."""
    return reps.min(axis=0) if rule == "min" else np.median(reps, axis=0)

