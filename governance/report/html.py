"""The self-contained HTML run report.

One HTML5 document with inline CSS and every image inlined as a ``data:`` URI; a
Content-Security-Policy forbids any network fetch, so the file opens offline and can
be archived with an audit bundle. The content comes from ``render_run_json`` (the two
reports cannot disagree) and every string from the data is escaped. The same inputs
give byte-identical output: no clock is read and the charts are reproducible PNGs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from governance.report.content import render_run_json
from governance.report.markup import (
    CSS,
    Html,
    as_dict,
    badge,
    error_box,
    fmt,
    fmt_ci,
    fmt_eps,
    join,
    kv,
    png_img,
    table,
    tag,
    ul,
)
from governance.report.sections import candidate_section, status_badges
from governance.report.utility_section import confusion_table
from governance.schemas.runs import CandidatePublic, RunPublic

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _header(doc: dict[str, Any]) -> Html:
    run, control = doc["run"], doc["control"]
    task = as_dict(run.get("task"))
    if control.get("error"):
        primary: Any = Html(f"failed: {fmt(control['error'])}")
    elif control.get("missing"):
        primary = "not recorded"
    else:
        models = as_dict(control.get("models"))
        per_model = ", ".join(f"{m} {fmt(as_dict(s).get('primary'))}" for m, s in models.items())
        n_train = next((as_dict(s).get("n_train") for s in models.values()), None)
        primary = Html(f"{per_model} ({fmt(task.get('metric'))} on real eval, chance "
                       f"{fmt(as_dict(control.get('chance')).get('eval'))}; {fmt(n_train)} "
                       "real train rows)")
    dataset = run.get("dataset", run.get("dataset_id"))
    if isinstance(dataset, dict):
        dataset = f"{dataset.get('name')} ({dataset.get('id')})"
    pairs = [("run id", run.get("id")), ("dataset", dataset),
             ("policy sha256", tag("code", run.get("policy_sha256"))),
             ("task", f"target {task.get('target')}, kind {task.get('kind')}, "
                      f"metric {task.get('metric')}"),
             ("seed", run.get("seed")), ("status", run.get("status")),
             ("real-only control's primary metric", primary)]
    pairs += [(k.replace("_", " "), run.get(k)) for k in (
        "requested_by", "executor", "created_at", "started_at", "finished_at", "message")
        if run.get(k) not in (None, "")]
    parts = [tag("h1", doc["title"]), kv(pairs)]
    if run.get("error"):
        parts.append(error_box("run", run["error"]))
    return tag("header", *parts)


def _frontier(doc: dict[str, Any], png: bytes | None) -> Html:
    frontier = doc["frontier"]
    plot = frontier["plot"]
    parts = [tag("h2", "Privacy / utility frontier")]
    if plot["embedded"] and png is not None:
        parts.append(png_img(bytes(png), "privacy/utility frontier of the run"))
    else:
        parts.append(tag("p", plot.get("problem"), cls="error"))
    if frontier.get("error"):
        parts.append(error_box("frontier", frontier["error"]))
    axes = as_dict(frontier.get("axes"))
    if frontier.get("points"):
        pareto = set(frontier.get("pareto", []))
        rows = [[p.get("candidate_id"), p.get("generator"), fmt_eps(p.get("epsilon")),
                 p.get("risk"), p.get("utility"), p.get("feasible"),
                 p.get("candidate_id") in pareto] for p in frontier["points"]]
        parts.append(table(["candidate", "generator", "epsilon", axes.get("risk", "risk"),
                            axes.get("utility", "utility"), "eligible", "on Pareto frontier"],
                           rows))
        parts.append(kv([("policy's max attack AUC", frontier.get("max_risk")),
                         ("policy's utility floor", frontier.get("utility_floor")),
                         ("real-only control", frontier.get("control"))]))
    return tag("section", *parts, id="frontier")


def _overview(doc: dict[str, Any]) -> Html:
    rows = []
    for i, row in enumerate(doc["overview"], start=1):
        violations = ", ".join(str(v) for v in row.get("violations", []))
        rows.append([
            tag("a", row.get("id"), href=f"#candidate-{i}"), row.get("generator"),
            row.get("status"), fmt_eps(row.get("epsilon_target")),
            fmt_eps(row.get("epsilon_spent")), row.get("worst_attack_auc"),
            Html("n/a (not enough samples)") if row.get("tpr_at_1pct_fpr") is None
            and row.get("tpr_at_1pct_fpr_unresolved") else row.get("tpr_at_1pct_fpr"),
            row.get("epsilon_estimate"), fmt_ci(row.get("selection_ratio_above_chance")),
            fmt_ci(row.get("ratio_above_chance")), fmt_ci(row.get("ratio_raw")),
            fmt_ci(row.get("augmented_lift"), signed=True),
            row.get("quality_score"), row.get("detection_auc"),
            join([status_badges(row), Html("<br>"), violations]),
        ])
    metric = next((r.get("metric") for r in doc["overview"] if r.get("metric")), "primary")
    rule = next((r.get("aggregate") for r in doc["overview"] if r.get("aggregate")), "min")
    headers = ["candidate", "generator", "status", "epsilon target", "epsilon spent",
               "worst attack AUC", "TPR @ 1% FPR", "epsilon estimate",
               f"utility above chance, validation (selects, gates; panel {rule}) [CI]",
               f"utility above chance, eval (reported; panel {rule}) [CI]",
               f"raw TSTR / control {metric}, eval [CI]",
               f"augmented {metric} lift, eval (panel {rule}) [CI]",
               "quality score", "detection AUC", "verdict / violated clauses"]
    body = table(headers, rows) if rows else tag("p", "no candidates")
    return tag("section", tag("h2", "Candidates"), body, id="candidates")


def _control(doc: dict[str, Any]) -> Html:
    control = doc["control"]
    parts = [tag("h2", "Real-only control (real train, scored on real eval)")]
    if control.get("error") or control.get("missing"):
        parts.append(error_box("real-only control", control.get("error") or "not recorded"))
        return tag("section", *parts, id="control")
    models = {m: as_dict(s) for m, s in as_dict(control.get("models")).items()}
    keys: list[str] = []
    for s in models.values():
        keys += [k for k in as_dict(s.get("metrics")) if k not in keys]
    rows = [[k, *(as_dict(s.get("metrics")).get(k) for s in models.values())] for k in keys]
    rows.append([f"{control.get('metric')} on validation",
                 *(s.get("validation_primary") for s in models.values())])
    parts.append(table(["metric", *models], rows))
    chance = as_dict(control.get("chance"))
    parts.append(kv([("chance level on eval", chance.get("eval")),
                     ("chance level on validation", chance.get("validation")),
                     ("chance rule", control.get("chance_rule"))]))
    for m, s in models.items():
        if s.get("confusion"):
            parts += [tag("h4", f"Confusion matrix ({m})"), confusion_table(s["confusion"])]
    return tag("section", *parts, id="control")


def render_run_report(
    *, run: RunPublic, candidates: Sequence[CandidatePublic], frontier_png: bytes | None,
    title: str | None = None,
) -> str:
    """Render a run and its candidates as one self-contained HTML5 document.

    Args:
        run: the run's read model (``governance.schemas.runs.run_public``).
        candidates: full candidate read models, in report order; a failed stage is a
            ``StageError`` and a stage that never ran is ``None``.
        frontier_png: the run's frontier plot (PNG bytes), or ``None``.
        title: the report title; ``"Run report <run id>"`` when ``None``.

    Returns:
        The HTML text: header, frontier, candidate table, one section per candidate,
        the real-only control, run notes and a guide to reading the figures. Every
        string from the records is escaped.
    """
    doc = render_run_json(run=run, candidates=candidates, frontier_png=frontier_png,
                          title=title)
    sections = [candidate_section(detail, row, f"candidate-{i}") for i, (detail, row)
                in enumerate(zip(doc["candidates"], doc["overview"], strict=True), start=1)]
    footer = [tag("h2", "Run notes"),
              ul(doc["notes"] or ["nothing further to note for this run"], cls="notes"),
              tag("h2", "How to read these figures"), ul(doc["reading_guide"], cls="notes"),
              tag("p", badge(doc["format"], "muted"))]
    body = join([_header(doc), _frontier(doc, frontier_png), _overview(doc), *sections,
                 _control(doc), tag("section", *footer, id="notes")], "\n")
    head = join([Html('<meta charset="utf-8">'),
                 Html(f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'),
                 Html('<meta name="viewport" content="width=device-width, initial-scale=1">'),
                 tag("title", doc["title"]), Html(f"<style>{CSS}</style>")], "\n")
    return f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n</head>\n<body>\n{body}\n' \
           "</body>\n</html>\n"
