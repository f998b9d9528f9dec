"""Policy-change re-evaluation on a real run: flag, never revoke; record, never rewrite."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlmodel import col, select

from governance.core.errors import ConflictError
from governance.policy import parse_policy
from governance.services.reevaluate import reevaluate
from governance.services.releases import authorize_access, record_decision
from governance.store.auditlog import verify_log
from governance.store.db import dispose_engines
from governance.store.models import ApiKey, AuditEvent, Candidate, Release
from tests.utils.scenario import ScenarioBuilder

POLICY = """\
version: 1
name: reeval-test
risk: {max_epsilon: 10, max_total_epsilon: 30, max_attack_auc: 1.0}
utility: {min_utility_ratio: 0.0}
approvals: {quorum: 2, roles: [approver], separation_of_duties: true}
access: {consumers: [dave], formats: [parquet, csv], expires_after_days: 30}
"""
STRICT = POLICY.replace("max_epsilon: 10", "max_epsilon: 1")
REWORDED = POLICY + "# same rules, new text\n"
OTHER_NAME = STRICT.replace("name: reeval-test", "name: another-policy")


def _key(gov, name):
    with gov.session() as s:
        return s.exec(select(ApiKey).where(ApiKey.name == name)).one()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One real run with two DP candidates: one released (active), one open."""
    built = (ScenarioBuilder(tmp_path_factory.mktemp("reeval"))
             .keys(carol="approver", frank="approver", dave="requester")
             .run("bob", policy=POLICY, epsilons=(4.0, 8.0))
             .approve("bob", "carol", "frank", index=0).build())
    released, open_ = built.candidates["bob"]
    return {"world": built, "run": built.runs["bob"], "released": released, "open": open_,
            "release": built.releases["bob"]}


@pytest.fixture
def world(template, tmp_path):
    clone = template["world"].clone(tmp_path)
    yield {**template, "home": clone.home, "gov": clone.gov}
    dispose_engines()


def _kinds(gov, after=0):
    with gov.session() as s:
        return [e.kind for e in s.exec(select(AuditEvent).where(AuditEvent.seq > after)
                                       .order_by(col(AuditEvent.seq))).all()]


def _head(gov):
    with gov.session() as s:
        return verify_log(s).head_seq


def test_stricter_version_flags_the_release_and_closes_the_open_candidate(world):
    # Setup
    gov, start = world["gov"], _head(world["gov"])

    # Run
    report = reevaluate(gov, policy=parse_policy(STRICT), actor="priya")

    # Assert: the report
    assert report.runs == (world["run"],) and len(report.previous_versions) == 1
    assert report.flagged == (world["release"],)
    assert report.newly_ineligible == (world["open"],)
    assert all(c.clauses == ("risk.max_epsilon",) for c in report.changes)
    # The release is flagged, not revoked, with a reason naming the clause.
    with gov.session() as s:
        rel = s.get(Release, world["release"])
        cand = s.get(Candidate, world["open"])
        released = s.get(Candidate, world["released"])
    assert rel.status == "flagged" and "risk.max_epsilon" in rel.reason
    # The open candidate carries the new verdict and what it supersedes.
    verdict = json.loads(cand.verdict_json)
    assert not cand.eligible and verdict["policy_sha256"] == report.policy_sha256
    assert verdict["supersedes"]["eligible"] is True
    assert released.status == "released" and released.eligible  # history kept as it was
    # Every judgement and the flag are on the chain, which still verifies.
    assert Counter(_kinds(gov, start)) == Counter(
        {"policy.recorded": 1, "policy.reevaluated": 2, "release.flagged": 1})
    with gov.session() as s:
        assert verify_log(s).ok
        flagged = s.exec(select(AuditEvent).where(AuditEvent.kind == "release.flagged")).one()
    assert json.loads(flagged.payload)["clauses"] == ["risk.max_epsilon"]


def test_flagged_release_stays_downloadable_and_open_candidate_cannot_be_approved(world):
    # Setup
    gov = world["gov"]
    reevaluate(gov, policy=parse_policy(STRICT), actor="priya")

    # Run / Assert: the consumer still gets the flagged release (logged as allowed).
    with gov.session() as s:
        rel = authorize_access(session=s, release_id=world["release"],
                               consumer=_key(gov, "dave"), fmt="parquet")
    assert rel.status == "flagged" and _kinds(gov)[-1] == "access.allowed"
    # The open candidate can no longer be approved.
    with pytest.raises(ConflictError, match="cannot be approved"), gov.session() as s:
        record_decision(session=s, candidate_id=world["open"], actor=_key(gov, "carol"),
                        decision="approve")


def test_same_rules_in_new_text_change_nothing_but_are_recorded(world):
    # Run
    report = reevaluate(world["gov"], policy=parse_policy(REWORDED), actor="priya")

    # Assert
    assert report.flagged == () and report.newly_ineligible == ()
    assert sorted(c.action for c in report.changes) == ["release_compliant", "unchanged"]
    with world["gov"].session() as s:
        assert s.get(Release, world["release"]).status == "active"
    assert _kinds(world["gov"]).count("policy.reevaluated") == 2


def test_a_second_call_with_the_same_version_records_nothing(world):
    # Setup
    gov = world["gov"]
    reevaluate(gov, policy=parse_policy(STRICT), actor="priya")
    head = _head(gov)

    # Run
    again = reevaluate(gov, policy=parse_policy(STRICT), actor="priya")

    # Assert
    assert again.changes == () and again.skipped == 2 and _head(gov) == head


def test_runs_under_other_policies_are_untouched(world):
    # Run
    report = reevaluate(world["gov"], policy=parse_policy(OTHER_NAME), actor="priya")

    # Assert
    assert report.runs == () and report.changes == ()
    assert "policy.reevaluated" not in _kinds(world["gov"])
    with world["gov"].session() as s:
        assert s.get(Release, world["release"]).status == "active"
