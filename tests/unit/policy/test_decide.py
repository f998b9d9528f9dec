import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from governance.core.errors import ConflictError, InputError
from governance.policy import (
    CandidateFacts,
    MetricError,
    Policy,
    PolicyViolationError,
    decide,
    load_policy,
    parse_policy,
)

REPO = Path(__file__).resolve().parents[3]

# Every optional clause switched on, with round limits.
FULL = Policy.model_validate({
    "name": "full",
    "risk": {
        "max_epsilon": 4, "max_delta": 1e-5, "max_total_epsilon": 20, "max_attack_auc": 0.6,
        "max_tpr_at_fpr": {"fpr": 0.01, "tpr": 0.05}, "max_epsilon_lb_ratio": 0.5,
        "max_disclosure_risk": {"singling_out": 0.1, "linkability": 0.1, "inference": 0.2},
    },
    "utility": {"min_utility_ratio": 0.8, "min_lift": 0.0, "subgroups": ["sex"],
                "max_subgroup_gap": 0.1},
})

GOOD = CandidateFacts(
    generator="dpsgd", epsilon_spent=2.0, delta=1e-6, preprocessing_private=True,
    reproducible_noise=False, worst_attack_auc=0.55, tpr_at_fpr={0.01: 0.02, 0.001: 0.0},
    epsilon_estimate=0.4,
    disclosure={"singling_out": 0.01, "linkability": 0.0, "inference": 0.05},
    ratio_above_chance=0.9, ratio_above_chance_ci=(0.85, 0.95), lift=0.01, subgroup_gap=0.05,
)


def test_good_candidate_is_eligible_with_no_notes():
    # Run
    verdict = decide(FULL, GOOD)

    # Assert
    assert verdict.eligible and verdict.violations == () and verdict.notes == ()
    assert verdict.policy_sha256 is None


# (clause, change that breaks the limit, change exactly at the limit, change leaving it unmeasured)
CLAUSES = [
    ("risk.max_epsilon", {"epsilon_spent": 4.01}, {"epsilon_spent": 4.0},
     {"epsilon_spent": math.nan}),
    ("risk.max_delta", {"delta": 2e-5}, {"delta": 1e-5}, {"delta": math.nan}),
    ("risk.max_attack_auc", {"worst_attack_auc": 0.61}, {"worst_attack_auc": 0.6},
     {"worst_attack_auc": None}),
    ("risk.max_tpr_at_fpr", {"tpr_at_fpr": {0.01: 0.06}}, {"tpr_at_fpr": {0.01: 0.05}},
     {"tpr_at_fpr": {0.01: None}}),
    ("risk.max_epsilon_lb_ratio", {"epsilon_estimate": 1.2}, {"epsilon_estimate": 1.0},
     {"epsilon_estimate": None}),
    ("risk.max_disclosure_risk.linkability", {"disclosure": {"linkability": 0.2,
     "singling_out": 0, "inference": 0}}, {"disclosure": {"linkability": 0.1,
     "singling_out": 0, "inference": 0}}, {"disclosure": {"singling_out": 0, "inference": 0}}),
    ("utility.min_utility_ratio", {"ratio_above_chance": 0.79}, {"ratio_above_chance": 0.8},
     {"ratio_above_chance": None}),
    ("utility.min_lift", {"lift": -0.02}, {"lift": 0.0}, {"lift": None}),
    ("utility.max_subgroup_gap", {"subgroup_gap": 0.11}, {"subgroup_gap": 0.1},
     {"subgroup_gap": math.nan}),
]


@pytest.mark.parametrize(("clause", "broken", "_at", "_missing"), CLAUSES,
                         ids=[c[0] for c in CLAUSES])
def test_clause_violated(clause, broken, _at, _missing):
    # Run
    verdict = decide(FULL, replace(GOOD, **broken))

    # Assert
    assert not verdict.eligible
    assert verdict.clauses == (clause,)
    assert not verdict.violations[0].unverifiable
    assert verdict.violations[0].observed is not None


