"""The downstream-utility part of a candidate's section (and the real-only control's).

Shows the panel's utility above chance on validation (what selected and gated the
candidate) beside the reported eval figures - utility above chance and the raw TSTR /
control ratio - for every model and the panel, then per model every scenario's metrics,
every lift with its paired bootstrap interval and a plain reading of the primary lift,
the confusion matrices, per-class precision/recall and subgroup scores, and the
evaluator's own summary sentences.
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


def _panel_table(utility: dict[str, Any]) -> Html:
    rows: list[list[Any]] = []
    for name, model in as_dict(utility.get("models")).items():
        m = as_dict(model)
        rows.append([name, m.get("estimator"), fmt_ci(m.get("selection_ratio_above_chance")),
                     fmt_ci(m.get("ratio_above_chance")), fmt_ci(m.get("ratio_raw")),
                     fmt_ci(m.get("scarce_gain"), signed=True)])
    selection, reported = as_dict(utility.get("selection")), as_dict(utility.get("reported"))
    rows.append([Html(f"<em>panel ({fmt(utility.get('aggregate'))})</em>"), "",
                 fmt_ci(selection.get("ratio_above_chance")),
                 fmt_ci(reported.get("ratio_above_chance")), fmt_ci(reported.get("ratio_raw")),
                 ""])
    return table(["model", "estimator", "utility above chance, validation (selects, gates)",
                  "utility above chance, eval (reported)", "raw TSTR / control, eval",
                  "scarce real + synthetic vs scarce real, eval"], rows)


def _model_block(name: str, model: dict[str, Any], metric: str, *, heatmap: bool
                 ) -> list[Html]:
    scenarios, lifts = as_dict(model.get("scenarios")), as_dict(model.get("lifts"))
    parts = [tag("h4", f"{name} ({fmt(model.get('estimator'))})")]
    if scenarios:
        parts += [tag("h5", "Metrics per scenario"), _metrics_table(scenarios)]
    if lifts:
        parts += [tag("h5", "Lifts over the real-only control (paired bootstrap interval)"),
                  _lift_table(lifts, metric)]
    confusions = [(n, scenarios[n].get("confusion")) for n in _CONFUSION_SCENARIOS
                  if n in scenarios and scenarios[n].get("confusion")]
    if confusions:
        parts.append(tag("h5", "Confusion matrices on real eval"))
        blocks = [tag("div", tag("strong", _label(n)), confusion_table(c))
                  for n, c in confusions]
        tstr = as_dict(scenarios.get("tstr", {}).get("confusion"))
        if tstr and heatmap:
            blocks.append(_chart(confusion_png, f"TSTR confusion heatmap ({name})",
                                 labels=as_list(tstr.get("labels")),
                                 matrix=as_list(tstr.get("matrix")),
                                 title=f"TSTR confusion, {name} (share of true class)"))
        parts.append(tag("div", *blocks, cls="charts"))
    for heading, block in (("Per-class precision and recall", _per_class_table(scenarios)),
                           ("Subgroups (primary metric per group)", _subgroup_table(scenarios))):
        if block is not None:
            parts += [tag("h5", heading), block]
    return parts


def utility_section(utility: dict[str, Any]) -> Html:
    """Downstream utility of one candidate against the real-only control, per panel model."""
    head = tag("h3", "Downstream utility (a panel of models; selected on real validation, "
                     "reported on real eval)")
    problem = missing(utility, "utility evaluation")
    if problem:
        return join([head, problem])
    metric, goal = str(utility.get("metric") or "primary metric"), utility.get("goal")
    direction = {"maximize": "higher is better", "minimize": "lower is better"}.get(
        str(goal), "direction unknown")
    splits = as_dict(utility.get("splits"))
    val, ev = as_dict(splits.get("validation")), as_dict(splits.get("eval"))
    parts = [head, kv([
        ("primary metric", f"{metric} ({direction})"),
        ("chance level", f"{fmt(ev.get('chance'))} on eval, {fmt(val.get('chance'))} on "
                         f"validation ({fmt(utility.get('chance_rule'))})"),
        ("utility above chance", "(TSTR - chance) / (control - chance): 1 is the real-only "
                                 "control, 0 is chance; the policy's min_utility_ratio applies "
                                 "to it, on validation"),
        ("panel summary", f"{fmt(utility.get('aggregate'))} over the models"),
        ("real rows scored", f"validation {fmt(val.get('n_rows'))}, eval {fmt(ev.get('n_rows'))}"),
        ("bootstrap replicates", utility.get("n_boot")),
    ]), tag("h4", "Utility per model"), _panel_table(utility)]
    models = {n: as_dict(m) for n, m in as_dict(utility.get("models")).items()}
    lifts = {f"{_label(s)}, {n}": as_dict(lift).get("primary") for n, m in models.items()
             for s, lift in as_dict(m.get("lifts")).items()}
    if lifts:
        parts += [tag("h4", f"Lifts in {metric} over the real-only control, every model"),
                  _chart(lift_png, f"lift chart ({metric})", metric=metric,
                         lower_is_better=goal == "minimize", lifts=lifts)]
    if utility.get("summary"):
        parts += [tag("h4", "What the evaluation found"), ul(utility["summary"], cls="notes")]
    worst = _worst_model(models)
    for name, model in models.items():
        parts += _model_block(name, model, metric, heatmap=name == worst)
    return join(parts)


def _worst_model(models: dict[str, dict[str, Any]]) -> str | None:
    """The model with the lowest reported utility above chance (its TSTR heatmap is drawn)."""
    scored = {n: number(as_dict(m.get("ratio_above_chance")).get("value"))
              for n, m in models.items()}
    known = {n: v for n, v in scored.items() if v is not None}
    return min(known, key=lambda n: known[n]) if known else next(iter(models), None)
