import numpy as np
import pandas as pd
import pytest

from governance.attacks import (
    DCRAttack,
    DCRDiffAttack,
    ExactMatchAttack,
    NNDRAttack,
)
from governance.core.errors import (
    ConflictError,
    DatasetError,
    InputError,
    UntrustedSignalWarning,
)
from governance.datasets.schema import Schema
from tests.utils.data import MIXED_SCHEMA, mixed_table


@pytest.fixture(scope="module")
def rows():
    """Unique rows: members, non-members, fresh (null synthetic), reference."""
    table = mixed_table(8000, seed=11)
    return {"members": table[:2000], "nonmembers": table[2000:4000],
            "fresh": table[4000:6000], "reference": table[6000:8000]}


@pytest.mark.parametrize("attack", [DCRAttack, NNDRAttack, ExactMatchAttack])
def test_verbatim_copy_is_caught(attack):
    # Setup: 1000 members published verbatim as the synthetic data
    table = mixed_table(2000, seed=5)
    members, nonmembers = table[:1000], table[1000:]
    # Run
    result = attack(members, members, nonmembers, MIXED_SCHEMA).evaluate().results()
    # Assert
    assert result.auc >= 0.99
    assert result.epsilon_estimate > 2.0
    assert result.tpr_at_1pct == pytest.approx(1.0)
    assert (result.exact_match_members, result.exact_match_nonmembers) == (1.0, 0.0)


def test_dcr_diff_catches_a_verbatim_copy(rows):
    # Setup
    members = rows["members"]
    # Run
    result = DCRDiffAttack(members, members, rows["nonmembers"], MIXED_SCHEMA,
                           reference=rows["reference"]).evaluate().results()
    # Assert
    assert result.auc > 0.9
    assert result.epsilon_estimate > 2.0
    assert result.n_reference == 2000


@pytest.mark.parametrize("seed", range(20))
def test_null_control_gives_chance_auc_and_zero_epsilon(seed):
    # Setup: members, non-members and "synthetic" are disjoint real rows of one table
    table = mixed_table(6000, seed=100 + seed)
    members, nonmembers, fresh = table[:2000], table[2000:4000], table[4000:]
    # Run
    dcr = DCRAttack(members, fresh, nonmembers, MIXED_SCHEMA, seed=seed).evaluate().results()
    nndr = NNDRAttack(members, fresh, nonmembers, MIXED_SCHEMA, seed=seed).evaluate().results()
    # Assert
    for result in (dcr, nndr):
        assert abs(result.auc - 0.5) <= 0.03
        assert result.epsilon_estimate == 0.0
        assert result.warnings == ()


def test_result_reports_sizes_rates_and_detail(rows):
    # Run
    result = DCRAttack(rows["members"], rows["fresh"][:1500], rows["nonmembers"],
                       MIXED_SCHEMA).evaluate().results()
    # Assert
    assert (result.n_members, result.n_nonmembers, result.n_synthetic) == (2000, 2000, 1500)
    assert result.duplicate_rate == 0.0
    assert result.subsampled is None
    detail = result.epsilon_detail
    assert detail.tp + detail.fn == 1000 and detail.fp + detail.tn == 1000
    assert {"threshold", "tpr_ci", "fpr_ci", "delta"} <= set(result.as_dict()["epsilon_detail"])
    assert result.tpr_at_1pct is not None and result.tpr_at_01pct is not None


def test_nndr_scores_two_exact_copies_as_ratio_zero():
    # Setup: each member appears twice in the synthetic data
    table = mixed_table(400, seed=2)
    members, nonmembers = table[:200], table[200:]
    synthetic = pd.concat([members, members], ignore_index=True)
    # Run
    attack = NNDRAttack(members, synthetic, nonmembers, MIXED_SCHEMA)
    scores = attack.scores()
    # Assert
    assert (scores[:200] == 0.0).all()
    assert (scores[200:] < 0).all()


def test_max_rows_subsamples_and_says_how_much(rows):
    # Run
    result = DCRAttack(rows["members"], rows["fresh"], rows["nonmembers"][:300], MIXED_SCHEMA,
                       max_rows=500).evaluate().results()
    # Assert
    assert result.n_members == 500 and result.n_nonmembers == 300
    assert result.subsampled == {"members": {"used": 500, "of": 2000}}


