import json
import math

import numpy as np
import pandas as pd
import pytest

from governance.attacks import ShadowAttack, run_membership_audit
from governance.attacks.membership.shadow import SyntheticFeatures, max_resolvable_epsilon
from governance.core.errors import ConflictError, InputError
from governance.generators.base import PrivacySpend
from governance.generators.fake import FakeGenerator
from tests.utils.data import MIXED_SCHEMA, mixed_table


class PoolGenerator:
    """Ignores its training data: returns rows from a fixed pool (seeded or not)."""

    name = "pool"

    def __init__(self, pool: pd.DataFrame, *, seed: int, vary: bool) -> None:
        self.pool, self.seed, self.vary = pool, seed, vary

    def fit(self, data, schema):
        return self

    def sample(self, n):
        if not self.vary:
            return self.pool.iloc[np.arange(n) % len(self.pool)].reset_index(drop=True)
        rng = np.random.default_rng(self.seed)
        return self.pool.iloc[rng.choice(len(self.pool), n)].reset_index(drop=True)

    def privacy(self):
        return PrivacySpend(epsilon_target=0.5, epsilon_spent=0.5, delta=0.0,
                            mechanism="pool (ignores data)")


@pytest.fixture(scope="module")
def rows():
    table = mixed_table(1200, seed=31)
    return {"ori": table[:300], "control": table[300:600], "reference": table[600:1000],
            "pool": table[1000:]}


def _attack(rows, factory, syn, **options):
    options = {"n_targets": 4, "n_shadows": 24, "shadow_rows": 280, **options}
    return ShadowAttack(rows["ori"], syn, rows["control"], MIXED_SCHEMA,
                        generator_factory=factory, reference=rows["reference"], seed=3,
                        **options)


@pytest.fixture(scope="module")
def copy_result(rows):
    return _attack(rows, lambda s: FakeGenerator(seed=s), rows["ori"]).evaluate().results()


def test_copying_generator_is_caught_on_every_target(copy_result):
    # Assert
    assert copy_result.candidate.auc == pytest.approx(1.0)
    assert copy_result.shadow_runs.auc > 0.95
    assert all(t.validation_auc > 0.9 for t in copy_result.targets)
    assert copy_result.candidate.exact_match_members == 1.0
    assert copy_result.candidate.exact_match_nonmembers == 0.0
    # 8 targets x 12 held-out runs: enough trials for a bound above 1
    assert copy_result.shadow_runs.epsilon_estimate > 1.0
    assert copy_result.shadow_runs.n_members == copy_result.shadow_runs.n_nonmembers == 48


def test_copying_generator_reports_sizes_and_small_sample_caveat(copy_result):
    # Assert
    roles = [t.role for t in copy_result.targets]
    assert roles.count("member") == roles.count("nonmember") == 4
    assert copy_result.n_shadows == 24 and copy_result.shadow_rows == 280
    assert copy_result.max_resolvable_epsilon["candidate"] == pytest.approx(
        max_resolvable_epsilon(4, 4, delta=1e-5))
    assert copy_result.candidate.epsilon_estimate <= copy_result.max_resolvable_epsilon["candidate"]
    assert any("too small to resolve" in n for n in copy_result.candidate.notes)
    assert copy_result.candidate.tpr_at_1pct is None  # 4 non-members cannot resolve 1 % FPR
    assert math.isinf(copy_result.shadow_epsilon_spent)
    json.dumps(copy_result.as_dict(), allow_nan=False)


def test_targets_are_the_most_outlying_rows(rows, copy_result):
    # Setup
    members = [t for t in copy_result.targets if t.role == "member"]
    # Assert
    assert all(a.outlier_score >= b.outlier_score
               for a, b in zip(members, members[1:], strict=False))
    assert len({t.row for t in members}) == 4


