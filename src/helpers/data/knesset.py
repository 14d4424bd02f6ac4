"""Election files: votes per list, surplus-vote agreement pairs, seats per party, and the list of elections.

* Votes file (``ballotbook seats``; the ``results`` notebook parameter): ``list,votes`` and any other columns
  (``name``, ``name_hebrew``, ``letters``, ``seats`` in ``data/knesset/results/<date>.csv``), one row per list
  that ran, so that a threshold can be taken on all valid votes. :func:`load_votes`.
* Pairs file (``--agreements``; the ``agreements`` notebook parameter): ``list_a,list_b``, one surplus-vote
  agreement per row. :func:`load_pairs`.
* Seats file (``ballotbook coalitions``): ``party,seats``. :func:`load_seats`.
* Elections file (``data/knesset/elections.csv``): ``date,knesset,valid_votes,ballots_cast,
  threshold_percent,seats``. :func:`load_elections`.
"""

from __future__ import annotations

import os
from fractions import Fraction

import pandas as pd

from helpers.core.errors import DataError
from helpers.core.limits import MAX_SEATS
from helpers.data._names import names as name_column
from helpers.data._table import fail, parse_fraction, read_table

ELECTIONS_FILE = "data/knesset/elections.csv"


def load_votes(path: str | os.PathLike) -> pd.DataFrame:
    """A votes file: columns ``list`` (str) and ``votes`` (int64, whole votes >= 0) first, in file order, then
    the file's other columns as text (a ``seats`` column, when present, as int64: official seats).

    DataError for a missing file or column, an empty or repeated list name (letter case ignored), votes that
    are not whole numbers >= 0, or votes that are all zero."""
    t = read_table(path, ["list", "votes"], what="votes file (list,votes)")
    return _counts_frame(t, "list", "votes", "whole number of votes", "every list has 0 votes; there is "
                         "nothing to allocate", whole_columns={"seats": "whole number of seats"})


def _counts_frame(t, key: str, count: str, unit: str, all_zero: str, whole_columns=None,
                  most: int | None = None) -> pd.DataFrame:
    """A name column (normalised names, unique, letter case ignored) and a count column (int64, >= 0, not all
    zero, adding up to at most `most` when given) first, then the file's other columns: those in
    `whole_columns` as int64, the rest as text."""
    names = name_column(t, key)
    t.unique(key, names, what=key)
    counts = t.integers(count, minimum=0, unit=unit)
    if sum(counts) == 0:
        raise fail(t.path, None, count, all_zero)
    if most is not None and sum(counts) > most:
        raise fail(t.path, None, count, f"the {count} add up to {sum(counts):,}; a house has at most {most:,}")
    frame = {key: pd.Series(names, dtype=object), count: pd.Series(counts, dtype="int64")}
    for column in t.columns:
        if not column or column in frame:
            continue
        if column in (whole_columns or {}):
            frame[column] = pd.Series(t.integers(column, minimum=0, unit=whole_columns[column]), dtype="int64")
        else:
            frame[column] = pd.Series(t.text(column, required=False), dtype=object)
    return pd.DataFrame(frame)


def load_pairs(path: str | os.PathLike) -> list[tuple[str, str]]:
    """Surplus-vote agreements: ``list_a,list_b`` -> [(list_a, list_b), ...] in file order.

    An empty file (header only) means no agreements. DataError for a missing column, an empty cell, a list
    paired with itself, or a list in two agreements (the law allows one each)."""
    t = read_table(path, ["list_a", "list_b"], what="agreements file (list_a,list_b)", allow_empty=True)
    a_names, b_names = name_column(t, "list_a"), name_column(t, "list_b")
    seen: dict[str, int] = {}
    pairs = []
    for a, b, row in zip(a_names, b_names, t.rows, strict=True):
        if a.casefold() == b.casefold():
            raise fail(t.path, row, "list_b",
                       f"'{b}' is the same list as list_a; an agreement pairs two lists")
        for column, name in (("list_a", a), ("list_b", b)):
            key = name.casefold()
            if key in seen:
                raise fail(t.path, row, column, f"list '{name}' is already in the agreement of row "
                                                f"{seen[key]}; a list may sign only one")
            seen[key] = row
        pairs.append((a, b))
    return pairs


