"""Tail checks: extreme quantiles of numeric columns and rare-category frequencies.

Notes:
    Quantiles use numpy's default linear interpolation (Hyndman & Fan 1996, type 7).
    ``scaled_difference`` is the synthetic minus real quantile over the public domain
    width, so columns are comparable. A category is rare when its real frequency is below
    the threshold (5% by default), including categories that never occur in the real
    sample; frequencies are over the rows with a value inside the schema's categories.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from governance.datasets.schema import Schema
from governance.evaluation.lift.models import category_codes

QUANTILES = (0.01, 0.99)
RARE_THRESHOLD = 0.05


def _numbers(col: pd.Series) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    values = pd.to_numeric(col, errors="coerce").to_numpy(float)
    return values[np.isfinite(values)]


def _frequencies(col: pd.Series, categories: list[Any]) -> np.ndarray:
    codes = category_codes(col, categories)
    codes = codes[codes >= 0]
    counts = np.bincount(codes, minlength=len(categories)).astype(float)
    return counts / counts.sum() if counts.sum() else np.full(len(categories), np.nan)


def tail_checks(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, *,
    quantiles: tuple[float, ...] = QUANTILES, rare_threshold: float = RARE_THRESHOLD,
) -> dict[str, Any]:
    """Compare tail quantiles and rare categories of real and synthetic.

    Returns:
        ``{"quantiles": {column: {"q01": {real, synthetic, difference,
        scaled_difference}, ...}}, "rare_categories": {column: {category: {real,
        synthetic}}}, "rare_threshold"}``; None where a side has no usable value.
    """
    numeric: dict[str, dict[str, Any]] = {}
    rare: dict[str, dict[str, Any]] = {}
    for name, spec in schema.columns.items():
        if spec.type == "categorical":
            cats = list(spec.categories or [])
            f_real = _frequencies(real[name], cats)
            f_syn = _frequencies(synthetic[name], cats)
            rare[name] = {
                str(c): {"real": float(f_real[i]), "synthetic": _none(f_syn[i])}
                for i, c in enumerate(cats) if f_real[i] < rare_threshold
            }
            continue
        r, s = _numbers(real[name]), _numbers(synthetic[name])
        width = float(spec.max) - float(spec.min)  # type: ignore[arg-type]
        numeric[name] = {}
        for q in quantiles:
            qr = float(np.quantile(r, q)) if len(r) else None
            qs = float(np.quantile(s, q)) if len(s) else None
            diff = None if qr is None or qs is None else qs - qr
            numeric[name][f"q{round(q * 100):02d}"] = {
                "real": qr, "synthetic": qs, "difference": diff,
                "scaled_difference": None if diff is None else diff / width,
            }
    return {"quantiles": numeric, "rare_categories": rare, "rare_threshold": rare_threshold}


def _none(x: float) -> float | None:
    return None if np.isnan(x) else float(x)
