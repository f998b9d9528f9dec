"""Chance levels: known answers, and each equals its metric on the predictor it names."""

from __future__ import annotations

import numpy as np
import pytest

from governance.core.errors import InputError
from governance.evaluation import (
    MAE,
    R2,
    RMSE,
    ROCAUC,
    SMAPE,
    Accuracy,
    BrierScore,
    ExpectedCalibrationError,
    Goal,
    MacroF1,
    MicroF1,
    PairedBootstrap,
    RarestClassRecall,
    TaskSpec,
)
from tests.utils.data import MIXED_SCHEMA

# 10 labels over 3 classes: shares 0.6, 0.3, 0.1.
Y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
K = 3


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (ROCAUC, 0.5),
        (Accuracy, 0.6),                      # majority share
        (MicroF1, 0.6),                       # micro F1 is accuracy
        (MacroF1, 1 / 3),                     # stratified guess: 1 / K present classes
        (RarestClassRecall, 0.1),             # share of the rarest class
        (BrierScore, (1 - 0.36 - 0.09 - 0.01) / 3),
    ],
)
def test_classification_chance_known_answers(metric, expected) -> None:
    # Run / Assert
    assert metric.chance(Y, n_classes=K) == pytest.approx(expected)


def test_chance_is_the_metric_of_the_uninformative_predictor() -> None:
    # Setup: always the majority class; the class shares on every row; a constant score.
    majority = np.tile([1.0, 0.0, 0.0], (len(Y), 1))
    shares = np.tile([0.6, 0.3, 0.1], (len(Y), 1))

    # Run / Assert
    assert Accuracy.compute(Y, majority) == Accuracy.chance(Y, n_classes=K)
    assert MicroF1.compute(Y, majority) == pytest.approx(MicroF1.chance(Y, n_classes=K))
    assert BrierScore.compute(Y, shares) == pytest.approx(BrierScore.chance(Y, n_classes=K))
    assert ROCAUC.compute(Y, shares) == ROCAUC.chance(Y, n_classes=K)


def test_macro_f1_chance_is_the_larger_of_guessing_and_one_class() -> None:
    # Setup: always-one-class macro F1 for each class (the metric itself computes it).
    constant = [MacroF1.compute(Y, np.tile(np.eye(K)[c], (len(Y), 1))) for c in range(K)]
    # A large stratified guess, to check the expected-count formula.
    rng = np.random.default_rng(0)
    y_big = rng.choice(3, 60_000, p=[0.6, 0.3, 0.1])
    guess = np.eye(K)[rng.choice(3, 60_000, p=[0.6, 0.3, 0.1])]

    # Run
    chance = MacroF1.chance(Y, n_classes=K)

    # Assert: 2q / ((1 + q) K) = 1.2 / 1.6 / 3 = 0.25 for the majority, below 1 / 3.
    assert max(constant) == pytest.approx(0.25)
    assert chance == pytest.approx(1 / 3) and chance >= max(constant)
    assert MacroF1.compute(y_big, guess) == pytest.approx(1 / 3, abs=0.01)
    # Binary: the stratified 0.5 beats the all-positive macro F1 p / (1 + p).
    yb = np.array([0, 1, 1, 1])
    all_positive = MacroF1.compute(yb, np.tile([0.0, 1.0], (4, 1)))
    assert all_positive == pytest.approx(0.75 / 1.75)
    assert MacroF1.chance(yb, n_classes=2) == 0.5


def test_regression_chance_is_the_constant_predictor() -> None:
    # Setup
    y = np.array([1.0, 2.0, 2.0, 7.0])

    # Run / Assert
    assert R2.chance(y) == 0.0 == pytest.approx(R2.compute(y, np.full(4, y.mean())))
    assert RMSE.chance(y) == pytest.approx(RMSE.compute(y, np.full(4, y.mean())))
    assert RMSE.chance(y) == pytest.approx(np.std(y))
    assert MAE.chance(y) == pytest.approx(MAE.compute(y, np.full(4, 2.0)))  # the median
    assert SMAPE.chance(y) == pytest.approx(SMAPE.compute(y, np.full(4, 2.0)))


@pytest.mark.parametrize("metric", [Accuracy, MacroF1, MicroF1, RarestClassRecall, BrierScore])
def test_weighted_chance_equals_repeated_rows(metric) -> None:
    # Setup
    rng = np.random.default_rng(3)
    y, w = rng.integers(0, 3, 40), rng.integers(0, 4, 40)

    # Run
    weighted = metric.chance_weighted(y, w[None, :].astype(float), n_classes=3)[0]

    # Assert
    assert weighted == pytest.approx(metric.chance(np.repeat(y, w), n_classes=3))


def test_ece_has_no_chance_level_and_cannot_be_primary() -> None:
    # Run / Assert
    assert ExpectedCalibrationError.chance_rule is None
    assert np.isnan(ExpectedCalibrationError.chance(Y, n_classes=K))
    with pytest.raises(InputError, match="'ece' has no chance level"):
        TaskSpec(target="label", metric="ece").resolve(MIXED_SCHEMA)


def test_the_released_coin_is_below_chance_not_at_three_quarters() -> None:
    # Setup: the audit's case, TSTR ROC AUC 0.498 against a control of 0.675.
    plan = PairedBootstrap(10, n_boot=10, seed=0)
    one = np.ones(10)

    # Run
    raw = plan.ratio(Goal.MAXIMIZE, 0.498, 0.498 * one, 0.675, 0.675 * one)
    above = plan.ratio_above_chance(Goal.MAXIMIZE, 0.498, 0.498 * one, 0.675, 0.675 * one,
                                    0.5, 0.5 * one)

    # Assert
    assert raw.value == pytest.approx(0.7378, abs=1e-4)
    assert above.value == pytest.approx(-0.002 / 0.175)


@pytest.mark.parametrize(
    ("goal", "cand", "ctrl", "chance", "expected"),
    [(Goal.MAXIMIZE, 0.8, 0.9, 0.5, 0.75),     # ROC AUC: 0.3 of the control's 0.4
     (Goal.MAXIMIZE, 0.7, 0.8, 0.6, 0.5),      # accuracy over a 0.6 majority
     (Goal.MINIMIZE, 0.9, 0.6, 1.0, 0.25),     # RMSE: 0.1 of the control's 0.4 below sd
     (Goal.MAXIMIZE, 0.55, 0.5, 0.5, None),    # the control is at chance: undefined
     (Goal.MINIMIZE, 0.9, 1.1, 1.0, None)],    # an error above the chance level's
)
def test_ratio_above_chance_orientation(goal, cand, ctrl, chance, expected) -> None:
    # Setup
    plan = PairedBootstrap(10, n_boot=10, seed=0)
    one = np.ones(10)

    # Run
    iv = plan.ratio_above_chance(goal, cand, cand * one, ctrl, ctrl * one, chance, chance * one)

    # Assert
    assert iv.value == (pytest.approx(expected) if expected is not None else None)
    if expected is not None:
        assert iv.ci_low == pytest.approx(expected) == iv.ci_high
