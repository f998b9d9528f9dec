"""The SDMetrics quality report (Column Shapes, Column Pair Trends) on our schema.

Uses ``sdmetrics.reports.QualityReport``, the unified report that replaces the
single-table ``sdmetrics.reports.single_table.QualityReport`` (deprecated in sdmetrics
0.32 with a FutureWarning; both give the same scores on one table). Column Shapes are
KSComplement (numeric) and TVComplement (categorical); Column Pair Trends are
CorrelationSimilarity and ContingencySimilarity (SDMetrics documentation).

Two SDMetrics behaviours to read the pair scores with: a pair only enters the Column
Pair Trends score when its real correlation exceeds 0.5 or its real Cramér's V exceeds
0.3 (``meets_threshold``; the others are listed with score None), and for numeric x
categorical pairs each side's numeric column is binned on its *own* histogram edges, so
heavy-tailed columns score lower even between two samples of one distribution.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from governance.datasets.schema import Schema, to_plain

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


def quality_report(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """Run the SDMetrics quality report quietly and flatten it into plain values.

    Returns:
        ``{"score", "column_shapes", "column_pair_trends", "shapes": {column: {metric,
        score, error}}, "pair_trends": [{columns, metric, score, real_correlation,
        synthetic_correlation, real_association, meets_threshold, error}],
        "pair_trends_by_column": {column: mean of its scored pairs}, "pairs_scored",
        "real_correlation_threshold", "real_association_threshold"}``.
    """
    from sdmetrics.reports import QualityReport

    report = QualityReport()
    report.generate(
        {_TABLE: to_plain(real)}, {_TABLE: to_plain(synthetic)},
        {"tables": {_TABLE: sdmetrics_metadata(schema)}}, verbose=False,
    )
    props = dict(zip(report.get_properties()["Property"], report.get_properties()["Score"],
                     strict=True))
    shapes = {
        str(row["Column"]): {"metric": row["Metric"], "score": _score(row["Score"]),
                             "error": _error(row)}
        for _, row in report.get_details("Column Shapes").iterrows()
    }
    pairs: list[dict[str, Any]] = []
    by_column: dict[str, list[float]] = {name: [] for name in schema.names}
    for _, row in report.get_details("Column Pair Trends").iterrows():
        a, b, score = str(row["Column 1"]), str(row["Column 2"]), _score(row["Score"])
        pairs.append({
            "columns": [a, b], "metric": row["Metric"], "score": score,
            "real_correlation": _score(row.get("Real Correlation")),
            "synthetic_correlation": _score(row.get("Synthetic Correlation")),
            "real_association": _score(row.get("Real Association")),
            "meets_threshold": _flag(row.get("Meets Threshold?")),
            "error": _error(row),
        })
        if score is not None:
            by_column[a].append(score)
            by_column[b].append(score)
    return {
        "score": _score(report.get_score()),
        "column_shapes": _score(props.get("Column Shapes")),
        "column_pair_trends": _score(props.get("Column Pair Trends")),
        "shapes": shapes,
        "pair_trends": pairs,
        "pair_trends_by_column": {k: (sum(v) / len(v) if v else None)
                                  for k, v in by_column.items()},
        "pairs_scored": sum(p["score"] is not None for p in pairs),
        "real_correlation_threshold": float(report.real_correlation_threshold),
        "real_association_threshold": float(report.real_association_threshold),
    }
