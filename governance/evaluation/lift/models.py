"""The downstream model panel: three families, fixed small settings, the same for every scenario.

A verdict that hinges on one model family hinges on that family's taste: on one audit
table a copula's TSTR ROC AUC moved from 0.652 to 0.732 between gradient boosting and
logistic regression. Every scenario is therefore scored by a panel - a linear model
(logistic regression; ridge for a regression target), a random forest and histogram
gradient boosting - and the policy gates on the panel's worst model or its median.

Features come from the schema only. For ``hgb`` numeric columns pass through and
categorical columns become their position in the schema's public category list, fed to
HistGradientBoosting as native categorical features; the linear model and the random
forest use the shared :class:`PublicEncoder` (bounds-scaled numerics, one-hot over the
public categories). A value outside the domain becomes missing (``hgb``) or an all-zero
one-hot (the others); nothing is learnt from the private data beyond the model fit.

A scenario whose training rows cannot fit a model (no usable rows, a single target
class) or whose fit raises is scored as a constant predictor - the training prior, i.e.
chance - and its ``Prediction.error`` says why, so one bad candidate never stops a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from governance.core.errors import InputError
from governance.datasets.encoding import PublicEncoder
from governance.datasets.schema import Schema
from governance.evaluation.task import TaskSpec

#: The model families every scenario is scored with, in reporting order.
PANEL: tuple[str, ...] = ("linear", "random_forest", "hgb")

#: Settings per estimator, the same for the control and every candidate. HGB grows 50
#: trees of at most 15 leaves at learning rate 0.2, not sklearn's 100 trees of 31 leaves
#: at 0.1: on Adult (16,280 train rows, one thread) the real-only control's ROC AUC was
#: 0.9224 against 0.9223 and a fit took 0.24 s against 0.65 s. The random forest grows 30
#: trees with leaves of at least 5 rows (sklearn: 100 trees, leaves of 1): on Adult its
#: control ROC AUC was 0.911 against 0.898 at 0.5 s of CPU per fit against 2.7 s.
#: Logistic regression took 0.4 s. Evaluation has to stay cheap next to generation
#: (bench/bench_utility.py prints the cost per model).
HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "hgb": {"max_iter": 50, "learning_rate": 0.2, "max_leaf_nodes": 15,
            "min_samples_leaf": 20, "l2_regularization": 0.0, "early_stopping": False},
    "logistic": {"C": 1.0, "max_iter": 1000},
    "ridge": {"alpha": 1.0},
    "random_forest": {"n_estimators": 30, "min_samples_leaf": 5, "max_features": "sqrt",
                      "n_jobs": 1},
}
_HGB_MAX_CATEGORIES = 255  # HistGradientBoosting's native categorical limit (max_bins)


def estimator_of(model: str, kind: str | None) -> str:
    """The estimator a panel family uses for a task kind (``linear``: logistic or ridge).

    >>> estimator_of("linear", "regression"), estimator_of("linear", "binary")
    ('ridge', 'logistic')
    """
    if model not in PANEL:
        raise InputError(f"unknown model family {model!r}; the panel is {', '.join(PANEL)}")
    if model == "linear":
        return "ridge" if kind == "regression" else "logistic"
    return model


def describe_panel(models: Sequence[str], kind: str | None) -> dict[str, dict[str, Any]]:
    """Each family's estimator and settings, as the result records them."""
    return {m: {"estimator": estimator_of(m, kind),
                "hyperparameters": HYPERPARAMETERS[estimator_of(m, kind)]} for m in models}


@dataclass(frozen=True)
class Prediction:
    """Predictions of one fitted model on each scored split (``(n, K)`` or a vector)."""

    values: tuple[np.ndarray, ...]
    n_train: int
    error: str | None = None
    n_dropped: int = 0


@dataclass(frozen=True)
class Features:
    """One table's rows in both representations the panel needs."""

    native: np.ndarray
    encoded: np.ndarray

    def __len__(self) -> int:
        return len(self.native)

    def for_model(self, model: str) -> np.ndarray:
        """The matrix ``model`` is fitted on (native for ``hgb``, encoded otherwise)."""
        return self.native if model == "hgb" else self.encoded

    def rows(self, idx: np.ndarray) -> Features:
        """A subset of the rows."""
        return Features(self.native[idx], self.encoded[idx])

    def stack(self, other: Features) -> Features:
        """These rows followed by ``other``'s."""
        return Features(np.vstack([self.native, other.native]),
                        np.vstack([self.encoded, other.encoded]))


class FeatureBuilder:
    """Turn conformed (or candidate) frames into model matrices using the schema only."""

    def __init__(self, schema: Schema, task: TaskSpec) -> None:
        self.schema, self.task = schema, task
        self.features = [c for c in schema.names if c != task.target]
        self.target_spec = schema.require(task.target)
        sub = Schema(columns={c: schema.columns[c] for c in self.features})
        self._encoder = PublicEncoder(sub)
        self.categorical_mask = native_categorical_mask(schema, self.features)

    def matrix(self, frame: pd.DataFrame) -> Features:
        """Feature matrices of ``frame`` (float64; NaN marks missing in the native one)."""
        encoded = np.nan_to_num(self._encoder.encode(frame[self.features]).astype(float))
        return Features(native_features(frame, self.schema, self.features), encoded)

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """Class codes (-1 = unknown) or float values (NaN = unusable) of the target."""
        col = frame[self.task.target]
        if self.target_spec.type == "categorical":
            return category_codes(col, self.target_spec.categories or [])
        return pd.to_numeric(col, errors="coerce").to_numpy(float)


