"""A run's frontier: its candidates on the privacy/utility plane, and the plot."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from governance.core.types import CandidateStatus
from governance.evaluation.lift.results import ScenarioScore
from governance.frontier.pareto import FrontierPoint, pareto_front
from governance.frontier.plot import plot_frontier
from governance.frontier.record import FrontierRecord, FrontierRow
from governance.policy.models import Policy
from governance.schemas.runs import candidate_public
from governance.store.models import Candidate


def finish_frontier(cands: list[Candidate], *, control: ScenarioScore, policy: Policy,
                    title: str) -> tuple[FrontierRecord, bytes]:
    """The Pareto set over (worst attack AUC, TSTR primary metric) and its plot."""
    points: list[FrontierPoint] = []
    for c in cands:
        if c.status == CandidateStatus.FAILED:
            continue
        view = candidate_public(c)
        points.append(FrontierPoint(
            candidate_id=c.id, label=c.generator, risk=view.summary.worst_attack_auc,
            utility=view.summary.tstr, epsilon=view.epsilon_spent,
            feasible=bool(view.verdict and view.verdict.eligible)))
    front = pareto_front([p.risk for p in points], [p.utility for p in points])
    floor = (policy.utility.min_utility_ratio * control.primary
             if control.primary is not None else None)
    with tempfile.TemporaryDirectory() as tmp:
        path = plot_frontier(points, control_utility=control.primary,
                             max_risk=policy.risk.max_attack_auc, min_utility=floor,
                             path=Path(tmp) / "frontier.png", title=title)
        png = Path(path).read_bytes()
    rows = [FrontierRow(candidate_id=p.candidate_id, generator=p.label,
                        epsilon=p.epsilon if p.epsilon is not None else math.inf,
                        risk=p.risk, utility=p.utility, feasible=p.feasible, pareto=i in front)
            for i, p in enumerate(points)]
    record = FrontierRecord(
        axes={"risk": "worst membership-attack ROC AUC",
              "utility": "TSTR primary metric on real eval"},
        control=control.primary, utility_floor=floor, max_risk=policy.risk.max_attack_auc,
        pareto=[points[i].candidate_id for i in front], points=rows)
    return record, png
