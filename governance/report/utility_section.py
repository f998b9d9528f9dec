"""The downstream-utility part of a candidate's section (and the real-only control's).

Shows every scenario's metrics, every lift with its paired bootstrap interval and a
plain reading of the primary lift, the utility ratio, the evaluator's own summary
sentences, the confusion matrices, per-class precision/recall and subgroup scores.
"""

from __future__ import annotations

from typing import Any

from governance.core.errors import InputError
from governance.report.charts import SCENARIO_LABELS, confusion_png, lift_png
from governance.report.markup import (
    Html,
    as_dict,
    as_list,
    badge,
    fmt,
    fmt_ci,
    join,
    kv,
    missing,
    number,
    png_img,
    table,
    tag,
    ul,
)

LABELS = {"control": "real-only control", **SCENARIO_LABELS}
_CONFUSION_SCENARIOS = ("control", "tstr", "augmented")


def _label(name: str) -> str:
    return LABELS.get(name, name)


def _reading_badge(text: str) -> Html:
    kind = ("ok" if text.startswith("better") else "bad" if text.startswith("worse")
            else "muted")
    return badge(text, kind)


def confusion_table(confusion: Any) -> Html:
    """A confusion matrix as an HTML table, cells shaded by their share of the true class."""
    labels = as_list(as_dict(confusion).get("labels"))
    matrix = [as_list(r) for r in as_list(as_dict(confusion).get("matrix"))]
    if not labels or len(matrix) != len(labels):
        return tag("p", "no readable confusion matrix was recorded", cls="error")
    rows = []
    for label, counts in zip(labels, matrix, strict=True):
        total = sum(number(c) or 0.0 for c in counts)
        cells: list[Any] = [tag("th", f"true {label}")]
        for c in counts:
            share = (number(c) or 0.0) / total if total else 0.0
            cells.append(Html(f'<td style="background:rgba(31,119,180,{share:.2f})">'
                              f"{fmt(c)}</td>"))
        rows.append(tag("tr", *cells))
    head = tag("tr", tag("th", "rows: true / columns: predicted"),
               *(tag("th", f"pred {label}") for label in labels))
    return tag("table", tag("thead", head), tag("tbody", *rows))


def _chart(draw: Any, alt: str, **kwargs: Any) -> Html:
    try:
        return png_img(draw(**kwargs), alt)
    except (InputError, TypeError, ValueError) as exc:
        return tag("p", f"{alt}: chart could not be drawn ({exc})", cls="error")


def _metrics_table(scenarios: dict[str, Any]) -> Html:
    keys: list[str] = []
    for s in scenarios.values():
        keys += [k for k in as_dict(s.get("metrics")) if k not in keys]
    rows = [[key, *(as_dict(s.get("metrics")).get(key) for s in scenarios.values())]
            for key in keys]
    rows.append(["training rows", *(s.get("n_train") for s in scenarios.values())])
    rows.append(["model error", *(s.get("error") or "" for s in scenarios.values())])
    return table(["metric", *(_label(n) for n in scenarios)], rows)


def _lift_table(lifts: dict[str, Any], metric: str) -> Html:
    keys: list[str] = []
    for lift in lifts.values():
        keys += [k for k in as_dict(lift.get("metrics")) if k not in keys]
    rows: list[list[Any]] = [
        [key, *(fmt_ci(as_dict(lift.get("metrics")).get(key), signed=True)
                for lift in lifts.values())] for key in keys]
    rows.append([f"reading of the {metric} lift",
                 *(_reading_badge(str(lift.get("reading"))) for lift in lifts.values())])
    return table(["lift over control", *(_label(n) for n in lifts)], rows)


