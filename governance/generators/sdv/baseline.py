"""Adapter that runs SDV single-table synthesizers as non-private baselines.

SDV metadata is built from our schema (numeric and integer columns as ``numerical``,
categorical as ``categorical``); SDV fits its own transformers on the training data,
which is fine for a baseline that claims no privacy (epsilon = inf). Output is cast back
to our dtypes: categorical columns as pandas Categorical with the schema's categories,
integers as int64, numerics clipped to the schema's public bounds.

Determinism: fitting runs inside ``seeded(seed)`` (torch, NumPy and ``random`` seeded,
one thread, deterministic kernels); sampling resets SDV's transformers and seeds the
model with ``derive_seed(seed, n)``, so repeated ``sample(n)`` calls give the same rows.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from governance.core.errors import InputError
from governance.datasets.schema import Schema, conform, to_plain
from governance.generators.base import Generator, PrivacySpend
from governance.generators.determinism import check_seed, derive_seed, seeded
from governance.generators.privacy.accounting import preprocessing_record

MECHANISM = "none (non-private baseline)"
_TABLE = "table"


class SDVBaseline(Generator):
    """Shared fit/sample/privacy for SDV synthesizers; subclasses name the SDV class.

    Args:
        epsilon: Must be ``math.inf``: these baselines are not differentially private.
        delta: Ignored (recorded as 0); accepted so every generator takes the same options.
        seed: Seed of fitting and sampling.
    """

    name: ClassVar[str] = "sdv"
    differentially_private: ClassVar[bool] = False

    def __init__(self, *, epsilon: float = math.inf, delta: float = 1e-5, seed: int = 0) -> None:
        if not (isinstance(epsilon, int | float) and math.isinf(epsilon) and epsilon > 0):
            raise InputError(
                f"{self.name} is a non-private baseline and cannot meet epsilon={epsilon!r}; "
                "use epsilon=inf, or a differentially private generator such as dp_vae"
            )
        self.epsilon, self.delta, self.seed = math.inf, float(delta), check_seed(seed)
        self._synth: Any = None
        self._schema: Schema | None = None
        self._spend: PrivacySpend | None = None

    def _make(self, metadata: Any) -> Any:
        """Return the unfitted SDV synthesizer for ``metadata``."""
        raise NotImplementedError

    def _notes(self) -> list[str]:
        return ["SDV fits its transformers (bounds, category frequencies) on the training "
                "data; no privacy is claimed"]

    def fit(self, data: pd.DataFrame, schema: Schema) -> Self:
        """Train on ``data`` (conformed to ``schema``); return self."""
        # Deferred import: SDV loads torch; only a fit does.
        from sdv.metadata import Metadata

        data = conform(data, schema)
        columns = {name: {"sdtype": "categorical" if spec.type == "categorical" else "numerical"}
                   for name, spec in schema.columns.items()}
        metadata = Metadata.load_from_dict({"tables": {_TABLE: {"columns": columns}}})
        with seeded(self.seed), warnings.catch_warnings():
            _silence_sdv()
            synth = self._make(metadata)
            synth.fit({_TABLE: to_plain(data)})
        self._synth, self._schema = synth, schema
        prep, notes = preprocessing_record(schema)
        self._spend = PrivacySpend(
            epsilon_target=math.inf, epsilon_spent=math.inf, delta=0.0, mechanism=MECHANISM,
            preprocessing=prep, notes=notes + self._notes())
        return self

    @property
    def fitted(self) -> bool:
        """Whether ``fit`` has run."""
        return self._synth is not None and self._schema is not None

    def _sample(self, n: int) -> pd.DataFrame:
        """Draw ``n`` rows in the schema's order, dtypes and domain (same ``n``, same rows)."""
        assert self._synth is not None and self._schema is not None
        seed = derive_seed(self.seed, n)
        with seeded(seed), warnings.catch_warnings():
            _silence_sdv()
            self._synth.reset_sampling()
            self._synth._set_random_state(seed)  # SDV's own hook for a seeded model RNG
            raw = self._synth.sample(num_rows=n)
        frame = raw[_TABLE] if isinstance(raw, dict) else raw
        if len(frame) != n:
            raise RuntimeError(f"SDV returned {len(frame)} rows for {n} requested")
        return _cast(frame.reset_index(drop=True), self._schema)

    def privacy(self) -> PrivacySpend:
        """The non-private record (epsilon = inf)."""
        if self._spend is None:
            raise RuntimeError("call fit() before privacy()")
        return self._spend


def _cast(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """SDV output back to our dtypes, inside the public domain."""
    out: dict[str, Any] = {}
    for name, spec in schema.columns.items():
        col = frame[name]
        if spec.type == "categorical":
            values = col.map(lambda v: v.item() if isinstance(v, np.generic) else v)
            out[name] = pd.Categorical(values, categories=spec.categories)
            if out[name].isna().any():
                raise RuntimeError(f"SDV produced values outside the categories of {name!r}")
        else:
            assert spec.min is not None and spec.max is not None
            vals = pd.to_numeric(col).to_numpy(dtype=np.float64)
            if spec.type == "integer":
                lo, hi = math.ceil(spec.min), math.floor(spec.max)
                out[name] = np.clip(np.round(vals), lo, hi).astype("int64")
            else:
                out[name] = np.clip(vals, spec.min, spec.max)
    return pd.DataFrame(out)


def _silence_sdv() -> None:
    """Filter SDV's and RDT's known noisy warnings by message (never wholesale)."""
    for message in (
        "Downcasting object dtype arrays",
        "We strongly recommend saving the metadata",
        "The 'SingleTableMetadata' is deprecated",
        ".*is_sparse is deprecated",
    ):
        warnings.filterwarnings("ignore", message=message)
