"""Fixtures of the report tests: one real run, built once, read back from its stored rows.

``real_run.build_records`` evaluates and stores the run (see its docstring); the
fixtures here hand the tests its read models, its frontier plot and its report. Read
models are frozen: a test changes one with ``model_copy``. Two more session fixtures
hold real records of situations the small run cannot show (an unresolved TPR at 1% FPR,
subsampled attacks and fidelity), computed by the same code with lower row caps.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from governance.attacks.membership.distance import DCRAttack
from governance.attacks.results import MembershipResult
from governance.attacks.suite import AuditReport
from governance.evaluation.fidelity.evaluate import FidelityResult, evaluate_fidelity
from governance.report import render_run_report
from governance.schemas.common import read_attack
from governance.schemas.runs import CandidatePublic, RunPublic
from governance.services.runs.evaluate import CandidateEvaluator
from tests.unit.report.real_run import (
    GOOD,
    IDS,
    Records,
    build_records,
    candidate_sections,
    splits,
)
from tests.utils.data import MIXED_SCHEMA


@pytest.fixture(scope="session")
def records() -> Records:
    """The run's stored rows and what produced them, built once."""
    return build_records()


@pytest.fixture
def candidates(records: Records) -> list[CandidatePublic]:
    """The four candidates (good, audit, broken, failed) read back from their rows."""
    return records.candidates()


@pytest.fixture
def run(records: Records) -> RunPublic:
    """The run read back from its row."""
    return records.run()


@pytest.fixture(scope="session")
def png(records: Records) -> bytes:
    """The run's frontier plot, as ``finish_frontier`` drew it."""
    return records.png


@pytest.fixture(scope="session")
def page(records: Records) -> str:
    """The report of the run, rendered once for the tests that only read it."""
    return render_run_report(run=records.run(), candidates=records.candidates(),
                             frontier_png=records.png)


@pytest.fixture(scope="session")
def sections(page: str) -> dict[str, str]:
    """Each candidate's section of the standard page, by candidate id."""
    return candidate_sections(page, IDS)


@pytest.fixture(scope="session")
def capped(records: Records) -> AuditReport:
    """The good candidate's audit in a run whose attack cap is 60 rows, read back.

    Resolving a 1% false-positive rate needs at least 100 non-members; with 60 every
    attack leaves its TPR at 1% FPR unresolved, as a run on a small dataset does.
    """
    evaluator = CandidateEvaluator(splits=splits(), schema=MIXED_SCHEMA, task=records.task,
                                   policy=records.loaded, seed=0, attack_cap=60)
    privacy = records.candidates()[0].privacy
    assert privacy is not None
    attack = evaluator.evaluate(records.synthetic[GOOD], privacy=privacy).attack
    report = read_attack(attack.to_json())
    assert isinstance(report, AuditReport)
    return report


@dataclass(frozen=True)
class Subsampled:
    """Real records of parts that had more rows than their row cap."""

    dcr: MembershipResult  # the dcr attack run on its own with max_rows=100
    fidelity: FidelityResult  # evaluate_fidelity with max_rows=100, max_rows_manifold=60


@pytest.fixture(scope="session")
def subsampled(records: Records) -> Subsampled:
    """The good candidate's dcr attack and fidelity, each on a seeded subsample, read back.

    The runner's suite attacks every sampled row and its fidelity cap (5000 rows) is far
    above these small splits, so the subsample notes need records computed with lower
    caps: the same functions on the same rows, with smaller limits.
    """
    ev, rows = records.evaluator, records.synthetic[GOOD]
    dcr = DCRAttack(ev.members, rows, ev.nonmembers, MIXED_SCHEMA, seed=0,
                    max_rows=100).evaluate().results()
    fidelity = evaluate_fidelity(real=ev.reference, synthetic=rows, schema=MIXED_SCHEMA,
                                 seed=0, max_rows=100, max_rows_manifold=60)
    return Subsampled(dcr=MembershipResult.model_validate_json(dcr.to_json()),
                      fidelity=FidelityResult.model_validate_json(fidelity.to_json()))
