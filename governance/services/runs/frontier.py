"""A run's frontier: its candidates on the privacy/utility plane, and the plot.

The utility axis is what selection reads: the panel's chance-corrected utility on the
validation split (1 is the real-only control, 0 is chance). Eval figures are reported
beside each candidate, never used to choose one.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from governance.core.types import CandidateStatus
from governance.frontier.pareto import FrontierPoint, pareto_front
from governance.frontier.plot import plot_frontier
from governance.frontier.record import FrontierRecord, FrontierRow
from governance.policy.models import Policy
from governance.schemas.runs import candidate_public
from governance.store.models import Candidate


def finish_frontier(cands: list[Candidate], *, policy: Policy,
                    title: str) -> tuple[FrontierRecord, bytes]:
    """The Pareto set over (worst attack AUC, utility above chance on validation), and its plot."""
    points: list[FrontierPoint] = []
    for c in cands:
        if c.status == CandidateStatus.FAILED:
            continue
        view = candidate_public(c)
        points.append(FrontierPoint(
            candidate_id=c.id, label=c.generator, risk=view.summary.worst_attack_auc,
            utility=view.summary.selection_ratio_above_chance, epsilon=view.epsilon_spent,
            feasible=bool(view.verdict and view.verdict.eligible)))
    front = pareto_front([p.risk for p in points], [p.utility for p in points])
    floor = policy.utility.min_utility_ratio
    axis = (f"utility above chance on validation, panel {policy.utility.aggregate} "
            "(1 = real-only control, 0 = chance)")
    with tempfile.TemporaryDirectory() as tmp:
        path = plot_frontier(points, control_utility=1.0,
                             max_risk=policy.risk.max_attack_auc, min_utility=floor,
                             path=Path(tmp) / "frontier.png", title=title,
                             utility_label=f"{axis}; higher is better")
        png = Path(path).read_bytes()
    rows = [FrontierRow(candidate_id=p.candidate_id, generator=p.label,
                        epsilon=p.epsilon if p.epsilon is not None else math.inf,
                        risk=p.risk, utility=p.utility, feasible=p.feasible, pareto=i in front)
            for i, p in enumerate(points)]
    record = FrontierRecord(
        axes={"risk": "worst membership-attack ROC AUC", "utility": axis},
        control=1.0, utility_floor=floor, max_risk=policy.risk.max_attack_auc,
        pareto=[points[i].candidate_id for i in front], points=rows)
    return record, png
