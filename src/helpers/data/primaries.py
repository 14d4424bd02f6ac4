"""Leadership-primary files: round counts, candidate polls, past contests, per-round turnout, scenarios.

* Round file (``ballotbook primary``): ``candidate,votes`` — every candidate of one round; other columns are
  ignored. :func:`load_round`.
* Candidates file (the leadership report's ``candidates`` parameter): ``candidate`` and either ``share`` (the
  first-round poll share, percent) or ``votes`` (a real count to replay); optional ``sample_size`` (the poll's
  respondents, the same on every row), ``date`` (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``), ``source``,
  ``notes``. :func:`load_candidates`.
* Contests file (``data/primaries/contests.csv``): one row per candidate per round of past contests.
  :func:`load_contests`.
* Rounds file (``data/primaries/rounds.csv``): ballots cast, registered members, invalid ballots per round.
  :func:`load_rounds`.
* Colours file (the leadership report's ``colours`` parameter): ``candidate,colour`` (``#RRGGBB``), the colour of
  each candidate in the report's charts; a candidate it leaves out takes the house palette. :func:`load_colours`.
* Transfers file (scenarios for the report): ``scenario,title,step,source,target,percent`` where ``step`` is
  ``withdraw`` (before round one) or ``transfer`` (into round two) and ``percent`` is the share of `source`'s
  voters going to `target`; whatever is not assigned stays home. :func:`load_transfers`.
"""

from __future__ import annotations

import math
import os
import re

import pandas as pd

from helpers.data._names import NameIndex
from helpers.data._names import names as name_column
from helpers.data._table import fail, parse_partial_date, read_table

RESULTS = ("winner", "runoff", "out")
KINDS = ("candidate", "ballot_option")
STEPS = ("withdraw", "transfer")


def _frame(table, columns: dict, texts) -> pd.DataFrame:
    """A loader's frame: `columns` maps a name to (values, dtype) ('Int64': a nullable integer array; None: the
    values are a Series already), then the optional text columns `texts` as the file holds them."""
    data = {name: values if dtype is None else pd.array(values, dtype=dtype) if dtype == "Int64"
            else pd.Series(values, dtype=dtype) for name, (values, dtype) in columns.items()}
    data.update({name: pd.Series(table.text(name, required=False), dtype=object) for name in texts})
    return pd.DataFrame(data)


def _partial_date(text: str) -> str:
    t = text.strip()
    parse_partial_date(t)
    return t


def load_round(path: str | os.PathLike) -> pd.DataFrame:
    """One round's counts: columns ``candidate`` (str) and ``votes`` (int64), in file order.

    DataError for a missing file or column, an empty name, a vote count that is not a whole number >= 0, a
    candidate named twice (letter case ignored), or votes that are all zero."""
    table = read_table(path, ["candidate", "votes"], what="round file (candidate,votes)")
    names = name_column(table, "candidate")
    table.unique("candidate", names, what="candidate")
    votes = table.integers("votes", minimum=0)
    if sum(votes) == 0:
        raise fail(table.path, None, "votes", "every candidate has 0 votes; there is nothing to count")
    return pd.DataFrame({"candidate": pd.Series(names, dtype=object),
                         "votes": pd.Series(votes, dtype="int64")})


def round_votes(frame: pd.DataFrame) -> dict[str, int]:
    """{candidate: votes} from :func:`load_round` (or any frame with those columns), in order."""
    return {str(c): int(v) for c, v in zip(frame["candidate"], frame["votes"], strict=True)}


