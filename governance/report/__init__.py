"""The run report: one self-contained HTML page and its machine-readable twin.

``render_run_report`` turns a run and its full candidates (read models from
``governance.schemas``) into an HTML5 page that opens
offline: header, privacy/utility frontier, candidate table, then one section per
candidate with its verdict, privacy record, attacks, utility, fidelity and the notes
that say how far each figure can be trusted. ``render_run_json`` returns the same
content as a JSON-ready dict, without images. ``charts`` draws the small PNGs.
"""

from governance.report.charts import confusion_png, lift_png
from governance.report.content import REPORT_FORMAT, render_run_json
from governance.report.html import render_run_report

__all__ = [
    "REPORT_FORMAT",
    "confusion_png",
    "lift_png",
    "render_run_json",
    "render_run_report",
]
