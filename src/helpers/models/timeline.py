"""Timeline model: choose the events in a window, number them, and put them in actor lanes.

Pure functions over the events DataFrame from :func:`helpers.data.load_events`; drawing is in
:mod:`helpers.views.charts.timeline`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from helpers.data._names import NameIndex

OTHER = "Other actors"


def _bound(value: str, *, end: bool) -> pd.Timestamp | None:
    """'' -> None; '2007', '2007-05' or '2007-05-28' -> the first (or, for an end, the last) day it covers."""
    if not value:
        return None
    from helpers.data.events import parse_partial_date

    first, last = parse_partial_date(value)[:2]
    return pd.Timestamp(last if end else first)


def select(events: pd.DataFrame, start: str = "", end: str = "", actors: Sequence[str] = (),
           categories: Sequence[str] = ()) -> pd.DataFrame:
    """The events that overlap [start, end] (partial dates allowed, '' = open), involve any of `actors` and
    are in any of `categories` (both case-insensitive; empty = all). Sorted by start date, numbered from 1
    in column ``n``."""
    lo, hi = _bound(start, end=False), _bound(end, end=True)
    keep = pd.Series(True, index=events.index)
    if lo is not None:
        keep &= events["end"] >= lo
    if hi is not None:
        keep &= events["start"] <= hi
    if actors:
        wanted = {a.casefold() for a in actors}
        keep &= events["actors"].map(lambda names: any(n.casefold() in wanted for n in names))
    if categories:
        wanted_c = {c.casefold() for c in categories}
        keep &= events["category"].str.casefold().isin(wanted_c)
    chosen = events[keep].sort_values(["start", "row"], kind="stable").reset_index(drop=True)
    chosen.insert(0, "n", range(1, len(chosen) + 1))
    return chosen


def main_actors(events: pd.DataFrame, count: int = 5) -> list[str]:
    """The `count` actors named in most events (ties: the one named first in the file)."""
    tally: Counter = Counter()
    first_seen: dict[str, int] = {}
    for i, names in enumerate(events["actors"]):
        for name in names:
            tally[name] += 1
            first_seen.setdefault(name, i)
    ranked = sorted(tally, key=lambda a: (-tally[a], first_seen[a]))
    return ranked[:count]


def lanes(events: pd.DataFrame, lane_actors: Sequence[str]) -> pd.DataFrame:
    """One row per (event, lane): an event appears in the lane of every listed actor it names, or once in
    the ``Other actors`` lane when it names none of them. Columns: n, lane, lane_index, first (True for the
    event's first lane, where its label goes)."""
    order = list(lane_actors)
    index = NameIndex.of(order)
    rows = []
    for n, names in zip(events["n"], events["actors"], strict=True):
        hit = [k for k in map(index.find, names) if k is not None]
        hit = sorted(set(hit), key=order.index) or [OTHER]
        for j, lane in enumerate(hit):
            rows.append({"n": n, "lane": lane, "first": j == 0})
    frame = pd.DataFrame(rows, columns=["n", "lane", "first"])
    all_lanes = order + ([OTHER] if (frame["lane"] == OTHER).any() else [])
    frame["lane_index"] = frame["lane"].map({name: i for i, name in enumerate(all_lanes)})
    return frame


def uncertain(events: pd.DataFrame) -> pd.Series:
    """True for events whose date is only known to the month or year, or marked approximate."""
    return (events["precision"] != "day") | events["date_note"].str.contains("approx", case=False)


def event_table(events: pd.DataFrame) -> pd.DataFrame:
    """The events as a table for readers: number, date as known (with its precision), actors, category,
    description and source."""
    def when(row) -> str:
        note = f" ({row['date_note']})" if row["date_note"] else ""
        return f"{row['date']}{note}"

    return pd.DataFrame({
        "#": events["n"],
        "Date": events.apply(when, axis=1) if len(events) else [],
        "Actors": events["actors"].map("; ".join),
        "Category": events["category"],
        "Event": events["description"],
        "Source": events["source"],
    })
