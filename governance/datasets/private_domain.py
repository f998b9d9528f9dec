"""Learn column domains privately: DP quantiles for bounds, noisy counts for categories.

A DP candidate whose schema has no public domain for a column (a schema drafted from
the data, or public bounds far wider than the data) can spend a declared share of its
budget to learn one. Neighbouring tables differ by adding or removing one row, the
relation Opacus's Poisson DP-SGD accountant uses, so the spends compose by basic
composition with the training spend.

* Numeric and integer columns: the lower and upper bound are the ``q_low`` and
  ``q_high`` quantiles, each chosen by the exponential mechanism over a finite *public*
  candidate grid. The grid is ``GRID_SIZE`` evenly spaced points over the schema's
  bounds when the schema is public, and otherwise the stated wide default
  ``WIDE_GRID``: zero and ``±10**k`` for ``k`` from -2 to 9 in steps of 1/50 (never the
  data-derived min/max). Integer columns use the rounded, deduplicated grid.
* Categorical columns: a Laplace(1/epsilon) count per category, kept when the noisy
  count reaches ``threshold(epsilon, delta)``. With a public schema the candidates are
  the public list (zero counts included; pure epsilon-DP, no delta). With a
  data-derived schema the universe is unknown, so only observed values get a count:
  the stability-based histogram, (epsilon, delta)-DP.

The budget is split evenly across the columns learned (half of a numeric column's
share to each bound) and the delta evenly across the unknown-universe categorical
columns. ``DomainSpend`` records exactly those figures.

>>> import numpy as np, pandas as pd
>>> from governance.datasets.schema import Schema
>>> s = Schema.model_validate({"columns": {"x": {"type": "numeric", "min": 0, "max": 100}}})
>>> x = pd.DataFrame({"x": [v / 4 for v in range(200)]})  # 0 .. 49.75
>>> learned, spend = learn_domain(x, s, epsilon=40.0, delta=0.0, rng=np.random.default_rng())
>>> 0 <= learned.columns["x"].min < 2 and 47 < learned.columns["x"].max <= 50, spend.epsilon
(True, 40.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from governance.core.errors import InputError
from governance.datasets.schema import Category, ColumnSpec, Schema, conform

GRID_SIZE = 1025
_DECADES = 10.0 ** np.arange(-2.0, 9.0 + 1e-9, 1 / 50)
WIDE_GRID = np.unique(np.concatenate([-_DECADES, [0.0], _DECADES]))
WIDE_RANGE_TEXT = "wide default grid 0, ±1e-2..±1e9 (50 points per decade)"
QUANTILES = (0.01, 0.99)
PRIVATE_LABEL = "private (DP quantiles / noisy counts)"


@dataclass(frozen=True)
class ColumnSpend:
    """What learning one column's domain spent, and how.

    ``replacement`` is, for a categorical column, the kept category with the largest
    noisy count: rows of dropped categories are mapped to it before training.
    """

    epsilon: float
    delta: float
    method: str
    candidates: str
    replacement: Category | None = None


@dataclass(frozen=True)
class DomainSpend:
    """The total (basic composition) and per-column spend of ``learn_domain``."""

    epsilon: float
    delta: float
    per_column: dict[str, ColumnSpend]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def quantile_candidates(spec: ColumnSpec, *, public: bool) -> np.ndarray:
    """The public candidate grid for a numeric or integer column's quantiles."""
    if public:
        assert spec.min is not None and spec.max is not None
        grid = np.linspace(spec.min, spec.max, GRID_SIZE)
    else:
        grid = WIDE_GRID
    return np.unique(np.round(grid)) if spec.type == "integer" else grid


def quantile_utility(values: np.ndarray, candidates: np.ndarray, q: float) -> np.ndarray:
    """Utility ``-dist(q n, [#{x < c}, #{x <= c}])`` of each candidate ``c``.

    On continuous data the interval is one point and this is ``-|#{x <= c} - q n|``;
    on discrete data the value whose ties hold the quantile scores 0, rather than every
    point above it scoring alike.

    Notes:
        Sensitivity at most 1: adding or removing one row moves each end of the
        interval by 0 or 1 and ``q n`` by ``q`` in the same direction, so both
        ``#{x < c} - q n`` and ``q n - #{x <= c}`` move by at most ``max(q, 1 - q)``,
        and so does the larger of them and 0.
    """
    ordered = np.sort(values)
    below = np.searchsorted(ordered, candidates, side="left")
    upto = np.searchsorted(ordered, candidates, side="right")
    target = q * len(values)
    worst = np.maximum(below - target, target - upto)
    return np.maximum(worst, 0.0) * -1.0


