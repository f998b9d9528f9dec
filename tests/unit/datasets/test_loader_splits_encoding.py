import hashlib

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import DatasetError
from governance.datasets.encoding import PublicEncoder
from governance.datasets.loader import read_table, sha256_file
from governance.datasets.splits import make_split
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
    allidx = np.concatenate([a.train, a.holdout, a.eval])
    assert sorted(allidx.tolist()) == list(range(1000))
    assert (len(a.train), len(a.holdout), len(a.eval)) == (500, 250, 250)


def test_split_refuses_tiny_tables():
    with pytest.raises(DatasetError, match="at least 80 are needed"):
        make_split(50, seed=0)


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
