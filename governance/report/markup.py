"""Escaping HTML building blocks and number formats for the run report.

Every value from the data passes through :func:`esc` (``html.escape`` with quotes)
unless it is already :class:`Html`, i.e. markup this package built itself; a string
from a run or candidate document can therefore never inject a tag or an attribute.
Images are inlined as ``data:`` URIs, so the report opens without a network.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping (the report's content holds optional sub-records)."""
    return dict(value) if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list or tuple, else an empty list."""
    return list(value) if isinstance(value, list | tuple) else []


def number(value: Any) -> float | None:
    """A number of the report's content: ``"inf"`` is infinity, anything else ``None``.

    >>> number("inf"), number(None), number(2)
    (inf, None, 2.0)
    """
    if isinstance(value, bool) or value is None:
        return None
    if value in ("inf", "-inf"):
        return math.inf if value == "inf" else -math.inf
    if isinstance(value, int | float):
        return None if math.isnan(value) else float(value)
    return None



DASH = "\u2014"


class Html(str):
    """Markup built by this package, inserted verbatim (everything else is escaped)."""

    __slots__ = ()


def esc(value: Any) -> Html:
    """Escape ``value`` for HTML text or a quoted attribute; ``Html`` passes through.

    >>> esc('<script>"x"</script>')
    '&lt;script&gt;&quot;x&quot;&lt;/script&gt;'
    """
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Any], sep: str = "") -> Html:
    """Concatenate escaped parts."""
    return Html(sep.join(esc(p) for p in parts))


def tag(name: str, *children: Any, cls: str | None = None, **attrs: Any) -> Html:
    """``<name class=cls attrs>children</name>``; attribute values are escaped."""
    pairs = ([("class", cls)] if cls else []) + sorted(attrs.items())
    attributes = "".join(f' {k.rstrip("_")}="{esc(v)}"' for k, v in pairs if v is not None)
    return Html(f"<{name}{attributes}>{join(children)}</{name}>")


def ul(items: Iterable[Any], *, cls: str | None = None) -> Html:
    """A bulleted list of escaped items; an empty string for no items."""
    lis = [tag("li", item) for item in items]
    return tag("ul", *lis, cls=cls) if lis else Html("")


def table(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *,
          cls: str | None = None) -> Html:
    """A table; a cell that is not ``Html`` is formatted with :func:`fmt`."""
    head = tag("thead", tag("tr", *(tag("th", h) for h in headers)))
    body = tag("tbody", *(tag("tr", *(tag("td", cell(c)) for c in row)) for row in rows))
    return tag("table", head, body, cls=cls)


def cell(value: Any) -> Html:
    """A table cell's content: markup as is, numbers formatted, text escaped."""
    return value if isinstance(value, Html) else fmt(value)


def fmt(value: Any, digits: int = 3) -> Html:
    """Format a recorded value: floats to ``digits`` decimals, ``None`` as a dash.

    Non-zero values that would round to zero are shown with 3 significant digits.

    >>> fmt(0.12345), fmt(None), fmt("inf"), fmt(True), fmt(12), fmt(1e-5)
    ('0.123', '\u2014', '\u221e', 'yes', '12', '1e-05')
    """
    if value is None:
        return Html(DASH)
    if isinstance(value, bool):
        return Html("yes" if value else "no")
    if isinstance(value, int):
        return esc(value)
    x = number(value)
    if x is None:
        return esc(value)
    if math.isinf(x):
        return Html("\u221e" if x > 0 else "-\u221e")
    if x != 0 and abs(x) < 0.5 * 10.0 ** -digits:
        return Html(f"{x:.3g}")
    return Html(f"{x:.{digits}f}")


def fmt_eps(value: Any) -> Html:
    """An epsilon exactly as recorded (up to 6 significant digits); infinity as ``∞``."""
    x = number(value)
    if x is None or math.isinf(x):
        return fmt(value)
    return Html(f"{x:.6g}")


def fmt_pct(value: Any) -> Html:
    """A rate in percent with one decimal."""
    x = number(value)
    return fmt(value) if x is None or math.isinf(x) else Html(f"{x:.1%}")


def fmt_ci(iv: Any, *, signed: bool = False) -> Html:
    """``value [low, high]`` from an interval dict; a dash when there is no value."""
    if not isinstance(iv, dict) or number(iv.get("value")) is None:
        return Html(DASH)
    sign = "+" if signed else ""
    value = f"{number(iv['value']):{sign}.3f}"
    low, high = number(iv.get("ci_low")), number(iv.get("ci_high"))
    if low is None or high is None:
        return Html(f"{value} (no interval)")
    return Html(f"{value} [{low:{sign}.3f}, {high:{sign}.3f}]")


def badge(text: Any, kind: str) -> Html:
    """A coloured label (``ok``, ``bad``, ``warn`` or ``muted``)."""
    return tag("span", text, cls=f"badge {kind}")


def error_box(what: str, error: Any) -> Html:
    """A visible error message for a part that failed."""
    return tag("p", tag("strong", f"{what} failed: "), error, cls="error")


def missing(part: dict[str, Any], what: str) -> Html | None:
    """The error box or "not recorded" line of a part, or ``None`` when it is present."""
    if part.get("error"):
        return error_box(what, part["error"])
    if part.get("missing"):
        return tag("p", f"{what}: not recorded for this candidate.", cls="error")
    return None


def png_img(png: bytes, alt: str) -> Html:
    """An ``<img>`` with the PNG inlined as a base64 ``data:`` URI."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return Html(f'<img src="{uri}" alt="{esc(alt)}">')


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;
max-width:76em;padding:0 1em;color:#1d2329;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;
margin-top:2em}h3{margin-top:1.4em}h4{margin:1em 0 .3em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.88em}
th,td{border:1px solid #d0d7de;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#f3f5f7}td{font-variant-numeric:tabular-nums}
.muted-text{color:#57606a;font-size:.85em}
.badge{display:inline-block;padding:.05em .5em;border-radius:.8em;font-size:.85em;
font-weight:600}.ok{background:#dafbe1;color:#116329}.bad{background:#ffebe9;color:#a40e26}
.warn{background:#fff8c5;color:#7d4e00}.muted{background:#eaeef2;color:#57606a}
.error{background:#ffebe9;border-left:4px solid #cf222e;padding:.4em .7em}
.alert{background:#ffebe9;border:2px solid #cf222e;padding:.5em .8em;font-weight:600}
.notes li{margin:.2em 0}section.candidate{border-top:1px solid #d0d7de;margin-top:2em}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;font-size:.9em}
dl.kv dt{font-weight:600}dl.kv dd{margin:0;word-break:break-all}
img{max-width:100%;height:auto;display:block;margin:.4em 0}
.charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
"""


def kv(pairs: Iterable[tuple[Any, Any]]) -> Html:
    """A definition list of label/value pairs (values formatted with :func:`cell`)."""
    return tag("dl", *(Html(tag("dt", k) + tag("dd", cell(v))) for k, v in pairs), cls="kv")
