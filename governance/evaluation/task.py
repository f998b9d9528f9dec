"""What downstream task a candidate is judged on: target, kind and primary metric.

The models that score it are not part of the task: every task is scored by the whole
panel of ``lift.models.PANEL``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from governance.core.errors import InputError
from governance.core.types import Record
from governance.datasets.schema import Schema
from governance.evaluation.downstream.metrics import DEFAULT_PRIMARY, KINDS, get_metric, metrics_for

Kind = Literal["binary", "multiclass", "regression"]


class TaskSpec(Record):
    """A downstream prediction task.

    ``kind`` and ``metric`` may be left out and are then filled in from the schema by
    :meth:`resolve`: a categorical target with 2 categories is ``binary``, with more it
    is ``multiclass``; a numeric or integer target is ``regression``. The default
    primary metric is ``roc_auc``, ``macro_f1`` or ``r2`` respectively.

    Args:
        target: the column to predict.
        kind: ``"binary"``, ``"multiclass"`` or ``"regression"``; inferred when None.
        metric: the primary metric key; the kind's default when None. It needs a chance
            level (every metric but ``ece`` has one).
        scarce_fraction: share of the real train split kept for the scarce scenarios.
        min_scarce_rows: the scarce subset has at least this many rows.

    >>> from governance.datasets.schema import Schema
    >>> s = Schema.model_validate({"columns": {
    ...     "x": {"type": "numeric", "min": 0, "max": 1},
    ...     "y": {"type": "categorical", "categories": ["a", "b"]}}})
    >>> TaskSpec(target="y").resolve(s).metric
    'roc_auc'
    """

    target: str
    kind: str | None = None  # a Kind; checked in _check, which raises InputError
    metric: str | None = None
    scarce_fraction: float = 0.05
    min_scarce_rows: int = 50

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        self._check()

    @model_validator(mode="before")
    @classmethod
    def _drop_recorded_model(cls, data: Any) -> Any:
        # Runs recorded before the model panel named one model family ("hgb"); the
        # panel replaced it, so the stored key is read and dropped.
        if isinstance(data, dict) and data.get("model") in ("hgb", "logistic", "random_forest"):
            return {k: v for k, v in data.items() if k != "model"}
        return data

    def _check(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise InputError(f"unknown task kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if not 0.0 < self.scarce_fraction < 1.0:
            raise InputError(
                f"scarce_fraction must lie strictly between 0 and 1, got {self.scarce_fraction}"
            )
        if self.min_scarce_rows < 2:
            raise InputError(f"min_scarce_rows must be at least 2, got {self.min_scarce_rows}")
        if self.metric is not None and get_metric(self.metric).chance_rule is None:
            raise InputError(
                f"metric {self.metric!r} has no chance level, so utility cannot be measured "
                "above chance with it; choose another primary metric (e.g. brier for "
                "calibration)"
            )
        if self.kind is not None:
            self._check_kind(self.kind)

    def _check_kind(self, kind: str) -> None:
        if self.metric is not None and kind not in get_metric(self.metric).kinds:
            valid = ", ".join(m.key for m in metrics_for(kind))
            raise InputError(
                f"metric {self.metric!r} does not apply to a {kind} task; valid metrics: {valid}"
            )

    def resolve(self, schema: Schema) -> TaskSpec:
        """Return a copy with ``kind`` and ``metric`` filled in and checked against ``schema``.

        Raises:
            UnknownColumnError: if the target is not a schema column (lists the columns).
            InputError: if the kind does not fit the target column, or the metric the kind.
        """
        spec = schema.require(self.target)
        if spec.type == "categorical":
            n = len(spec.categories or [])
            if n < 2:
                raise InputError(
                    f"target {self.target!r} has a single category; a classification target "
                    "needs at least 2 categories in the schema"
                )
            inferred = "binary" if n == 2 else "multiclass"
            allowed = {inferred, "multiclass"} if n == 2 else {"multiclass"}
        else:
            inferred, allowed = "regression", {"regression"}
        kind = self.kind or inferred
        if kind not in allowed:
            raise InputError(
                f"target {self.target!r} is a {spec.type} column, which cannot be a {kind} "
                f"target; use kind={inferred!r} or leave kind unset"
            )
        self._check_kind(kind)
        metric = self.metric or DEFAULT_PRIMARY[kind]
        return self.model_copy(update={"kind": kind, "metric": metric})
