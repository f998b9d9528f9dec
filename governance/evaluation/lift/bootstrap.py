"""Paired bootstrap over eval rows, with percentile intervals.

One seeded resampling plan is drawn per run and replayed for every set of
predictions (the control's and each candidate's), so the replicate differences
estimate the sampling distribution of the *difference* of the metric on the same
resampled eval rows, not of two independent metrics.

Notes:
    Nonparametric bootstrap with the percentile interval (Efron & Tibshirani 1993,
    ch. 13); pairing the resamples across systems as in Koehn (2004). Each replicate is
    a vector of multinomial resampling counts over the n eval rows, used as frequency
    weights (see ``base.DownstreamMetric``). Replicates where a metric is undefined
    (e.g. ROC AUC on a resample without positives) are dropped and counted in
    ``Interval.n_valid``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from pydantic import Field

from governance.core.errors import InputError
from governance.core.types import Record
from governance.evaluation.downstream.base import DownstreamMetric, Goal


class Interval(Record):
    """A point estimate with a bootstrap percentile interval (None where undefined)."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n_valid: int = Field(default=0, exclude=True)

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies inside the closed interval (False when undefined)."""
        if self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low <= x <= self.ci_high


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def percentile_interval(
    estimate: float, replicates: np.ndarray, *, level: float = 0.95
) -> Interval:
    """Percentile interval of the finite replicates around a full-sample estimate."""
    finite = replicates[np.isfinite(replicates)]
    if len(finite) == 0:
        return Interval(value=_finite(estimate), ci_low=None, ci_high=None, n_valid=0)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
    return Interval(value=_finite(estimate), ci_low=float(lo), ci_high=float(hi),
                    n_valid=int(len(finite)))


class PairedBootstrap:
    """A seeded plan of ``n_boot`` resamples of ``n`` eval rows.

    Args:
        n: number of eval rows.
        n_boot: number of bootstrap replicates.
        seed: seed of the plan; the same seed gives the same resamples.
        level: confidence level of the intervals.
        max_cells: weights are materialised in chunks of at most this many cells.

    >>> plan = PairedBootstrap(4, n_boot=10, seed=0)
    >>> sorted({int(w.sum()) for chunk in plan.weights() for w in chunk})
    [4]
    """

    def __init__(
        self, n: int, *, n_boot: int, seed: int, level: float = 0.95,
        max_cells: int = 4_000_000,
    ) -> None:
        if n < 1:
            raise InputError("the bootstrap needs at least one eval row")
        if n_boot < 10:
            raise InputError(f"n_boot must be at least 10 for a percentile interval, got {n_boot}")
        if not 0.5 < level < 1.0:
            raise InputError(f"level must lie between 0.5 and 1, got {level}")
        self.n, self.n_boot, self.seed, self.level = n, n_boot, seed, level
        self._chunk = max(1, min(n_boot, max_cells // n))
        self._cached: np.ndarray | None = None

    def weights(self) -> Iterator[np.ndarray]:
        """Yield the resampling counts in chunks of shape ``(m, n)``, identically each time.

        A plan that fits in one chunk keeps it after the first pass instead of redrawing.
        """
        if self._cached is not None:
            yield self._cached
            return
        for i, start in enumerate(range(0, self.n_boot, self._chunk)):
            m = min(self._chunk, self.n_boot - start)
            rng = np.random.default_rng([self.seed, i])
            idx = rng.integers(0, self.n, size=(m, self.n))
            flat = (idx + self.n * np.arange(m)[:, None]).ravel()
            chunk = np.bincount(flat, minlength=m * self.n).reshape(m, self.n).astype(float)
            if m == self.n_boot:
                self._cached = chunk
            yield chunk

    def replicates(
        self, metric: type[DownstreamMetric], y_true: np.ndarray, y_pred: np.ndarray
    ) -> np.ndarray:
        """The metric on every resample (length ``n_boot``)."""
        return self.replicates_all([metric], y_true, y_pred)[metric.key]

    def replicates_all(
        self, metrics: Sequence[type[DownstreamMetric]], y_true: np.ndarray, y_pred: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Every metric on every resample, in one pass over the plan."""
        parts: dict[str, list[np.ndarray]] = {m.key: [] for m in metrics}
        for w in self.weights():
            for m in metrics:
                parts[m.key].append(m.compute_weighted(y_true, y_pred, w))
        return {k: np.concatenate(v) for k, v in parts.items()}

    def difference(
        self, value_a: float, reps_a: np.ndarray, value_b: float, reps_b: np.ndarray
    ) -> Interval:
        """Interval of ``a - b`` from paired replicates."""
        return percentile_interval(value_a - value_b, reps_a - reps_b, level=self.level)

    def interval(self, value: float | None, reps: np.ndarray) -> Interval:
        """The percentile interval of replicates around ``value`` (undefined when None)."""
        if value is None or not np.isfinite(value):
            return Interval(value=None, ci_low=None, ci_high=None, n_valid=0)
        return percentile_interval(value, reps, level=self.level)

    def ratio(
        self, goal: Goal, value_cand: float, reps_cand: np.ndarray,
        value_ctrl: float, reps_ctrl: np.ndarray,
    ) -> Interval:
        """Share of the control's raw performance a candidate keeps, with its interval.

        The raw ratio counts chance as utility (a coin's ROC AUC of 0.5 against a control
        of 0.675 keeps 0.74 of it); gates read ``ratio_above_chance`` instead.

        For a metric to maximise this is ``candidate / control``; for one to minimise
        (an error) it is ``control / candidate``, so that 1 means parity and below 1
        means worse in both cases. Undefined (None) when the denominator is not positive.
        """
        return self.interval(*ratio_replicates(goal, value_cand, reps_cand, value_ctrl,
                                               reps_ctrl))

    def ratio_above_chance(
        self, goal: Goal, value_cand: float, reps_cand: np.ndarray,
        value_ctrl: float, reps_ctrl: np.ndarray, chance: float, reps_chance: np.ndarray,
    ) -> Interval:
        """Share of the control's margin over chance that a candidate keeps, with its interval.

        ``(candidate - chance) / (control - chance)`` for either goal (the signs flip
        together for an error metric): 1 is parity with the control, 0 is chance and
        below 0 is worse than chance. Each replicate uses its own chance level, read from
        the same resampled labels. Undefined (None) when the control does not beat chance.

        >>> import numpy as np
        >>> plan = PairedBootstrap(4, n_boot=10, seed=0)
        >>> one = np.ones(10)
        >>> round(plan.ratio_above_chance(Goal.MAXIMIZE, 0.498, 0.498 * one, 0.675,
        ...                               0.675 * one, 0.5, 0.5 * one).value, 4)
        -0.0114
        """
        return self.interval(*above_chance_replicates(
            goal, value_cand, reps_cand, value_ctrl, reps_ctrl, chance, reps_chance))


