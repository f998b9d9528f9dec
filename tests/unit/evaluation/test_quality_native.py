"""The NumPy quality report gives SDMetrics' figures, field by field, and defers where it must."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance.evaluation.fidelity.quality import quality_report
from tests.utils.data import MIXED_SCHEMA

FIELDS = ("score", "real_correlation", "synthetic_correlation", "real_association")


def _assert_same_report(real: pd.DataFrame, synthetic: pd.DataFrame, schema) -> dict:
    ours = quality_report(real, synthetic, schema, engine="native")
    reference = quality_report(real, synthetic, schema, engine="sdmetrics")
    assert ours["engine"].startswith("native") and reference["engine"] == "sdmetrics"
    for key in ("score", "column_shapes", "column_pair_trends"):
        assert ours[key] == pytest.approx(reference[key], abs=1e-12), key
    assert ours["shapes"].keys() == reference["shapes"].keys()
    for column, entry in ours["shapes"].items():
        assert entry["metric"] == reference["shapes"][column]["metric"]
        assert entry["score"] == pytest.approx(reference["shapes"][column]["score"], abs=1e-12)
    assert len(ours["pair_trends"]) == len(reference["pair_trends"])
    for mine, theirs in zip(ours["pair_trends"], reference["pair_trends"], strict=True):
        assert (mine["columns"], mine["metric"], mine["meets_threshold"]) == (
            theirs["columns"], theirs["metric"], theirs["meets_threshold"])
        for key in FIELDS:
            expected = theirs[key]
            assert mine[key] == (None if expected is None else pytest.approx(expected, abs=1e-9)), (
                mine["columns"], key)
    assert ours["pairs_scored"] == reference["pairs_scored"]
    return ours


def test_matches_sdmetrics_on_real_data_against_a_perturbed_copy(randhie_splits, randhie_schema_):
    # Arrange: real randhie rows against shuffled-column noise on another block
    real = randhie_splits["eval"]
    synthetic = randhie_splits["other"].copy()
    rng = np.random.default_rng(0)
    for name in ("lpi", "physlm", "hlthg"):
        synthetic[name] = rng.permutation(synthetic[name].to_numpy())
    # Run / Assert
    ours = _assert_same_report(real, synthetic, randhie_schema_)
    assert ours["pairs_scored"] >= 3  # some pairs pass SDMetrics' thresholds
    assert any(p["metric"] == "CorrelationSimilarity" and p["score"] is not None
               for p in ours["pair_trends"])


def test_matches_sdmetrics_on_noise_and_on_a_fresh_sample(mixed_splits, uniform_noise):
    # Arrange
    real = mixed_splits["eval"]
    # Run / Assert
    fresh = _assert_same_report(real, mixed_splits["other"], MIXED_SCHEMA)
    noise = _assert_same_report(real, uniform_noise(MIXED_SCHEMA, 1500, seed=2), MIXED_SCHEMA)
    assert noise["score"] < fresh["score"]


def test_matches_sdmetrics_with_missing_and_out_of_list_values(mixed_splits):
    # Arrange: missing values in categorical and numeric columns, values outside the lists
    real = mixed_splits["eval"].iloc[:700].astype({"sex": object, "edu": object})
    synthetic = mixed_splits["other"].iloc[:400].astype({"sex": object, "edu": object})
    real.loc[real.index[:50], "edu"] = np.nan
    real.loc[real.index[60:80], "income"] = np.nan
    synthetic.loc[synthetic.index[:30], "sex"] = np.nan
    synthetic.loc[synthetic.index[40:100], "edu"] = "phd"
    synthetic.loc[synthetic.index[100:110], "hours"] = np.nan
    # Run / Assert
    ours = _assert_same_report(real, synthetic, MIXED_SCHEMA)
    assert ours["shapes"]["edu"]["score"] < 0.95


@pytest.mark.parametrize("breakage, reason", [
    (lambda f: f.assign(hours=40.0), "constant"),
    (lambda f: f.assign(sex=np.nan), "no values"),
    (lambda f: f.drop(columns=["edu"]), "no values"),
    (lambda f: f.assign(income=np.inf), "infinite"),
])
def test_inputs_it_does_not_cover_go_to_sdmetrics(mixed_splits, breakage, reason):
    # Arrange
    real, synthetic = mixed_splits["eval"].iloc[:300], breakage(mixed_splits["other"].iloc[:300])
    # Run
    out = quality_report(real, synthetic, MIXED_SCHEMA)
    # Assert
    assert out["engine"].startswith("sdmetrics (") and reason in out["engine"]


def test_unknown_engine_is_refused(mixed_splits):
    with pytest.raises(ValueError, match="unknown quality engine"):
        quality_report(mixed_splits["eval"], mixed_splits["other"], MIXED_SCHEMA, engine="fast")
