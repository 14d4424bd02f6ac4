"""Views: tables for reports, escaped.

Every string that comes from data is HTML-escaped here, whatever it contains; never hand a pandas Styler or an
f-string of data to ``display(HTML(...))`` or ``Markdown(...)``. Use :func:`show` in notebooks.

Data text stays text (:func:`helpers.core.text.one_line`): a line break in a name becomes a space (it cannot
start a heading or a list), bidi controls are removed (an unbalanced right-to-left override cannot reverse the
rest of a paragraph), and in Markdown (:func:`text`, :func:`say`) every value is isolated in ``<bdi>`` with its
punctuation escaped so that it makes no emphasis, heading, list, link, autolink or math.
"""

from __future__ import annotations

import html
import math
import re
import string
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.core.text import one_line
from helpers.views import ANSWER_ID

#: How a yes-or-no cell reads in a report.
YES, NO = "yes", "no"
_URL = re.compile(r"https?://[^\s<>\"';,]+[^\s<>\"';,.)]")
_NEGATIVE_ZERO = re.compile(r"-(?=0*(?:\.0*)?%?$)")


def _cell(value, fmt: str | None, link: bool = False) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return YES if value else NO
    if fmt and isinstance(value, (int, float, np.integer, np.floating)):
        # a value that rounds to zero is shown without a sign ("0.0", not "-0.0")
        return html.escape(_NEGATIVE_ZERO.sub("", format(value, fmt)))
    if link and isinstance(value, str):
        return linked(value)
    if hasattr(value, "strftime") and not isinstance(value, str):
        return html.escape(value.strftime("%Y-%m-%d"))
    return html.escape(one_line(value))


def to_html(df: pd.DataFrame, *, formats: Mapping[str, str] | None = None, caption: str | None = None,
            numeric: Sequence[str] | None = None, index: bool = False, max_rows: int | None = None,
            links: Sequence[str] = ()) -> str:
    """An escaped HTML table. `formats` maps a column to a format spec ('.1f', ',d', '.0%').

    Numeric columns are right-aligned. The caption, headers and every cell are escaped; a missing value is an
    empty cell, True/False read yes/no, a number that rounds to zero has no sign. In the `links` columns every
    http(s) address becomes a link named by its site (:func:`linked`)."""
    formats = dict(formats or {})
    frame = df.reset_index() if index else df
    if max_rows is not None:
        frame = frame.head(max_rows)
    numeric = set(numeric) if numeric is not None else {
        c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(
            frame[c])}
    parts = ['<table class="bb-table">']
    if caption:
        parts.append(f"<caption>{html.escape(one_line(caption))}</caption>")
    parts.append("<thead><tr>")
    for c in frame.columns:
        cls = ' class="num"' if c in numeric else ""
        parts.append(f"<th{cls}>{html.escape(one_line(c))}</th>")
    parts.append("</tr></thead><tbody>")
    for row in frame.itertuples(index=False, name=None):
        parts.append("<tr>")
        for c, v in zip(frame.columns, row, strict=True):
            cls = ' class="num"' if c in numeric else ""
            label = html.escape(one_line(c), quote=True)  # a phone shows each row as a card: the heading first
            parts.append(f'<td{cls} data-label="{label}">{_cell(v, formats.get(c), c in links)}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def linked(value) -> str:
    """A data string as escaped HTML in which every http(s) address is a link (``<a href>``) named by its site
    ("haaretz.com"); the rest of the text is kept, escaped."""
    line, out, at = one_line(value), [], 0
    for m in _URL.finditer(line):
        url = m.group(0)
        site = re.sub(r"^www\.", "", url.split("/")[2])
        out.append(html.escape(line[at:m.start()]))
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(site)}</a>')
        at = m.end()
    out.append(html.escape(line[at:]))
    return "".join(out)


def show(df: pd.DataFrame, *, collapsed: str | None = None, **kwargs) -> None:
    """Display an escaped table in a notebook (see :func:`to_html`); with `collapsed`, folded away under that
    line (``<details><summary>``) until a reader opens it."""
    from IPython.display import HTML, display

    table = to_html(df, **kwargs)
    if collapsed:
        table = f"<details><summary>{html.escape(one_line(collapsed))}</summary>{table}</details>"
    display(HTML(table))


def text(s) -> str:
    """A data string as inert Markdown (also valid HTML): one line (:func:`helpers.core.text.one_line`), inside
    ``<bdi>``; ``& < > " '`` as HTML entities, ``$`` as ``&#36;`` (no math), ``:`` as ``&#58;`` (no autolink:
    a bare URL needs "://"), every other ASCII punctuation character backslash-escaped (no emphasis, heading,
    list, link, table or ``www.`` autolink). Rendered, it shows exactly the characters of the value."""
    line = one_line(s)
    return "<bdi>" + "".join(_ESCAPES.get(ch, ch) for ch in line) + "</bdi>" if line else ""


_ESCAPES = {ch: "\\" + ch for ch in string.punctuation}
_ESCAPES.update({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "$": "&#36;",
                 ":": "&#58;"})
# A value in a code span would show its escapes literally; `{name}` in a template becomes <code>{name}</code>.
_CODE_FIELD = re.compile(r"`(\{\w+\})`")


def say(markdown_template: str, **values) -> None:
    """Display Markdown prose in which every `values` item is escaped (:func:`text`):
    ``say("**{name}** leads", name=x)``."""
    from IPython.display import Markdown, display

    display(Markdown(markdown(markdown_template, **values)))




def answer(parts: Sequence[str]) -> None:
    """Display the report's bottom line: Markdown `parts` (each from :func:`markdown`, so every value is
    escaped), one paragraph each, inside one ``<div class="bb-answer" id="answer">`` (a raw HTML block, so the
    Markdown inside still renders)."""
    from IPython.display import Markdown, display

    body = "\n\n".join(parts)
    display(Markdown(f'<div class="bb-answer" id="{ANSWER_ID}">\n\n{body}\n\n</div>'))


def markdown(markdown_template: str, **values) -> str:
    """The Markdown :func:`say` displays: the template with every value escaped by :func:`text`."""
    template = _CODE_FIELD.sub(r"<code>\1</code>", markdown_template)
    return template.format(**{k: text(v) for k, v in values.items()})
