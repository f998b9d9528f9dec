"""The SDMetrics quality report (Column Shapes, Column Pair Trends) on our schema.

By default the report is computed by ``governance.evaluation.fidelity.quality_native``, which
reproduces SDMetrics 0.32's figures in NumPy (tests pin it to SDMetrics field by field)
and hands the inputs it does not cover to SDMetrics; ``engine="sdmetrics"`` runs
``sdmetrics.reports.QualityReport``, the unified report that replaces the
single-table ``sdmetrics.reports.single_table.QualityReport`` (deprecated in sdmetrics
0.32 with a FutureWarning; both give the same scores on one table). Column Shapes are
KSComplement (numeric) and TVComplement (categorical); Column Pair Trends are
CorrelationSimilarity and ContingencySimilarity (SDMetrics documentation).

Two SDMetrics behaviours to read the pair scores with: a pair only enters the Column
Pair Trends score when its real correlation exceeds 0.5 or its real Cramér's V exceeds
0.3 (``meets_threshold``; the others are listed with score None), and for numeric x
categorical pairs each side's numeric column is binned on its *own* histogram edges, so
heavy-tailed columns score lower even between two samples of one distribution.

Categorical values reach either engine as integer codes shared by both tables (missing
values stay missing). Every categorical metric compares value frequencies, which a
one-to-one relabelling leaves unchanged, and integers group faster than Python objects.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from governance.datasets.schema import Schema, to_plain
from governance.evaluation.fidelity import quality_native as native

_TABLE = "table"


def sdmetrics_metadata(schema: Schema) -> dict[str, Any]:
    """SDMetrics single-table metadata built from the schema's column types.

    >>> from governance.datasets.schema import Schema
    >>> s = Schema.model_validate({"columns": {"n": {"type": "integer", "min": 0, "max": 9},
    ...     "c": {"type": "categorical", "categories": ["a"]}}})
    >>> sdmetrics_metadata(s)["columns"]["n"]
    {'sdtype': 'numerical', 'computer_representation': 'Int64'}
    """
    columns: dict[str, dict[str, str]] = {}
    for name, spec in schema.columns.items():
        if spec.type == "categorical":
            columns[name] = {"sdtype": "categorical"}
        else:
            rep = "Int64" if spec.type == "integer" else "Float"
            columns[name] = {"sdtype": "numerical", "computer_representation": rep}
    return {"columns": columns}


def _score(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _flag(value: Any) -> bool:
    return bool(value) if isinstance(value, (bool, np.bool_)) else False


def _error(row: pd.Series) -> str | None:
    err = row.get("Error")
    return None if err is None or (isinstance(err, float) and math.isnan(err)) else str(err)


def _coded(real: pd.DataFrame, synthetic: pd.DataFrame,
           schema: Schema) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plain copies with each categorical column as integer codes common to both tables."""
    real = to_plain(real.reindex(columns=schema.names))
    synthetic = to_plain(synthetic.reindex(columns=schema.names))  # a missing column: empty
    for name, spec in schema.columns.items():
        if spec.type != "categorical":
            continue
        codes, _ = pd.factorize(pd.concat([real[name], synthetic[name]], ignore_index=True))
        column = pd.array(codes, dtype="Int64")
        column[codes < 0] = pd.NA  # factorize marks missing values with -1
        real[name] = column[: len(real)]
        synthetic[name] = column[len(real):]
    return real, synthetic


