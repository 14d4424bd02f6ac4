"""Views: tables for reports, escaped.

Every string that comes from data is HTML-escaped here, whatever it contains; never hand a pandas Styler or an
f-string of data to ``display(HTML(...))`` or ``Markdown(...)``. Use :func:`show` in notebooks.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import pandas as pd


def _cell(value, fmt: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NaT:
        return ""
    if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
        return html.escape(format(value, fmt))
    if hasattr(value, "strftime") and not isinstance(value, str):
        return html.escape(value.strftime("%Y-%m-%d"))
    return html.escape(str(value))


def to_html(df: pd.DataFrame, *, formats: Mapping[str, str] | None = None, caption: str | None = None,
            numeric: Sequence[str] | None = None, index: bool = False, max_rows: int | None = None) -> str:
    """An escaped HTML table. `formats` maps a column to a format spec ('.1f', ',d', '.0%').

    Numeric columns are right-aligned. The caption, headers and every cell are escaped."""
    formats = dict(formats or {})
    frame = df.reset_index() if index else df
    if max_rows is not None:
        frame = frame.head(max_rows)
    numeric = set(numeric) if numeric is not None else {
        c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(
            frame[c])}
    parts = ['<table class="bb-table">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>")
    for c in frame.columns:
        cls = ' class="num"' if c in numeric else ""
        parts.append(f"<th{cls}>{html.escape(str(c))}</th>")
    parts.append("</tr></thead><tbody>")
    for row in frame.itertuples(index=False, name=None):
        parts.append("<tr>")
        for c, v in zip(frame.columns, row, strict=True):
            cls = ' class="num"' if c in numeric else ""
            parts.append(f"<td{cls}>{_cell(v, formats.get(c))}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def show(df: pd.DataFrame, **kwargs) -> None:
    """Display an escaped table in a notebook (see :func:`to_html`)."""
    from IPython.display import HTML, display

    display(HTML(to_html(df, **kwargs)))


def text(s) -> str:
    """Escape a data string for HTML or Markdown output: HTML escaped, Markdown's own characters quoted."""
    out = html.escape(str(s))
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in out)


_MARKDOWN_SPECIAL = set("\\`*_[]!|~")  # not "#": html.escape writes &#x27;


def say(markdown_template: str, **values) -> None:
    """Display Markdown prose in which every `values` item is escaped: ``say("**{name}** leads", name=x)``."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_template.format(**{k: text(v) for k, v in values.items()})))
