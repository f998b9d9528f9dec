"""The machine-readable run report: everything the HTML report shows, without images.

``render_run_json`` is the single place the report's content is assembled; the HTML
renderer draws from its output, so the two cannot drift apart. The output is
deterministic (no clock is read: the only timestamps are those in the run document)
and JSON-ready (``json.dumps(..., allow_nan=False)`` accepts it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from governance.report.candidate import candidate_detail, overview_row
from governance.report.notes import READING_GUIDE
from governance.report.values import as_dict, as_list, error_of, plain

REPORT_FORMAT = "governance.run_report/1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_RUN_FIELDS = ("id", "dataset_id", "dataset", "policy_sha256", "seed", "status", "progress",
               "message", "error", "requested_by", "executor", "grid", "plot_sha256",
               "created_at", "started_at", "finished_at")
_SCENARIO_FIELDS = ("primary", "metrics", "n_train", "n_dropped", "error", "per_class",
                    "confusion", "subgroups")


def _control(run: dict[str, Any], details: list[dict[str, Any]]) -> dict[str, Any]:
    raw, source = run.get("control"), "run"
    if raw is None:
        found = [d for d in details if d["utility"]["scenarios"].get("control")]
        if found:
            raw, source = found[0]["utility"]["scenarios"]["control"], "candidate utility"
    out: dict[str, Any] = {"error": error_of(raw), "missing": raw is None, "source": source}
    out.update({k: as_dict(raw).get(k) for k in _SCENARIO_FIELDS})
    return out


def _frontier(run: dict[str, Any], png: bytes | None) -> dict[str, Any]:
    raw = run.get("frontier")
    out: dict[str, Any] = {"error": error_of(raw), "missing": raw is None}
    for key in ("axes", "control", "utility_floor", "max_risk"):
        out[key] = as_dict(raw).get(key)
    out["pareto"] = [str(p) for p in as_list(as_dict(raw).get("pareto"))]
    out["points"] = [as_dict(p) for p in as_list(as_dict(raw).get("points"))]
    plot: dict[str, Any] = {"embedded": False, "sha256": None, "problem": None}
    if png is None:
        plot["problem"] = "no frontier plot was supplied"
    elif not isinstance(png, bytes | bytearray) or not bytes(png).startswith(PNG_MAGIC):
        plot["problem"] = "the supplied frontier plot is not a PNG image; it is not embedded"
    else:
        plot.update(embedded=True, sha256=hashlib.sha256(bytes(png)).hexdigest())
    out["plot"] = plot
    return out


def _run_notes(run: dict[str, Any], details: list[dict[str, Any]]) -> list[str]:
    notes = []
    given = {str(d.get("id")) for d in details}
    listed = [str(as_dict(c).get("id")) for c in as_list(run.get("candidates"))]
    left_out = [c for c in listed if c not in given]
    if left_out:
        notes.append(f"{len(left_out)} candidate(s) of this run have no full record in this "
                     f"report: {', '.join(left_out)}")
    run_id = run.get("id")
    foreign = [str(d.get("id")) for d in details
               if run_id is not None and d.get("run_id") not in (None, run_id)]
    if foreign:
        notes.append(f"candidate(s) {', '.join(foreign)} belong to another run")
    if not details:
        notes.append("this run has no candidates to report")
    return notes


def render_run_json(
    *, run: dict[str, Any], candidates: Sequence[dict[str, Any]],
    frontier_png: bytes | None = None, title: str | None = None,
) -> dict[str, Any]:
    """Build the machine-readable run report (the HTML report's content, minus images).

    Args:
        run: a ``governance.services.views.run_view`` document.
        candidates: full ``governance.services.views.candidate_view`` documents, in report order.
        frontier_png: the run's frontier plot; only its SHA-256 is recorded here.
        title: the report title; ``"Run report <run id>"`` when ``None``.

    Returns:
        ``{"format", "title", "run", "control", "frontier", "overview", "candidates",
        "notes", "reading_guide"}``. Missing parts are marked ``"missing": True`` and
        failed parts carry their ``"error"`` text; nothing is dropped silently.

    >>> doc = render_run_json(run={"id": "run_1"}, candidates=[{"id": "cand_1",
    ...     "attack": {"error": "boom"}}])
    >>> doc["title"], doc["overview"][0]["errors"]
    ('Run report run_1', {'attack': 'boom'})
    """
    run = as_dict(run)
    details = [candidate_detail(c, metric=as_dict(run.get("task")).get("metric"))
               for c in candidates]
    task = as_dict(run.get("task"))
    header = {k: run.get(k) for k in _RUN_FIELDS if k in run}
    header["task"] = {k: task.get(k) for k in ("target", "kind", "metric", "model")}
    content = {
        "format": REPORT_FORMAT,
        "title": str(title) if title is not None else f"Run report {run.get('id', '')}".strip(),
        "run": header,
        "control": _control(run, details),
        "frontier": _frontier(run, frontier_png),
        "overview": [overview_row(d) for d in details],
        "candidates": details,
        "notes": _run_notes(run, details),
        "reading_guide": list(READING_GUIDE),
    }
    return plain(content)  # type: ignore[no-any-return]
