"""Timeline model: choose the events in a window, number them, and put them in actor lanes.

Pure functions over the events DataFrame from :func:`helpers.data.load_events`; drawing is in
:mod:`helpers.views.charts.timeline`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
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


# --- Many events: what a report draws and lists when there are too many to show one by one -----------------

#: The most events a chart draws one by one (a dot and a label each); beyond this the chart counts them
#: (:func:`aggregate`) and draws only the :data:`RECENT_EVENTS` most recent one by one.
DRAWN_EVENTS = 120
#: How many of the most recent events are drawn one by one when a chart counts the rest.
RECENT_EVENTS = 40
#: The most events the event table lists in full; beyond this it is summarised (counts by actor and by category,
#: and the first and last :data:`TABLE_EDGE` events).
TABLE_EVENTS = 200
#: How many of the first and of the most recent events a summarised table lists.
TABLE_EDGE = 20
#: The most actors (and categories) a summarised table counts one by one; the rest are counted together.
TABLE_NAMES = 30
#: The most rows (periods) a count chart has: the period is a month, a quarter, a year or several years,
#: the shortest that fits.
MAX_PERIODS = 40
#: Period lengths in months, shortest first, and their names.
PERIODS = ((1, "month"), (3, "quarter"), (12, "year"), (24, "two years"), (60, "five years"), (120, "decade"),
           (300, "25 years"), (600, "50 years"), (1200, "century"))


def _months(stamps) -> np.ndarray:
    """Months since year 0 (year * 12 + month - 1) of each Timestamp."""
    stamps = pd.DatetimeIndex(stamps)
    return stamps.year.to_numpy(dtype=np.int64) * 12 + stamps.month.to_numpy(dtype=np.int64) - 1


def period_months(first: pd.Timestamp, last: pd.Timestamp, most: int = MAX_PERIODS) -> tuple[int, str]:
    """The shortest period of :data:`PERIODS` (length in months, name) that covers `first` to `last` in at most
    `most` periods (calendar-aligned: quarters start in January, April...; decades in years ending in 0). Past
    the longest, the longest."""
    lo, hi = (int(m) for m in _months([first, last]))
    for step, name in PERIODS:
        if hi // step - lo // step + 1 <= most:
            return step, name
    return PERIODS[-1]


def period_name(month: int, step: int) -> str:
    """A period in words from its first month (months since year 0) and its length: "Mar 2007", "Q2 2007",
    "2007", "2000–2004"."""
    year, m = divmod(int(month), 12)
    if step == 1:
        return f"{pd.Timestamp(year=year, month=m + 1, day=1):%b %Y}"
    if step == 3:
        return f"Q{m // 3 + 1} {year}"
    if step == 12:
        return str(year)
    return f"{year}–{year + step // 12 - 1}"


@dataclass
class Counts:
    """Events counted per period (rows, in order of time, empty periods included) and per lane (columns).

    ``lanes``: events per period in each lane (an event naming several lane actors counts in each of their lanes;
    one naming none counts once under :data:`OTHER`); ``total``: events per period (each event once, in the
    period its start date falls in); ``categories``: events per period by category. ``step``/``step_name``:
    the period's length in months and in words; ``periods``: each period's first month (months since year 0)."""

    lanes: pd.DataFrame
    total: pd.Series
    categories: pd.DataFrame
    step: int
    step_name: str
    periods: list[int]

    @property
    def labels(self) -> list[str]:
        return [period_name(p, self.step) for p in self.periods]


def aggregate(events: pd.DataFrame, lane_rows: pd.DataFrame, most: int = MAX_PERIODS) -> Counts:
    """Count `events` (from :func:`select`) per period and per lane of `lane_rows` (:func:`lanes`), in at most
    `most` periods (:func:`period_months`). An event counts in the period its start date falls in (one known
    only to the month or year: where that month or year begins). Vectorised: linear in the events."""
    if not len(events):
        raise ValueError("no events to count")
    step, step_name = period_months(events["start"].min(), events["start"].max(), most)
    bucket = _months(events["start"]) // step
    first = int(bucket.min())
    slot = bucket - first
    count = int(slot.max()) + 1
    periods = [(first + i) * step for i in range(count)]
    index = pd.Index([period_name(p, step) for p in periods], name=step_name)
    total = pd.Series(np.bincount(slot, minlength=count), index=index, name="events")

    slot_of = pd.Series(slot, index=events["n"].to_numpy())
    # The lanes that hold an event, in lane order (a listed actor named in none of `events` has no column).
    used = lane_rows.drop_duplicates("lane_index").sort_values("lane_index")
    lane_names = used["lane"].tolist()
    column = pd.Series(range(len(used)), index=used["lane_index"].to_numpy())
    lane_slot = slot_of.reindex(lane_rows["n"].to_numpy()).to_numpy()
    lane_col = column.reindex(lane_rows["lane_index"].to_numpy()).to_numpy()
    flat = np.bincount(lane_slot * len(lane_names) + lane_col, minlength=count * len(lane_names))
    by_lane = pd.DataFrame(flat.reshape(count, len(lane_names)), index=index, columns=lane_names)

    names = sorted(events["category"].unique())
    code = pd.Categorical(events["category"], categories=names).codes.astype(np.int64)
    flat = np.bincount(slot * len(names) + code, minlength=count * len(names))
    by_category = pd.DataFrame(flat.reshape(count, len(names)), index=index, columns=names)
    return Counts(lanes=by_lane, total=total, categories=by_category, step=step, step_name=step_name,
                  periods=periods)


def recent(events: pd.DataFrame, count: int = RECENT_EVENTS) -> pd.DataFrame:
    """The `count` most recent events of `events` (by start date, then number), in order of time, keeping their
    numbers ``n``."""
    return events.sort_values(["start", "n"], kind="stable").tail(count)


def name_counts(events: pd.DataFrame, column: str, most: int = TABLE_NAMES) -> tuple[pd.DataFrame, int]:
    """How many events name each actor (`column` ``"actors"``) or are of each category (``"category"``), most
    first (ties: alphabetical), with the dates (as written) of the first and the last of them. Returns the
    table of the `most` first names and how many names it leaves out."""
    values = events[column]
    if column == "actors":
        repeat = values.map(len).to_numpy()
        long = pd.DataFrame({"name": values.explode().to_numpy(),
                             "start": np.repeat(events["start"].to_numpy(), repeat),
                             "date": np.repeat(events["date"].to_numpy(), repeat)})
    else:
        long = pd.DataFrame({"name": values.to_numpy(), "start": events["start"].to_numpy(),
                             "date": events["date"].to_numpy()})
    long = long.sort_values("start", kind="stable")
    grouped = long.groupby("name", sort=True)["date"].agg(["size", "first", "last"]).reset_index()
    grouped = grouped.sort_values(["size", "name"], ascending=[False, True], kind="stable")
    shown = grouped.head(most)
    table = pd.DataFrame({"Name": shown["name"].to_numpy(), "Events": shown["size"].to_numpy(),
                          "First": shown["first"].to_numpy(), "Last": shown["last"].to_numpy()})
    return table, max(len(grouped) - most, 0)