@pytest.mark.parametrize(("clause", "_broken", "at_limit", "_missing"), CLAUSES,
                         ids=[c[0] for c in CLAUSES])
def test_clause_passes_exactly_at_its_limit(clause, _broken, at_limit, _missing):
    # Run
    verdict = decide(FULL, replace(GOOD, **at_limit))

    # Assert
    assert verdict.eligible, verdict.violations


@pytest.mark.parametrize(("clause", "_broken", "_at", "missing"), CLAUSES,
                         ids=[c[0] for c in CLAUSES])
def test_unmeasured_fact_is_an_unverifiable_violation(clause, _broken, _at, missing):
    # Run
    verdict = decide(FULL, replace(GOOD, **missing))

    # Assert
    assert clause in verdict.clauses
    violation = verdict.violations[verdict.clauses.index(clause)]
    assert violation.unverifiable and violation.observed is None
    assert "cannot be verified" in violation.message


@pytest.mark.parametrize(
    ("fact", "clause"),
    [("worst_attack_auc", "risk.max_attack_auc"),
     ("ratio_above_chance", "utility.min_utility_ratio"),
     ("disclosure.inference", "risk.max_disclosure_risk.inference"),
     ("epsilon_estimate", "risk.max_epsilon_lb_ratio"), ("tpr_at_fpr", "risk.max_tpr_at_fpr")],
)
def test_metric_error_makes_its_clause_unverifiable_even_with_a_value(fact, clause):
    # Setup
    facts = replace(GOOD, errors=[MetricError(fact=fact, message="classifier diverged")])

    # Run
    verdict = decide(FULL, facts)

    # Assert
    assert verdict.clauses == (clause,)
    assert verdict.violations[0].unverifiable
    assert "classifier diverged" in verdict.violations[0].message


def test_metric_error_on_a_whole_family_hits_every_clause_of_it():
    # Run
    verdict = decide(FULL, replace(GOOD, errors=[{"fact": "disclosure", "error": "oom"}]))

    # Assert
    assert verdict.clauses == tuple(f"risk.max_disclosure_risk.{k}"
                                    for k in ("singling_out", "linkability", "inference"))


def test_metric_error_no_clause_reads_becomes_a_note():
    # Run
    verdict = decide(Policy(name="p"), replace(GOOD, errors=[
        MetricError("fidelity", "boom"), MetricError("tpr_at_fpr", "too few rows")]))

    # Assert
    assert verdict.eligible
    assert len(verdict.notes) == 2
    assert all("no clause of this policy reads it" in n for n in verdict.notes)


def test_malformed_metric_error_is_refused():
    # Run / Assert
    with pytest.raises(InputError, match="MetricError"):
        replace(GOOD, errors=[{"message": "no fact"}])


def test_unconfigured_optional_clauses_are_not_checked():
    # Setup: the default-constructed policy has no TPR, disclosure, lift or gap clauses.
    facts = replace(GOOD, tpr_at_fpr=None, disclosure=None, lift=None, subgroup_gap=None)

    # Run
    verdict = decide(Policy(name="p"), facts)

    # Assert
    assert verdict.eligible


def test_tpr_missing_for_the_policy_fpr_is_unverifiable():
    # Run
    verdict = decide(FULL, replace(GOOD, tpr_at_fpr={0.1: 0.2}))

    # Assert
    assert verdict.clauses == ("risk.max_tpr_at_fpr",)
    assert "no attack reported its TPR at FPR 0.01" in verdict.violations[0].message


def test_tpr_too_few_samples_is_unverifiable_not_a_pass():
    # Run
    verdict = decide(FULL, replace(GOOD, tpr_at_fpr={0.01: None}))

    # Assert
    assert verdict.violations[0].unverifiable
    assert "too few non-member samples" in verdict.violations[0].message


