"""LiftEvaluator end to end: control reuse, known-outcome candidates, edge cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import DatasetError, InputError, UnknownColumnError
from governance.evaluation import (
    ROCAUC,
    SCENARIOS,
    Accuracy,
    LiftEvaluator,
    TaskSpec,
    UtilityResult,
    subgroup_scores,
)
from tests.utils.data import MIXED_SCHEMA, mixed_table

N_BOOT = 100


@pytest.fixture(scope="module")
def binary_ev(mixed_splits) -> LiftEvaluator:
    return LiftEvaluator(train=mixed_splits["train"], eval=mixed_splits["eval"],
                         schema=MIXED_SCHEMA, task=TaskSpec(target="label"), seed=0,
                         n_boot=N_BOOT, subgroups=["sex", "edu"])


@pytest.fixture(scope="module")
def independent(binary_ev, mixed_splits) -> UtilityResult:
    return binary_ev.evaluate(mixed_splits["other"])


@pytest.fixture(scope="module")
def noise(binary_ev, uniform_noise) -> UtilityResult:
    return binary_ev.evaluate(uniform_noise(MIXED_SCHEMA, 2000, seed=5))


def test_control_is_computed_once_and_reused(binary_ev, independent, noise, mixed_splits) -> None:
    # Setup: a fresh evaluator with the same inputs and seed.
    fresh = LiftEvaluator(train=mixed_splits["train"], eval=mixed_splits["eval"],
                          schema=MIXED_SCHEMA, task=TaskSpec(target="label"), n_boot=N_BOOT)

    # Run
    control = fresh.prepare().control()

    # Assert
    assert independent.control is noise.control is binary_ev.control()
    assert independent.scenarios["scarce"] is noise.scenarios["scarce"]
    assert control.metrics == independent.control.metrics
    assert independent.control.n_train == 2000


def test_result_shape(independent) -> None:
    # Run
    data = independent.as_dict()

    # Assert
    assert tuple(independent.scenarios) == SCENARIOS
    assert set(data["lifts"]) == set(SCENARIOS)
    assert set(data["lifts"]["tstr"]) == set(independent.control.metrics)
    assert data["n_eval"] == 2000 and data["n_boot"] == N_BOOT
    assert data["scenarios"]["scarce"]["n_train"] == 100  # ceil(0.05 * 2000)
    assert data["scenarios"]["augmented"]["n_train"] == 4000
    json.dumps(data, allow_nan=False)


def test_candidate_that_is_the_train_set(binary_ev, mixed_splits) -> None:
    # Run
    result = binary_ev.evaluate(mixed_splits["train"])

    # Assert: TSTR is the control model exactly, so the paired ratio is 1 on every replicate.
    assert result.utility_ratio.contains(1.0)
    assert result.utility_ratio.value == pytest.approx(1.0)
    assert all(iv.value == 0.0 for iv in result.lifts["tstr"].values())
    # Augmenting with a duplicate of every row changes the fit only through the leaf-size
    # effect of doubled counts (leaves of 20 rows now hold 10 distinct ones), which can
    # overfit a little: the lift is small and never a spurious gain.
    aug = result.lifts["augmented"]["roc_auc"]
    assert abs(aug.value) < 0.02
    assert aug.ci_low < 0.0 and aug.ci_high < 0.01


def test_independent_real_sample_keeps_the_control_utility(independent) -> None:
    # Assert: a fresh real sample of the same distribution is about as useful as the real
    # train. Not "contains 1": the paired bootstrap resamples eval rows, not the training
    # sample, and two 2,000-row samples give models a point or two of AUC apart.
    ratio = independent.utility_ratio
    assert ratio.value > 0.95 and ratio.ci_high > 0.99


def test_noise_candidate_is_at_chance(noise) -> None:
    # Setup
    control_auc = noise.control.primary
    tstr_auc = noise.scenarios["tstr"].primary

    # Assert
    assert tstr_auc == pytest.approx(0.5, abs=0.05)
    assert noise.utility_ratio.value == pytest.approx(0.5 / control_auc, abs=0.07)
    assert noise.utility_ratio.ci_high < 0.8
    assert noise.lifts["tstr"]["roc_auc"].ci_high < 0
    assert any(line.startswith("TSTR (train on synthetic, test on real) is worse than the "
                               "real-only control: roc_auc lift -") for line in noise.summary)


def test_summary_states_insignificant_lifts(binary_ev, mixed_splits) -> None:
    # Setup: TSTR on the train set itself is the control model: a lift of exactly 0.
    itself = binary_ev.evaluate(mixed_splits["train"])
    tstr = itself.lifts["tstr"]["roc_auc"]

    # Run
    line = next(s for s in itself.summary if s.startswith("TSTR"))

    # Assert
    assert tstr.contains(0.0)
    assert line.startswith("TSTR (train on synthetic, test on real) gives no significant lift "
                           f"over the real-only control: roc_auc lift {tstr.value:+.3f} "
                           f"[95% CI {tstr.ci_low:+.3f}, {tstr.ci_high:+.3f}]")


def test_single_class_synthetic_does_not_crash(binary_ev, mixed_splits) -> None:
    # Setup
    one = mixed_splits["other"].copy()
    one["label"] = pd.Categorical([1] * len(one), categories=[0, 1])

    # Run
    result = binary_ev.evaluate(one)

    # Assert
    tstr = result.scenarios["tstr"]
    assert "single class" in tstr.error and "chance" in tstr.error
    assert tstr.metrics["roc_auc"] == 0.5
    assert result.utility_ratio.value == pytest.approx(0.5 / result.control.primary)
    assert any("scored at chance" in line for line in result.summary)
    assert result.scenarios["augmented"].error is None
    json.dumps(result.as_dict(), allow_nan=False)


def test_out_of_domain_values_are_recorded_not_fatal(binary_ev, mixed_splits) -> None:
    # Setup: unknown categories (also in the target), a constant column, out-of-bounds
    # numbers, a missing and an extra column.
    bad = mixed_splits["other"].astype({"edu": object, "label": object}).drop(columns=["sex"])
    bad.loc[:9, "edu"] = "phd"
    bad.loc[:2, "label"] = "maybe"
    bad.loc[:4, "income"] = -5.0
    bad["hours"] = 40.0
    bad["zip"] = "12345"

    # Run
    result = binary_ev.evaluate(bad)

    # Assert
    issues = result.candidate["issues"]
    assert any("'edu': 10 of 2000" in i for i in issues)
    assert any("'income': 5 of 2000" in i for i in issues)
    assert any("missing column(s) sex" in i for i in issues)
    assert any("zip" in i for i in issues)
    assert result.candidate["violations"] == 10 + 5 + 3 + 2000
    tstr = result.scenarios["tstr"]
    assert tstr.error is None
    assert (tstr.n_dropped, tstr.n_train) == (3, 1997)
    assert result.scenarios["augmented"].n_dropped == 3
    assert any("3 synthetic row(s) with an unusable target" in line for line in result.summary)
    assert tstr.primary > 0.6


def test_empty_candidate_is_scored_at_chance(binary_ev) -> None:
    # Run
    result = binary_ev.evaluate(mixed_table(10).iloc[:0])

    # Assert
    assert "no training row" in result.scenarios["tstr"].error
    assert result.scenarios["tstr"].metrics["roc_auc"] == 0.5
    assert result.scenarios["augmented"].n_train == 2000


def test_subgroups(independent) -> None:
    # Setup
    sub = independent.control.subgroups["sex"]
    groups = sub["groups"]

    # Assert
    assert set(groups) == {"female", "male"}
    assert sum(g["n"] for g in groups.values()) == 2000
    assert sub["max_gap"] == pytest.approx(abs(groups["female"]["value"] -
                                               groups["male"]["value"]))
    assert set(independent.control.subgroups["edu"]["groups"]) == {"hs", "college", "grad",
                                                                   "other"}
    assert 0 <= independent.control.metrics["rarest_class_recall"] <= 1


def test_identical_models_have_identical_subgroup_scores(binary_ev, mixed_splits) -> None:
    # Setup: a candidate equal to train makes the TSTR model the control model.
    women = int((mixed_splits["eval"]["sex"] == "female").sum())

    # Run
    result = binary_ev.evaluate(mixed_splits["train"])

    # Assert
    assert result.scenarios["tstr"].subgroups == result.control.subgroups
    assert result.control.subgroups["sex"]["groups"]["female"]["n"] == women


def test_multiclass_end_to_end(mixed_splits) -> None:
    # Setup
    ev = LiftEvaluator(train=mixed_splits["train"], eval=mixed_splits["eval"],
                       schema=MIXED_SCHEMA, task=TaskSpec(target="edu"), n_boot=N_BOOT)

    # Run
    result = ev.evaluate(mixed_splits["other"])

    # Assert
    assert (result.task.kind, result.task.metric) == ("multiclass", "macro_f1")
    confusion = result.control.confusion
    assert confusion["labels"] == ["hs", "college", "grad", "other"]
    assert np.array(confusion["matrix"]).sum() == 2000
    assert set(result.control.per_class) == {"hs", "college", "grad", "other"}
    # income carries edu (bonus by degree), so the control beats the 4-class chance level.
    assert result.control.metrics["roc_auc"] > 0.6
    assert result.utility_ratio.value > 0.8
    json.dumps(result.as_dict(), allow_nan=False)


def test_regression_end_to_end(randhie_splits, randhie_schema_, uniform_noise) -> None:
    # Setup
    ev = LiftEvaluator(train=randhie_splits["train"], eval=randhie_splits["eval"],
                       schema=randhie_schema_, task=TaskSpec(target="mdvis"), n_boot=N_BOOT)

    # Run
    real = ev.evaluate(randhie_splits["other"])
    noisy = ev.evaluate(uniform_noise(randhie_schema_, 3000, seed=1))
    empty = ev.evaluate(randhie_splits["other"].iloc[:0])

    # Assert
    assert (real.task.kind, real.task.metric) == ("regression", "r2")
    assert set(real.control.metrics) == {"mae", "rmse", "r2", "smape"}
    assert real.control.per_class is None and real.control.confusion is None
    assert real.control.primary > 0.0
    assert real.lifts["tstr"]["r2"].contains(0.0)
    assert noisy.lifts["tstr"]["r2"].ci_high < 0
    assert noisy.lifts["tstr"]["mae"].ci_low > 0  # a larger error
    assert any("TSTR (train on synthetic, test on real) is worse" in s for s in noisy.summary)
    json.dumps(noisy.as_dict(), allow_nan=False)
    # No rows at all: the constant predictor is the middle of the public domain [0, 100].
    mdvis = randhie_splits["eval"]["mdvis"].to_numpy(float)
    assert "no training row" in empty.scenarios["tstr"].error
    assert empty.scenarios["tstr"].metrics["mae"] == pytest.approx(np.abs(mdvis - 50).mean())


@pytest.mark.parametrize("model", ["logistic", "random_forest"])
def test_other_model_families(model: str) -> None:
    # Setup
    ev = LiftEvaluator(train=mixed_table(500, seed=1), eval=mixed_table(500, seed=2),
                       schema=MIXED_SCHEMA, task=TaskSpec(target="label", model=model),
                       n_boot=50)

    # Run
    result = ev.evaluate(mixed_table(500, seed=3))

    # Assert
    assert result.model["name"] == model
    assert result.control.primary > 0.65
    assert result.scenarios["tstr"].error is None


def test_constructor_checks(mixed_splits) -> None:
    # Setup
    train, ev = mixed_splits["train"], mixed_splits["eval"]
    one_class = ev.copy()
    one_class["label"] = pd.Categorical([0] * len(ev), categories=[0, 1])
    kwargs = {"train": train, "schema": MIXED_SCHEMA, "task": TaskSpec(target="label")}

    # Run / Assert
    with pytest.raises(InputError, match="single class"):
        LiftEvaluator(eval=one_class, **kwargs)
    with pytest.raises(InputError, match="subgroups must be categorical"):
        LiftEvaluator(eval=ev, subgroups=["age"], **kwargs)
    with pytest.raises(UnknownColumnError):
        LiftEvaluator(eval=ev, subgroups=["region"], **kwargs)
    with pytest.raises(DatasetError, match="not in the schema"):
        LiftEvaluator(eval=ev.assign(extra=1), **kwargs)
    with pytest.raises(InputError, match="n_boot"):
        LiftEvaluator(eval=ev, n_boot=5, **kwargs)


def test_candidate_must_be_a_frame(binary_ev) -> None:
    # Run / Assert
    with pytest.raises(InputError, match="DataFrame"):
        binary_ev.evaluate([[1, 2, 3]])  # type: ignore[arg-type]


def test_constant_regression_eval_is_refused(randhie_splits, randhie_schema_) -> None:
    # Setup
    ev = randhie_splits["eval"].assign(mdvis=3)

    # Run / Assert
    with pytest.raises(InputError, match="constant"):
        LiftEvaluator(train=randhie_splits["train"], eval=ev, schema=randhie_schema_,
                      task=TaskSpec(target="mdvis"), n_boot=N_BOOT)


def test_subgroup_scores_known_answer() -> None:
    # Setup: accuracy per group: a -> 2/3, b -> 1/2, c -> no rows.
    y = np.array([0, 1, 1, 0, 1])
    p = np.eye(2)[[0, 1, 0, 0, 0]]
    groups = np.array([0, 0, 0, 1, 1])

    # Run
    out = subgroup_scores(Accuracy, y, p, groups, ["a", "b", "c"])

    # Assert
    assert out["groups"] == {"a": {"value": pytest.approx(2 / 3), "n": 3},
                             "b": {"value": 0.5, "n": 2}, "c": {"value": None, "n": 0}}
    assert out["max_gap"] == pytest.approx(2 / 3 - 1 / 2)
    assert (out["best"], out["worst"]) == ("a", "b")


def test_rocauc_subgroup_undefined_for_single_class_group() -> None:
    # Setup: a group whose eval rows all share one class has no AUC; it is None, not NaN.
    y = np.array([0, 1, 0, 0])
    p = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]])
    groups = np.array([0, 0, 1, 1])

    # Run
    out = subgroup_scores(ROCAUC, y, p, groups, ["a", "b"])

    # Assert
    assert out["groups"]["a"] == {"value": 1.0, "n": 2}
    assert out["groups"]["b"] == {"value": None, "n": 2}
    assert out["max_gap"] is None
