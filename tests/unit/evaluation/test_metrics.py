"""Known answers for every downstream metric on tiny hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

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
    RarestClassRecall,
    confusion_matrix,
    get_metric,
    metrics_for,
    per_class_precision_recall,
)
from governance.evaluation.downstream.calibration import calibration_bins

# Tiny multiclass case: 5 rows, 3 classes. Arg-max predictions are [0, 1, 1, 2, 0].
Y3 = np.array([0, 1, 2, 2, 0])
P3 = np.array([
    [0.7, 0.2, 0.1],
    [0.1, 0.8, 0.1],
    [0.3, 0.4, 0.3],
    [0.1, 0.1, 0.8],
    [0.5, 0.25, 0.25],
])
# Tiny binary case: scores for the positive class; positives at 0.35 and 0.8.
YB = np.array([0, 0, 1, 1])
PB = np.c_[1 - np.array([0.1, 0.4, 0.35, 0.8]), np.array([0.1, 0.4, 0.35, 0.8])]


@pytest.mark.parametrize(
    ("metric", "y", "p", "expected"),
    [
        # 4 of 5 arg-max predictions are right.
        (Accuracy, Y3, P3, 0.8),
        # class 0: TP2 FP0 FN0 -> 1; class 1: TP1 FP1 FN0 -> 2/3; class 2: TP1 FP0 FN1 -> 2/3.
        (MacroF1, Y3, P3, (1 + 2 / 3 + 2 / 3) / 3),
        # pooled TP=4, FP=1, FN=1 -> 8/10.
        (MicroF1, Y3, P3, 0.8),
        # rarest class is 1 (one row), which is predicted correctly.
        (RarestClassRecall, Y3, P3, 1.0),
        # pairs (pos, neg): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 -> 3/4.
        (ROCAUC, YB, PB, 0.75),
        # binary arg-max at 0.5: predictions [0, 0, 0, 1] -> 3 of 4 right.
        (Accuracy, YB, PB, 0.75),
        # rarest class: tie of 2 vs 2 -> lowest code (0); both negatives predicted 0.
        (RarestClassRecall, YB, PB, 1.0),
    ],
)
def test_classification_known_answers(metric, y, p, expected) -> None:
    # Run
    value = metric.compute(y, p)

    # Assert
    assert value == pytest.approx(expected)


def test_multiclass_auc_is_one_vs_rest_macro() -> None:
    # Setup: per class, AUC of its probability column vs the rest, by hand. Row 2 is changed
    # so that class 2 has ties and a loss.
    p = P3.copy()
    p[2] = [0.3, 0.6, 0.1]
    # class 0: pos [.7,.5] vs neg [.1,.3,.1] -> 1. class 1: .8 vs [.2,.6,.1,.25] -> 1.
    # class 2: pos [.1,.8] vs neg [.1,.1,.25]: .1 ties two (0.5 each) and loses to .25 -> 1/3;
    # .8 beats all 3 -> 3; total 4/6.
    expected = (1 + 1 + 4 / 6) / 3

    # Run
    value = ROCAUC.compute(Y3, p)

    # Assert
    assert value == pytest.approx(expected)
    assert value == pytest.approx(skm.roc_auc_score(Y3, p, multi_class="ovr", average="macro"))


def test_ece_known_answer() -> None:
    # Setup: confidences .9, .9, .7 with hits 1, 0, 1. Bin (13/15, 14/15] holds two rows with
    # accuracy .5 and confidence .9 -> 2/3 * .4; bin (10/15, 11/15] one row, acc 1, conf .7
    # -> 1/3 * .3. ECE = 0.2667 + 0.1 = 0.3667.
    y = np.array([0, 1, 1])
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.3, 0.7]])

    # Run
    value = ExpectedCalibrationError.compute(y, p)

    # Assert
    assert value == pytest.approx(2 / 3 * 0.4 + 1 / 3 * 0.3)


@pytest.mark.parametrize(
    ("confidence", "expected_bin"),
    [(0.0, 0), (1 / 15, 0), (1 / 15 + 1e-9, 1), (0.5, 7), (1.0, 14)],
)
def test_ece_bins_are_right_closed(confidence: float, expected_bin: int) -> None:
    # Run / Assert
    assert calibration_bins(np.array([confidence]))[0] == expected_bin


def test_brier_binary_and_multiclass_convention() -> None:
    # Setup: binary rows (y=1, p1=.8) and (y=0, p1=.4): mean of (.2^2, .4^2) = 0.1.
    # Multiclass row y=2, p=(.2,.3,.5): mean over classes (.04+.09+.25)/3.
    y_bin, p_bin = np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]])
    y_multi, p_multi = np.array([2]), np.array([[0.2, 0.3, 0.5]])

    # Run
    binary = BrierScore.compute(y_bin, p_bin)
    multi = BrierScore.compute(y_multi, p_multi)

    # Assert
    assert binary == pytest.approx(0.1)
    assert binary == pytest.approx(skm.brier_score_loss(y_bin, p_bin[:, 1]))
    assert multi == pytest.approx((0.04 + 0.09 + 0.25) / 3)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        # errors: -1, 0, 3 (y - yhat = 1-2, 2-2, 4-1)
        (MAE, 4 / 3),
        (RMSE, np.sqrt(10 / 3)),
        # mean y = 7/3; SS_tot = (16+1+25)/9 = 42/9; SS_res = 10 -> 1 - 90/42
        (R2, 1 - 10 / (42 / 9)),
        # 2*1/3, 0, 2*3/5 averaged
        (SMAPE, (2 / 3 + 0 + 6 / 5) / 3),
    ],
)
def test_regression_known_answers(metric, expected: float) -> None:
    # Setup
    y, yhat = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 1.0])

    # Run / Assert
    assert metric.compute(y, yhat) == pytest.approx(expected)


def test_smape_counts_both_zero_as_zero() -> None:
    # Run / Assert: (0 + 2*2/4 + 0) / 3
    assert SMAPE.compute(np.array([0.0, 1.0, 2.0]), np.array([0.0, 3.0, 2.0])) == \
        pytest.approx(1 / 3)


def test_undefined_values_are_nan() -> None:
    # Run / Assert: AUC with one class and R2 with constant truth are undefined.
    assert np.isnan(ROCAUC.compute(np.array([1, 1]), np.array([[0.2, 0.8], [0.4, 0.6]])))
    assert np.isnan(R2.compute(np.array([3.0, 3.0]), np.array([1.0, 2.0])))


def test_confusion_matrix_and_per_class() -> None:
    # Setup
    labels = ["a", "b", "c"]

    # Run
    cm = confusion_matrix(Y3, P3, labels)
    per_class = per_class_precision_recall(Y3, P3, labels)

    # Assert: rows true, columns predicted; row 2 ('c') has one 'b' and one 'c'.
    assert cm == {"labels": labels, "matrix": [[2, 0, 0], [0, 1, 0], [0, 1, 1]]}
    assert per_class["a"] == {"precision": 1.0, "recall": 1.0, "support": 2}
    assert per_class["b"] == {"precision": 0.5, "recall": 1.0, "support": 1}
    assert per_class["c"] == {"precision": 1.0, "recall": 0.5, "support": 2}


def test_per_class_undefined_is_none() -> None:
    # Setup: class 'b' is never predicted and never true.
    y, p = np.array([0, 0]), np.array([[0.9, 0.1], [0.8, 0.2]])

    # Run
    per_class = per_class_precision_recall(y, p, ["a", "b"])

    # Assert
    assert per_class["b"] == {"precision": None, "recall": None, "support": 0}


@pytest.mark.parametrize(
    "metric", [Accuracy, MacroF1, MicroF1, ROCAUC, ExpectedCalibrationError, BrierScore,
               RarestClassRecall],
)
def test_integer_weights_equal_repeated_rows(metric) -> None:
    # Setup: the weighted metric must equal the metric on the rows repeated `w` times.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    p = rng.dirichlet(np.ones(3), 60)
    w = rng.integers(0, 4, 60)

    # Run
    weighted = metric.compute(y, p, weights=w)
    repeated = metric.compute(np.repeat(y, w), np.repeat(p, w, axis=0))

    # Assert
    assert weighted == pytest.approx(repeated)


@pytest.mark.parametrize("metric", [MAE, RMSE, R2, SMAPE])
def test_regression_weights_equal_repeated_rows(metric) -> None:
    # Setup
    rng = np.random.default_rng(1)
    y, yhat, w = rng.normal(5, 2, 50), rng.normal(5, 2, 50), rng.integers(0, 4, 50)

    # Run / Assert
    assert metric.compute(y, yhat, weights=w) == pytest.approx(
        metric.compute(np.repeat(y, w), np.repeat(yhat, w)))


@pytest.mark.parametrize(
    ("metric", "reference"),
    [
        (Accuracy, lambda y, p: skm.accuracy_score(y, p.argmax(1))),
        (MacroF1, lambda y, p: skm.f1_score(y, p.argmax(1), average="macro")),
        (MicroF1, lambda y, p: skm.f1_score(y, p.argmax(1), average="micro")),
        (ROCAUC, lambda y, p: skm.roc_auc_score(y, p, multi_class="ovr")),
    ],
)
def test_agrees_with_sklearn_on_random_multiclass(metric, reference) -> None:
    # Setup
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 300)
    p = rng.dirichlet(np.ones(4), 300)

    # Run / Assert
    assert metric.compute(y, p) == pytest.approx(reference(y, p))


def test_regression_agrees_with_sklearn() -> None:
    # Setup
    rng = np.random.default_rng(3)
    y, yhat = rng.normal(1e6, 3, 200), rng.normal(1e6, 3, 200)  # large offset, small spread

    # Run / Assert
    assert R2.compute(y, yhat) == pytest.approx(skm.r2_score(y, yhat), rel=1e-9)
    assert MAE.compute(y, yhat) == pytest.approx(skm.mean_absolute_error(y, yhat))
    assert RMSE.compute(y, yhat) == pytest.approx(np.sqrt(skm.mean_squared_error(y, yhat)))


@pytest.mark.parametrize(
    ("metric", "raw", "expected"),
    [(ROCAUC, 0.75, 0.75), (BrierScore, 0.25, 0.75), (MAE, 0.0, 1.0),
     (R2, 1.0, 1.0), (SMAPE, 2.0, 0.0)],
)
def test_normalize(metric, raw: float, expected: float) -> None:
    # Run / Assert
    assert metric.normalize(raw) == pytest.approx(expected)


def test_normalize_rejects_out_of_range() -> None:
    # Run / Assert
    with pytest.raises(InputError, match="outside its range"):
        ROCAUC.normalize(1.5)


def test_registry() -> None:
    # Run
    keys = {kind: [m.key for m in metrics_for(kind)] for kind in ("binary", "regression")}

    # Assert
    assert keys["regression"] == ["mae", "rmse", "r2", "smape"]
    assert {"roc_auc", "macro_f1", "ece", "brier"} <= set(keys["binary"])
    assert get_metric("brier").goal is Goal.MINIMIZE
    with pytest.raises(InputError, match="known metrics: accuracy"):
        get_metric("auc")
