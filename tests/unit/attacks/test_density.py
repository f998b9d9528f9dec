import numpy as np
import pytest
from scipy import stats

from governance.attacks.membership.density import (
    DomiasAttack,
    GaussianKDE,
    density_columns,
    scott_factor,
)
from governance.datasets.encoding import PublicEncoder
from tests.utils.data import MIXED_SCHEMA, mixed_table


@pytest.mark.parametrize("block_bytes", [64 * 1024, 256 * 2**20])
def test_kde_matches_scipy_gaussian_kde(block_bytes):
    # Setup: scipy's estimator uses the same Scott factor and data covariance
    rng = np.random.default_rng(0)
    data = rng.multivariate_normal([0, 1, 2], [[1, 0.5, 0], [0.5, 2, 0.3], [0, 0.3, 0.5]], 400)
    points = rng.normal(size=(60, 3)) * 2
    # Run
    ours = GaussianKDE(data, block_bytes=block_bytes).logpdf(points)
    # Assert
    np.testing.assert_allclose(ours, stats.gaussian_kde(data.T).logpdf(points.T), atol=1e-4)


def test_kde_far_from_the_data_does_not_underflow():
    # Setup: every kernel at this point is below float32's smallest normal number
    rng = np.random.default_rng(1)
    data = rng.normal(size=(300, 2))
    far = np.array([[60.0, -60.0]])
    # Run
    ours = GaussianKDE(data).logpdf(far)
    # Assert
    assert ours[0] == pytest.approx(stats.gaussian_kde(data.T).logpdf(far.T)[0], rel=1e-5)


def test_kde_floors_directions_without_spread():
    # Setup: a constant column makes the covariance singular
    rng = np.random.default_rng(2)
    data = np.c_[rng.normal(size=(200, 2)), np.zeros(200)]
    # Run
    kde = GaussianKDE(data)
    # Assert
    assert kde.floored == 1
    assert np.isfinite(kde.logpdf(data[:5])).all()


def test_scott_factor():
    # Run / Assert: n^(-1/(d+4))
    assert scott_factor(1000, 6) == pytest.approx(1000 ** (-0.1))


def test_density_columns_drop_one_column_per_onehot_block():
    # Setup: age, income, hours numeric; sex(2), edu(4), label(2) one-hot
    enc = PublicEncoder(MIXED_SCHEMA)
    # Run
    cols = density_columns(enc)
    # Assert
    assert len(cols) == enc.width - 3


def test_domias_catches_copies_of_a_small_training_set():
    # Setup: 200 members copied verbatim, a 2000-row real reference
    table = mixed_table(4400, seed=3)
    members, nonmembers, reference = table[:200], table[200:400], table[400:2400]
    # Run
    result = DomiasAttack(members, members, nonmembers, MIXED_SCHEMA,
                          reference=reference).evaluate().results()
    # Assert
    assert result.auc > 0.75
    assert any("Scott factor" in note for note in result.notes)


def test_domias_null_control_is_at_chance():
    # Setup: "synthetic" rows are fresh real rows
    table = mixed_table(8000, seed=4)
    members, nonmembers, fresh, reference = (table[:2000], table[2000:4000],
                                             table[4000:6000], table[6000:])
    # Run
    result = DomiasAttack(members, fresh, nonmembers, MIXED_SCHEMA,
                          reference=reference).evaluate().results()
    # Assert
    assert abs(result.auc - 0.5) <= 0.03
    assert result.epsilon_estimate == 0.0