def _quotient(num: float, den: float, rnum: np.ndarray, rden: np.ndarray
              ) -> tuple[float | None, np.ndarray]:
    if not (np.isfinite(den) and den > 0 and np.isfinite(num)):
        return None, np.full(len(rnum), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        reps = np.where(rden > 0, rnum / rden, np.nan)
    return num / den, reps


def ratio_replicates(
    goal: Goal, value_cand: float, reps_cand: np.ndarray, value_ctrl: float,
    reps_ctrl: np.ndarray,
) -> tuple[float | None, np.ndarray]:
    """The raw ratio (see ``PairedBootstrap.ratio``) and its replicates (NaN: undefined)."""
    if goal is Goal.MAXIMIZE:
        return _quotient(value_cand, value_ctrl, reps_cand, reps_ctrl)
    return _quotient(value_ctrl, value_cand, reps_ctrl, reps_cand)


def above_chance_replicates(
    goal: Goal, value_cand: float, reps_cand: np.ndarray, value_ctrl: float,
    reps_ctrl: np.ndarray, chance: float, reps_chance: np.ndarray,
) -> tuple[float | None, np.ndarray]:
    """The chance-corrected ratio (``PairedBootstrap.ratio_above_chance``) and its replicates."""
    sign = 1.0 if goal is Goal.MAXIMIZE else -1.0
    return _quotient(sign * (value_cand - chance), sign * (value_ctrl - chance),
                     sign * (reps_cand - reps_chance), sign * (reps_ctrl - reps_chance))