def quantile_probabilities(values: np.ndarray, candidates: np.ndarray, *, q: float,
                           epsilon: float) -> np.ndarray:
    """The exponential mechanism's exact output distribution over ``candidates``.

    Notes:
        McSherry and Talwar (2007): ``P(c) ∝ exp(epsilon u(c) / 2)`` with sensitivity
        1 is epsilon-DP; over a finite public grid this is the quantile mechanism of
        Smith (2011) without the interval-length weights.
    """
    logits = epsilon * quantile_utility(values, candidates, q) / 2
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def threshold(epsilon: float, delta: float) -> float:
    """The noisy-count threshold ``1 + ln(1 / (2 delta)) / epsilon``.

    Notes:
        Stability-based histogram (Korolova et al. 2009; Bun, Nissim and Stemmer 2016;
        Vadhan 2017, Thm 3.5) for add/remove neighbours: a row with a value absent from
        the table creates a count of 1, released with probability
        ``P(1 + Lap(1/epsilon) >= t) = exp(-epsilon (t - 1)) / 2 = delta``.
    """
    return 1 + math.log(1 / (2 * delta)) / epsilon


def learn_domain(frame: pd.DataFrame, schema: Schema, *, epsilon: float, delta: float,
                 rng: np.random.Generator, columns: Sequence[str] | None = None,
                 quantiles: tuple[float, float] = QUANTILES) -> tuple[Schema, DomainSpend]:
    """Learn bounds and category lists with DP and return the schema that uses them.

    Args:
        frame: The private table (conformed to ``schema`` here).
        schema: Its schema; its domains are used as candidates only if it is public.
        epsilon: Total epsilon, split evenly over the learned columns.
        delta: Total delta, split evenly over unknown-universe categorical columns
            (only those of a data-derived schema); unused otherwise and then not spent.
        rng: The noise stream. It must be secret: a generator seeded from anything an
            adversary can read (a logged seed) voids the guarantee, so DP generators pass
            ``governance.generators.privacy.noise.noise_rng``.
        columns: Columns to learn (default: all); the others keep the schema's domain.
        quantiles: The quantiles taken as lower and upper bound.

    Returns:
        The schema with learned domains (``data_derived`` only if unlearned columns
        still come from a data-derived schema) and the spend.

    Raises:
        InputError: for a bad budget or quantiles, or an unknown-universe column with
            no category above the threshold.
    """
    names = list(schema.names if columns is None else columns)
    for name in names:
        schema.require(name)
    if not names:
        raise InputError("learn_domain needs at least one column; pass columns=None for all")
    if not (epsilon > 0 and math.isfinite(epsilon)):
        raise InputError(f"the preprocessing epsilon must be positive and finite, got {epsilon!r}")
    q_low, q_high = quantiles
    if not 0 < q_low < q_high < 1:
        raise InputError(f"quantiles must satisfy 0 < low < high < 1, got {quantiles!r}")
    public = not schema.data_derived
    unknown = [n for n in names if not public and schema.columns[n].type == "categorical"]
    if unknown and not 0 < delta < 1:
        raise InputError(
            f"columns {unknown} have no public category list, so learning them needs a "
            f"delta in (0, 1) (stability-based histogram), got {delta!r}")
    data = conform(frame, schema)
    eps_col = epsilon / len(names)
    delta_col = delta / len(unknown) if unknown else 0.0
    specs, spends = dict(schema.columns), {}
    for name in names:
        spec = schema.columns[name]
        if spec.type == "categorical":
            specs[name], spends[name] = _learn_categories(
                data[name], spec, eps_col, delta_col if name in unknown else 0.0,
                public=public, rng=rng, name=name)
        else:
            specs[name], spends[name] = _learn_bounds(
                data[name].to_numpy(np.float64), spec, eps_col, (q_low, q_high),
                public=public, rng=rng)
    derived = schema.data_derived and set(names) != set(schema.names)
    learned = Schema(columns=specs, data_derived=derived, description=(
        f"domain of {', '.join(names)} learned with DP (epsilon {epsilon:g}, delta "
        f"{delta_col * len(unknown):g}) from {'public' if public else 'wide default'} candidates"))
    return learned, DomainSpend(epsilon=eps_col * len(names), delta=delta_col * len(unknown),
                                per_column=spends)


def _learn_bounds(values: np.ndarray, spec: ColumnSpec, epsilon: float,
                  quantiles: tuple[float, float], *, public: bool,
                  rng: np.random.Generator) -> tuple[ColumnSpec, ColumnSpend]:
    grid = quantile_candidates(spec, public=public)
    picks = sorted(float(rng.choice(grid, p=quantile_probabilities(values, grid, q=q,
                                                                   epsilon=epsilon / 2)))
                   for q in quantiles)
    lo, hi = picks
    if lo == hi:  # post-processing: widen to the neighbouring grid point
        i = int(np.searchsorted(grid, lo))
        lo, hi = (lo, float(grid[i + 1])) if i + 1 < len(grid) else (float(grid[i - 1]), hi)
    where = "schema bounds" if public else WIDE_RANGE_TEXT
    return ColumnSpec(type=spec.type, min=lo, max=hi), ColumnSpend(
        epsilon=epsilon, delta=0.0, candidates=f"{len(grid)} points over the {where}",
        method=f"exponential-mechanism quantiles {quantiles[0]:g}/{quantiles[1]:g} "
               f"(epsilon {epsilon / 2:g} each)")


