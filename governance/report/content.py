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

from governance.core.jsonsafe import to_jsonable
from governance.core.types import StageError
from governance.evaluation.lift.results import ControlScores
from governance.report.candidate import SCENARIO_FIELDS, candidate_detail, overview_row
from governance.report.notes import READING_GUIDE
from governance.schemas.runs import CandidatePublic, RunPublic

REPORT_FORMAT = "governance.run_report/1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_RUN_FIELDS = ("id", "dataset_id", "dataset", "policy_sha256", "seed", "status", "progress",
               "message", "error", "requested_by", "executor", "grid", "plot_sha256",
               "created_at", "started_at", "finished_at")


def _control(run: RunPublic) -> dict[str, Any]:
    """The real-only control of every panel model: eval scores, validation primary metric."""
    control = run.control
    scores = control if isinstance(control, ControlScores) else None
    models: dict[str, Any] = {}
    for m, score in (scores.eval.items() if scores else ()):
        record = score.as_dict()
        models[m] = {k: record.get(k) for k in SCENARIO_FIELDS}
        val = scores.validation.get(m) if scores else None
        models[m]["validation_primary"] = val.primary if val is not None else None
    return {"metric": scores.metric if scores else None,
            "chance_rule": scores.chance_rule if scores else None,
            "chance": dict(scores.chance) if scores else {}, "models": models,
            "error": control.error if isinstance(control, StageError) else None,
            "missing": control is None, "source": "run"}


def _frontier(run: RunPublic, png: bytes | None) -> dict[str, Any]:
    frontier = run.frontier
    out: dict[str, Any] = {"error": None, "missing": frontier is None}
    record = frontier.as_dict() if frontier is not None else {}
    for key in ("axes", "control", "utility_floor", "max_risk"):
        out[key] = record.get(key)
    out["pareto"] = list(record.get("pareto", []))
    out["points"] = list(record.get("points", []))
    plot: dict[str, Any] = {"embedded": False, "sha256": None, "problem": None}
    if png is None:
        plot["problem"] = "no frontier plot was supplied"
    elif not bytes(png).startswith(PNG_MAGIC):
        plot["problem"] = "the supplied frontier plot is not a PNG image; it is not embedded"
    else:
        plot.update(embedded=True, sha256=hashlib.sha256(bytes(png)).hexdigest())
    out["plot"] = plot
    return out


def _run_notes(run: RunPublic, candidates: Sequence[CandidatePublic]) -> list[str]:
    notes = []
    given = {c.id for c in candidates}
    listed = [c.id for c in run.candidates or []]
    left_out = [c for c in listed if c not in given]
    if left_out:
        notes.append(f"{len(left_out)} candidate(s) of this run have no full record in this "
                     f"report: {', '.join(left_out)}")
    foreign = [c.id for c in candidates if c.run_id != run.id]
    if foreign:
        notes.append(f"candidate(s) {', '.join(foreign)} belong to another run")
    if not candidates:
        notes.append("this run has no candidates to report")
    return notes


def render_run_json(
    *, run: RunPublic, candidates: Sequence[CandidatePublic],
    frontier_png: bytes | None = None, title: str | None = None,
) -> dict[str, Any]:
    """Build the machine-readable run report (the HTML report's content, minus images).

    Args:
        run: the run's read model (``governance.schemas.runs.run_public``).
        candidates: full candidate read models, in report order.
        frontier_png: the run's frontier plot; only its SHA-256 is recorded here.
        title: the report title; ``"Run report <run id>"`` when ``None``.

    Returns:
        ``{"format", "title", "run", "control", "frontier", "overview", "candidates",
        "notes", "reading_guide"}``. Missing parts are marked ``"missing": True`` and
        failed parts carry their ``"error"`` text; nothing is dropped silently.
    """
    details = [candidate_detail(c, metric=run.task.metric) for c in candidates]
    record = run.as_dict()
    header = {k: record.get(k) for k in _RUN_FIELDS if k in record}
    header["task"] = {k: record["task"].get(k) for k in ("target", "kind", "metric")}
    content = {
        "format": REPORT_FORMAT,
        "title": str(title) if title is not None else f"Run report {run.id}",
        "run": header,
        "control": _control(run),
        "frontier": _frontier(run, frontier_png),
        "overview": [overview_row(d) for d in details],
        "candidates": details,
        "notes": _run_notes(run, candidates),
        "reading_guide": list(READING_GUIDE),
    }
    out: dict[str, Any] = to_jsonable(content)
    return out
