import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from governance.attacks.matching import duplicate_rate, exact_match_mask, row_keys
from governance.attacks.neighbors import (
    encode_for_distance,
    nearest_distances,
    nearest_neighbours,
)
from governance.core.errors import InputError
from governance.datasets.encoding import PublicEncoder
from governance.datasets.schema import Schema, conform
from tests.utils.data import MIXED_SCHEMA, mixed_table

SMALL = Schema.model_validate({"columns": {
    "x": {"type": "numeric", "min": 0, "max": 10},
    "n": {"type": "integer", "min": 0, "max": 5},
    "c": {"type": "categorical", "categories": ["a", "b", "c"]},
}})


@pytest.mark.parametrize("block_bytes", [1024, 16 * 1024, 256 * 2**20])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_nearest_distances_equal_brute_force_cdist(block_bytes, k):
    # Setup: small blocks force many query chunks and several reference chunks
    rng = np.random.default_rng(k)
    queries = rng.random((211, 9), dtype=np.float32)
    reference = rng.random((347, 9), dtype=np.float32)
    brute = cdist(queries.astype(np.float64), reference.astype(np.float64))
    # Run
    dist, index = nearest_neighbours(queries, reference, k, block_bytes=block_bytes)
    # Assert
    assert dist.shape == (211, k)
    np.testing.assert_allclose(dist, np.sort(brute, axis=1)[:, :k], atol=1e-6)
    np.testing.assert_allclose(np.take_along_axis(brute, index, axis=1), dist, atol=1e-6)


def test_identical_rows_are_exactly_zero_apart():
    # Setup: large norms, where a float32 ||a||^2 + ||b||^2 - 2ab alone would not give 0
    rng = np.random.default_rng(0)
    reference = rng.random((500, 40), dtype=np.float32) * 3
    queries = reference[::5].copy()
    # Run
    dist = nearest_distances(queries, reference, k=1)
    # Assert
    assert (dist[:, 0] == 0.0).all()


def test_one_category_mismatch_contributes_one_to_squared_distance():
    # Setup: same numerics, different category
    enc = PublicEncoder(SMALL)
    a = conform(pd.DataFrame({"x": [5.0], "n": [2], "c": ["a"]}), SMALL)
    b = conform(pd.DataFrame({"x": [5.0], "n": [2], "c": ["c"]}), SMALL)
    # Run
    d = nearest_distances(encode_for_distance(a, enc), encode_for_distance(b, enc))
    # Assert: 2 x (1/sqrt 2)^2 = 1, up to float32 rounding of 1/sqrt(2)
    assert d[0, 0] ** 2 == pytest.approx(1.0, abs=1e-6)


def test_numeric_distance_is_scaled_by_public_bounds():
    # Setup: x differs by 5 on a public range of 10
    enc = PublicEncoder(SMALL)
    a = conform(pd.DataFrame({"x": [0.0], "n": [0], "c": ["b"]}), SMALL)
    b = conform(pd.DataFrame({"x": [5.0], "n": [0], "c": ["b"]}), SMALL)
    # Run
    d = nearest_distances(encode_for_distance(a, enc), encode_for_distance(b, enc))
    # Assert
    assert d[0, 0] == pytest.approx(0.5)


@pytest.mark.parametrize("queries, reference, k", [
    (np.zeros((3, 2)), np.zeros((3, 3)), 1),
    (np.zeros((3, 2)), np.zeros((1, 2)), 2),
    (np.zeros((3, 2)), np.zeros((4, 2)), 0),
    (np.full((3, 2), np.nan), np.zeros((4, 2)), 1),
])
def test_nearest_distances_rejects_bad_input(queries, reference, k):
    # Run / Assert
    with pytest.raises(InputError):
        nearest_distances(queries, reference, k)


def test_exact_match_and_duplicate_rate_on_hand_made_frames():
    # Setup
    members = conform(pd.DataFrame(
        {"x": [1.0, 2.0, 3.0], "n": [1, 2, 3], "c": ["a", "b", "c"]}), SMALL)
    nonmembers = conform(pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 3.0], "n": [1, 2, 3, 3], "c": ["a", "c", "c", "b"]}), SMALL)
    # Run
    mask = exact_match_mask(nonmembers, members, SMALL)
    rate = duplicate_rate(nonmembers, members, SMALL)
    # Assert: rows 0 and 2 duplicate a member; row 1 differs in c, row 3 in c
    assert mask.tolist() == [True, False, True, False]
    assert rate == 0.5


def test_exact_match_is_not_a_distance_threshold():
    # Setup: values 1e-12 apart are at float32 distance 0 but are not copies
    a = conform(pd.DataFrame({"x": [1.0], "n": [1], "c": ["a"]}), SMALL)
    b = conform(pd.DataFrame({"x": [1.0 + 1e-12], "n": [1], "c": ["a"]}), SMALL)
    enc = PublicEncoder(SMALL)
    # Run
    mask = exact_match_mask(a, b, SMALL)
    dist = nearest_distances(encode_for_distance(a, enc), encode_for_distance(b, enc))
    # Assert
    assert dist[0, 0] == 0.0
    assert mask.tolist() == [False]


def test_row_keys_ignore_dtype_and_signed_zero():
    # Setup: plain object column vs conformed categorical, -0.0 vs 0.0
    plain = pd.DataFrame({"x": [-0.0], "n": [0], "c": ["b"]})
    conformed = conform(pd.DataFrame({"x": [0.0], "n": [0], "c": ["b"]}), SMALL)
    # Run / Assert
    assert row_keys(plain, SMALL)[0] == row_keys(conformed, SMALL)[0]


def test_mixed_table_rows_have_no_duplicates():
    # Setup: the controls rely on unique rows
    rows = mixed_table(3000, seed=0)
    # Run / Assert
    assert duplicate_rate(rows[1500:], rows[:1500], MIXED_SCHEMA) == 0.0