def test_non_private_candidate_always_fails_a_finite_max_epsilon():
    # Setup
    facts = replace(GOOD, generator="ctgan", epsilon_spent=math.inf, delta=0.0,
                    epsilon_estimate=None, preprocessing_private=False)

    # Run
    verdict = decide(FULL, facts)

    # Assert
    assert verdict.clauses == ("risk.max_epsilon",)
    assert verdict.violations[0].message.startswith("non-private candidate (epsilon = inf)")
    assert verdict.as_dict()["violations"][0]["observed"] == "inf"
    assert any("no epsilon claim to audit" in note for note in verdict.notes)


@pytest.mark.parametrize("change", [{"epsilon_estimate": 2.5}, {"failed_privacy_audit": True}],
                         ids=["bound-above-claim", "flagged-by-audit"])
def test_failed_privacy_audit_is_always_a_violation(change):
    # Setup: a permissive ratio limit cannot rescue a failed audit.
    policy = Policy.model_validate({"name": "lax", "risk": {"max_epsilon_lb_ratio": 10}})

    # Run
    verdict = decide(policy, replace(GOOD, **change))

    # Assert
    assert verdict.clauses == ("risk.privacy_audit",)
    assert verdict.violations[0].message.startswith("failed privacy audit")


def test_data_derived_preprocessing_voids_a_dp_claim():
    # Run
    verdict = decide(FULL, replace(GOOD, preprocessing_private=False))

    # Assert
    assert verdict.clauses == ("risk.preprocessing",)
    assert "the DP guarantee does not hold" in verdict.violations[0].message


def test_noise_reproducible_from_the_log_voids_a_dp_claim():
    # Run
    verdict = decide(FULL, replace(GOOD, reproducible_noise=True))

    # Assert
    assert verdict.clauses == ("risk.reproducible_noise",)
    assert "not differentially private against anyone who can read the log" in \
        verdict.violations[0].message


def test_unrecorded_noise_source_is_unverifiable():
    # Run: a record written before noise sources were recorded
    verdict = decide(FULL, replace(GOOD, reproducible_noise=None))

    # Assert
    assert verdict.clauses == ("risk.reproducible_noise",)
    assert verdict.violations[0].unverifiable
    assert "does not say where its noise came from" in verdict.violations[0].message


@pytest.mark.parametrize("noise", [True, None])
def test_a_sandbox_policy_accepts_reproducible_noise_and_says_so(noise):
    # Setup
    sandbox = FULL.model_copy(update={"risk": FULL.risk.model_copy(
        update={"reproducible_noise": True})})

    # Run
    verdict = decide(sandbox, replace(GOOD, reproducible_noise=noise))

    # Assert
    assert verdict.eligible
    assert any("risk.reproducible_noise" in note for note in verdict.notes)


def test_non_private_candidates_need_no_noise_record():
    # Run
    verdict = decide(FULL, replace(GOOD, epsilon_spent=math.inf, reproducible_noise=None))

    # Assert
    assert "risk.reproducible_noise" not in verdict.clauses


def test_every_violation_is_returned_in_policy_order():
    # Setup
    facts = CandidateFacts(generator="bad", epsilon_spent=9.0, delta=1e-3,
                           preprocessing_private=False, reproducible_noise=True,
                           worst_attack_auc=0.9, epsilon_estimate=12.0, ratio_above_chance=0.1)

    # Run
    verdict = decide(FULL, facts)

    # Assert
    assert verdict.clauses == (
        "risk.max_epsilon", "risk.max_delta", "risk.max_attack_auc", "risk.max_tpr_at_fpr",
        "risk.privacy_audit", "risk.max_epsilon_lb_ratio",
        "risk.max_disclosure_risk.singling_out", "risk.max_disclosure_risk.linkability",
        "risk.max_disclosure_risk.inference", "risk.preprocessing",
        "risk.reproducible_noise", "utility.min_utility_ratio", "utility.min_lift",
        "utility.max_subgroup_gap",
    )