def _learn_categories(col: pd.Series, spec: ColumnSpec, epsilon: float, delta: float, *,
                      public: bool, rng: np.random.Generator,
                      name: str) -> tuple[ColumnSpec, ColumnSpend]:
    cats = list(spec.categories or [])
    codes = pd.Categorical(col.astype(object), categories=cats).codes
    counts = np.bincount(codes[codes >= 0], minlength=len(cats))
    idx = list(range(len(cats))) if public else [i for i in range(len(cats)) if counts[i] > 0]
    noisy = counts[idx].astype(np.float64) + rng.laplace(0.0, 1 / epsilon, len(idx))
    # The public-universe threshold only prunes rare categories (any t keeps epsilon-DP);
    # it uses delta 1e-6 when no delta is spent, so both cases prune alike.
    cut = threshold(epsilon, delta if delta > 0 else 1e-6)
    kept = [j for j in range(len(idx)) if noisy[j] >= cut]
    if not kept:
        if not public:
            raise InputError(
                f"column {name!r}: no category's noisy count reached the threshold {cut:.3g}; "
                "raise the preprocessing epsilon or give the column a public category list")
        kept = [int(noisy.argmax())]
    best = cats[idx[max(kept, key=lambda j: noisy[j])]]
    method = ("Laplace counts over the public list + threshold" if public else
              "stability-based histogram (Laplace counts of observed values + threshold)")
    return ColumnSpec(type="categorical", categories=[cats[idx[j]] for j in kept]), ColumnSpend(
        epsilon=epsilon, delta=delta, method=f"{method} {cut:.3g}",
        candidates="public category list" if public else "observed values (unknown universe)",
        replacement=best)


def project_to_domain(frame: pd.DataFrame, learned: Schema, spend: DomainSpend) -> pd.DataFrame:
    """Fit a table into a learned domain: clip numerics, map dropped categories.

    A row-by-row map chosen by DP outputs only, so training on the result composes.
    """
    out = frame.copy()
    for name, col_spend in spend.per_column.items():
        spec = learned.columns[name]
        if spec.type == "categorical":
            plain = out[name].astype(object)
            keep = plain.isin(spec.categories or [])
            out[name] = pd.Categorical(plain.where(keep, col_spend.replacement),
                                       categories=spec.categories)
        else:
            out[name] = out[name].clip(spec.min, spec.max)
    return out


def express_in_schema(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Express rows drawn in a learned domain in the original schema's domain.

    Learned categories are a subset of the schema's; numbers are clipped to its bounds
    (a no-op for a public schema, whose grid lies inside them).
    """
    out = frame.copy()
    for name, spec in schema.columns.items():
        if spec.type == "categorical":
            out[name] = pd.Categorical(out[name].astype(object), categories=spec.categories)
        elif spec.type == "integer":
            out[name] = out[name].clip(int(spec.min), int(spec.max))  # type: ignore[arg-type]
        else:
            out[name] = out[name].clip(spec.min, spec.max)
    return out


def learned_preprocessing_record(schema: Schema, learned: Schema,
                                 spend: DomainSpend) -> tuple[str, list[str]]:
    """The ``PrivacySpend.preprocessing`` label and notes of a privately learned domain.

    The label says ``NOT private`` when columns still use a data-derived domain, or when
    learned bounds reach past a data-derived schema's, so that ``express_in_schema``
    clips samples to private bounds.
    """
    notes = [f"domain of {', '.join(spend.per_column)} learned with epsilon {spend.epsilon:g}, "
             f"delta {spend.delta:g}: " + "; ".join(
                 f"{c}: {s.method} over {s.candidates}" for c, s in spend.per_column.items())]
    if learned.data_derived:
        return PRIVATE_LABEL + "; other columns data-derived (NOT private)", notes
    wider = [n for n, c in learned.columns.items() if c.type != "categorical" and (
        c.min < schema.columns[n].min or c.max > schema.columns[n].max)]  # type: ignore[operator]
    if schema.data_derived and wider:
        notes.append(f"learned bounds of {', '.join(wider)} reach past the data-derived "
                     "schema; samples are clipped to its bounds, which are not private")
        return PRIVATE_LABEL + "; output clipped to data-derived bounds (NOT private)", notes
    return PRIVATE_LABEL, notes
