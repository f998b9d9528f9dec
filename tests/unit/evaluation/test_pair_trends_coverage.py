"""Column Pair Trends says how many column pairs its score covers, in the record and report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.datasets.schema import Schema
from governance.evaluation.fidelity.quality import quality_report
from governance.report.fidelity_section import _quality

SCHEMA = Schema.model_validate({"columns": {
    name: {"type": "numeric", "min": -10, "max": 10} for name in ("x", "y", "z")}})


def _table(seed: int) -> pd.DataFrame:
    """x and y correlated; z independent of both (its pairs fall below the threshold)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=500)
    return pd.DataFrame({"x": x, "y": x + 0.3 * rng.normal(size=500),
                         "z": rng.normal(size=500)})


def test_coverage_counts_the_pairs_the_score_averages_out_of_all_pairs():
    # Run
    report = quality_report(_table(0), _table(1), SCHEMA)
    # Assert: only (x, y) passes the real-correlation threshold, out of 3 pairs.
    assert report["engine"].startswith("native")
    assert report["column_pair_trends_coverage"] == {"scored": 1, "possible": 3}
    xy = next(p for p in report["pair_trends"] if p["columns"] == ["x", "y"])
    assert report["column_pair_trends"] == xy["score"]


def test_the_report_shows_the_coverage_next_to_the_score():
    # Setup
    entry = quality_report(_table(0), _table(1), SCHEMA)
    # Run
    text = "".join(_quality(entry))
    # Assert
    assert f"{entry['column_pair_trends']:.3f} over 1 of 3 column pairs" in text


def test_a_record_without_coverage_says_it_was_not_recorded():
    entry = quality_report(_table(0), _table(1), SCHEMA)
    del entry["column_pair_trends_coverage"]
    assert "coverage not recorded" in "".join(_quality(entry))