def load_seats(path: str | os.PathLike) -> pd.DataFrame:
    """A seats file: columns ``party`` (str) and ``seats`` (int64, whole seats >= 0), in file order; other
    columns are kept as text.

    DataError for a missing file or column, an empty or repeated party (letter case ignored), seats that are
    not whole numbers >= 0, or no seats at all."""
    t = read_table(path, ["party", "seats"], what="seats file (party,seats)")
    return _counts_frame(t, "party", "seats", "whole number of seats",
                         "every party has 0 seats; there is no coalition to form", most=MAX_SEATS)


def _percent(text: str) -> Fraction:
    value = parse_fraction(text)
    if not 0 <= value < 100:
        raise ValueError(text)
    return value


def load_elections(path: str | os.PathLike = ELECTIONS_FILE) -> pd.DataFrame:
    """The elections file: one row per election, columns ``date`` (Timestamp), ``knesset`` (int64),
    ``valid_votes`` and ``ballots_cast`` (int64), ``threshold_percent`` (float, percent of valid votes),
    ``threshold`` (the same as an exact Fraction, for :func:`helpers.models.seats.allocate`), ``seats`` (int64), then
    any other columns as text. Sorted by date.

    DataError for a missing column, a bad date or number, a repeated date, or more valid votes than
    ballots."""
    t = read_table(path, ["date", "knesset", "valid_votes", "ballots_cast", "threshold_percent", "seats"],
                   what="elections file")
    dates = t.dates("date")
    t.unique("date", dates, what="election date")
    valid = t.integers("valid_votes", minimum=0, unit="whole number of votes")
    cast = t.integers("ballots_cast", minimum=0, unit="whole number of ballots")
    for v, c, row in zip(valid, cast, t.rows, strict=True):
        if v > c:
            raise fail(t.path, row, "valid_votes", f"{v:,} valid votes is more than the {c:,} ballots cast")
    thresholds = t.convert("threshold_percent", _percent, "a percent between 0 and 100 (such as 3.25)")
    seats = t.integers("seats", minimum=1, unit="whole number of seats")
    for n, row in zip(seats, t.rows, strict=True):
        if n > MAX_SEATS:
            raise fail(t.path, row, "seats", f"{n:,} is more seats than a house may have (at most {MAX_SEATS:,})")
    frame = {
        "date": pd.to_datetime(pd.Series(dates)),
        "knesset": pd.Series(t.integers("knesset", minimum=1), dtype="int64"),
        "valid_votes": pd.Series(valid, dtype="int64"),
        "ballots_cast": pd.Series(cast, dtype="int64"),
        "threshold_percent": pd.Series([float(x) for x in thresholds], dtype="float64"),
        "threshold": pd.Series(thresholds, dtype=object),
        "seats": pd.Series(seats, dtype="int64"),
    }
    for column in t.columns:
        if column and column not in frame:
            frame[column] = pd.Series(t.text(column, required=False), dtype=object)
    return pd.DataFrame(frame).sort_values("date", kind="stable").reset_index(drop=True)


def election(date: str, path: str | os.PathLike = ELECTIONS_FILE) -> dict:
    """One election's row from the elections file as a dict (date given as YYYY-MM-DD)."""
    frame = load_elections(path)
    hit = frame[frame["date"] == pd.Timestamp(date)]
    if hit.empty:
        known = ", ".join(d.strftime("%Y-%m-%d") for d in frame["date"])
        raise DataError(f"No election on {date} in {path}; the file has {known}.")
    return hit.iloc[0].to_dict()