def load_candidates(path: str | os.PathLike) -> pd.DataFrame:
    """A candidates file for the leadership report.

    Returns columns ``candidate``, ``share`` (percent: as written, or computed from ``votes``), ``votes``
    (Int64, missing for a poll), ``sample_size`` (Int64, missing when not given), ``date``, ``source``,
    ``notes`` (str, '' when not given). DataError for a missing file or column, a file with both or neither
    of ``share`` and ``votes``, a share outside 0-100, shares adding up to more than 101 percent (rounded
    published figures may reach 100.x), values all zero, a repeated candidate, sample sizes that differ
    between rows or are not whole numbers >= 1, or a date not written YYYY-MM-DD / YYYY-MM / YYYY."""
    table = read_table(path, ["candidate"], what="candidates file (candidate,share or candidate,votes)")
    names = name_column(table, "candidate")
    table.unique("candidate", names, what="candidate")
    has_share, has_votes = table.has("share"), table.has("votes")
    if has_share == has_votes:
        found = "both" if has_share else "neither"
        raise fail(table.path, None, None, "needs exactly one of the columns 'share' (first-round poll "
                   f"share, percent) and 'votes' (a real count); found {found}.")
    if has_share:
        shares = table.numbers("share", minimum=0, maximum=100, unit="percentage")
        total = sum(shares)
        if total > 101:
            raise fail(table.path, None, "share",
                       f"the shares add up to {total:g} percent; the shares of one poll add up to 100 at "
                       "most")
        votes = [None] * len(names)
    else:
        votes = table.integers("votes", minimum=0)
        total = sum(votes)
        shares = [100 * v / total if total else 0.0 for v in votes]
    if total == 0:
        col = "share" if has_share else "votes"
        raise fail(table.path, None, col, "every candidate has 0; there is nothing to simulate")
    sizes = table.integers("sample_size", minimum=1, required=False)
    given = [(s, r) for s, r in zip(sizes, table.rows, strict=True) if s is not None]
    if given and any(s != given[0][0] for s, _ in given):
        other = next((s, r) for s, r in given if s != given[0][0])
        raise fail(table.path, other[1], "sample_size",
                   f"{other[0]} differs from {given[0][0]} in row {given[0][1]}; a candidates file holds one "
                   "poll, with one sample size")
    dates = table.convert("date", _partial_date, "a date written YYYY-MM-DD, YYYY-MM or YYYY", required=False,
                          default="")
    return _frame(table, {"candidate": (names, object), "share": (shares, "float64"), "votes": (votes, "Int64"),
                          "sample_size": (sizes, "Int64"), "date": (dates, object)}, ["source", "notes"])


def candidate_shares(frame: pd.DataFrame) -> dict[str, float]:
    """{candidate: share (percent)} from :func:`load_candidates`."""
    return {str(c): float(s) for c, s in zip(frame["candidate"], frame["share"], strict=True)}


def load_poll(path: str | os.PathLike) -> tuple[str, str, dict[str, float]]:
    """A candidates file read as one poll: (label, date, {candidate: share}). The label is the first part of
    the first row's ``source`` (up to ';') or the file name."""
    frame = load_candidates(path)
    source = str(frame["source"].iloc[0]).split(";")[0].strip()
    return source or os.path.basename(str(path)), str(frame["date"].iloc[0]), candidate_shares(frame)


def as_of(frame: pd.DataFrame) -> str:
    """The latest ``date`` in a candidates frame (YYYY, YYYY-MM or YYYY-MM-DD), or '' when none is given."""
    dates = [d for d in frame["date"] if d]
    return max(dates) if dates else ""


def poll_size(frame: pd.DataFrame) -> float | None:
    """The candidates file's sample size: its ``sample_size`` when given; for a real count (``votes``), the
    number of votes (sampling error then is negligible); else None."""
    sizes = frame["sample_size"].dropna()
    if len(sizes):
        return float(sizes.iloc[0])
    if frame["votes"].notna().all():
        return float(frame["votes"].sum())
    return None


_CONTEST_COLUMNS = ["contest", "date", "round", "candidate", "votes"]


