"""The fidelity part of a candidate's section: one block per sub-metric.

Each of ``quality``, ``detection``, ``manifold``, ``tails`` and ``constraints`` shows
its values, the rows it used, or the error that stopped it; an entry the record does
not hold is said to be missing rather than left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from governance.report.markup import (
    Html,
    as_dict,
    as_list,
    error_box,
    fmt,
    fmt_pct,
    join,
    kv,
    missing,
    table,
    tag,
)

ENTRIES = ("quality", "detection", "manifold", "tails", "constraints")


def _quality(e: dict[str, Any]) -> list[Html]:
    pairs = as_list(e.get("pair_trends"))
    out = [kv([("overall quality score (0-1)", e.get("score")),
               ("column shapes", e.get("column_shapes")),
               ("column pair trends", _pair_trends(e, len(pairs))),
               ("pairs scored", f"{e.get('pairs_scored')} of {len(pairs)} (SDMetrics scores a "
                                "pair only when its real correlation or association passes "
                                "its threshold)")])]
    shapes = as_dict(e.get("shapes"))
    if shapes:
        out.append(table(["column", "shape metric", "score", "error"], [
            [col, as_dict(s).get("metric"), as_dict(s).get("score"),
             as_dict(s).get("error") or ""] for col, s in shapes.items()]))
    return out


def _pair_trends(e: dict[str, Any], n_pairs: int) -> str:
    """The Column Pair Trends score with the pairs it averages out of the pairs possible."""
    coverage = as_dict(e.get("column_pair_trends_coverage"))
    scored, possible = coverage.get("scored"), coverage.get("possible", n_pairs)
    if scored is None:  # a record from before the coverage was stored
        return f"{fmt(e.get('column_pair_trends'))} (coverage not recorded)"
    return (f"{fmt(e.get('column_pair_trends'))} over {scored} of {possible} column pairs "
            "(the pairs SDMetrics scores)")


def _detection(e: dict[str, Any]) -> list[Html]:
    folds = ", ".join(str(fmt(a)) for a in as_list(e.get("fold_aucs")))
    return [kv([("real-vs-synthetic classifier ROC AUC (0.5 = indistinguishable)",
                 e.get("roc_auc")),
                ("detection score 1 - (2 max(AUC, 0.5) - 1), SDMetrics' formula on the "
                 "boosted classifier (1 = indistinguishable)",
                 e.get("boosted_detection_score", e.get("sdmetrics_score"))),
                ("cross-validation folds", e.get("folds")), ("per-fold AUC", folds)])]


def _manifold(e: dict[str, Any]) -> list[Html]:
    return [kv([("precision (synthetic rows that look real)", e.get("precision")),
                ("recall (real variety covered)", e.get("recall")), ("k", e.get("k"))])]


def _tails(e: dict[str, Any]) -> list[Html]:
    rows = [[col, q, as_dict(v).get("real"), as_dict(v).get("synthetic"),
             as_dict(v).get("scaled_difference")]
            for col, qs in as_dict(e.get("quantiles")).items() for q, v in as_dict(qs).items()]
    out = []
    if rows:
        out.append(table(["column", "quantile", "real", "synthetic",
                          "difference / domain width"], rows))
    rare = [[col, cat, fmt_pct(as_dict(f).get("real")), fmt_pct(as_dict(f).get("synthetic"))]
            for col, cats in as_dict(e.get("rare_categories")).items()
            for cat, f in as_dict(cats).items()]
    threshold = fmt_pct(e.get("rare_threshold"))
    if rare:
        out.append(table([f"column (categories below {threshold} in real)", "category",
                          "real share", "synthetic share"], rare))
    else:
        out.append(tag("p", f"no category is rarer than {threshold} in the real sample"))
    return out


def _constraints(e: dict[str, Any]) -> list[Html]:
    bad = [[col, as_dict(c).get("invalid"), as_dict(c).get("missing")]
           for col, c in as_dict(e.get("columns")).items() if as_dict(c).get("invalid")]
    out = [kv([("values outside the public domain", e.get("total_violations")),
               ("rows with a violation", f"{e.get('rows_with_violation')} of "
                                         f"{e.get('n_rows')}"),
               ("missing columns", ", ".join(map(str, as_list(e.get("missing_columns"))))
                or "none"),
               ("extra columns", ", ".join(map(str, as_list(e.get("extra_columns"))))
                or "none")])]
    if bad:
        out.append(table(["column", "invalid values", "missing values"], bad))
    return out


_RENDER: dict[str, Callable[[dict[str, Any]], list[Html]]] = {
    "quality": _quality, "detection": _detection, "manifold": _manifold, "tails": _tails,
    "constraints": _constraints,
}
_TITLES = {"quality": "Quality report (SDMetrics column shapes and pair trends)",
           "detection": "Detection (classifier two-sample test)",
           "manifold": "Manifold precision / recall (k-NN)",
           "tails": "Tails and rare categories", "constraints": "Public-domain constraints"}


def _rows_used(e: dict[str, Any]) -> Html:
    used = as_dict(e.get("rows_used"))
    if not used:
        return Html("")
    text = ", ".join(f"{v} {k}" for k, v in used.items())
    return tag("p", f"rows used: {text}", cls="muted-text")


def fidelity_section(fidelity: dict[str, Any]) -> Html:
    """Every fidelity sub-metric of one candidate, errors included."""
    head = tag("h3", "Fidelity (synthetic vs a real sample the generator did not see)")
    problem = missing(fidelity, "fidelity evaluation")
    if problem:
        return join([head, problem])
    entries = as_dict(fidelity.get("entries"))
    parts = [head, tag("p", f"real sample: {fmt(fidelity.get('n_real'))} rows; synthetic: "
                            f"{fmt(fidelity.get('n_synthetic'))} rows")]
    for name in [*ENTRIES, *(n for n in entries if n not in ENTRIES)]:
        parts.append(tag("h4", _TITLES.get(name, name)))
        entry = entries.get(name)
        if entry is None:
            parts.append(tag("p", f"{name}: not recorded", cls="error"))
            continue
        e = as_dict(entry)
        if e.get("error"):
            parts.append(error_box(name, e["error"]))
        else:
            render = _RENDER.get(name)
            parts += render(e) if render else [kv((k, v) for k, v in e.items()
                                                  if not isinstance(v, dict | list))]
        parts.append(_rows_used(e))
    return join(parts)
