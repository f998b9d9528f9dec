"""SDMetrics' quality report computed with NumPy: same definitions, same numbers, less time.

``sdmetrics.reports.QualityReport`` spends most of its time on per-pair pandas overhead
and, for numeric columns, on the exact p-value of ``scipy.stats.ks_2samp`` (only the
statistic is used). On 5,000 + 5,000 Adult rows it took 0.6-0.9 s; this module takes
a few hundredths of a second. It follows SDMetrics 0.32 step by step:

* Column Shapes: ``KSComplement`` (1 - two-sample KS statistic, values rounded to 14
  decimals, missing values dropped) for numeric columns; ``TVComplement`` (1 - total
  variation distance of the value frequencies, missing values dropped, a synthetic-only
  value weighted 1e-6 on the real side) for categorical ones.
* Column Pair Trends: ``CorrelationSimilarity`` (1 - |Pearson real - Pearson synthetic| / 2
  on complete rows) for two numeric columns, scored only when |real correlation| > 0.5;
  ``ContingencySimilarity`` (1 - total variation distance of the joint frequencies,
  missing values a category of their own) otherwise, numeric columns binned into
  ``np.histogram_bin_edges``' ten bins of each table's own range, scored only when the
  real table's Cramér's V exceeds 0.3.
* Property scores: the mean column score; the mean score of the pairs over their
  threshold. The report score: the mean of the two.

``unsupported`` names the inputs on which SDMetrics raises per-metric errors or behaves
specially (a column empty on one side, a constant or non-finite numeric column, more
than 50,000 rows, where it subsamples pairs at random); ``quality_report`` hands those to
SDMetrics itself. ``tests/unit/evaluation/test_quality_native.py`` checks every figure
against SDMetrics.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from scipy.stats.contingency import association

from governance.datasets.schema import Schema

REAL_CORRELATION_THRESHOLD = 0.5  # sdmetrics.reports.utils.DEFAULT_REAL_CORRELATION_THRESHOLD
REAL_ASSOCIATION_THRESHOLD = 0.3  # ... DEFAULT_REAL_ASSOCIATION_THRESHOLD
MAX_ROWS = 50_000  # ... DEFAULT_NUM_ROWS_SUBSAMPLE: above it SDMetrics subsamples pairs
_KS_DECIMALS = 14  # sdmetrics.single_column.statistical.kscomplement.MAX_DECIMALS
_TV_REGULARISATION = 1e-6  # sdmetrics.utils.get_frequencies


def unsupported(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> str | None:
    """Why these tables need SDMetrics' own code path, or None if this module matches it."""
    if max(len(real), len(synthetic)) > MAX_ROWS:
        return f"more than {MAX_ROWS} rows"
    for name, spec in schema.columns.items():
        for side, frame in (("real", real), ("synthetic", synthetic)):
            if name not in frame:
                return f"column {name!r} missing from the {side} table"
            column = frame[name]
            if spec.type == "categorical":
                if column.notna().sum() == 0:
                    return f"column {name!r} has no values in the {side} table"
                continue
            values = pd.to_numeric(column, errors="coerce")
            if values.notna().sum() != column.notna().sum():
                return f"column {name!r} has non-numeric values in the {side} table"
            finite = values.dropna().to_numpy(dtype=float)
            if not np.isfinite(finite).all():
                return f"column {name!r} has infinite values in the {side} table"
            if len(np.unique(finite)) < 2:
                return f"column {name!r} is constant or empty in the {side} table"
    return None


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame,
                  schema: Schema) -> dict[str, dict[str, Any]]:
    """``{column: {"metric", "score", "error"}}`` in schema order."""
    out: dict[str, dict[str, Any]] = {}
    for name, spec in schema.columns.items():
        if spec.type == "categorical":
            out[name] = {"metric": "TVComplement",
                         "score": _tv_complement(real[name], synthetic[name]), "error": None}
        else:
            out[name] = {"metric": "KSComplement",
                         "score": _ks_complement(real[name], synthetic[name]), "error": None}
    return out


def _ks_complement(real: pd.Series, synthetic: pd.Series) -> float:
    a = np.sort(_floats(real).round(_KS_DECIMALS))
    b = np.sort(_floats(synthetic).round(_KS_DECIMALS))
    pooled = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, pooled, side="right") / len(a)
    cdf_b = np.searchsorted(b, pooled, side="right") / len(b)
    return float(1.0 - np.max(np.abs(cdf_a - cdf_b)))


def _tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    real_counts = real.dropna().value_counts(sort=False)
    syn_counts = synthetic.dropna().value_counts(sort=False)
    only_syn = syn_counts.index.difference(real_counts.index)
    real_counts = pd.concat([real_counts.astype(float),
                             pd.Series(_TV_REGULARISATION, index=only_syn)])
    f_exp = real_counts / real_counts.sum()
    f_obs = syn_counts.reindex(real_counts.index, fill_value=0) / syn_counts.sum()
    return float(1.0 - 0.5 * np.abs(f_obs.to_numpy() - f_exp.to_numpy()).sum())