def test_strict_mode_raises_with_the_full_verdict():
    # Setup
    facts = replace(GOOD, worst_attack_auc=0.7, ratio_above_chance=0.5)

    # Run
    with pytest.raises(PolicyViolationError) as info:
        decide(FULL, facts, strict=True)

    # Assert
    assert isinstance(info.value, ConflictError) and info.value.code == "policy_violation"
    assert info.value.verdict.clauses == ("risk.max_attack_auc", "utility.min_utility_ratio")
    assert "risk.max_attack_auc" in info.value.message and "dpsgd" in info.value.message


def test_strict_mode_returns_an_eligible_verdict():
    # Run
    verdict = decide(FULL, GOOD, strict=True)

    # Assert
    assert verdict.eligible


def test_loaded_policy_hash_is_recorded_and_verdict_is_json_ready():
    # Setup
    loaded = parse_policy("name: p\nrisk:\n  max_attack_auc: 0.5\n")

    # Run
    verdict = decide(loaded, replace(GOOD, epsilon_estimate=math.nan))

    # Assert
    assert verdict.policy_sha256 == loaded.sha256
    payload = json.loads(json.dumps(verdict.as_dict(), allow_nan=False))
    assert [v["clause"] for v in payload["violations"]] == [
        "risk.max_attack_auc", "risk.max_epsilon_lb_ratio"]
    assert payload["violations"][1]["unverifiable"] is True


def test_utility_interval_below_the_floor_is_noted_not_violated():
    # Run
    verdict = decide(FULL, replace(GOOD, ratio_above_chance=0.82,
                                   ratio_above_chance_ci=(0.7, 0.9)))

    # Assert
    assert verdict.eligible
    assert verdict.notes == ("utility above chance 0.820 meets 0.8 on its point estimate, but "
                             "its interval reaches down to 0.700",)


def test_zero_epsilon_claim_with_positive_bound_fails_the_ratio():
    # Run
    verdict = decide(FULL, replace(GOOD, epsilon_spent=0.0, epsilon_estimate=0.1))

    # Assert
    assert "risk.max_epsilon_lb_ratio" in verdict.clauses
    assert "risk.privacy_audit" in verdict.clauses


@pytest.mark.parametrize(
    ("error", "clauses"),
    [("attack: shadow model failed", ("risk.max_attack_auc", "risk.max_tpr_at_fpr",
      "risk.max_epsilon_lb_ratio", "risk.max_disclosure_risk.singling_out",
      "risk.max_disclosure_risk.linkability", "risk.max_disclosure_risk.inference")),
     ("utility: no positive labels in eval", ("utility.min_utility_ratio", "utility.min_lift",
      "utility.max_subgroup_gap")),
     ("lift: singular matrix", ("utility.min_lift",))],
    ids=["attack-stage", "utility-stage", "single-fact"],
)
def test_string_errors_name_a_fact_or_a_stage(error, clauses):
    # Run
    verdict = decide(FULL, replace(GOOD, errors=[error]))

    # Assert
    assert verdict.clauses == clauses
    assert all(v.unverifiable for v in verdict.violations)


def test_unattributed_string_error_is_kept_as_a_note():
    # Run
    verdict = decide(FULL, replace(GOOD, errors=["something odd: happened"]))

    # Assert
    assert verdict.eligible
    assert verdict.notes == ("metric for 'unattributed' failed, but no clause of this policy "
                             "reads it: something odd: happened",)


@pytest.mark.parametrize(
    "change",
    [{"worst_attack_auc": "0.5"}, {"disclosure": {"linkability": {"value": 0.0}},
     "ratio_above_chance_ci": (None, None)}, {"tpr_at_fpr": {"one percent": 0.0}},
     {"worst_attack_auc": True}],
    ids=["text", "nested-dict", "bad-key", "bool"],
)
def test_malformed_values_are_unverifiable_not_crashes(change):
    # Run
    verdict = decide(FULL, replace(GOOD, **change))

    # Assert
    assert not verdict.eligible
    assert all(v.unverifiable for v in verdict.violations)


# The audit's released coin: TSTR ROC AUC 0.498 against a control of 0.675 on every model.
COIN = (0.498 - 0.5) / (0.675 - 0.5)