def native_features(frame: pd.DataFrame, schema: Schema, columns: list[str]) -> np.ndarray:
    """Numbers as given and categories as public-list positions; NaN for anything else."""
    cols = []
    for name in columns:
        spec = schema.columns[name]
        if spec.type == "categorical":
            codes = category_codes(frame[name], spec.categories or []).astype(float)
            codes[codes < 0] = np.nan
            cols.append(codes)
        else:
            col = frame[name]
            if isinstance(col.dtype, pd.CategoricalDtype):
                col = col.astype(object)
            cols.append(pd.to_numeric(col, errors="coerce").to_numpy(float))
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


def native_categorical_mask(schema: Schema, columns: list[str]) -> np.ndarray:
    """Which of ``columns`` HistGradientBoosting can treat as native categoricals."""
    return np.array(
        [schema.columns[c].type == "categorical"
         and len(schema.columns[c].categories or []) <= _HGB_MAX_CATEGORIES for c in columns],
        dtype=bool,
    )


def category_codes(col: pd.Series, categories: list[Any]) -> np.ndarray:
    """Positions of the values in the public category list; -1 for anything else."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    return np.asarray(pd.Categorical(col, categories=categories).codes, dtype=np.int64)


def _estimator(model: str, task: TaskSpec, mask: np.ndarray, seed: int) -> Any:
    # Deferred imports (below): scikit-learn is heavy; loaded when a model is fitted.
    name = estimator_of(model, task.kind)
    params = dict(HYPERPARAMETERS[name])
    regression = task.kind == "regression"
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier as HGBC
        from sklearn.ensemble import HistGradientBoostingRegressor as HGBR

        cats = mask if mask.any() else None
        return (HGBR if regression else HGBC)(**params, categorical_features=cats,
                                              random_state=seed)
    if name == "random_forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        return (RandomForestRegressor if regression else RandomForestClassifier)(
            **params, random_state=seed)
    if name == "ridge":
        from sklearn.linear_model import Ridge

        return Ridge(**params)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**params, random_state=seed)


def fit_predict(
    *, model: str, task: TaskSpec, builder: FeatureBuilder, x_train: np.ndarray,
    y_train: np.ndarray, x_score: Sequence[np.ndarray], seed: int,
    n_threads: int | None = 1, strict: bool = False,
) -> Prediction:
    """Fit one panel model on the usable training rows and predict every scored split.

    Args:
        model: the panel family (``linear``, ``random_forest`` or ``hgb``).
        task: the resolved task.
        builder: the feature builder (gives the categorical mask and the target domain).
        x_train: training features in the family's representation; rows whose target is
            unusable (unknown class, missing or non-numeric value) are dropped and
            counted in ``Prediction.n_dropped``.
        y_train: training target (codes with -1 for unknown, or floats with NaN).
        x_score: the features of each scored split (validation, eval), same representation.
        seed: ``random_state`` of the model.
        n_threads: cap on native threads while fitting (None leaves the library default).
        strict: raise instead of falling back to a constant predictor (for the control).
    """
    spec = builder.target_spec
    regression = task.kind == "regression"
    usable = np.isfinite(y_train) if regression else y_train >= 0
    x, y = x_train[usable], y_train[usable]
    dropped = int((~usable).sum())
    k = len(spec.categories or [])
    problem = None
    if len(y) == 0:
        problem = "no training row has a usable target"
    elif not regression and len(np.unique(y)) < 2:
        only = (spec.categories or [])[int(y[0])]
        problem = (f"the training target has a single class ({only!r}), so no classifier "
                   "can be trained")
    if problem is None:
        try:
            fitted = _estimator(model, task, builder.categorical_mask, seed)
            with threadpool_limits(limits=n_threads):
                fitted.fit(x, y)
                values = tuple(_predict(fitted, xs, regression, k) for xs in x_score)
            return Prediction(values, len(y), None, dropped)
        except Exception as exc:
            if strict:
                raise
            problem = f"the model fit failed ({type(exc).__name__}: {exc})"
    if strict:
        raise InputError(f"the real-only control ({model}) cannot be trained: {problem}")
    return Prediction(tuple(_constant(y, regression, spec, len(xs), k) for xs in x_score),
                      len(y), f"{problem}; scored as a constant predictor (chance)", dropped)


def _predict(fitted: Any, x: np.ndarray, regression: bool, k: int) -> np.ndarray:
    if regression:
        return np.asarray(fitted.predict(x), dtype=float)
    values = np.zeros((len(x), k))
    values[:, fitted.classes_.astype(int)] = fitted.predict_proba(x)
    return values


def _constant(y: np.ndarray, regression: bool, spec: Any, n: int, k: int) -> np.ndarray:
    if regression:
        centre = float(y.mean()) if len(y) else (float(spec.min) + float(spec.max)) / 2
        return np.full(n, centre)
    prior = np.bincount(y.astype(int), minlength=k) / len(y) if len(y) else np.full(k, 1 / k)
    return np.tile(prior, (n, 1))