def _floats(column: pd.Series) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    return values[~np.isnan(values)]


def pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame,
                schema: Schema) -> list[dict[str, Any]]:
    """One entry per column pair (schema order), as SDMetrics' Column Pair Trends details."""
    numeric = {n for n, c in schema.columns.items() if c.type != "categorical"}
    real_num = {n: pd.to_numeric(real[n]).to_numpy(dtype=float) for n in numeric}
    syn_num = {n: pd.to_numeric(synthetic[n]).to_numpy(dtype=float) for n in numeric}
    codes = dict(_joint_codes(real, synthetic, schema, real_num, syn_num))
    pairs = []
    for a, b in combinations(schema.names, 2):
        if a in numeric and b in numeric:
            pairs.append(_correlation_pair(a, b, real_num, syn_num))
        else:
            pairs.append(_contingency_pair(a, b, codes))
    return pairs


def _correlation_pair(a: str, b: str, real: dict[str, np.ndarray],
                      syn: dict[str, np.ndarray]) -> dict[str, Any]:
    r = _pearson(real[a], real[b])
    entry: dict[str, Any] = {
        "columns": [a, b], "metric": "CorrelationSimilarity", "score": np.nan,
        "real_correlation": r, "synthetic_correlation": np.nan, "real_association": np.nan,
        "error": None}
    entry["meets_threshold"] = bool(not np.isnan(r) and abs(r) > REAL_CORRELATION_THRESHOLD)
    if not abs(r) <= REAL_CORRELATION_THRESHOLD:  # SDMetrics' test: a NaN goes on
        s = _pearson(syn[a], syn[b])
        entry["synthetic_correlation"] = s
        if not (np.isnan(r) or np.isnan(s)):
            entry["score"] = 1.0 - abs(r - s) / 2.0
    return entry


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    keep = ~(np.isnan(x) | np.isnan(y))
    if keep.sum() < 2:
        return float("nan")
    with warnings.catch_warnings():  # constant complete rows: NaN, as SDMetrics gets
        warnings.simplefilter("ignore")
        return float(pearsonr(x[keep], y[keep])[0])


def _joint_codes(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema,
                 real_num: dict[str, np.ndarray],
                 syn_num: dict[str, np.ndarray]) -> Iterator[tuple[str, tuple[np.ndarray, ...]]]:
    """Per column: integer codes of real and synthetic values on one shared scale.

    Categorical columns keep their values (missing values get a code of their own, as
    in ``groupby(dropna=False)``); numeric columns are SDMetrics' discretisation, each
    table binned on the edges of its own values.
    """
    for name, spec in schema.columns.items():
        if spec.type == "categorical":
            both = pd.concat([real[name], synthetic[name]], ignore_index=True)
            codes, _ = pd.factorize(both, use_na_sentinel=True)
            codes = np.where(codes < 0, codes.max() + 1, codes)
            yield name, (codes[: len(real)], codes[len(real):])
        else:
            yield name, (_digitize(real_num[name]), _digitize(syn_num[name]))


def _digitize(values: np.ndarray) -> np.ndarray:
    edges = np.histogram_bin_edges(values[~np.isnan(values)])
    return np.digitize(values, bins=edges)


def _contingency_pair(a: str, b: str, codes: dict[str, tuple[np.ndarray, ...]]) -> dict[str, Any]:
    entry = {"columns": [a, b], "metric": "ContingencySimilarity", "score": np.nan,
             "real_correlation": np.nan, "synthetic_correlation": np.nan,
             "real_association": np.nan, "meets_threshold": False, "error": None}
    (ra, sa), (rb, sb) = codes[a], codes[b]
    width = int(max(rb.max(initial=0), sb.max(initial=0))) + 1
    real_cells, syn_cells = ra.astype(np.int64) * width + rb, sa.astype(np.int64) * width + sb
    size = (int(max(ra.max(initial=0), sa.max(initial=0))) + 1) * width
    real_counts = np.bincount(real_cells, minlength=size)
    rows, cols = np.unique(ra), np.unique(rb)
    table = real_counts.reshape(-1, width)[np.ix_(rows, cols)]
    if table.sum() == 0 or min(table.shape) < 2:
        return entry
    v = float(association(table, method="cramer"))
    entry["real_association"] = v
    entry["meets_threshold"] = bool(not np.isnan(v) and v > REAL_ASSOCIATION_THRESHOLD)
    if v <= REAL_ASSOCIATION_THRESHOLD:
        return entry
    syn_counts = np.bincount(syn_cells, minlength=size)
    diff = np.abs(real_counts / len(real_cells) - syn_counts / len(syn_cells))
    entry["score"] = float(1.0 - diff.sum() / 2.0)
    return entry
