"""Events files: ``date,actors,category,description``, optional ``end_date,date_precision,date_note,label,
source``.

``date`` is ``YYYY-MM-DD``, or ``YYYY-MM`` / ``YYYY`` when only the month or year is known; the loader turns each
date into the interval it stands for (a month-precision date covers the whole month) so that charts can show the
uncertainty. ``actors`` are separated by ``;``.
"""

from __future__ import annotations

import pandas as pd

from helpers.data._names import name_list, names
from helpers.data._table import fail, parse_partial_date, read_table

PRECISIONS = ("day", "month", "year")
COLUMNS = ["date", "actors", "category", "description"]



_DATE_EXPECTED = "a date written YYYY-MM-DD (or YYYY-MM, or YYYY when only the month or year is known)"


def load_events(path) -> pd.DataFrame:
    """Load and validate an events file.

    Returns one row per event, in file order, with columns: ``row`` (spreadsheet row), ``date`` (as written),
    ``start`` and ``end`` (Timestamps: the interval the date stands for, or up to ``end_date``), ``precision``
    (day/month/year), ``date_note``, ``actors`` (tuple of names), ``category``, ``label`` (short title;
    the description's first words when the file has none), ``description``, ``source``."""
    table = read_table(path, COLUMNS, what="events file")
    written = table.text("date")
    spans = table.convert("date", parse_partial_date, _DATE_EXPECTED)
    ends = table.convert("end_date", parse_partial_date, _DATE_EXPECTED, required=False)
    declared = table.text("date_precision", required=False)
    actors_text = table.text("actors")
    categories = names(table, "category")
    descriptions = table.text("description")
    labels = table.text("label", required=False)
    records = []
    for i, row in enumerate(table.rows):
        start, end, precision = spans[i]
        if declared[i]:
            want = declared[i].strip().lower()
            if want not in PRECISIONS:
                raise fail(table.path, row, "date_precision",
                           f"'{declared[i]}' is not one of {', '.join(PRECISIONS)}")
            if want != precision:
                raise fail(table.path, row, "date_precision",
                           f"says '{want}' but the date '{written[i]}' is written to {precision} precision")
        if ends[i] is not None:
            end = ends[i][1]
            if end < start:
                raise fail(table.path, row, "end_date", f"'{end}' is before the date '{written[i]}'")
        actors = tuple(dict.fromkeys(name_list(actors_text[i])))
        if not actors:
            raise fail(table.path, row, "actors", "names no actor; separate several with ';'")
        label = labels[i] or _first_words(descriptions[i])
        records.append({
            "row": row, "date": written[i], "start": pd.Timestamp(start), "end": pd.Timestamp(end),
            "precision": precision, "date_note": (table.records[i].get("date_note") or "").strip(),
            "actors": actors, "category": categories[i].strip().lower(), "label": label,
            "description": descriptions[i], "source": (table.records[i].get("source") or "").strip(),
        })
    frame = pd.DataFrame.from_records(records)
    frame["precision"] = frame["precision"].astype("string")
    return frame


def _first_words(text: str, limit: int = 32) -> str:
    text = text.split(":")[0] if ":" in text[:limit] else text
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
