import numpy as np
import pandas as pd
import pytest

from governance.core.errors import DatasetError, SchemaError, UnknownColumnError
from governance.datasets.schema import conform, infer_schema, load_schema, parse_schema
from tests.utils.data import MIXED_SCHEMA, mixed_table, randhie, randhie_schema


def test_bundled_randhie_conforms_to_its_public_schema():
    # Run
    frame = randhie()

    # Assert
    assert frame.shape == (20190, 10)
    assert list(frame.columns) == randhie_schema().names
    assert frame["mdvis"].dtype == np.int64
    assert isinstance(frame["idp"].dtype, pd.CategoricalDtype)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"type": "numeric", "min": 1}, "needs both 'min' and 'max'"),
        ({"type": "numeric", "min": 5, "max": 1}, "must be below"),
        ({"type": "categorical"}, "non-empty 'categories'"),
        ({"type": "categorical", "categories": ["a", "a"]}, "duplicates"),
        ({"type": "numeric", "min": 0, "max": 1, "categories": ["a"]}, "not 'categories'"),
        ({"type": "text"}, "type"),
        ({"type": "numeric", "min": 0, "max": 1, "mx": 3}, "mx"),
    ],
)
def test_invalid_column_specs_are_named(spec, needle):
    with pytest.raises(SchemaError) as err:
        parse_schema({"columns": {"x": spec}})
    assert needle in str(err.value)
    assert "columns.x" in str(err.value)


def test_load_schema_reports_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(SchemaError, match="does not exist"):
        load_schema(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {x: [unclosed\n")
    with pytest.raises(SchemaError, match="not valid YAML"):
        load_schema(bad)


def test_conform_rejects_values_outside_the_public_domain():
    # Setup
    frame = mixed_table(50).astype({"sex": object, "edu": object, "label": object})
    frame.loc[3, "age"] = 120

    # Run / Assert
    with pytest.raises(DatasetError, match=r"column 'age' has 1 value\(s\) outside .*widen"):
        conform(frame, MIXED_SCHEMA)


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda f: f.assign(edu=f["edu"].astype(object).where(f.index != 0, "phd")), "phd"),
        (lambda f: f.drop(columns=["hours"]), "lacks schema column"),
        (lambda f: f.assign(extra=1), "not in the schema"),
        (lambda f: f.assign(income=f["income"].astype(object).where(f.index != 0, "abc")),
         "non-numeric"),
        (lambda f: f.assign(age=f["age"].astype(float).where(f.index != 0, np.nan)),
         "missing value"),
        (lambda f: f.assign(age=f["age"] + 0.5), "fractional"),
        (lambda f: f.iloc[:0], "no rows"),
    ],
)
def test_conform_names_the_problem(mutate, needle):
    frame = mutate(mixed_table(30).astype({"sex": object, "edu": object, "label": object}))
    with pytest.raises(DatasetError, match=needle):
        conform(frame, MIXED_SCHEMA)


def test_infer_schema_is_marked_data_derived():
    # Run
    schema = infer_schema(pd.DataFrame({"a": [1, 2, 3, 9], "b": ["x", "y", "x", "z"]}))

    # Assert
    assert schema.data_derived is True
    assert "NOT public" in (schema.description or "")
    assert schema.columns["a"].min == 1 and schema.columns["a"].max == 9
    assert schema.columns["b"].categories == ["x", "y", "z"]


def test_require_lists_known_columns():
    with pytest.raises(UnknownColumnError, match="the table has: age, income"):
        MIXED_SCHEMA.require("salary")


def test_schema_yaml_round_trip():
    assert parse_schema(__import__("yaml").safe_load(MIXED_SCHEMA.to_yaml())) == MIXED_SCHEMA
