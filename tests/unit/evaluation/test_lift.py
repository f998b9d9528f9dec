"""LiftEvaluator end to end: the model panel, two scored splits, utility above chance."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import DatasetError, InputError, UnknownColumnError
from governance.evaluation import (
    PANEL,
    ROCAUC,
    SCENARIOS,
    Accuracy,
    LiftEvaluator,
    TaskSpec,
    UtilityResult,
    subgroup_scores,
)
from tests.utils.data import MIXED_SCHEMA, mixed_table

N_BOOT = 60


def make(splits: dict[str, pd.DataFrame], **kwargs) -> LiftEvaluator:
    kwargs = {"schema": MIXED_SCHEMA, "task": TaskSpec(target="label"), "n_boot": N_BOOT,
              **kwargs}
    return LiftEvaluator(train=splits["train"], validation=splits["validation"],
                         eval=splits["eval"], **kwargs)


@pytest.fixture(scope="module")
def binary_ev(lift_splits) -> LiftEvaluator:
    return make(lift_splits, subgroups=["sex", "edu"])


@pytest.fixture(scope="module")
def independent(binary_ev, lift_splits) -> UtilityResult:
    return binary_ev.evaluate(lift_splits["other"])


@pytest.fixture(scope="module")
def itself(binary_ev, lift_splits) -> UtilityResult:
    """A candidate equal to real train: every TSTR model is its control model."""
    return binary_ev.evaluate(lift_splits["train"])


@pytest.fixture(scope="module")
def noise(binary_ev, uniform_noise) -> UtilityResult:
    return binary_ev.evaluate(uniform_noise(MIXED_SCHEMA, 1500, seed=5))


def test_controls_are_computed_once_and_reused(binary_ev, independent, noise) -> None:
    # Run
    control = binary_ev.control()

    # Assert: the same objects for every candidate, per model and per split.
    for split in ("validation", "eval"):
        for m in PANEL:
            a = getattr(independent, split).models[m].control
            assert a is getattr(noise, split).models[m].control
            assert a is getattr(control, split)[m]
            assert a.n_train == 1500
        assert independent.eval.models["hgb"].scenarios["scarce"] is \
            noise.eval.models["hgb"].scenarios["scarce"]
    assert control.chance == {"validation": 0.5, "eval": 0.5}


def test_result_shape(independent) -> None:
    # Run
    data = independent.as_dict()

    # Assert
    assert list(independent.models) == list(PANEL) == list(independent.eval.models)
    assert {m: i["estimator"] for m, i in independent.models.items()} == {
        "linear": "logistic", "random_forest": "random_forest", "hgb": "hgb"}
    ev, val = independent.eval.models["hgb"], independent.validation.models["hgb"]
    assert tuple(ev.scenarios) == SCENARIOS
    assert set(ev.lifts["tstr"]) == set(ev.control.metrics) and len(ev.control.metrics) > 5
    assert set(val.lifts["tstr"]) == set(val.control.metrics) == {"roc_auc"}  # primary only
    assert (independent.validation.n_rows, independent.eval.n_rows) == (800, 800)
    assert ev.scenarios["scarce"].n_train == 75  # ceil(0.05 * 1500)
    assert ev.scenarios["augmented"].n_train == 3000
    assert ev.control.confusion is not None and val.control.confusion is None
    assert set(independent.validation.panel) == set(independent.eval.panel) == {"min", "median"}
    assert independent.selection is independent.validation.panel["min"]
    assert independent.reported is independent.eval.panel["min"]
    json.dumps(data, allow_nan=False)


def test_candidate_that_is_the_train_set(itself) -> None:
    # Assert: TSTR is the control model exactly, so both ratios are 1 on every replicate.
    for split in (itself.validation, itself.eval):
        for m, scores in split.models.items():
            for ratio in (scores.ratio_raw, scores.ratio_above_chance):
                assert ratio.value == pytest.approx(1.0), m
                assert ratio.ci_low == pytest.approx(1.0) == ratio.ci_high
            assert all(iv.value == 0.0 for iv in scores.lifts["tstr"].values())
        assert split.panel["min"].ratio_above_chance.value == pytest.approx(1.0)


def test_independent_real_sample_keeps_the_control_utility(independent) -> None:
    # Assert: a fresh real sample of the same distribution is about as useful as real
    # train, for every model. Not exactly 1: the paired bootstrap resamples scored rows,
    # not the training sample.
    for split in (independent.validation, independent.eval):
        for m, scores in split.models.items():
            assert scores.ratio_above_chance.value > 0.85, m
            assert scores.ratio_above_chance.ci_high > 0.97, m
    assert independent.selection.tstr_at_or_below_chance is False


def test_noise_is_at_chance_although_its_raw_ratio_looks_useful(noise) -> None:
    # Assert: a model fitted to noise scores rows along a random direction, so its AUC is
    # chance only on average (the linear one may even rank the real rows backwards); the
    # raw ratio still credits it with much of the control, the chance-corrected one not.
    for m, scores in noise.eval.models.items():
        assert scores.scenarios["tstr"].primary < 0.6, m
        assert scores.ratio_raw.value > 0.5, m
        assert scores.ratio_above_chance.value < 0.4, m
        assert scores.ratio_raw.value - scores.ratio_above_chance.value > 0.4, m
        assert scores.lifts["tstr"]["roc_auc"].ci_high < 0, m
    assert noise.selection.ratio_above_chance.value < 0.1
    assert any(line.startswith("TSTR (train on synthetic, test on real) (hgb) is worse than "
                               "the real-only control: roc_auc lift -") for line in noise.summary)


def test_summary_states_insignificant_lifts(itself) -> None:
    # Setup: TSTR on the train set itself is the control model: a lift of exactly 0.
    tstr = itself.eval.models["linear"].lifts["tstr"]["roc_auc"]

    # Run
    line = next(s for s in itself.summary if s.startswith("TSTR") and "(linear)" in s)

    # Assert
    assert tstr.contains(0.0)
    assert line == ("TSTR (train on synthetic, test on real) (linear) gives no significant "
                    f"lift over the real-only control: roc_auc lift {tstr.value:+.3f} "
                    f"[95% CI {tstr.ci_low:+.3f}, {tstr.ci_high:+.3f}]")
    assert "chance level of roc_auc on the eval labels: 0.500" in itself.summary[1]
    assert any(s.startswith("panel (min of 3 models) on validation, which selection and the "
                            "policy gates read: utility above chance 1.000") for s in
               itself.summary)


def test_single_class_synthetic_is_exactly_at_chance(binary_ev, lift_splits) -> None:
    # Setup
    one = lift_splits["other"].copy()
    one["label"] = pd.Categorical([1] * len(one), categories=[0, 1])

    # Run
    result = binary_ev.evaluate(one)

    # Assert: a constant predictor's AUC is exactly chance, whatever the model.
    for scores in result.eval.models.values():
        tstr = scores.scenarios["tstr"]
        assert "single class" in tstr.error and "chance" in tstr.error
        assert tstr.metrics["roc_auc"] == 0.5
        assert scores.ratio_above_chance.value == 0.0
        assert scores.ratio_raw.value == pytest.approx(0.5 / scores.control.primary)
        assert scores.scenarios["augmented"].error is None
    assert result.selection.tstr_at_or_below_chance is True
    assert any("scored at chance" in line for line in result.summary)
    assert any("never eligible" in line for line in result.summary)
    json.dumps(result.as_dict(), allow_nan=False)


def test_out_of_domain_values_are_recorded_not_fatal(binary_ev, lift_splits) -> None:
    # Setup: unknown categories (also in the target), a constant column, out-of-bounds
    # numbers, a missing and an extra column.
    bad = lift_splits["other"].astype({"edu": object, "label": object}).drop(columns=["sex"])
    bad.loc[:9, "edu"] = "phd"
    bad.loc[:2, "label"] = "maybe"
    bad.loc[:4, "income"] = -5.0
    bad["hours"] = 40.0
    bad["zip"] = "12345"

    # Run
    result = binary_ev.evaluate(bad)

    # Assert
    issues = result.candidate["issues"]
    assert any("'edu': 10 of 1500" in i for i in issues)
    assert any("'income': 5 of 1500" in i for i in issues)
    assert any("missing column(s) sex" in i for i in issues)
    assert any("zip" in i for i in issues)
    assert result.candidate["violations"] == 10 + 5 + 3 + 1500
    for scores in result.eval.models.values():
        tstr = scores.scenarios["tstr"]
        assert tstr.error is None
        assert (tstr.n_dropped, tstr.n_train) == (3, 1497)
        assert scores.scenarios["augmented"].n_dropped == 3
        assert tstr.primary > 0.6
    assert sum("3 synthetic row(s) with an unusable target" in s for s in result.summary) == 3


def test_empty_candidate_is_scored_at_chance(binary_ev) -> None:
    # Run
    result = binary_ev.evaluate(mixed_table(10).iloc[:0])

    # Assert
    for scores in result.validation.models.values():
        assert "no training row" in scores.scenarios["tstr"].error
        assert scores.scenarios["tstr"].metrics["roc_auc"] == 0.5
        assert scores.scenarios["augmented"].n_train == 1500


def test_subgroups_are_scored_on_both_splits(independent, lift_splits) -> None:
    # Setup
    for split, frame in (("validation", independent.validation), ("eval", independent.eval)):
        control = frame.models["hgb"].control
        sub = control.subgroups["sex"]
        groups = sub["groups"]
        women = int((lift_splits[split]["sex"] == "female").sum())

        # Assert
        assert set(groups) == {"female", "male"} and groups["female"]["n"] == women
        assert sum(g["n"] for g in groups.values()) == 800
        assert sub["max_gap"] == pytest.approx(abs(groups["female"]["value"] -
                                                   groups["male"]["value"]))
        assert set(control.subgroups["edu"]["groups"]) == {"hs", "college", "grad", "other"}


def test_identical_models_have_identical_subgroup_scores(itself) -> None:
    # Assert
    for scores in itself.validation.models.values():
        assert scores.scenarios["tstr"].subgroups == scores.control.subgroups
    gaps = [s.scenarios["tstr"].subgroups for s in itself.validation.models.values()]
    worst = max(max(g["max_gap"] for g in sg.values()) for sg in gaps)
    assert itself.validation.panel["min"].subgroup_gap == pytest.approx(worst)


def test_panel_min_and_median_are_taken_replicate_by_replicate(independent) -> None:
    # Setup
    models = independent.validation.models.values()
    values = sorted(s.ratio_above_chance.value for s in models)

    # Run
    low, mid = (independent.validation.panel[r].ratio_above_chance for r in ("min", "median"))

    # Assert
    assert (low.value, mid.value) == (pytest.approx(values[0]), pytest.approx(values[1]))
    assert low.ci_low <= min(s.ratio_above_chance.ci_low for s in models) + 1e-12
    assert low.ci_high <= mid.ci_high


def test_multiclass_end_to_end(lift_splits) -> None:
    # Setup
    ev = make(lift_splits, task=TaskSpec(target="edu"))

    # Run
    result = ev.evaluate(lift_splits["other"])

    # Assert
    assert (result.task.kind, result.task.metric) == ("multiclass", "macro_f1")
    assert result.eval.chance == pytest.approx(0.25)  # four classes present: 1 / K
    control = result.eval.models["hgb"].control
    assert control.confusion["labels"] == ["hs", "college", "grad", "other"]
    assert np.array(control.confusion["matrix"]).sum() == 800
    assert set(control.per_class) == {"hs", "college", "grad", "other"}
    # income carries edu (bonus by degree), so the control beats the 4-class chance level.
    assert control.metrics["roc_auc"] > 0.6
    assert result.selection.ratio_above_chance.value > 0.7
    json.dumps(result.as_dict(), allow_nan=False)


def test_regression_end_to_end(randhie_splits, randhie_schema_, uniform_noise) -> None:
    # Setup
    ev = LiftEvaluator(train=randhie_splits["train"], validation=randhie_splits["validation"],
                       eval=randhie_splits["eval"], schema=randhie_schema_,
                       task=TaskSpec(target="mdvis"), n_boot=N_BOOT)

    # Run
    real = ev.evaluate(randhie_splits["other"])
    noisy = ev.evaluate(uniform_noise(randhie_schema_, 3000, seed=1))
    empty = ev.evaluate(randhie_splits["other"].iloc[:0])

    # Assert
    assert (real.task.kind, real.task.metric) == ("regression", "r2")
    assert real.models["linear"]["estimator"] == "ridge"
    assert real.eval.chance == 0.0
    hgb = real.eval.models["hgb"]
    assert set(hgb.control.metrics) == {"mae", "rmse", "r2", "smape"}
    assert hgb.control.per_class is None and hgb.control.confusion is None
    assert all(s.control.primary > 0.0 for s in real.eval.models.values())
    assert hgb.lifts["tstr"]["r2"].contains(0.0)
    # R squared already has chance at 0: the corrected ratio is the raw one.
    assert hgb.ratio_above_chance.value == pytest.approx(hgb.ratio_raw.value)
    noisy_hgb = noisy.eval.models["hgb"]
    assert noisy_hgb.lifts["tstr"]["r2"].ci_high < 0
    assert noisy_hgb.lifts["tstr"]["mae"].ci_low > 0  # a larger error
    assert noisy.selection.ratio_above_chance.value < 0.2
    assert any("TSTR (train on synthetic, test on real) (hgb) is worse" in s
               for s in noisy.summary)
    json.dumps(noisy.as_dict(), allow_nan=False)
    # No rows at all: the constant predictor is the middle of the public domain [0, 100].
    mdvis = randhie_splits["eval"]["mdvis"].to_numpy(float)
    tstr = empty.eval.models["linear"].scenarios["tstr"]
    assert "no training row" in tstr.error
    assert tstr.metrics["mae"] == pytest.approx(np.abs(mdvis - 50).mean())


def test_constructor_checks(lift_splits) -> None:
    # Setup
    one_class = lift_splits["eval"].copy()
    one_class["label"] = pd.Categorical([0] * len(one_class), categories=[0, 1])

    # Run / Assert
    with pytest.raises(InputError, match="the eval split has a single class"):
        make({**lift_splits, "eval": one_class})
    with pytest.raises(InputError, match="the validation split has a single class"):
        make({**lift_splits, "validation": one_class})
    with pytest.raises(InputError, match="subgroups must be categorical"):
        make(lift_splits, subgroups=["age"])
    with pytest.raises(UnknownColumnError):
        make(lift_splits, subgroups=["region"])
    with pytest.raises(DatasetError, match="not in the schema"):
        make({**lift_splits, "validation": lift_splits["validation"].assign(extra=1)})
    with pytest.raises(InputError, match="n_boot"):
        make(lift_splits, n_boot=5)
    with pytest.raises(InputError, match="unknown model family 'svm'; the panel is linear"):
        make(lift_splits, models=["hgb", "svm"])
    with pytest.raises(InputError, match="aggregate must be one of min, median, got 'mean'"):
        make(lift_splits, aggregate="mean")


def test_candidate_must_be_a_frame(binary_ev) -> None:
    # Run / Assert
    with pytest.raises(InputError, match="DataFrame"):
        binary_ev.evaluate([[1, 2, 3]])  # type: ignore[arg-type]


def test_constant_regression_target_is_refused(randhie_splits, randhie_schema_) -> None:
    # Setup
    constant = randhie_splits["validation"].assign(mdvis=3)

    # Run / Assert
    with pytest.raises(InputError, match="the validation split's target 'mdvis' is constant"):
        LiftEvaluator(train=randhie_splits["train"], validation=constant,
                      eval=randhie_splits["eval"], schema=randhie_schema_,
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
