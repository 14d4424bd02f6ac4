"""A leadership first round read from simulated contests: runoff pairs counted once whichever candidate is
ahead, who tops round one, who gets a runoff place.

Companions of :func:`helpers.models.simulate.runoff_pairs` (which keeps the order of the pair: leader first)
over the same :class:`helpers.models.simulate.Simulation` (``seats=0``: shares and the line only). Pure
functions of the draws; every probability divides by the number of draws used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.core.errors import DataError
from helpers.models.simulate import Simulation

#: The ``first`` of the row that gives P(no runoff) in :func:`runoff_pair_table`.
NO_RUNOFF = "nobody"


def _check(sim: Simulation) -> None:
    if sim.draws == 0:
        raise DataError("a simulation needs at least one draw.")


def _runoff_draws(sim: Simulation) -> tuple[np.ndarray, np.ndarray]:
    """The draws with a runoff (nobody reached the line) and, for each, the two leaders' columns."""
    runoff = ~sim.passed.any(axis=1)
    top = np.argsort(-sim.shares[runoff], axis=1, kind="stable")[:, :2]
    return runoff, top


def runoff_pair_table(sim: Simulation) -> pd.DataFrame:
    """The runoff pairs unordered: {A, B} is one pair whoever leads round one.

    Columns: first, second (keys; the pair in the order of ``sim.parties``, so A-B and B-A are one row),
    probability (share of all draws in which nobody reaches the line and A and B are the top two). A last row
    with first ``'nobody'`` (:data:`NO_RUNOFF`) gives P(no runoff): someone reached the line. The
    probabilities add up to 1. Sorted by probability, largest first (ties in the order of the parties)."""
    _check(sim)
    runoff, top = _runoff_draws(sim)
    rows = []
    if runoff.any():
        pairs, counts = np.unique(np.sort(top, axis=1), axis=0, return_counts=True)
        for (a, b), c in zip(pairs, counts, strict=True):
            rows.append({"first": sim.parties[a], "second": sim.parties[b], "probability": int(c) / sim.draws})
    out = pd.DataFrame(rows, columns=["first", "second", "probability"])
    out = out.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    if (~runoff).any():
        out.loc[len(out)] = {"first": NO_RUNOFF, "second": "", "probability": float((~runoff).sum()) / sim.draws}
    return out


def p_runoff(sim: Simulation) -> float:
    """P(a runoff): the share of draws in which no candidate reaches the line."""
    _check(sim)
    return float((~sim.passed.any(axis=1)).sum()) / sim.draws


def places(sim: Simulation) -> pd.DataFrame:
    """Per candidate (in the order of ``sim.parties``): ``p_first`` (the largest share of round one; a tie goes
    to the candidate listed first), ``p_runoff_place`` (one of the top two in a draw with a runoff) and
    ``p_pass`` (reaches the line). Each column of probabilities: count / draws; ``p_first`` adds up to 1."""
    _check(sim)
    first = np.argmax(sim.shares, axis=1)
    runoff, top = _runoff_draws(sim)
    k = len(sim.parties)
    in_runoff = np.bincount(top.ravel(), minlength=k) if top.size else np.zeros(k, dtype=int)
    return pd.DataFrame({
        "party": list(sim.parties),
        "p_first": np.bincount(first, minlength=k) / sim.draws,
        "p_runoff_place": in_runoff / sim.draws,
        "p_pass": sim.passed.sum(axis=0) / sim.draws,
    })
