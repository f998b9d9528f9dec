"""Plain-language findings of a lift evaluation; bad news is stated, never omitted.

The findings describe the reported (eval) figures of every panel model, then the
panel's summary, then what selection and the gates read on validation.
"""

from __future__ import annotations

from collections.abc import Sequence

from governance.evaluation.downstream.base import Goal
from governance.evaluation.lift.bootstrap import Interval
from governance.evaluation.lift.results import ModelScores, PanelSummary, SplitScores

UNSTABLE_RATIO_WIDTH = 0.5

SUBJECT = {
    "tstr": "TSTR (train on synthetic, test on real)",
    "augmented": "augmentation (real train + synthetic)",
    "scarce": "the scarce real subset alone",
    "scarce_augmented": "the scarce real subset + synthetic",
}


def lift_sentence(scenario: str, metric: str, goal: Goal, lift: Interval, level: float,
                  *, model: str | None = None) -> str:
    """One sentence on a scenario's lift over the control, with its interval."""
    subject = SUBJECT.get(scenario, scenario)
    by = f" ({model})" if model else ""
    if lift.value is None or lift.ci_low is None or lift.ci_high is None:
        return f"{subject}{by}: the {metric} lift is undefined"
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
    return f"{subject}{by} {verdict}: {metric} lift {lift.value:+.3f} {ci}{direction}"


def build_summary(
    *, metric: str, goal: Goal, level: float, scores: SplitScores, selection: PanelSummary,
    aggregate: str, chance_rule: str, n_boot: int, candidate_issues: Sequence[str],
) -> tuple[str, ...]:
    """Assemble the summary lines in a fixed order.

    Args:
        metric: the primary metric key.
        goal: its direction.
        level: the intervals' confidence level.
        scores: the reported (eval) scores of every panel model.
        selection: the validation panel figures under the run's rule.
        aggregate: that rule.
        chance_rule: how the chance level is set.
        n_boot: bootstrap replicates.
        candidate_issues: problems found in the candidate's rows.
    """
    models = scores.models
    controls = ", ".join(f"{m} {_num(s.control.primary)}" for m, s in models.items())
    first = next(iter(models.values()))
    lines = [
        f"real-only control: {metric} {controls} from {first.control.n_train} real train rows, "
        f"scored on {scores.n_rows} real eval rows; intervals are paired percentile bootstrap, "
        f"{n_boot} replicates",
        f"chance level of {metric} on the eval labels: {_num(scores.chance)} ({chance_rule})",
    ]
    lines += [f"candidate: {issue}" for issue in candidate_issues]
    lines += _training_notes(models)
    for name in first.scenarios:
        lines += [lift_sentence(name, metric, goal, s.lifts[name][metric], level, model=m)
                  for m, s in models.items()]
    for m, s in models.items():
        lines += _ratio_lines(m, s, metric, level)
    lines += _panel_lines(scores.panel[aggregate], selection, aggregate, len(models), level)
    for m, s in models.items():
        lines += _scarce_line(m, s, metric, goal, level)
    lines += _undefined_notes(models, n_boot)
    return tuple(lines)


def _training_notes(models: dict[str, ModelScores]) -> list[str]:
    lines: list[str] = []
    for m, s in models.items():
        for name, score in s.scenarios.items():
            if score.error:
                lines.append(f"{SUBJECT.get(name, name)} ({m}): {score.error}")
    first = next(iter(models.values()))
    for name, score in first.scenarios.items():
        if score.n_dropped:  # the same rows are dropped for every model
            lines.append(f"{SUBJECT.get(name, name)}: {score.n_dropped} synthetic row(s) with "
                         "an unusable target value were left out of training")
    return lines


def _ratio_lines(model: str, s: ModelScores, metric: str, level: float) -> list[str]:
    chance = " (TSTR model could not be trained: scored at chance)" if \
        s.scenarios["tstr"].error else ""
    above, raw = s.ratio_above_chance, s.ratio_raw
    if above.value is None:
        return [f"utility above chance ({model}) is undefined: the control's {metric} "
                f"({_num(s.control.primary)}) does not beat chance; raw ratio TSTR / control "
                f"{_ci(raw, level)}{chance}"]
    lines = [f"utility above chance ({model}, (TSTR - chance) / (control - chance), {metric}) "
             f"{_ci(above, level)}; raw ratio TSTR / control {_ci(raw, level)}{chance}"]
    if above.ci_low is not None and above.ci_high is not None \
            and above.ci_high - above.ci_low > UNSTABLE_RATIO_WIDTH:
        lines.append(
            f"the utility above chance ({model}) is unstable (interval width "
            f"{above.ci_high - above.ci_low:.2f}; the control's {metric} is "
            f"{_num(s.control.primary)}): judge the candidate by its lifts instead")
    return lines


def _panel_lines(reported: PanelSummary, selection: PanelSummary, aggregate: str,
                 n_models: int, level: float) -> list[str]:
    rule = f"{aggregate} of {n_models} models"
    lines = [f"panel ({rule}) on eval, as reported: utility above chance "
             f"{_ci(reported.ratio_above_chance, level)}, raw ratio "
             f"{_ci(reported.ratio_raw, level)}",
             f"panel ({rule}) on validation, which selection and the policy gates read: "
             f"utility above chance {_ci(selection.ratio_above_chance, level)}"]
    if selection.tstr_at_or_below_chance:
        lines.append("TSTR is at or below chance on validation: the synthetic data taught the "
                     "panel nothing about the target, so the candidate is never eligible")
    return lines


def _scarce_line(model: str, s: ModelScores, metric: str, goal: Goal, level: float
                 ) -> list[str]:
    gain = s.scarce_gain
    if gain.value is None or gain.ci_low is None or gain.ci_high is None:
        return []
    helps = gain.ci_low > 0 if goal is Goal.MAXIMIZE else gain.ci_high < 0
    hurts = gain.ci_high < 0 if goal is Goal.MAXIMIZE else gain.ci_low > 0
    verdict = "helps" if helps else "hurts" if hurts else "makes no significant difference"
    return [f"with scarce real data ({s.scenarios['scarce'].n_train} rows, {model}), adding the "
            f"synthetic rows {verdict}: {metric} {gain.value:+.3f} "
            f"[{level:.0%} CI {gain.ci_low:+.3f}, {gain.ci_high:+.3f}]"]


def _undefined_notes(models: dict[str, ModelScores], n_boot: int) -> list[str]:
    notes = []
    for m, s in models.items():
        for name, per_metric in s.lifts.items():
            for metric, iv in per_metric.items():
                if iv.value is not None and 0 < n_boot - iv.n_valid:
                    notes.append(f"{name} {metric} ({m}): {n_boot - iv.n_valid} of {n_boot} "
                                 "bootstrap replicates were undefined and left out of the "
                                 "interval")
        for label, iv in (("raw ratio", s.ratio_raw), ("utility above chance",
                                                       s.ratio_above_chance)):
            if iv.value is not None and 0 < n_boot - iv.n_valid:
                notes.append(f"{label} ({m}): {n_boot - iv.n_valid} of {n_boot} bootstrap "
                             "replicates were undefined and left out of the interval")
    return notes


def _ci(iv: Interval, level: float) -> str:
    if iv.value is None:
        return "undefined"
    if iv.ci_low is None or iv.ci_high is None:
        return f"{iv.value:.3f} (no bootstrap interval)"
    return f"{iv.value:.3f} [{level:.0%} CI {iv.ci_low:.3f}, {iv.ci_high:.3f}]"


def _num(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.3f}"