def load_contests(path: str | os.PathLike) -> pd.DataFrame:
    """Past leadership contests, one row per candidate per round.

    Required columns: ``contest`` (an id such as ``labor-2007``), ``date`` (YYYY-MM-DD, the day of that
    round), ``round`` (1, 2), ``candidate``, ``votes``. Optional: ``kind`` (``candidate`` or
    ``ballot_option`` such as "none of the above"; default candidate), ``percent`` (published percentage),
    ``votes_alt``, ``percent_alt`` (figures from another source), ``result`` (``winner``, ``runoff`` or
    ``out``), ``endorsed`` (whom an eliminated candidate backed for the runoff; ``(neutral)`` for nobody),
    ``endorsement_source``, ``source_url``, ``notes``.

    Returns those columns with ``date`` as Timestamp, ``round`` and ``votes`` as int64, ``votes_alt`` as
    Int64, percentages as float (NaN when not given), text columns as str ('' when not given). DataError for
    a bad value, a candidate twice in one round, or one round with two dates."""
    table = read_table(path, _CONTEST_COLUMNS, what="contests file")
    contest = name_column(table, "contest")
    dates = table.dates("date")
    rounds = table.integers("round", minimum=1)
    names = name_column(table, "candidate")
    votes = table.integers("votes", minimum=0)
    kinds = table.convert("kind", lambda s: _choice(s, KINDS), "one of " + ", ".join(KINDS),
                          required=False, default="candidate")
    results = table.convert("result", lambda s: _choice(s, RESULTS), "one of " + ", ".join(RESULTS),
                            required=False, default="")
    percent = table.numbers("percent", minimum=0, maximum=100, required=False, default=math.nan)
    votes_alt = table.integers("votes_alt", minimum=0, required=False)
    percent_alt = table.numbers("percent_alt", minimum=0, maximum=100, required=False, default=math.nan)
    seen: dict = {}
    day: dict = {}
    for c, d, r, n, row in zip(contest, dates, rounds, names, table.rows, strict=True):
        key = (c.casefold(), r, n.casefold())
        if key in seen:
            raise fail(table.path, row, "candidate",
                       f"'{n}' already appears in row {seen[key]} for {c} round {r}; each candidate appears "
                       "once per round")
        seen[key] = row
        first = day.setdefault((c.casefold(), r), (d, row))
        if first[0] != d:
            raise fail(table.path, row, "date",
                       f"{d} differs from {first[0]} in row {first[1]} for {c} round {r}; one round has one "
                       "date")
    return _frame(table, {"contest": (contest, object), "date": (pd.to_datetime(pd.Series(dates)), None),
                          "round": (rounds, "int64"), "candidate": (names, object), "kind": (kinds, object),
                          "votes": (votes, "int64"), "percent": (percent, "float64"),
                          "votes_alt": (votes_alt, "Int64"), "percent_alt": (percent_alt, "float64"),
                          "result": (results, object)},
                  ["endorsed", "endorsement_source", "source_url", "notes"])


def _choice(text: str, allowed) -> str:
    t = text.strip().lower()
    if t not in allowed:
        raise ValueError(text)
    return t


def contest_round(contests: pd.DataFrame, contest: str, round: int = 1, *, alt: bool = False,
                  kinds=("candidate",)) -> dict[str, int]:
    """{candidate: votes} of one round of :func:`load_contests` (only rows whose ``kind`` is in `kinds`), in
    file order. With `alt`, ``votes_alt`` where given. KeyError when the round is not in the file."""
    rows = contests[(contests["contest"] == contest) & (contests["round"] == round)
                    & contests["kind"].isin(kinds)]
    if rows.empty:
        raise KeyError(f"{contest} round {round} is not in the contests file")
    out = {}
    for rec in rows.itertuples(index=False):
        v = rec.votes_alt if alt and not pd.isna(rec.votes_alt) else rec.votes
        out[str(rec.candidate)] = int(v)
    return out


def load_rounds(path: str | os.PathLike) -> pd.DataFrame:
    """Per-round facts: ``contest``, ``date``, ``round`` (required); ``ballots_cast``, ``registered``,
    ``invalid`` (Int64, missing when not published), ``turnout_percent`` (float), ``source_url``,
    ``notes``."""
    table = read_table(path, ["contest", "date", "round"], what="rounds file")
    contest = name_column(table, "contest")
    dates = table.dates("date")
    rounds = table.integers("round", minimum=1)
    table.unique("contest", [f"{c} round {r}" for c, r in zip(contest, rounds, strict=True)],
                 what="round")
    return pd.DataFrame({
        "contest": pd.Series(contest, dtype=object),
        "date": pd.to_datetime(pd.Series(dates)),
        "round": pd.Series(rounds, dtype="int64"),
        "ballots_cast": pd.array(table.integers("ballots_cast", minimum=0, required=False), dtype="Int64"),
        "registered": pd.array(table.integers("registered", minimum=0, required=False), dtype="Int64"),
        "invalid": pd.array(table.integers("invalid", minimum=0, required=False), dtype="Int64"),
        "turnout_percent": pd.Series(table.numbers("turnout_percent", minimum=0, maximum=100, required=False,
                                                   default=math.nan), dtype="float64"),
        "source_url": pd.Series(table.text("source_url", required=False), dtype=object),
        "notes": pd.Series(table.text("notes", required=False), dtype=object),
    })


