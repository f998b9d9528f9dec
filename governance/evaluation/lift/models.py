"""The downstream models: one fixed family and hyperparameters for every scenario.

Features come from the schema only. For ``hgb`` numeric columns pass through and
categorical columns become their position in the schema's public category list, fed to
HistGradientBoosting as native categorical features; ``logistic`` and
``random_forest`` use the shared :class:`PublicEncoder` (bounds-scaled numerics,
one-hot over the public categories). A value outside the domain becomes missing
(``hgb``) or an all-zero one-hot (the others); nothing is learnt from the private data
beyond the model fit itself.

A scenario whose training rows cannot fit a model (no usable rows, a single target
class) or whose fit raises is scored as a constant predictor - the training prior, i.e.
chance - and its ``Prediction.error`` says why, so one bad candidate never stops a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from governance.core.errors import InputError
from governance.datasets.encoding import PublicEncoder
from governance.datasets.schema import Schema
from governance.evaluation.task import TaskSpec

#: The same family and settings score the control and every candidate. HGB grows 50 trees
#: of at most 15 leaves at learning rate 0.2, not sklearn's 100 trees of 31 leaves at 0.1:
#: on Adult (16,280 train rows, one thread) the real-only control's ROC AUC was 0.9224
#: against 0.9223, train-on-synthetic AUCs moved by at most 0.006 (gaussian_copula 0.813
#: against 0.807, dp_vae at epsilon 1 0.853 against 0.857), and a fit took 0.24 s against
#: 0.65 s. Evaluation has to stay cheap next to generation (bench/bench_utility.py).
HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "hgb": {"max_iter": 50, "learning_rate": 0.2, "max_leaf_nodes": 15,
            "min_samples_leaf": 20, "l2_regularization": 0.0, "early_stopping": False},
    "logistic": {"C": 1.0, "max_iter": 1000},
    "random_forest": {"n_estimators": 100, "min_samples_leaf": 1, "n_jobs": 1},
}
_HGB_MAX_CATEGORIES = 255  # HistGradientBoosting's native categorical limit (max_bins)


@dataclass(frozen=True)
class Prediction:
    """Predictions on the eval rows: ``(n, K)`` probabilities or a vector of numbers."""

    values: np.ndarray
    n_train: int
    error: str | None = None
    n_dropped: int = 0


class FeatureBuilder:
    """Turn conformed (or candidate) frames into model matrices using the schema only."""

    def __init__(self, schema: Schema, task: TaskSpec) -> None:
        self.schema, self.task = schema, task
        self.features = [c for c in schema.names if c != task.target]
        self.target_spec = schema.require(task.target)
        self.native = task.model == "hgb"
        if not self.native:
            sub = Schema(columns={c: schema.columns[c] for c in self.features})
            self._encoder = PublicEncoder(sub)
        self.categorical_mask = native_categorical_mask(schema, self.features)

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Feature matrix of ``frame`` (float64; NaN marks missing for ``hgb``)."""
        if not self.native:
            return np.nan_to_num(self._encoder.encode(frame[self.features]).astype(float))
        return native_features(frame, self.schema, self.features)

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


def _estimator(task: TaskSpec, mask: np.ndarray, seed: int) -> Any:
    # Deferred imports (below): scikit-learn is heavy; loaded when a model is fitted.
    params = dict(HYPERPARAMETERS[task.model])
    regression = task.kind == "regression"
    if task.model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier as HGBC
        from sklearn.ensemble import HistGradientBoostingRegressor as HGBR

        cats = mask if mask.any() else None
        return (HGBR if regression else HGBC)(**params, categorical_features=cats,
                                              random_state=seed)
    if task.model == "random_forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        return (RandomForestRegressor if regression else RandomForestClassifier)(
            **params, random_state=seed)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**params, random_state=seed)


def fit_predict(
    *, task: TaskSpec, builder: FeatureBuilder, x_train: np.ndarray, y_train: np.ndarray,
    x_eval: np.ndarray, seed: int, n_threads: int | None = 1, strict: bool = False,
) -> Prediction:
    """Fit the task's model on the usable training rows and predict the eval rows.

    Args:
        task: the resolved task.
        builder: the feature builder (gives the categorical mask and the target domain).
        x_train: training features; rows whose target is unusable (unknown class, missing
            or non-numeric value) are dropped and counted in ``Prediction.n_dropped``.
        y_train: training target (codes with -1 for unknown, or floats with NaN).
        x_eval: eval features.
        seed: ``random_state`` of the model.
        n_threads: cap on native threads while fitting (None leaves the library default).
        strict: raise instead of falling back to a constant predictor (for the control).
    """
    spec = builder.target_spec
    regression = task.kind == "regression"
    usable = np.isfinite(y_train) if regression else y_train >= 0
    x, y = x_train[usable], y_train[usable]
    dropped = int((~usable).sum())
    n_eval = len(x_eval)
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
            model = _estimator(task, builder.categorical_mask, seed)
            with threadpool_limits(limits=n_threads):
                model.fit(x, y)
                if regression:
                    values = model.predict(x_eval).astype(float)
                else:
                    values = np.zeros((n_eval, k))
                    values[:, model.classes_.astype(int)] = model.predict_proba(x_eval)
            return Prediction(values, len(y), None, dropped)
        except Exception as exc:
            if strict:
                raise
            problem = f"the model fit failed ({type(exc).__name__}: {exc})"
    if strict:
        raise InputError(f"the real-only control cannot be trained: {problem}")
    return Prediction(_constant(y, regression, spec, n_eval, k), len(y),
                      f"{problem}; scored as a constant predictor (chance)", dropped)


def _constant(y: np.ndarray, regression: bool, spec: Any, n: int, k: int) -> np.ndarray:
    if regression:
        centre = float(y.mean()) if len(y) else (float(spec.min) + float(spec.max)) / 2
        return np.full(n, centre)
    prior = np.bincount(y.astype(int), minlength=k) / len(y) if len(y) else np.full(k, 1 / k)
    return np.tile(prior, (n, 1))
