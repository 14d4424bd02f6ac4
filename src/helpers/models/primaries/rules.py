"""The first round of a two-round primary, exactly: who wins outright, who meets in the runoff, and the
arithmetic of the threshold (the contest rule and its corner cases: :mod:`helpers.models.primaries`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

import numpy as np
import pandas as pd


def _exact(value: float | int | Fraction) -> Fraction:
    """A threshold as the decimal the user wrote: 40.1 is 401/10, not the nearest binary float."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(repr(float(value)))


def check_threshold(threshold: float) -> Fraction:
    """The threshold (percent) as an exact fraction; ValueError unless 0 < threshold <= 100."""
    try:
        as_float = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"the threshold must be a number of percent; got {threshold!r}") from None
    if not math.isfinite(as_float) or not 0 < as_float <= 100:
        raise ValueError(f"the threshold must be a percentage with 0 < t <= 100; got {threshold:g}")
    return _exact(threshold)


def clears(votes: int, denominator: int, threshold: float | Fraction, inclusive: bool = False) -> bool:
    """True when `votes` of `denominator` is over `threshold` percent (or exactly at it, if `inclusive`)."""
    t = _exact(threshold)
    lhs, rhs = Fraction(votes) * 100, t * denominator
    return lhs >= rhs if inclusive else lhs > rhs


def first_round(votes: Mapping[str, int], threshold: float = 40, inclusive: bool = False,
                ballots: int | None = None) -> dict:
    """The outcome of a first round from its counts.

    `votes` maps candidate -> votes (whole numbers >= 0, not all zero); `threshold` is the share in percent
    that wins outright; `ballots` is the denominator when the rule counts every ballot cast (it must be at
    least the sum of `votes`), else the sum of `votes` (valid votes for candidates) is used.

    Returns ``{"outcome": "winner"|"runoff", "winner": name or None, "runoff": [names] ([] when there is a
    winner, two names normally, more when `tie` is not empty), "tie": [names tied for the last runoff place],
    "denominator": votes, "threshold": percent, "inclusive": bool, "candidates": [{"candidate", "votes",
    "share" (percent of the denominator, unrounded), "result": "winner"|"runoff"|"out"}, ...]}`` with
    candidates in input order. ValueError on bad input.
    """
    t = check_threshold(threshold)
    names = list(votes)
    if not names:
        raise ValueError("there are no candidates")
    counts = []
    for name in names:
        v = votes[name]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"votes for {name!r} must be a whole number >= 0; got {v!r}")
        counts.append(int(v))
    total = sum(counts)
    if total == 0:
        raise ValueError("every candidate has 0 votes; there is nothing to count")
    if ballots is None:
        denominator = total
    else:
        if isinstance(ballots, bool) or not isinstance(ballots, (int, np.integer)) or ballots < total:
            raise ValueError(f"ballots cast ({ballots!r}) must be a whole number at least the {total} votes "
                             "for candidates")
        denominator = int(ballots)

    order = sorted(range(len(names)), key=lambda i: -counts[i])  # stable: ties keep input order
    top = counts[order[0]]
    leaders = [i for i in order if counts[i] == top]
    winner: int | None = None
    runoff: list[int] = []
    tie: list[int] = []
    if len(names) == 1:
        winner = 0
    elif len(leaders) == 1 and clears(top, denominator, t, inclusive):
        winner = leaders[0]
    elif len(leaders) >= 2:
        runoff = leaders
        tie = leaders if len(leaders) > 2 else []
    else:
        second = counts[order[1]]
        seconds = [i for i in order[1:] if counts[i] == second]
        runoff = [leaders[0], *seconds]
        tie = seconds if len(seconds) > 1 else []

    def result(i: int) -> str:
        if i == winner:
            return "winner"
        return "runoff" if i in runoff else "out"

    return {
        "outcome": "winner" if winner is not None else "runoff",
        "winner": names[winner] if winner is not None else None,
        "runoff": [names[i] for i in runoff],
        "tie": [names[i] for i in tie],
        "denominator": denominator,
        "threshold": float(t),
        "inclusive": bool(inclusive),
        "candidates": [{"candidate": n, "votes": c, "share": float(Fraction(100 * c, denominator)),
                        "result": result(i)} for i, (n, c) in enumerate(zip(names, counts, strict=True))],
    }


def boundary(votes: Mapping[str, int], threshold: float = 40.0) -> pd.DataFrame:
    """:func:`first_round` on the same count with the threshold exclusive and inclusive: columns ``rule``,
    ``leader_share`` (percent), ``outcome`` ("winner: X" or "runoff: X vs Y")."""
    rows = []
    for inclusive in (False, True):
        res = first_round(votes, threshold=threshold, inclusive=inclusive)
        top = max(res["candidates"], key=lambda c: c["votes"])
        rows.append({"rule": f"{'at least' if inclusive else 'over'} {threshold:g}%",
                     "leader_share": top["share"],
                     "outcome": (f"winner: {res['winner']}" if res["outcome"] == "winner"
                                 else f"runoff: {' vs '.join(res['runoff'])}")})
    return pd.DataFrame(rows)


def runoff_floor(threshold: float = 40.0) -> float:
    """The smallest combined share (percent) of the candidates outside the top two for which a runoff is
    possible at all: 100 - 2 x threshold. Below it the leader always has over `threshold` percent (the top two
    share more than 2 x threshold, so the larger has more than threshold). With three candidates and a 40%
    threshold: a runoff needs the third to poll at least 20%."""
    return max(0.0, 100.0 - 2.0 * float(threshold))
