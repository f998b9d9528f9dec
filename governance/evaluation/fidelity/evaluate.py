"""How close a synthetic candidate's distribution is to a real sample.

``evaluate_fidelity`` runs five sub-metrics and never lets one failure stop the
others: a sub-metric that raises becomes an entry with an ``error`` field, in the style
of ``sdmetrics.compute_metrics``. Anything computed on a subsample records exactly how
many rows it used.

The result holds statistics of the *real* sample (tail quantiles, rare-category
frequencies): it is an internal governance report for approvers, not something to
release with the synthetic data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pydantic import SerializerFunctionWrapHandler, model_serializer, model_validator

from governance.core.errors import InputError
from governance.core.types import Record
from governance.datasets.encoding import PublicEncoder
from governance.datasets.schema import Schema, conform
from governance.evaluation.domain import domain_violations
from governance.evaluation.fidelity.detection import detection_auc
from governance.evaluation.fidelity.manifold import manifold_precision_recall
from governance.evaluation.fidelity.quality import quality_report
from governance.evaluation.fidelity.tails import tail_checks

#: Value keys stored under an older name, read back under the current one.
RENAMED = {"sdmetrics_score": "boosted_detection_score"}


class FidelityEntry(Record):
    """One sub-metric: its values, the rows it used, or the error that stopped it.

    Stored flat, ``{"name", <value keys>..., "rows_used", "error"}``, as the sub-metrics
    have always been written; ``values`` gathers the value keys back on reading.
    """

    name: str
    values: dict[str, Any]
    rows_used: dict[str, int]
    error: str | None = None

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        return {"name": out["name"], **out["values"], "rows_used": out["rows_used"],
                "error": out["error"]}

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, data: Any) -> Any:
        if isinstance(data, dict) and "values" not in data:
            fixed = {"name", "rows_used", "error"}
            values = {RENAMED.get(k, k): v for k, v in data.items() if k not in fixed}
            return {**{k: data[k] for k in fixed if k in data}, "values": values}
        return data


class FidelityResult(Record):
    """Fidelity of one candidate against a real sample.

    ``entries`` holds ``quality``, ``detection``, ``manifold``, ``tails`` and
    ``constraints``; the other fields record the input sizes and the subsampling limits.
    """

    entries: dict[str, FidelityEntry]
    n_real: int
    n_synthetic: int
    seed: int
    max_rows: int
    max_rows_manifold: int

    def value(self, entry: str, key: str) -> Any:
        """A value of an entry, or None if the entry failed or lacks it."""
        return self.entries[entry].values.get(key)

    @property
    def errors(self) -> dict[str, str]:
        """The entries that failed, with their error messages."""
        return {k: e.error for k, e in self.entries.items() if e.error is not None}

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        return {**{k: v for k, v in out.items() if k != "entries"}, **out["entries"]}

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, data: Any) -> Any:
        if isinstance(data, dict) and "entries" not in data:
            sizes = {"n_real", "n_synthetic", "seed", "max_rows", "max_rows_manifold"}
            return {**{k: data[k] for k in sizes if k in data},
                    "entries": {k: v for k, v in data.items() if k not in sizes}}
        return data


def _run(name: str, rows: dict[str, int], fn: Callable[[], dict[str, Any]]) -> FidelityEntry:
    try:
        return FidelityEntry(name=name, values=fn(), rows_used=rows)
    except Exception as exc:  # noqa: BLE001 - one failing metric must not stop the others
        return FidelityEntry(name=name, values={}, rows_used=rows,
                             error=f"{type(exc).__name__}: {exc}")


def _subsample(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= n:
        return frame.reset_index(drop=True)
    return frame.iloc[np.sort(rng.choice(len(frame), size=n, replace=False))].reset_index(
        drop=True)


def evaluate_fidelity(
    *, real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, seed: int = 0,
    max_rows: int = 5000, max_rows_manifold: int = 2000, k: int = 5,
    detection_folds: int = 2, n_threads: int | None = 1,
) -> FidelityResult:
    """Compare a synthetic candidate with a real sample the generator did not see.

    Args:
        real: a real sample (e.g. the eval or holdout split), conformed to the schema.
        synthetic: the candidate; values outside the domain are counted, not rejected.
        schema: the schema with public domains.
        seed: seed of the subsamples and the detection folds.
        max_rows: at most this many rows of each side for the quality report, the
            detection classifier and the tail checks (a seeded subsample).
        max_rows_manifold: at most this many rows of each side for the k-NN
            precision/recall (quadratic in the rows).
        k: neighbours for the manifold radii. Synthetic values the encoding cannot read
            (missing, non-numeric) encode as 0 there; they are counted under
            ``constraints``.
        detection_folds: cross-validation folds of the detection classifier (two: each
            half of the rows is scored by a model fitted on the other half).
        n_threads: cap on native threads of the detection classifier.

    Raises:
        DatasetError: if ``real`` does not conform to the schema.
        InputError: for a non-DataFrame candidate or a limit below 10 rows.
    """
    if not isinstance(synthetic, pd.DataFrame):
        raise InputError(f"the candidate must be a DataFrame, got {type(synthetic).__name__}")
    if min(max_rows, max_rows_manifold) < 10:
        raise InputError("max_rows and max_rows_manifold must be at least 10")
    real = conform(real, schema)
    syn_all = synthetic.reindex(columns=schema.names).reset_index(drop=True)
    rng = np.random.default_rng([seed, 0xF1D])
    r, s = _subsample(real, max_rows, rng), _subsample(syn_all, max_rows, rng)
    rm, sm = r.iloc[:max_rows_manifold], s.iloc[:max_rows_manifold]
    rows = {"real": len(r), "synthetic": len(s)}
    encoder = PublicEncoder(schema)
    entries = [
        _run("quality", rows, lambda: quality_report(r, s, schema)),
        _run("detection", rows, lambda: detection_auc(
            r, s, schema, seed=seed, folds=detection_folds, n_threads=n_threads)),
        _run("manifold", {"real": len(rm), "synthetic": len(sm)},
             lambda: manifold_precision_recall(
                 np.nan_to_num(encoder.encode(rm)), np.nan_to_num(encoder.encode(sm)), k=k)),
        _run("tails", rows, lambda: tail_checks(r, s, schema)),
        _run("constraints", {"real": 0, "synthetic": len(synthetic)},
             lambda: domain_violations(synthetic, schema)),
    ]
    return FidelityResult(
        entries={e.name: e for e in entries}, n_real=len(real), n_synthetic=len(synthetic),
        seed=seed, max_rows=max_rows, max_rows_manifold=max_rows_manifold,
    )