def test_generator_that_ignores_its_data_gives_chance(rows):
    # Setup
    pool = rows["pool"]
    # Run
    fixed = _attack(rows, lambda s: PoolGenerator(pool, seed=s, vary=False),
                    pool.iloc[np.arange(300) % len(pool)]).evaluate().results()
    varied = _attack(rows, lambda s: PoolGenerator(pool, seed=s, vary=True),
                     PoolGenerator(pool, seed=99, vary=True).sample(300)).evaluate().results()
    # Assert
    # identical outputs in and out: each target's held-out runs all tie
    assert all(t.validation_auc == 0.5 for t in fixed.targets)
    # the pooled reading over 8 targets x 12 held-out runs is the one with power (the
    # candidate reading has 4 + 4 targets, a null SE of 0.22, so it is not asserted)
    se = varied.shadow_runs.auc_null_se
    assert abs(varied.shadow_runs.auc - 0.5) < 3 * se
    assert varied.shadow_runs.epsilon_estimate == 0.0
    assert varied.shadow_epsilon_spent == 0.5


def test_suite_adds_the_shadow_readings(rows):
    # Setup
    attack = _attack(rows, lambda s: FakeGenerator(seed=s), rows["ori"], n_targets=3,
                     n_shadows=16, features=("distance",))
    # Run
    report = run_membership_audit(
        members=rows["ori"], nonmembers=rows["control"], synthetic=rows["ori"],
        schema=MIXED_SCHEMA, attacks=("dcr",), shadow=attack, claimed_epsilon=1.0)
    # Assert
    assert {"dcr", "shadow", "shadow_runs"} <= set(report.results)
    assert report.shadow is not None and report.shadow.features == ("distance",)
    assert report.results["shadow"] == report.shadow.candidate
    assert report.results["shadow_runs"] == report.shadow.shadow_runs
    # the Bonferroni-corrected estimate over all attacks, shadow readings included, is
    # never above the worst per-attack figure read at 95 % each
    assert report.epsilon_estimate_detail is not None
    assert {a.name for a in report.epsilon_estimate_detail.attacks} == set(report.results)
    assert report.epsilon_estimate == report.epsilon_estimate_detail.epsilon
    assert report.epsilon_estimate <= max(r.epsilon_estimate for r in report.results.values())
    assert report.as_dict()["shadow"]["n_shadows"] == 16


def test_subsampling_the_candidate_is_recorded(rows):
    # Run
    result = _attack(rows, lambda s: FakeGenerator(seed=s), rows["ori"], n_targets=2,
                     n_shadows=4, synthetic_rows=100).evaluate().results()
    # Assert
    assert result.subsampled == {"synthetic": {"used": 100, "of": 300}}
    assert result.synthetic_rows == 100


@pytest.mark.parametrize("options", [
    {"n_targets": 1}, {"n_shadows": 5}, {"n_shadows": 2}, {"classifier": "svm"},
    {"features": ("wavelets",)}, {"k_outlier": 0}, {"synthetic_rows": 3},
])
def test_invalid_options_are_refused(rows, options):
    # Run / Assert
    with pytest.raises(InputError):
        _attack(rows, lambda s: FakeGenerator(seed=s), rows["ori"], **options)


def test_results_before_evaluate_is_a_conflict(rows):
    # Setup
    attack = _attack(rows, lambda s: FakeGenerator(seed=s), rows["ori"])
    # Run / Assert
    with pytest.raises(ConflictError, match="evaluate"):
        attack.results()


def test_features_known_answer():
    # Setup
    frame = pd.DataFrame({"age": [17, 90, 90, 17], "income": [0.0, 0, 200000, 200000],
                          "hours": [0.0, 99, 99, 0], "sex": ["male"] * 4,
                          "edu": ["hs", "hs", "grad", "grad"], "label": [0, 1, 0, 1]})
    feats = SyntheticFeatures(MIXED_SCHEMA, sets=("naive",))
    # Run
    naive = feats.generic(feats.encoder.encode(frame))
    # Assert: age mean .5, median .5, var .25; then income, hours; sex: 1/2 present, mode 1/2
    assert naive[:3] == pytest.approx([0.5, 0.5, 0.25])
    assert naive[9:11] == pytest.approx([0.5, 0.5])
    assert naive[11:13] == pytest.approx([0.5, 0.0])
