"""Plain-language findings of a lift evaluation; bad news is stated, never omitted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from governance.evaluation.downstream.base import Goal
from governance.evaluation.lift.bootstrap import Interval
from governance.evaluation.lift.results import ScenarioScore

UNSTABLE_RATIO_WIDTH = 0.5

SUBJECT = {
    "tstr": "TSTR (train on synthetic, test on real)",
    "augmented": "augmentation (real train + synthetic)",
    "scarce": "the scarce real subset alone",
    "scarce_augmented": "the scarce real subset + synthetic",
}


def lift_sentence(scenario: str, metric: str, goal: Goal, lift: Interval, level: float) -> str:
    """One sentence on a scenario's lift over the control, with its interval."""
    subject = SUBJECT.get(scenario, scenario)
    if lift.value is None or lift.ci_low is None or lift.ci_high is None:
        return f"{subject}: the {metric} lift is undefined"
    ci = f"[{level:.0%} CI {lift.ci_low:+.3f}, {lift.ci_high:+.3f}]"
    direction = "" if goal is Goal.MAXIMIZE else " (lower is better)"
    better = lift.ci_low > 0 if goal is Goal.MAXIMIZE else lift.ci_high < 0
    worse = lift.ci_high < 0 if goal is Goal.MAXIMIZE else lift.ci_low > 0
    if worse:
        verdict = "is worse than the real-only control"
    elif better:
        verdict = "is better than the real-only control"
    else:
        verdict = "gives no significant lift over the real-only control"
    return f"{subject} {verdict}: {metric} lift {lift.value:+.3f} {ci}{direction}"


def build_summary(
    *, metric: str, goal: Goal, level: float, control: ScenarioScore,
    scenarios: Mapping[str, ScenarioScore], lifts: Mapping[str, Mapping[str, Interval]],
    ratio: Interval, scarce_gain: Interval, n_eval: int, n_boot: int,
    candidate_issues: Sequence[str],
) -> tuple[str, ...]:
    """Assemble the summary lines in a fixed order."""
    lines = [
        f"real-only control: {metric} {_num(control.primary)} from {control.n_train} real "
        f"train rows, scored on {n_eval} real eval rows; intervals are paired percentile "
        f"bootstrap, {n_boot} replicates"
    ]
    for issue in candidate_issues:
        lines.append(f"candidate: {issue}")
    for name, score in scenarios.items():
        if score.error:
            lines.append(f"{SUBJECT.get(name, name)}: {score.error}")
        if score.n_dropped:
            lines.append(f"{SUBJECT.get(name, name)}: {score.n_dropped} synthetic row(s) with an "
                         "unusable target value were left out of training")
    for name in scenarios:
        lines.append(lift_sentence(name, metric, goal, lifts[name][metric], level))
    tstr = scenarios.get("tstr")
    chance = " (TSTR model could not be trained: scored at chance)" if tstr and tstr.error else ""
    if ratio.value is None:
        lines.append(f"utility ratio is undefined: the {metric} of the control "
                     f"({_num(control.primary)}) or of TSTR is not a positive number")
    elif ratio.ci_low is None or ratio.ci_high is None:
        lines.append(f"utility ratio {ratio.value:.3f} (no bootstrap interval){chance}")
    else:
        lines.append(f"utility ratio (TSTR / control, {metric}) {ratio.value:.3f} "
                     f"[{level:.0%} CI {ratio.ci_low:.3f}, {ratio.ci_high:.3f}]{chance}")
        if ratio.ci_high - ratio.ci_low > UNSTABLE_RATIO_WIDTH:
            lines.append(
                f"the utility ratio is unstable (interval width {ratio.ci_high - ratio.ci_low:.2f}"
                f"; the control's {metric} is {_num(control.primary)}): judge the candidate by "
                "its lifts instead"
            )
    if scarce_gain.value is not None and scarce_gain.ci_low is not None \
            and scarce_gain.ci_high is not None:
        helps = scarce_gain.ci_low > 0 if goal is Goal.MAXIMIZE else scarce_gain.ci_high < 0
        hurts = scarce_gain.ci_high < 0 if goal is Goal.MAXIMIZE else scarce_gain.ci_low > 0
        verdict = ("helps" if helps else "hurts" if hurts
                   else "makes no significant difference")
        lines.append(
            f"with scarce real data ({scenarios['scarce'].n_train} rows), adding the synthetic "
            f"rows {verdict}: {metric} {scarce_gain.value:+.3f} "
            f"[{level:.0%} CI {scarce_gain.ci_low:+.3f}, {scarce_gain.ci_high:+.3f}]"
        )
    return tuple(lines)


def _num(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.3f}"