@pytest.mark.parametrize("policy", [
    Policy.model_validate({"name": "any", "utility": {"min_utility_ratio": 0.0}}),
    Policy.model_validate({"name": "any", "utility": {"min_utility_ratio": 0.0,
                                                      "aggregate": "median"}}),
], ids=["min", "median"])
def test_tstr_at_or_below_chance_is_never_eligible(policy):
    # Setup: the raw ratio 0.498 / 0.675 = 0.738 used to pass a 0.70 floor.
    facts = replace(GOOD, ratio_above_chance={"linear": COIN, "random_forest": COIN,
                                              "hgb": COIN})

    # Run
    verdict = decide(policy, facts)

    # Assert
    assert not verdict.eligible
    assert verdict.clauses == ("utility.above_chance", "utility.min_utility_ratio")
    assert verdict.violations[0].observed == pytest.approx(-0.0114, abs=1e-4)
    assert "at or below chance" in verdict.violations[0].message
    assert "never eligible, whatever the policy" in verdict.violations[0].message


def test_exactly_at_chance_is_not_eligible_even_with_a_zero_floor():
    # Setup
    policy = Policy.model_validate({"name": "any", "utility": {"min_utility_ratio": 0.0}})

    # Run
    verdict = decide(policy, replace(GOOD, ratio_above_chance=0.0))

    # Assert
    assert verdict.clauses == ("utility.above_chance",)


def test_the_research_sandbox_refuses_chance_level_utility():
    # Setup: the loosest shipped policy.
    sandbox = load_policy(REPO / "policies" / "research-sandbox.yaml")

    # Run
    verdict = decide(sandbox, replace(GOOD, ratio_above_chance=COIN))

    # Assert
    assert "utility.above_chance" in verdict.clauses


@pytest.mark.parametrize(
    ("aggregate", "panel", "clauses"),
    [("min", {"linear": 0.5, "random_forest": 0.85, "hgb": 0.9}, ("utility.min_utility_ratio",)),
     ("median", {"linear": 0.5, "random_forest": 0.85, "hgb": 0.9}, ()),
     ("median", {"linear": 0.5, "random_forest": 0.7, "hgb": 0.9}, ("utility.min_utility_ratio",)),
     ("min", {"linear": -0.1, "random_forest": 0.85, "hgb": 0.9},
      ("utility.above_chance", "utility.min_utility_ratio")),
     ("median", {"linear": -0.1, "random_forest": 0.85, "hgb": 0.9}, ())],
)
def test_policy_gates_on_the_panel_min_or_median(aggregate, panel, clauses):
    # Setup
    policy = Policy.model_validate({"name": "p", "utility": {"min_utility_ratio": 0.8,
                                                             "aggregate": aggregate}})

    # Run
    verdict = decide(policy, replace(GOOD, ratio_above_chance=panel))

    # Assert
    assert verdict.clauses == clauses
    if clauses:
        assert verdict.violations[-1].observed == pytest.approx(
            min(panel.values()) if aggregate == "min" else sorted(panel.values())[1])


def test_panel_lift_and_gap_use_the_worst_model():
    # Setup: the worst lift is the smallest, the worst gap the largest.
    facts = replace(GOOD, lift={"linear": -0.01, "hgb": 0.02},
                    subgroup_gap={"linear": 0.02, "hgb": 0.2})

    # Run
    verdict = decide(FULL, facts)

    # Assert
    assert verdict.clauses == ("utility.min_lift", "utility.max_subgroup_gap")
    assert [v.observed for v in verdict.violations] == [-0.01, 0.2]


def test_a_panel_model_without_a_figure_makes_the_clause_unverifiable():
    # Run
    verdict = decide(FULL, replace(GOOD, ratio_above_chance={"linear": None, "hgb": 0.95}))

    # Assert
    assert verdict.clauses == ("utility.min_utility_ratio",)
    assert verdict.violations[0].unverifiable
    assert "panel model(s) linear gave no figure" in verdict.violations[0].message