def load_transfers(path: str | os.PathLike, candidates=None) -> pd.DataFrame:
    """Scenarios for the leadership report: withdrawals and round-two transfers.

    Columns ``scenario`` (a short key), ``title``, ``step`` (``withdraw`` or ``transfer``), ``source``,
    ``target``, ``percent`` (share of `source`'s voters going to `target`, 0-100), optional ``notes``. A row
    with empty source, target and percent declares a scenario that changes nothing. Scenarios keep the order
    in which they first appear. If `candidates` (names) is given, every source and target must be one of them.

    DataError for a bad step or percent, a scenario with two titles, a source whose percentages for one step
    add up to more than 100, a candidate withdrawing in favour of themself, or an unknown candidate."""
    table = read_table(path, ["scenario", "title", "step", "source", "target", "percent"],
                       what="transfers file")
    scen = name_column(table, "scenario")
    titles = table.text("title", required=False)
    sources = name_column(table, "source", required=False)
    targets = name_column(table, "target", required=False)
    steps = table.convert("step", lambda s: _choice(s, STEPS), "one of " + ", ".join(STEPS), required=False,
                          default="")
    percents = table.numbers("percent", minimum=0, maximum=100, required=False, unit="percentage")
    known = None if candidates is None else NameIndex((c, str(c)) for c in candidates)
    title_of: dict = {}
    totals: dict = {}
    for i, row in enumerate(table.rows):
        s, t, p, st = sources[i], targets[i], percents[i], steps[i]
        first = title_of.setdefault(scen[i], (titles[i], row))
        if titles[i] and first[0] and titles[i] != first[0]:
            raise fail(table.path, row, "title",
                       f"'{titles[i]}' differs from the title in row {first[1]} for scenario '{scen[i]}'; a "
                       "scenario has one title")
        if not first[0] and titles[i]:
            title_of[scen[i]] = (titles[i], row)
        if not s and not t and p is None:
            continue
        for col, value in (("step", st), ("source", s), ("target", t)):
            if not value:
                raise fail(table.path, row, col, "is empty; a move needs step, source, target and percent")
        if p is None:
            raise fail(table.path, row, "percent", "is empty; a move needs step, source, target and percent")
        if known is not None:
            for col, value in (("source", s), ("target", t)):
                if known.find(value) is None:
                    raise fail(table.path, row, col, f"'{value}' is not a candidate of the candidates file "
                                                      f"({', '.join(known.keys.values())})")
        if st == "withdraw" and s.casefold() == t.casefold():
            raise fail(table.path, row, "target", f"'{s}' cannot withdraw in favour of themself")
        key = (scen[i], st, s.casefold())
        totals[key] = totals.get(key, 0.0) + p
        if totals[key] > 100 + 1e-9:
            raise fail(table.path, row, "percent",
                       f"the {st} percentages of '{s}' in scenario '{scen[i]}' add up to {totals[key]:g}; at "
                       "most 100 (the rest stay home)")
    canon = (lambda x: known.find(x) or x) if known is not None else (lambda x: x)
    return pd.DataFrame({
        "scenario": pd.Series(scen, dtype=object),
        "title": pd.Series([title_of[s][0] or s for s in scen], dtype=object),
        "step": pd.Series(steps, dtype=object),
        "source": pd.Series([canon(s) for s in sources], dtype=object),
        "target": pd.Series([canon(t) for t in targets], dtype=object),
        "percent": pd.Series([math.nan if p is None else p for p in percents], dtype="float64"),
        "notes": pd.Series(table.text("notes", required=False), dtype=object),
    })


_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def load_colours(path: str | os.PathLike) -> dict[str, str]:
    """{candidate: colour (#RRGGBB)} from a colours file (``candidate,colour``), in file order.

    DataError for a missing file or column, an empty name, a candidate named twice (letter case ignored) or a
    colour not written #RRGGBB."""
    table = read_table(path, ["candidate", "colour"], what="colours file (candidate,colour)")
    names = name_column(table, "candidate")
    table.unique("candidate", names, what="candidate")
    colours = table.text("colour")
    for colour, row in zip(colours, table.rows, strict=True):
        if not _HEX.fullmatch(colour.strip()):
            raise fail(table.path, row, "colour", f"'{colour}' is not a colour written #RRGGBB")
    return {str(n): c.strip() for n, c in zip(names, colours, strict=True)}
