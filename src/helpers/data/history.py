"""The past elections the error model is fitted on and scored against: ``data/model/elections.csv``.

One row per election: ``election`` (date, YYYY-MM-DD, a row of the elections file ``data/knesset/
elections.csv`` for its threshold and seats), ``polls`` (a polls file), ``results`` (the official votes),
``agreements`` (surplus-vote pairs; may be empty), ``merges`` (how a merged poll column maps to this
election's official lists where the party registry's members differ, ``key=list+list``, several separated by
``;``; may be empty), ``use`` (``fit``: the model is fitted on it; ``check``: only scored, never fitted on).
Paths are relative to the project root. :func:`load_history` gives :class:`PastElection` records (plain data;
:class:`helpers.models.calibration.Election` adds the computations).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.core import paths
from helpers.data import knesset
from helpers.data import polls as poll_data
from helpers.data._table import fail, read_table

USES = ("fit", "check")


@dataclass
class PastElection:
    """One past election, loaded: ``date`` (YYYY-MM-DD), ``threshold`` (percent), ``seats``, ``polls`` (the polls
    file), ``votes`` (official votes per list), ``agreements`` (pairs), ``merges`` (merged poll column -> member
    keys: the registry's), ``official_merges`` (a merged column -> the official lists it stood for, where they
    differ from the members), ``fit`` (the model is fitted on it; otherwise it is only checked)."""

    date: str
    threshold: float
    seats: int
    polls: pd.DataFrame
    votes: pd.DataFrame
    agreements: list = field(default_factory=list)
    merges: dict = field(default_factory=dict)
    official_merges: dict = field(default_factory=dict)
    fit: bool = True

    @property
    def year(self) -> str:
        return self.date[:4]


def _merges(text: str, t, row: int) -> dict[str, list[str]]:
    out = {}
    for item in filter(None, (x.strip() for x in text.split(";"))):
        key, sep, members = item.partition("=")
        parts = [m.strip() for m in members.split("+") if m.strip()]
        if not sep or not key.strip() or not parts:
            raise fail(t.path, row, "merges", f"'{item}' is not written key=list+list")
        out[key.strip()] = parts
    return out


def load_history(path: str | os.PathLike = paths.HISTORY, *, root: str | os.PathLike = ".",
                 elections: str | os.PathLike = knesset.ELECTIONS_FILE):
    """The elections of `path` with their files loaded (paths relative to `root`)."""
    root = Path(root)
    t = read_table(root / path, ["election", "polls", "results", "agreements", "merges", "use"],
                   what="history file")
    rules = knesset.load_elections(root / elections)
    by_date = {d.date().isoformat(): r for d, r in zip(rules["date"], rules.itertuples(index=False), strict=True)}
    registry = poll_data.default_parties()
    out = []
    for rec, row, day in zip(t.records, t.rows, t.dates("election"), strict=True):
        key = day.isoformat()
        if key not in by_date:
            raise fail(t.path, row, "election", f"{key} is not an election in {elections}")
        use = rec["use"].strip().casefold()
        if use not in USES:
            raise fail(t.path, row, "use", f"'{rec['use']}' is not one of {', '.join(USES)}")
        polls = poll_data.load_polls(root / rec["polls"], parties=registry)
        votes = knesset.load_votes(root / rec["results"])
        pairs = knesset.load_pairs(root / rec["agreements"]) if rec["agreements"].strip() else []
        merges = poll_data.merges_of(registry, polls["party"].unique())
        e = by_date[key]
        out.append(PastElection(date=key, threshold=float(e.threshold_percent), seats=int(e.seats), polls=polls,
                            votes=votes, agreements=pairs, merges=merges,
                            official_merges=_merges(rec["merges"], t, row), fit=use == "fit"))
    return out