def _per_class_table(scenarios: dict[str, Any]) -> Html | None:
    shown = {n: as_dict(scenarios[n].get("per_class")) for n in _CONFUSION_SCENARIOS
             if n in scenarios and scenarios[n].get("per_class")}
    if not shown:
        return None
    classes: list[str] = []
    for per_class in shown.values():
        classes += [c for c in per_class if c not in classes]
    rows = []
    for c in classes:
        row: list[Any] = [c, as_dict(next(iter(shown.values())).get(c)).get("support")]
        for per_class in shown.values():
            entry = as_dict(per_class.get(c))
            row += [entry.get("precision"), entry.get("recall")]
        rows.append(row)
    headers = ["class", "eval support"] + [f"{_label(n)} {m}" for n in shown
                                           for m in ("precision", "recall")]
    return table(headers, rows)


def _subgroup_table(scenarios: dict[str, Any]) -> Html | None:
    shown = {n: as_dict(s.get("subgroups")) for n, s in scenarios.items() if s.get("subgroups")}
    if not shown:
        return None
    rows: list[list[Any]] = []
    columns: list[str] = []
    for groups in shown.values():
        columns += [c for c in groups if c not in columns]
    for col in columns:
        first = as_dict(as_dict(next(iter(shown.values())).get(col)).get("groups"))
        for group, info in first.items():
            rows.append([col, group, as_dict(info).get("n"), *(
                as_dict(as_dict(as_dict(g.get(col)).get("groups")).get(group)).get("value")
                for g in shown.values())])
        rows.append([col, Html("<em>largest gap</em>"), "", *(
            as_dict(g.get(col)).get("max_gap") for g in shown.values())])
    return table(["column", "group", "eval rows", *(_label(n) for n in shown)], rows)


def utility_section(utility: dict[str, Any]) -> Html:
    """Downstream utility of one candidate against the real-only control."""
    head = tag("h3", "Downstream utility (every model scored on real eval only)")
    problem = missing(utility, "utility evaluation")
    if problem:
        return join([head, problem])
    metric, goal = str(utility.get("metric") or "primary metric"), utility.get("goal")
    scenarios, lifts = as_dict(utility.get("scenarios")), as_dict(utility.get("lifts"))
    direction = {"maximize": "higher is better", "minimize": "lower is better"}.get(
        str(goal), "direction unknown")
    parts = [head, kv([
        ("primary metric", f"{metric} ({direction})"),
        ("real eval rows", utility.get("n_eval")),
        ("bootstrap replicates", utility.get("n_boot")),
        ("model", as_dict(utility.get("model")).get("name")),
        ("utility ratio (TSTR / control)", fmt_ci(utility.get("utility_ratio"))),
        ("scarce real + synthetic vs scarce real", fmt_ci(utility.get("scarce_gain"),
                                                          signed=True)),
    ])]
    if utility.get("summary"):
        parts += [tag("h4", "What the evaluation found"), ul(utility["summary"], cls="notes")]
    if scenarios:
        parts += [tag("h4", "Metrics per scenario"), _metrics_table(scenarios)]
    if lifts:
        parts += [tag("h4", "Lifts over the real-only control (paired bootstrap interval)"),
                  _lift_table(lifts, metric),
                  _chart(lift_png, f"lift chart ({metric})", metric=metric,
                         lower_is_better=goal == "minimize",
                         lifts={n: lift.get("primary") for n, lift in lifts.items()})]
    confusions = [(n, scenarios[n].get("confusion")) for n in _CONFUSION_SCENARIOS
                  if n in scenarios and scenarios[n].get("confusion")]
    if confusions:
        parts.append(tag("h4", "Confusion matrices on real eval"))
        blocks = [tag("div", tag("strong", _label(n)), confusion_table(c))
                  for n, c in confusions]
        tstr = as_dict(scenarios.get("tstr", {}).get("confusion"))
        if tstr:
            blocks.append(_chart(confusion_png, "TSTR confusion heatmap",
                                 labels=as_list(tstr.get("labels")),
                                 matrix=as_list(tstr.get("matrix")),
                                 title="TSTR confusion (share of true class)"))
        parts.append(tag("div", *blocks, cls="charts"))
    for heading, block in (("Per-class precision and recall", _per_class_table(scenarios)),
                           ("Subgroups (primary metric per group)", _subgroup_table(scenarios))):
        if block is not None:
            parts += [tag("h4", heading), block]
    return join(parts)
