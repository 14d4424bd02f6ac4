"""The past elections the error model is fitted on and scored against: ``data/model/elections.csv``.

One row per election: ``election`` (date, YYYY-MM-DD, a row of the elections file ``data/knesset/
elections.csv`` for its threshold and seats), ``polls`` (a polls file), ``results`` (the official votes),
``agreements`` (surplus-vote pairs; may be empty), ``merges`` (how a merged poll column maps to this
election's official lists where the party registry's members differ, ``key=list+list``, several separated by
``;``; may be empty), ``use`` (``fit``: the model is fitted on it; ``check``: only scored, never fitted on).
Paths are relative to the project root. :func:`load_history` gives :class:`helpers.models.calibration.Election`
objects.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers.core import paths
from helpers.data import knesset
from helpers.data import polls as poll_data
from helpers.data._table import fail, read_table

HISTORY_FILE = paths.HISTORY
USES = ("fit", "check")


def _merges(text: str, t, row: int) -> dict[str, list[str]]:
    out = {}
    for item in filter(None, (x.strip() for x in text.split(";"))):
        key, sep, members = item.partition("=")
        parts = [m.strip() for m in members.split("+") if m.strip()]
        if not sep or not key.strip() or not parts:
            raise fail(t.path, row, "merges", f"'{item}' is not written key=list+list")
        out[key.strip()] = parts
    return out


def load_history(path: str | os.PathLike = HISTORY_FILE, *, root: str | os.PathLike = ".",
                 elections: str | os.PathLike = knesset.ELECTIONS_FILE):
    """The elections of `path` with their files loaded (paths relative to `root`)."""
    from helpers.models.calibration import Election

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
        out.append(Election(date=key, threshold=float(e.threshold_percent), seats=int(e.seats), polls=polls,
                            votes=votes, agreements=pairs, merges=merges,
                            official_merges=_merges(rec["merges"], t, row), fit=use == "fit"))
    return out
