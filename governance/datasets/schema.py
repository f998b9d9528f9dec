"""Table schemas whose column domains are declared public.

A schema says, for every column, its type and its *public* domain: numeric bounds or
the full category list. Everything downstream that needs a domain (encodings,
generators, attacks) reads it from here and never from the private data, so the
privacy accounting stays honest.

A schema drafted from the data (``infer_schema``) is marked ``data_derived``; any DP
candidate built on it records that its preprocessing is not private.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from governance.core.errors import DatasetError, SchemaError, UnknownColumnError
from governance.core.yamlsafe import describe, safe_load
from governance.datasets.splits import SplitFractions

ColumnType = Literal["numeric", "integer", "categorical"]
Category = str | int | float | bool


class ColumnSpec(BaseModel):
    """One column: its type and its public domain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ColumnType
    min: float | None = None
    max: float | None = None
    categories: list[Category] | None = None

    @model_validator(mode="after")
    def _domain_matches_type(self) -> ColumnSpec:
        if self.type == "categorical":
            if not self.categories:
                raise ValueError("a categorical column needs a non-empty 'categories' list")
            if len(set(map(_category_key, self.categories))) != len(self.categories):
                raise ValueError("'categories' has duplicates")
            if self.min is not None or self.max is not None:
                raise ValueError("a categorical column takes 'categories', not 'min'/'max'")
        else:
            if self.min is None or self.max is None:
                raise ValueError(f"a {self.type} column needs both 'min' and 'max' bounds")
            if not (math.isfinite(self.min) and math.isfinite(self.max)):
                raise ValueError("'min' and 'max' must be finite numbers")
            if self.min >= self.max:
                raise ValueError(f"'min' ({self.min}) must be below 'max' ({self.max})")
            if self.categories is not None:
                raise ValueError(f"a {self.type} column takes 'min'/'max', not 'categories'")
        return self


class Schema(BaseModel):
    """The columns of a table with their public domains, and optionally its split.

    ``splits`` sets the shares of holdout, validation and eval rows (train gets the
    rest); absent, the defaults of ``datasets.splits.DEFAULT_FRACTIONS`` apply.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, ColumnSpec]
    data_derived: bool = False
    description: str | None = None
    splits: SplitFractions | None = None

    @model_validator(mode="after")
    def _has_columns(self) -> Schema:
        if not self.columns:
            raise ValueError("a schema needs at least one column")
        return self

    @property
    def names(self) -> list[str]:
        """Column names in schema order."""
        return list(self.columns)

    def require(self, column: str) -> ColumnSpec:
        """Return a column's spec or raise ``UnknownColumnError`` listing the known ones."""
        if column not in self.columns:
            raise UnknownColumnError(
                f"unknown column {column!r}; the table has: {', '.join(self.names)}"
            )
        return self.columns[column]

    def to_yaml(self) -> str:
        """Serialise as YAML that ``load_schema`` reads back."""
        return yaml.safe_dump(self.model_dump(exclude_none=True), sort_keys=False)


def _category_key(value: Any) -> str:
    return f"{type(value).__name__}:{value}"


def parse_schema(data: Any, *, source: str = "schema") -> Schema:
    """Validate a parsed YAML/JSON mapping as a schema.

    Raises:
        SchemaError: naming every invalid field.
    """
    try:
        return Schema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SchemaError(f"{source} is not a valid schema: {problems}") from None


def schema_from_yaml(text: str, *, source: str = "schema") -> Schema:
    """Parse and validate schema YAML text (e.g. the copy a dataset was registered with).

    Raises:
        SchemaError: when the text is not YAML or not a valid schema.
    """
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        raise SchemaError(f"{source} is not valid YAML: {describe(exc)}") from None
    return parse_schema(data, source=source)


