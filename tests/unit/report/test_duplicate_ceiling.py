"""The real duplicate rate counts non-members equal to any train row, with its AUC ceiling."""

from __future__ import annotations

import math

import pytest

from governance.attacks.matching import auc_ceiling, duplicate_rate
from governance.attacks.suite import AuditReport
from governance.evaluation import TaskSpec
from governance.generators.base import PrivacySpend
from governance.policy.loader import parse_policy
from governance.services.runs.evaluate import CandidateEvaluator
from tests.unit.report.real_run import POLICY_TEXT, splits
from tests.utils.data import MIXED_SCHEMA, mixed_table


def test_the_duplicate_rate_counts_against_the_whole_train_split():
    # Setup: 30 holdout rows repeat train rows; the members are a sample of train.
    parts = splits()
    task = TaskSpec(target="label").resolve(MIXED_SCHEMA)
    evaluator = CandidateEvaluator(splits=parts, schema=MIXED_SCHEMA, task=task, seed=0,
                                   policy=parse_policy(POLICY_TEXT, source="dup-tests"))
    on_sample = duplicate_rate(evaluator.nonmembers, evaluator.members, MIXED_SCHEMA)
    on_train = duplicate_rate(evaluator.nonmembers, parts.train, MIXED_SCHEMA)
    copies = evaluator.nonmembers.merge(parts.train.iloc[:30], how="inner")
    # Assert: every copied row counts, not only those whose twin was sampled as a member.
    assert evaluator.duplicate_rate == on_train == len(copies) / len(evaluator.nonmembers)
    assert on_train > on_sample > 0
    # Run: the attack record carries the train-wide figure
    spend = PrivacySpend(epsilon_target=math.inf, epsilon_spent=math.inf, delta=0.0,
                         mechanism="copy", accountant="none")
    attack = evaluator._attack(mixed_table(200, seed=9), spend, None)
    assert isinstance(attack, AuditReport) and attack.duplicate_rate == on_train


def test_the_ceiling_is_one_minus_half_the_rate():
    assert auc_ceiling(0.0) == 1.0
    assert auc_ceiling(0.216) == pytest.approx(0.892)
    assert auc_ceiling(1.0) == 0.5
