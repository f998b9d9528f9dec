import hashlib
from pathlib import Path

import pytest

from governance.core.errors import PolicyError
from governance.policy import (
    Policy,
    check_policy,
    default_policy,
    default_policy_path,
    load_policy,
    parse_policy,
    policy_json_schema,
)

POLICIES = Path(__file__).resolve().parents[3] / "policies"


def problems_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="p.yaml")
    return info.value.problems


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_policy_loads(path):
    # Run
    loaded = load_policy(path)

    # Assert
    assert loaded.policy.name == path.stem
    assert loaded.path == path
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert check_policy(path) == []


def test_default_and_strict_hold_their_documented_limits():
    # Run
    default = load_policy(POLICIES / "default.yaml").policy
    strict = load_policy(POLICIES / "strict.yaml").policy

    # Assert
    assert (default.risk.max_epsilon, default.risk.max_delta) == (8.0, 1e-5)
    assert default.risk.max_tpr_at_fpr is not None
    assert (default.risk.max_tpr_at_fpr.fpr, default.risk.max_tpr_at_fpr.tpr) == (0.01, 0.05)
    assert default.approvals.quorum == 2 and default.access.allows("anyone")
    assert strict.risk.max_epsilon < default.risk.max_epsilon
    assert strict.risk.max_attack_auc < default.risk.max_attack_auc
    assert strict.risk.audit_depth == "shadow"
    assert strict.utility.subgroups == ("sex",)
    assert not strict.access.allows("anyone") and strict.access.allows("analytics-team")


def test_packaged_default_is_a_byte_copy_of_policies_default():
    # Run
    packaged = default_policy()

    # Assert
    assert default_policy_path().read_bytes() == (POLICIES / "default.yaml").read_bytes()
    assert packaged.policy == load_policy(POLICIES / "default.yaml").policy


def test_parse_policy_hashes_the_utf8_text():
    # Setup
    text = "version: 1\nname: minimal\n"

    # Run
    loaded = parse_policy(text)

    # Assert
    assert loaded.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert loaded.text == text and loaded.path is None
    assert loaded.policy == Policy(name="minimal")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nrisk:\n  max_atack_auc: 0.7\n",
         "p.yaml line 3: risk.max_atack_auc: unknown key; did you mean 'max_attack_auc'?"),
        ("name: x\napprovals:\n  quorum: two\n",
         "p.yaml line 3: approvals.quorum: expected an integer >= 1, got 'two'"),
        ("name: x\napprovals:\n  quorum: 0\n",
         "p.yaml line 3: approvals.quorum: expected an integer >= 1, got 0"),
        ("name: x\nrisk:\n  max_attack_auc: 0.4\n",
         "p.yaml line 3: risk.max_attack_auc: expected a finite number in [0.5, 1], got 0.4"),
        ("name: x\nrisk:\n  max_tpr_at_fpr: {fpr: 1.0, tpr: 0.05}\n",
         "p.yaml line 3: risk.max_tpr_at_fpr.fpr: expected a finite number in (0, 1), got 1"),
        ("name: x\nrisk:\n  max_epsilon: .inf\n",
         "p.yaml line 3: risk.max_epsilon: expected a finite number > 0, got inf"),
        ("name: x\nrisk:\n  max_epsilon: '8'\n",
         "p.yaml line 3: risk.max_epsilon: expected a finite number > 0, got '8'"),
        ("name: x\nutility:\n  min_utility_ratio: -0.1\n",
         "p.yaml line 3: utility.min_utility_ratio: expected a finite number >= 0, got -0.1"),
        ("name: x\naccess:\n  formats: [parquet, xlsx]\n",
         "p.yaml line 3: access.formats[1]: expected one of 'parquet', 'csv', got 'xlsx'"),
        ("name: x\napprovals:\n  roles:\n    - approver\n    - aprover\n",
         "p.yaml line 5: approvals.roles[1]: expected one of 'requester', 'approver', "
         "'auditor', 'admin', got 'aprover'; did you mean 'approver'?"),
        ("name: x\nquorum: 3\n",
         "p.yaml line 2: quorum: unknown key here; 'quorum' belongs under 'approvals'"),
        ("name: x\ntask: {kind: regression}\n",
         "p.yaml line 2: task.target: required key missing; add it (non-empty text)"),
        ("version: 2\nname: x\n", "p.yaml line 1: version: expected 1, got 2"),
        ("name: x\napprovals:\n  separation_of_duties: 1\n",
         "p.yaml line 3: approvals.separation_of_duties: expected true or false, got 1"),
        ("name: x\nrisk:\n  max_epsilon: 50\n",
         "p.yaml line 2: risk.max_total_epsilon: max_total_epsilon (40) is below max_epsilon "
         "(50), so no candidate at the limit could ever be charged; raise it or lower "
         "max_epsilon"),
        ("name: x\nutility:\n  max_subgroup_gap: 0.1\n",
         "p.yaml line 3: utility.max_subgroup_gap: max_subgroup_gap is set but subgroups is "
         "empty; list the columns to check under utility.subgroups or remove max_subgroup_gap"),
        ("name: x\naccess:\n  consumers: [a, b, a]\n",
         "p.yaml line 3: access.consumers: lists 'a' more than once; list each once"),
        ("name: x\nutility:\n  aggregate: mean\n",
         "p.yaml line 3: utility.aggregate: expected one of 'min', 'median', got 'mean'; "
         "did you mean 'median'?"),
    ],
    ids=["typo", "wrong-type", "below-range", "auc-range", "fpr-open-interval", "infinite",
         "quoted-number", "negative-ratio", "bad-list-item", "typo-in-list", "misplaced-key",
         "missing-required", "unknown-version", "int-is-not-bool", "budget-cross-check",
         "gap-without-subgroups", "duplicate-list-item", "aggregate-typo"],
)
def test_each_problem_is_reported_with_its_line(text, expected):
    # Run
    problems = problems_of(text)

    # Assert
    assert problems == [expected]