def load_schema(path: str | Path) -> Schema:
    """Read a schema YAML file.

    Raises:
        SchemaError: when the file is missing, not YAML, or not a valid schema.
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"schema file {str(path)!r} does not exist")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"schema file {str(path)!r} is not UTF-8 text (byte {exc.start}); "
                          "save it as UTF-8") from None
    return schema_from_yaml(text, source=f"schema file {str(path)!r}")


def infer_schema(frame: pd.DataFrame, *, max_categories: int = 50) -> Schema:
    """Draft a schema from the data itself, marked ``data_derived``.

    The draft reads min/max and category lists from the private values, so it is not
    a public domain: any candidate built on it records non-private preprocessing.
    Review it and replace the bounds with public ones before relying on DP claims.
    """
    columns: dict[str, ColumnSpec] = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col) or (
            not pd.api.types.is_numeric_dtype(col) or col.nunique() <= min(2, max_categories)
        ):
            cats = sorted(_py(v) for v in col.dropna().unique())
            if len(cats) > max_categories:
                raise SchemaError(
                    f"column {name!r} has {len(cats)} distinct text values, more than "
                    f"{max_categories}; give a schema file with --schema, or drop the column"
                )
            columns[str(name)] = ColumnSpec(type="categorical", categories=cats)
        else:
            is_int = pd.api.types.is_integer_dtype(col)
            lo, hi = float(col.min()), float(col.max())
            if lo == hi:
                hi = lo + 1.0
            columns[str(name)] = ColumnSpec(
                type="integer" if is_int else "numeric", min=lo, max=hi
            )
    return Schema(columns=columns, data_derived=True,
                  description="drafted from the data by --infer-schema: bounds are NOT public")


def _py(value: Any) -> Category:
    if isinstance(value, np.generic):
        return value.item()
    return value


def conform(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Check a table against its schema and return it with the schema's column order.

    Raises:
        DatasetError: for missing or extra columns, missing values, non-numeric values in
            numeric columns and values outside the public domain; the message names the
            column, an example value and the fix.
    """
    if frame.empty:
        raise DatasetError("the table has no rows; register a file with at least one data row")
    missing = [c for c in schema.names if c not in frame.columns]
    if missing:
        raise DatasetError(
            f"the table lacks schema column(s) {', '.join(map(repr, missing))}; "
            f"the table has {', '.join(map(str, frame.columns))}"
        )
    extra = [str(c) for c in frame.columns if c not in schema.columns]
    if extra:
        raise DatasetError(
            f"column(s) {', '.join(map(repr, extra))} are not in the schema; add them to the "
            "schema with a public domain or drop them from the file"
        )
    out = frame[schema.names].copy()
    for name, spec in schema.columns.items():
        col = out[name]
        if col.isna().any():
            n = int(col.isna().sum())
            raise DatasetError(
                f"column {name!r} has {n} missing value(s); fill or drop them, or model "
                "'missing' as an explicit category"
            )
        if spec.type == "categorical":
            allowed = {_category_key(c) for c in spec.categories or []}
            keys = col.map(lambda v: _category_key(_py(v)))
            bad = ~keys.isin(allowed)
            if bad.any():
                example = col[bad].iloc[0]
                raise DatasetError(
                    f"column {name!r} has {int(bad.sum())} value(s) outside the schema's "
                    f"categories (e.g. {_py(example)!r}); add them to the schema's category "
                    "list or clean the data"
                )
            out[name] = pd.Categorical(col.map(_py), categories=spec.categories)
        else:
            numeric = pd.to_numeric(col, errors="coerce")
            if numeric.isna().any():
                example = col[numeric.isna()].iloc[0]
                raise DatasetError(
                    f"column {name!r} is declared {spec.type} but holds non-numeric value "
                    f"{example!r}; fix the data or declare the column categorical"
                )
            assert spec.min is not None and spec.max is not None
            bad = (numeric < spec.min) | (numeric > spec.max)
            if bad.any():
                raise DatasetError(
                    f"column {name!r} has {int(bad.sum())} value(s) outside the public domain "
                    f"[{spec.min:g}, {spec.max:g}] (e.g. {numeric[bad].iloc[0]:g}); widen the "
                    "schema's bounds or clean the data"
                )
            if spec.type == "integer":
                if not np.allclose(numeric, np.round(numeric)):
                    raise DatasetError(
                        f"column {name!r} is declared integer but holds fractional values; "
                        "declare it numeric"
                    )
                out[name] = np.round(numeric).astype("int64")
            else:
                out[name] = numeric.astype("float64")
    return out.reset_index(drop=True)


def to_plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with categorical columns turned back into plain object/number columns."""
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype(object)
    return out