def test_results_before_evaluate_raises(rows):
    # Setup
    attack = DCRAttack(rows["members"], rows["fresh"], rows["nonmembers"], MIXED_SCHEMA)
    # Run / Assert
    with pytest.raises(ConflictError, match="call evaluate"):
        attack.results()


def test_evaluate_returns_self(rows):
    # Setup
    attack = ExactMatchAttack(rows["members"], rows["fresh"], rows["nonmembers"], MIXED_SCHEMA)
    # Run / Assert
    assert attack.evaluate() is attack


@pytest.mark.parametrize("role", ["ori", "syn", "control"])
def test_empty_frame_raises_dataset_error_naming_the_role(rows, role):
    # Setup
    frames = {"ori": rows["members"], "syn": rows["fresh"], "control": rows["nonmembers"]}
    frames[role] = frames[role].iloc[:0]
    # Run / Assert
    with pytest.raises(DatasetError, match=f"\\({role}\\) has no rows"):
        DCRAttack(frames["ori"], frames["syn"], frames["control"], MIXED_SCHEMA)


def test_column_mismatch_raises_naming_the_columns(rows):
    # Setup
    bad = rows["fresh"].rename(columns={"hours": "hrs"})
    # Run / Assert
    with pytest.raises(DatasetError, match=r"missing: \['hours'\].*not in schema: \['hrs'\]"):
        DCRAttack(rows["members"], bad, rows["nonmembers"], MIXED_SCHEMA)


def test_values_outside_the_public_domain_raise(rows):
    # Setup
    bad = rows["nonmembers"].copy()
    bad["age"] = bad["age"] + 100
    # Run / Assert
    with pytest.raises(DatasetError, match="non-members.*outside the public domain"):
        DCRAttack(rows["members"], rows["fresh"], bad, MIXED_SCHEMA)


@pytest.mark.parametrize("kwargs", [{"delta": 1.0}, {"max_rows": 1}])
def test_bad_options_raise_input_error(rows, kwargs):
    # Run / Assert
    with pytest.raises(InputError):
        DCRAttack(rows["members"], rows["fresh"], rows["nonmembers"], MIXED_SCHEMA, **kwargs)


def test_non_dataframe_raises_input_error(rows):
    # Run / Assert
    with pytest.raises(InputError, match="must be a pandas DataFrame"):
        DCRAttack(rows["members"].to_numpy(), rows["fresh"], rows["nonmembers"], MIXED_SCHEMA)


def test_dcr_diff_without_reference_raises(rows):
    # Run / Assert
    with pytest.raises(InputError, match="pass reference="):
        DCRDiffAttack(rows["members"], rows["fresh"], rows["nonmembers"], MIXED_SCHEMA)


DISCRETE = Schema.model_validate({"columns": {
    "a": {"type": "categorical", "categories": [0, 1]},
    "b": {"type": "categorical", "categories": ["x", "y"]},
}})


def _discrete(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.integers(0, 2, n), "b": rng.choice(["x", "y"], n)})


def test_chance_auc_on_duplicated_data_is_flagged_not_warned():
    # Setup: four possible rows, so nearly every non-member duplicates a member
    members, nonmembers, synthetic = _discrete(300, 0), _discrete(300, 1), _discrete(300, 2)
    # Run
    result = DCRAttack(members, synthetic, nonmembers, DISCRETE).evaluate().results()
    # Assert: recorded, and no Python warning (they are errors under pytest here)
    assert result.duplicate_rate == 1.0
    assert not result.trusted
    assert any("exactly duplicate a member" in w for w in result.warnings)
    assert any("not enough samples (need >= 1000 non-members" in w for w in result.warnings)


def test_warn_true_emits_untrusted_signal_warning():
    # Setup
    members, nonmembers, synthetic = _discrete(300, 0), _discrete(300, 1), _discrete(300, 2)
    # Run / Assert
    with pytest.warns(UntrustedSignalWarning) as record:
        DCRAttack(members, synthetic, nonmembers, DISCRETE, warn=True).evaluate()
    messages = [str(w.message) for w in record]
    assert any("exactly duplicate a member" in m for m in messages)
    assert any("not enough samples" in m for m in messages)
