"""Fidelity: detection, manifold precision/recall, tails, domain checks, error entries."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import DatasetError, InputError
from governance.datasets.schema import Schema
from governance.evaluation import FidelityResult, domain_violations, evaluate_fidelity
from governance.evaluation.fidelity.manifold import manifold_precision_recall
from governance.evaluation.fidelity.quality import quality_report, sdmetrics_metadata
from governance.evaluation.fidelity.tails import tail_checks
from tests.utils.data import MIXED_SCHEMA


@pytest.fixture(scope="module")
def same(mixed_splits) -> FidelityResult:
    return evaluate_fidelity(real=mixed_splits["eval"], synthetic=mixed_splits["other"],
                             schema=MIXED_SCHEMA, seed=0)


@pytest.fixture(scope="module")
def noisy(mixed_splits, uniform_noise) -> FidelityResult:
    return evaluate_fidelity(real=mixed_splits["eval"],
                             synthetic=uniform_noise(MIXED_SCHEMA, 2000, seed=5),
                             schema=MIXED_SCHEMA, seed=0)


def test_detection_separates_noise_but_not_a_fresh_real_sample(same, noisy) -> None:
    # Assert
    assert noisy.value("detection", "roc_auc") > 0.9
    assert same.value("detection", "roc_auc") == pytest.approx(0.5, abs=0.06)
    assert same.value("detection", "boosted_detection_score") > 0.85
    assert len(same.value("detection", "fold_aucs")) == 2


def test_manifold_and_quality_rank_noise_below_real(same, noisy) -> None:
    # Assert
    assert same.value("manifold", "precision") > 0.9
    assert same.value("manifold", "recall") > 0.9
    assert noisy.value("manifold", "precision") < 0.5
    assert noisy.value("quality", "column_shapes") < same.value("quality", "column_shapes")
    assert set(same.value("quality", "shapes")) == set(MIXED_SCHEMA.names)
    assert len(same.value("quality", "pair_trends")) == 15  # 6 columns -> 15 pairs


def test_quality_on_codes_equals_sdmetrics_on_the_values(mixed_splits) -> None:
    # Arrange: missing categories on both sides, and values outside the public lists
    from sdmetrics.reports import QualityReport

    real = mixed_splits["eval"].iloc[:600].astype({"sex": object, "edu": object})
    synthetic = mixed_splits["other"].iloc[:500].astype({"sex": object, "edu": object})
    real.loc[real.index[:40], "edu"] = np.nan
    synthetic.loc[synthetic.index[:25], "sex"] = np.nan
    synthetic.loc[synthetic.index[30:90], "edu"] = "phd"
    reference = QualityReport()
    reference.generate({"t": real.astype({"label": object})},
                       {"t": synthetic.astype({"label": object})},
                       {"tables": {"t": sdmetrics_metadata(MIXED_SCHEMA)}}, verbose=False)
    # Run
    ours = quality_report(real, synthetic, MIXED_SCHEMA)
    # Assert: the same report, metric by metric
    assert ours["score"] == pytest.approx(reference.get_score(), abs=1e-12)
    shapes = reference.get_details("Column Shapes").set_index("Column")["Score"]
    for column, entry in ours["shapes"].items():
        assert entry["score"] == pytest.approx(shapes[column], abs=1e-12)
    pairs = reference.get_details("Column Pair Trends")
    expected = [None if np.isnan(v) else pytest.approx(v, abs=1e-12) for v in pairs["Score"]]
    assert [p["score"] for p in ours["pair_trends"]] == expected
    assert sum(v is not None for v in expected) >= 1
    assert ours["shapes"]["edu"]["score"] < 1.0  # the out-of-list "phd" rows count


def test_no_errors_and_json_ready(same) -> None:
    # Run
    data = same.as_dict()

    # Assert
    assert same.errors == {}
    assert set(data) >= {"quality", "detection", "manifold", "tails", "constraints"}
    json.dumps(data, allow_nan=False)


def test_subsampling_is_recorded(mixed_splits) -> None:
    # Run
    result = evaluate_fidelity(real=mixed_splits["eval"], synthetic=mixed_splits["other"],
                               schema=MIXED_SCHEMA, max_rows=500, max_rows_manifold=300)

    # Assert
    assert result.entries["quality"].rows_used == {"real": 500, "synthetic": 500}
    assert result.entries["detection"].rows_used == {"real": 500, "synthetic": 500}
    assert result.entries["manifold"].rows_used == {"real": 300, "synthetic": 300}
    assert result.entries["constraints"].rows_used == {"real": 0, "synthetic": 2000}
    assert (result.n_real, result.n_synthetic, result.max_rows) == (2000, 2000, 500)


def test_failing_submetric_becomes_an_error_entry(mixed_splits, monkeypatch) -> None:
    # Setup: break the quality report, and ask for more neighbours than manifold rows.
    import governance.evaluation.fidelity.evaluate as fidelity

    def broken(*args, **kwargs):
        raise RuntimeError("sdmetrics exploded")

    monkeypatch.setattr(fidelity, "quality_report", broken)

    # Run
    result = evaluate_fidelity(real=mixed_splits["eval"], synthetic=mixed_splits["other"],
                               schema=MIXED_SCHEMA, max_rows_manifold=20, k=25)

    # Assert
    assert result.errors["quality"] == "RuntimeError: sdmetrics exploded"
    assert "more than k=25 rows" in result.errors["manifold"]
    assert result.value("quality", "score") is None
    assert result.entries["detection"].error is None
    assert result.as_dict()["quality"]["error"] == "RuntimeError: sdmetrics exploded"


def test_manifold_known_answer() -> None:
    # Setup: real points 0,1,2,3 (k=1 radius 1 each); synthetic 0.5, 10, 11.
    # Precision: only 0.5 lies in a real ball -> 1/3. Synthetic radii (k=1): 9.5, 1, 1;
    # every real point is within 9.5 of 0.5 -> recall 1.
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    synthetic = np.array([[0.5], [10.0], [11.0]])

    # Run
    out = manifold_precision_recall(real, synthetic, k=1)

    # Assert
    assert out == {"precision": pytest.approx(1 / 3), "recall": 1.0, "k": 1}


def test_manifold_counts_exact_duplicates_with_zero_radius() -> None:
    # Setup: duplicated real points have radius 0 at k=1; only exact copies are inside.
    real = np.array([[0.0], [0.0], [5.0], [5.0]])
    synthetic = np.array([[0.0], [0.1], [5.0]])

    # Run
    out = manifold_precision_recall(real, synthetic, k=1)

    # Assert
    assert out["precision"] == pytest.approx(2 / 3)


TAIL_SCHEMA = Schema.model_validate({"columns": {
    "x": {"type": "numeric", "min": 0, "max": 200},
    "c": {"type": "categorical", "categories": ["common", "rare", "never"]},
}})


def test_tail_checks_known_answer() -> None:
    # Setup: real x = 0..99 (q01 = 0.99, q99 = 98.01 by linear interpolation), synthetic
    # x = real + 10. Real c: 'rare' 3 of 100, 'never' 0; synthetic 'rare' 10 of 100.
    real = pd.DataFrame({"x": np.arange(100.0), "c": ["common"] * 97 + ["rare"] * 3})
    synthetic = pd.DataFrame({"x": np.arange(100.0) + 10, "c": ["common"] * 90 + ["rare"] * 10})

    # Run
    out = tail_checks(real, synthetic, TAIL_SCHEMA)

    # Assert
    q01, q99 = out["quantiles"]["x"]["q01"], out["quantiles"]["x"]["q99"]
    assert (q01["real"], q01["synthetic"]) == pytest.approx((0.99, 10.99))
    assert q99["real"] == pytest.approx(98.01)
    assert q99["difference"] == pytest.approx(10.0)
    assert q99["scaled_difference"] == pytest.approx(10.0 / 200)
    assert out["rare_categories"]["c"] == {
        "rare": {"real": pytest.approx(0.03), "synthetic": pytest.approx(0.10)},
        "never": {"real": 0.0, "synthetic": 0.0},
    }


def test_domain_violations_known_counts() -> None:
    # Setup: one out-of-bounds x, one non-numeric x, one unknown category, one missing c.
    frame = pd.DataFrame({"x": [1.0, 250.0, "abc", 5.0], "c": ["common", "rare", "gone", None],
                          "extra": [1, 2, 3, 4]})

    # Run
    out = domain_violations(frame, TAIL_SCHEMA)

    # Assert
    assert out["columns"]["x"] == {"invalid": 2, "missing": 0}
    assert out["columns"]["c"] == {"invalid": 2, "missing": 1}
    assert out["extra_columns"] == ["extra"]
    assert out["rows_with_violation"] == 3
    assert out["total_violations"] == 4


def test_integer_columns_flag_fractions() -> None:
    # Setup
    schema = Schema.model_validate({"columns": {"n": {"type": "integer", "min": 0, "max": 9}}})

    # Run
    out = domain_violations(pd.DataFrame({"n": [1, 2.5, 9]}), schema)

    # Assert
    assert out["columns"]["n"]["invalid"] == 1


def test_sdmetrics_metadata_from_schema() -> None:
    # Run
    meta = sdmetrics_metadata(MIXED_SCHEMA)["columns"]

    # Assert
    assert meta["age"] == {"sdtype": "numerical", "computer_representation": "Int64"}
    assert meta["income"] == {"sdtype": "numerical", "computer_representation": "Float"}
    assert meta["edu"] == {"sdtype": "categorical"}


def test_input_checks(mixed_splits) -> None:
    # Run / Assert
    with pytest.raises(InputError, match="DataFrame"):
        evaluate_fidelity(real=mixed_splits["eval"], synthetic=None, schema=MIXED_SCHEMA)
    with pytest.raises(DatasetError):
        evaluate_fidelity(real=mixed_splits["eval"].drop(columns=["age"]),
                          synthetic=mixed_splits["other"], schema=MIXED_SCHEMA)
    with pytest.raises(InputError, match="at least 10"):
        evaluate_fidelity(real=mixed_splits["eval"], synthetic=mixed_splits["other"],
                          schema=MIXED_SCHEMA, max_rows=5)


def test_a_record_with_the_old_detection_score_name_reads_under_the_new_one(same) -> None:
    # Setup: a stored record as written before the rename
    stored = json.loads(same.to_json())
    stored["detection"]["sdmetrics_score"] = stored["detection"].pop("boosted_detection_score")
    # Run
    old = FidelityResult.model_validate(stored)
    # Assert
    assert "sdmetrics_score" not in old.entries["detection"].values
    assert old.value("detection", "boosted_detection_score") == pytest.approx(
        same.value("detection", "boosted_detection_score"))