def test_yaml_syntax_error_reports_its_line():
    # Run
    problems = problems_of("name: x\nrisk:\n  max_epsilon: 1\n   max_delta: 2\n")

    # Assert
    assert len(problems) == 1
    assert problems[0].startswith("p.yaml line 4: invalid YAML: mapping values are not allowed")


def test_unclosed_flow_sequence_names_where_it_started():
    # Run
    problems = problems_of("name: x\nutility:\n  subgroups: [sex, age\nrisk: {}\n")

    # Assert
    assert problems[0].startswith("p.yaml line 4: invalid YAML:")
    assert "started on line 3" in problems[0]


def test_duplicate_keys_are_reported_at_every_level():
    # Setup
    text = "name: x\nrisk:\n  max_epsilon: 4\n  max_epsilon: 2\nname: y\n"

    # Run
    problems = problems_of(text)

    # Assert
    assert problems == [
        "p.yaml line 4: risk.max_epsilon: duplicate key (first set on line 3); YAML would "
        "keep only the last value, so remove one",
        "p.yaml line 5: name: duplicate key (first set on line 1); YAML would keep only the "
        "last value, so remove one",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "p.yaml: the file is empty"),
        ("# just a comment\n", "p.yaml: the file is empty"),
        ("- name\n- x\n", "p.yaml line 1: the top level must be a mapping"),
        ("just text\n", "p.yaml line 1: the top level must be a mapping"),
        ("name: x\n---\nname: y\n", "p.yaml line 2: invalid YAML: expected a single document"),
        ("!!python/object/apply:os.system ['true']\n", "p.yaml line 1: invalid YAML:"),
    ],
    ids=["empty", "comment-only", "list", "scalar", "two-documents", "unsafe-tag"],
)
def test_unusable_documents_are_rejected(text, expected):
    # Run
    problems = problems_of(text)

    # Assert
    assert len(problems) == 1 and problems[0].startswith(expected)


def test_several_problems_are_all_reported_in_line_order():
    # Setup
    text = (
        "version: 1\n"                      # 1
        "name: several\n"                   # 2
        "risk:\n"                           # 3
        "  max_atack_auc: 0.7\n"            # 4
        "  max_delta: 2\n"                  # 5
        "utility:\n"                        # 6
        "  min_utility_ratio: high\n"       # 7
        "approvals:\n"                      # 8
        "  quorum: two\n"                   # 9
        "  quorum: 3\n"                     # 10
        "access:\n"                         # 11
        "  expires_after_days: 0\n"         # 12
    )

    # Run
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="policies/x.yaml")

    # Assert
    lines = [p.split(":")[0] for p in info.value.problems]
    assert lines == [f"policies/x.yaml line {n}" for n in (4, 5, 7, 10, 12)]
    assert "did you mean 'max_attack_auc'" in info.value.problems[0]
    assert "5 problem(s)" in info.value.message
    assert info.value.code == "invalid_policy"


def test_yaml_12_exponent_floats_are_numbers():
    # Run
    loaded = parse_policy("name: x\nrisk:\n  max_delta: 1e-6\n")

    # Assert
    assert loaded.policy.risk.max_delta == 1e-6


def test_merge_keys_are_not_mistaken_for_duplicates():
    # Setup
    text = "name: x\nrisk:\n  <<: {max_epsilon: 2, max_delta: 1.0e-6}\n  max_epsilon: 1\n"

    # Run
    loaded = parse_policy(text)

    # Assert
    assert loaded.policy.risk.max_epsilon == 1.0
    assert loaded.policy.risk.max_delta == 1e-6


def test_load_policy_reports_missing_and_non_utf8_files(tmp_path):
    # Setup
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))

    # Run / Assert
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy(tmp_path / "nope.yaml")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(latin)
    assert check_policy(tmp_path / "nope.yaml")[0].endswith(
        "pass the path of a policy YAML file such as policies/default.yaml")


def test_check_policy_uses_the_path_as_source(tmp_path):
    # Setup
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nrisk:\n  max_atack_auc: 0.7\n")

    # Run
    problems = check_policy(path)

    # Assert
    assert problems == [f"{path} line 3: risk.max_atack_auc: unknown key; "
                        "did you mean 'max_attack_auc'?"]


def test_json_schema_documents_every_field():
    # Run
    schema = policy_json_schema()

    # Assert
    risk = schema["$defs"]["RiskPolicy"]["properties"]
    assert risk["max_attack_auc"]["minimum"] == 0.5 and risk["max_attack_auc"]["maximum"] == 1
    assert schema["required"] == ["name"]
    for definition in [schema, *schema["$defs"].values()]:
        for name, prop in definition["properties"].items():
            assert prop.get("description"), name
