"""Check a (synthetic) table against the schema's public domain without modifying it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from governance.datasets.schema import Schema
from governance.evaluation.lift.models import category_codes


def domain_violations(frame: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """Count the values of ``frame`` that fall outside the schema's public domain.

    A categorical value is a violation when it is not in the public category list, a
    numeric or integer value when it is missing, not a number or outside [min, max], and
    an integer value also when it is fractional.

    Returns:
        ``{"columns": {name: {"invalid": n, "missing": n}}, "missing_columns": [...],
        "extra_columns": [...], "n_rows": n, "rows_with_violation": n,
        "total_violations": n}``; a missing column counts every row as a violation.
    """
    n = len(frame)
    bad_rows = np.zeros(n, dtype=bool)
    columns: dict[str, dict[str, int]] = {}
    missing_cols = [c for c in schema.names if c not in frame.columns]
    extra_cols = [str(c) for c in frame.columns if c not in schema.columns]
    for name, spec in schema.columns.items():
        if name in missing_cols:
            columns[name] = {"invalid": n, "missing": n}
            bad_rows[:] = True
            continue
        col = frame[name]
        missing = col.isna().to_numpy()
        if spec.type == "categorical":
            invalid = category_codes(col, spec.categories or []) < 0
        else:
            values = pd.to_numeric(col.astype(object) if isinstance(
                col.dtype, pd.CategoricalDtype) else col, errors="coerce").to_numpy(float)
            with np.errstate(invalid="ignore"):
                lo, hi = float(spec.min), float(spec.max)  # type: ignore[arg-type]
                invalid = ~np.isfinite(values) | (values < lo) | (values > hi)
                if spec.type == "integer":
                    invalid |= np.isfinite(values) & (values != np.round(values))
        columns[name] = {"invalid": int(invalid.sum()), "missing": int(missing.sum())}
        bad_rows |= invalid
    return {
        "columns": columns, "missing_columns": missing_cols, "extra_columns": extra_cols,
        "n_rows": n, "rows_with_violation": int(bad_rows.sum()),
        "total_violations": int(sum(c["invalid"] for c in columns.values())),
    }


def describe_violations(report: dict[str, Any]) -> list[str]:
    """One plain sentence per problem found by :func:`domain_violations`."""
    out = []
    if report["missing_columns"]:
        out.append(f"missing column(s) {', '.join(report['missing_columns'])}: treated as "
                   "missing values")
    if report["extra_columns"]:
        out.append(f"column(s) {', '.join(report['extra_columns'])} are not in the schema "
                   "and were ignored")
    for name, counts in report["columns"].items():
        if counts["invalid"] and name not in report["missing_columns"]:
            out.append(f"column {name!r}: {counts['invalid']} of {report['n_rows']} value(s) "
                       "outside the public domain")
    return out
