import hashlib
import re

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import DatasetError, SchemaError
from governance.datasets.encoding import PublicEncoder
from governance.datasets.loader import read_table, sha256_file
from governance.datasets.schema import parse_schema, schema_from_yaml
from governance.datasets.splits import SplitFractions, legacy_split, make_split
from tests.utils.data import MIXED_SCHEMA, mixed_table


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.csv", b"", "is empty"),
        ("header.csv", b"a,b\n", "no data rows"),
        ("ragged.csv", b"a,b\n1,2\n1,2,3,4\n", "not a well-formed CSV"),
        ("noname.csv", b"a,\n1,2\n", "without a header name"),
        ("data.xlsx", b"junk", "give a .csv or .parquet"),
        ("broken.parquet", b"not parquet", "could not be read"),
    ],
)
def test_read_table_errors_name_the_fix(tmp_path, name, content, needle):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=needle):
        read_table(path)


def test_read_table_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_table(tmp_path / "missing.csv")


def test_read_table_csv_and_parquet_agree(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.csv"),
                                  read_table(tmp_path / "t.parquet"))


def test_sha256_file_known_answer(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    assert sha256_file(path) == hashlib.sha256(b"abc").hexdigest()


def test_split_is_seeded_disjoint_and_complete():
    a, b, c = make_split(1000, seed=7), make_split(1000, seed=7), make_split(1000, seed=8)
    assert a.sha256 == b.sha256 != c.sha256
    allidx = np.concatenate([a.train, a.holdout, a.validation, a.eval])
    assert sorted(allidx.tolist()) == list(range(1000))
    assert a.sizes() == {"train": 500, "holdout": 200, "validation": 150, "eval": 150}


def test_split_fractions_are_honoured():
    # Run
    split = make_split(1000, seed=0, fractions=SplitFractions(holdout=0.1, validation=0.2,
                                                              eval=0.3))

    # Assert
    assert split.sizes() == {"train": 400, "holdout": 100, "validation": 200, "eval": 300}
    assert split.sha256 != make_split(1000, seed=0).sha256


def test_split_refuses_tiny_tables():
    with pytest.raises(DatasetError, match=r"the validation split gets 9 rows, fewer than 10; "
                                           r"at least 67 rows are needed"):
        make_split(60, seed=0)
    assert make_split(67, seed=0).sizes() == {"train": 34, "holdout": 13, "validation": 10,
                                              "eval": 10}


@pytest.mark.parametrize(("fractions", "needle"), [
    ({"holdout": 0.5, "validation": 0.3, "eval": 0.3}, "must stay below 1"),
    ({"holdout": 0.5, "validation": 0.25, "eval": 0.25}, "must stay below 1"),
    ({"holdout": 0.0, "validation": 0.2, "eval": 0.2}, "splits.holdout: Input should be greater "
                                                       "than 0"),
    ({"holdout": 0.2, "validation": 1.0, "eval": 0.2}, "splits.validation: Input should be less "
                                                       "than 1"),
    ({"holdout": 0.2, "validation": 0.2, "eval": "half"}, "splits.eval: Input should be a "
                                                          "valid number"),
    ({"holdout": 0.2, "test": 0.2}, "splits.test: Extra inputs are not permitted"),
])
def test_schema_split_fractions_are_validated(fractions, needle):
    # Setup
    data = {"columns": {"x": {"type": "numeric", "min": 0, "max": 1}}, "splits": fractions}

    # Run / Assert
    with pytest.raises(SchemaError, match=re.escape(needle)):
        parse_schema(data, source="s.yaml")


def test_schema_sets_the_split_and_round_trips():
    # Setup
    data = {"columns": {"x": {"type": "numeric", "min": 0, "max": 1}},
            "splits": {"holdout": 0.25, "validation": 0.1, "eval": 0.1}}

    # Run
    schema = parse_schema(data)
    again = schema_from_yaml(schema.to_yaml())

    # Assert
    assert again == schema and schema.splits is not None
    assert schema.splits.as_tuple() == (0.55, 0.25, 0.1, 0.1)
    assert "splits" not in MIXED_SCHEMA.to_yaml()  # unchanged text (and hash) without it


def test_legacy_split_keeps_train_and_holdout_and_divides_old_eval():
    # Setup: the three-way split datasets were registered with before validation existed.
    perm = np.random.default_rng(5).permutation(1000)
    old = {"train": np.sort(perm[:500]), "holdout": np.sort(perm[500:750]),
           "eval": np.sort(perm[750:])}
    h = hashlib.sha256(b"governance.split.v1\x00")
    for part in old.values():
        h.update(len(part).to_bytes(8, "little"))
        h.update(part.astype(np.int64).tobytes())

    # Run
    split = legacy_split(1000, seed=5)

    # Assert
    assert split.legacy_sha256 == split.recorded_sha256 == h.hexdigest()
    assert np.array_equal(split.train, old["train"])
    assert np.array_equal(split.holdout, old["holdout"])
    assert sorted(np.concatenate([split.validation, split.eval]).tolist()) == \
        old["eval"].tolist()
    assert (len(split.validation), len(split.eval)) == (125, 125)


def test_encoder_round_trips_within_the_public_domain():
    # Setup
    frame = mixed_table(200)
    enc = PublicEncoder(MIXED_SCHEMA)

    # Run
    matrix = enc.encode(frame)
    back = enc.decode(matrix)

    # Assert
    assert matrix.shape == (200, enc.width) and enc.width == 3 + 2 + 4 + 2
    assert matrix.min() >= 0 and matrix.max() <= 1
    assert (back["sex"] == frame["sex"]).all() and (back["edu"] == frame["edu"]).all()
    np.testing.assert_allclose(back["income"], frame["income"], rtol=1e-5, atol=0.1)
    assert (back["age"] == frame["age"]).all()


def test_encoder_reads_no_statistic_of_the_data():
    # An encoder is a function of the schema alone: two different tables give the same map.
    enc = PublicEncoder(MIXED_SCHEMA)
    one = enc.encode(mixed_table(5, seed=1).iloc[:1])
    again = PublicEncoder(MIXED_SCHEMA).encode(pd.concat([mixed_table(5, seed=1).iloc[:1]] * 3))
    np.testing.assert_array_equal(one[0], again[0])


def test_decode_never_leaves_the_domain_even_by_an_ulp():
    from governance.datasets.schema import Schema

    schema = Schema.model_validate({"columns": {"x": {"type": "numeric", "min": 8851.97,
                                                       "max": 118145.123456789}}})
    enc = PublicEncoder(schema)
    out = enc.decode(np.ones((1000, 1), dtype=np.float32) * np.float32(1.0))
    assert out["x"].max() <= 118145.123456789 and out["x"].min() >= 8851.97