def quality_report(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, *,
                   engine: str = "native") -> dict[str, Any]:
    """The SDMetrics quality report, flattened into plain values.

    ``column_pair_trends`` averages only the pairs SDMetrics scores (real correlation or
    association past its threshold, both sides defined); ``column_pair_trends_coverage``
    says how many of the schema's column pairs that is, so a high score over a few pairs
    is not read as a score over all of them.

    ``engine="native"`` computes it with ``governance.evaluation.fidelity.quality_native`` (the same
    definitions and figures, in a fraction of the time) and falls back to SDMetrics for
    inputs that module does not cover; ``engine="sdmetrics"`` always runs SDMetrics.

    Returns:
        ``{"score", "column_shapes", "column_pair_trends", "shapes": {column: {metric,
        score, error}}, "pair_trends": [{columns, metric, score, real_correlation,
        synthetic_correlation, real_association, meets_threshold, error}],
        "pair_trends_by_column": {column: mean of its scored pairs}, "pairs_scored",
        "column_pair_trends_coverage": {"scored", "possible"}, "real_correlation_threshold",
        "real_association_threshold", "engine"}``.

    Raises:
        ValueError: for an unknown engine.
    """
    if engine not in ("native", "sdmetrics"):
        raise ValueError(f"unknown quality engine {engine!r}; use 'native' or 'sdmetrics'")
    real, synthetic = _coded(real, synthetic, schema)
    why = native.unsupported(real, synthetic, schema) if engine == "native" else "requested"
    if why is None:
        shapes = native.column_shapes(real, synthetic, schema)
        pairs = native.pair_trends(real, synthetic, schema)
        used = "native (SDMetrics 0.32 definitions)"
        thresholds = (native.REAL_CORRELATION_THRESHOLD, native.REAL_ASSOCIATION_THRESHOLD)
    else:
        shapes, pairs, thresholds = _sdmetrics(real, synthetic, schema)
        used = "sdmetrics" if engine == "sdmetrics" else f"sdmetrics ({why})"
    for entry in shapes.values():
        entry["score"] = _score(entry["score"])
    by_column: dict[str, list[float]] = {name: [] for name in schema.names}
    for pair in pairs:
        for key in ("score", "real_correlation", "synthetic_correlation", "real_association"):
            pair[key] = _score(pair[key])
        if pair["score"] is not None:
            for name in pair["columns"]:
                by_column[name].append(pair["score"])
    shape_scores = [e["score"] for e in shapes.values() if e["score"] is not None]
    pair_scores = [p["score"] for p in pairs if p["meets_threshold"] and p["score"] is not None]
    props = [float(np.mean(v)) if v else None for v in (shape_scores, pair_scores)]
    present = [v for v in props if v is not None]
    return {
        "score": float(np.mean(present)) if present else None,
        "column_shapes": props[0],
        "column_pair_trends": props[1],
        "shapes": shapes,
        "pair_trends": pairs,
        "pair_trends_by_column": {k: (sum(v) / len(v) if v else None)
                                  for k, v in by_column.items()},
        "pairs_scored": sum(p["score"] is not None for p in pairs),
        "column_pair_trends_coverage": {"scored": len(pair_scores), "possible": len(pairs)},
        "real_correlation_threshold": float(thresholds[0]),
        "real_association_threshold": float(thresholds[1]),
        "engine": used,
    }


def _sdmetrics(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> tuple[
        dict[str, dict[str, Any]], list[dict[str, Any]], tuple[float, float]]:
    """SDMetrics' own report: column shapes, pair entries and its two thresholds."""
    # Deferred import: SDMetrics is heavy and only the fallback engine needs it.
    from sdmetrics.reports import QualityReport

    report = QualityReport()
    with warnings.catch_warnings():  # scipy's note that ks_2samp fell back to asymptotics
        warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful")
        report.generate(
            {_TABLE: real}, {_TABLE: synthetic},
            {"tables": {_TABLE: sdmetrics_metadata(schema)}}, verbose=False,
        )
    shapes = {
        str(row["Column"]): {"metric": row["Metric"], "score": row["Score"],
                             "error": _error(row)}
        for _, row in report.get_details("Column Shapes").iterrows()
    }
    pairs = [{
        "columns": [str(row["Column 1"]), str(row["Column 2"])], "metric": row["Metric"],
        "score": row["Score"], "real_correlation": row.get("Real Correlation"),
        "synthetic_correlation": row.get("Synthetic Correlation"),
        "real_association": row.get("Real Association"),
        "meets_threshold": _flag(row.get("Meets Threshold?")), "error": _error(row),
    } for _, row in report.get_details("Column Pair Trends").iterrows()]
    return shapes, pairs, (float(report.real_correlation_threshold),
                           float(report.real_association_threshold))
