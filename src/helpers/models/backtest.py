"""Backtest: published polls and the model against an official result.

Pure functions over the tables of :mod:`helpers.models.polls`, :mod:`helpers.models.simulate` and the
official results (:func:`helpers.data.knesset.load_votes`); no I/O, no plotting. Seats are whole seats of the
house; errors are projection minus official (+ = the projection overstated the party).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.models.polls import HOUSE_SEATS


def seat_errors(official: pd.Series, projections: dict[str, pd.Series]) -> pd.DataFrame:
    """Projected against official seats, per party: party, official, then for each projection ``name``
    (party -> seats) the columns ``name`` and ``name_error`` (projection minus official; + = overstated).

    Parties are those with official seats or a projection above 0; a party missing on one side counts 0
    there. Ordered by official seats, then by the first projection."""
    parties = list(dict.fromkeys([*official.index, *(p for s in projections.values() for p in s.index)]))
    out = pd.DataFrame({"party": parties})
    out["official"] = [float(official.get(p, 0)) for p in parties]
    for name, proj in projections.items():
        out[name] = [float(proj.get(p, 0.0)) for p in parties]
        out[f"{name}_error"] = (out[name] - out["official"]).round(9) + 0.0
    keep = (out[["official", *projections]] > 0).any(axis=1)
    out = out[keep]
    first = next(iter(projections), "official")
    return out.sort_values(["official", first], ascending=False, kind="stable").reset_index(drop=True)


def mean_absolute_error(errors: pd.DataFrame, name: str) -> float:
    """Mean absolute seat error of projection `name` over the rows of :func:`seat_errors`."""
    return float(errors[f"{name}_error"].abs().mean())


def bloc_errors(errors: pd.DataFrame, blocs: dict[str, str], names: list[str]) -> pd.DataFrame:
    """Seat errors summed by bloc (`blocs`: party -> bloc; a party without one is 'Other'): bloc, official,
    then each projection in `names` and its error."""
    frame = errors.assign(bloc=[blocs.get(p) or "Other" for p in errors["party"]])
    cols = ["official", *names, *(f"{n}_error" for n in names)]
    sums = frame.groupby("bloc", sort=False)[cols].sum().round(9) + 0.0  # no -0.0 from float sums
    out = sums.reset_index()
    return out.sort_values("official", ascending=False, kind="stable").reset_index(drop=True)


def threshold_calls(p_pass: pd.Series, passed: pd.Series, *,
                    final_week: pd.Series | None = None, line: float | None = None) -> pd.DataFrame:
    """Was each party's threshold call right? For every party in `p_pass` (the model's probability of
    clearing): party, p_pass, model_call ('clears' when p_pass >= 0.5, else 'misses'), final_week_call
    (when `final_week` seats are given: the call of :func:`average_call`, 'clears' when the average is at
    least `line` seats, the seats of a list exactly at the threshold), result ('cleared' / 'missed', from
    `passed`: party -> bool; a party not on the ballot is 'missed'), model_right, final_week_right."""
    if final_week is not None and line is None:
        raise ValueError("threshold_calls: a final-week call needs the line (seats of a list at the threshold)")
    fw_calls = (average_call(final_week, p_pass.index, line=line) if final_week is not None else None)
    rows = []
    for party, p in p_pass.items():
        won = bool(passed.get(party, False))
        row = {"party": party, "p_pass": float(p), "model_call": "clears" if p >= 0.5 else "misses",
               "result": "cleared" if won else "missed"}
        row["model_right"] = (p >= 0.5) == won
        if fw_calls is not None:
            fw = bool(fw_calls[party])
            row["final_week_call"] = "clears" if fw else "misses"
            row["final_week_right"] = fw == won
        rows.append(row)
    return pd.DataFrame(rows)


def official_outcome(votes: pd.DataFrame, *, threshold: float, seats: int = HOUSE_SEATS,
                     agreements=()) -> pd.DataFrame:
    """An official result run through the seat engine (:func:`helpers.models.seats.allocate`, exact): list, votes,
    share (percent of valid votes), passed (cleared the threshold), engine_seats, official_seats (the file's
    ``seats`` column, when it has one), tie. `votes` is a votes file (:func:`helpers.data.knesset.load_votes`)
    holding every list that ran."""
    from helpers.models.seats import allocate

    names = votes["list"].astype(str).tolist()
    counts = [int(v) for v in votes["votes"]]
    lists = set(names)
    pairs = [(a, b) for a, b in agreements if a in lists and b in lists]
    result = allocate(list(zip(names, counts, strict=True)), seats=seats, threshold=threshold,
                      agreements=pairs)
    total = sum(counts)
    out = pd.DataFrame({"list": names, "votes": counts, "share": [100 * c / total for c in counts],
                        "passed": list(result.passed), "engine_seats": list(result.seats),
                        "tie": list(result.tie)})
    if "seats" in votes.columns:
        out["official_seats"] = pd.to_numeric(votes["seats"]).astype(int).to_numpy()
    return out


def engine_audit(elections: pd.DataFrame, votes: dict, agreements: dict) -> pd.DataFrame:
    """Does the seat engine reproduce the official seats of every election? `elections` is the elections
    file (:func:`helpers.data.knesset.load_elections`); `votes` and `agreements` map an election date
    (YYYY-MM-DD) to its votes file and its agreement pairs. One row per election: election, knesset,
    threshold (percent), lists, passed, agreements, seats, matching (lists whose engine seats equal the
    official ones), differences (text), tie, reproduced (every list matches)."""
    rows = []
    for e in elections.itertuples(index=False):
        day = pd.Timestamp(e.date).date().isoformat()
        if day not in votes:
            continue
        limit = getattr(e, "threshold", e.threshold_percent)  # the exact Fraction when the loader gives one
        got = official_outcome(votes[day], threshold=limit, seats=int(e.seats),
                               agreements=agreements.get(day, ()))
        same = got["engine_seats"] == got["official_seats"]
        diff = "; ".join(f"{r.list}: engine {r.engine_seats}, official {r.official_seats}"
                         for r in got[~same].itertuples())
        rows.append({"election": day, "knesset": int(e.knesset), "threshold": float(e.threshold_percent),
                     "lists": len(got), "passed": int(got["passed"].sum()),
                     "agreements": len(agreements.get(day, ())), "seats": int(got["engine_seats"].sum()),
                     "matching": int(same.sum()), "differences": diff or "none",
                     "tie": bool(got["tie"].any()), "reproduced": bool(same.all())})
    return pd.DataFrame(rows)


def backtest_table(official: pd.DataFrame, final_week_seats: pd.DataFrame, summary: pd.DataFrame,
                   shares: pd.Series) -> pd.DataFrame:
    """Projections against the official result, per party: party, official (seats), final_week (plain
    average of the final week's published seats), final_week_error, model (mean seats of the simulation),
    model_error, model_median, model_median_error, model_p05, model_p95, in_range (official seats inside the
    model's 90% range), official_share, poll_share (poll of polls, percent), share_error (points; + = the
    polls overstated).

    `official` is :func:`official_outcome`; a party missing from the results counts 0 seats and 0%."""
    seats_of = pd.Series(official["official_seats"].to_numpy() if "official_seats" in official
                         else official["engine_seats"].to_numpy(), index=official["list"])
    s = summary.set_index("party")
    errors = seat_errors(seats_of, {"final_week": final_week_seats.set_index("party")["seats"],
                                    "model": s["seats_mean"], "model_median": s["seats_median"]})
    share_of = pd.Series(official["share"].to_numpy(), index=official["list"])
    errors["model_p05"] = [float(s["seats_p05"].get(p, 0.0)) for p in errors["party"]]
    errors["model_p95"] = [float(s["seats_p95"].get(p, 0.0)) for p in errors["party"]]
    errors["in_range"] = errors["official"].between(errors["model_p05"], errors["model_p95"])
    errors["official_share"] = [float(share_of.get(p, 0.0)) for p in errors["party"]]
    errors["poll_share"] = [float(shares.get(p, np.nan)) for p in errors["party"]]
    errors["share_error"] = errors["poll_share"] - errors["official_share"]
    return errors


# ---------------------------------------------------------------------------------------- scoring probabilities
# Binary events are threshold calls: a probability (0..1) that a list clears the line, and the outcome (True when
# it did). Both scores are penalties: 0 for a perfect forecast, lower is better, averaged over the events.

LOG_SCORE_CLIP = 1e-6
"""Probabilities are clipped to [LOG_SCORE_CLIP, 1 - LOG_SCORE_CLIP] for the log score, so a forecast of 0 or 1
that turns out wrong costs -ln(1e-6) = 13.8 instead of infinity (the 0/1 baseline calls need this)."""


def _events(probabilities, outcomes) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(outcomes, dtype=bool).astype(float)
    if p.shape != y.shape or p.ndim != 1 or p.size == 0:
        raise ValueError("probabilities and outcomes must be two non-empty lists of the same length")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("probabilities must lie in [0, 1]")
    return p, y


def brier(probabilities, outcomes) -> float:
    """Mean Brier score of binary forecasts: mean of (p - y)^2, where p is the forecast probability (0..1) and
    y is 1 when the event happened, else 0. In [0, 1]; 0 is perfect, lower is better; 0.25 is what always
    saying 50% scores. A proper score."""
    p, y = _events(probabilities, outcomes)
    return float(np.mean((p - y) ** 2))


def log_score(probabilities, outcomes, *, clip: float = LOG_SCORE_CLIP) -> float:
    """Mean log score of binary forecasts, as a penalty in nats: mean of -ln(probability given to what
    happened), i.e. -ln(p) when the event happened and -ln(1 - p) when it did not. Probabilities are first
    clipped to [clip, 1 - clip] (:data:`LOG_SCORE_CLIP`), so the score lies in [-ln(1 - clip), -ln(clip)]
    (about [0, 13.8]); 0 is perfect, lower is better; ln 2 = 0.693 is what always saying 50% scores. A
    proper score."""
    p, y = _events(probabilities, outcomes)
    q = np.clip(p, clip, 1 - clip)
    return float(np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q))))


def interval_coverage(lower, upper, actual) -> float:
    """Share (0..1) of the actual values inside their ranges, ends included: mean of lower <= actual <= upper.
    For 90% seat ranges (seats) this should be near 0.9."""
    lo, hi, x = (np.asarray(v, dtype=float) for v in (lower, upper, actual))
    if not (lo.shape == hi.shape == x.shape) or x.size == 0:
        raise ValueError("lower, upper and actual must be non-empty lists of the same length")
    return float(np.mean((lo <= x) & (x <= hi)))


def mean_width(lower, upper) -> float:
    """Mean width of the ranges, upper - lower, in their unit (seats for seat ranges: 5 to 9 seats is 4)."""
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if lo.shape != hi.shape or lo.size == 0:
        raise ValueError("lower and upper must be non-empty lists of the same length")
    return float(np.mean(hi - lo))


def reliability_table(probabilities, outcomes, bins=(0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)) -> pd.DataFrame:
    """Forecast against observed frequency, by bin of forecast probability: one row per bin (``bins`` are the
    edges, increasing, from 0 to 1; a bin holds lower <= p < upper, the last one also p = 1): lower, upper,
    count, mean_forecast (mean probability in the bin, NaN when empty), observed (share of its events that
    happened, NaN when empty). Every forecast falls in exactly one bin, so the counts sum to the forecasts."""
    p, y = _events(probabilities, outcomes)
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or edges[0] != 0 or edges[-1] != 1 or (np.diff(edges) <= 0).any():
        raise ValueError("bins must be increasing edges from 0 to 1")
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, edges.size - 2)
    rows = []
    for i in range(edges.size - 1):
        inside = which == i
        n = int(inside.sum())
        rows.append({"lower": float(edges[i]), "upper": float(edges[i + 1]), "count": n,
                     "mean_forecast": float(p[inside].mean()) if n else np.nan,
                     "observed": float(y[inside].mean()) if n else np.nan})
    return pd.DataFrame(rows)


def line_seats(threshold: float, seats: int) -> float:
    """The seats of a list exactly at the threshold, threshold% x house seats / 100 (3.9 for 3.25% of 120,
    1.0 for one quota of 150): the line both final-week calls (:func:`average_call`, :func:`threshold_calls`)
    hold the average published seats to."""
    return float(threshold) * seats / 100


def average_call(final_week_seats: pd.Series, parties, *, line: float) -> pd.Series:
    """The plain final-week average as a 0/1 forecast: for each of `parties`, probability 1 when its average
    published seats (`final_week_seats`: party -> seats) are at least `line` seats, else 0 (a party the final
    week does not list averages 0). `line` is the seats of a list exactly at the threshold, threshold% x house
    seats / 100 (3.9 for 3.25% of 120)."""
    return pd.Series([1.0 if float(final_week_seats.get(p, 0.0)) >= line else 0.0 for p in parties],
                     index=list(parties), dtype=float)


def share_of_polls_with_seats(by_poll: pd.DataFrame, parties) -> pd.Series:
    """The share of polls giving the list seats, as a probability: for each of `parties`, the number of polls
    in `by_poll` (poll_id, party, seats: one row per poll and party, e.g. :func:`helpers.models.polls.
    final_week_rows`) that give it more than 0 seats, over the number of polls that list it (as the final-week
    average counts them); 0 for a party no poll lists. A merged column counts for none of its members."""
    listing = by_poll.groupby("party")["poll_id"].nunique()
    giving = by_poll[by_poll["seats"] > 0].groupby("party")["poll_id"].nunique()
    return pd.Series([float(giving.get(p, 0)) / float(listing[p]) if p in listing.index else 0.0
                      for p in parties], index=list(parties), dtype=float)
