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
                    final_week: pd.Series | None = None) -> pd.DataFrame:
    """Was each party's threshold call right? For every party in `p_pass` (the model's probability of
    clearing): party, p_pass, model_call ('clears' when p_pass >= 0.5, else 'misses'), final_week_call
    (when `final_week` seats are given: 'clears' when the average is at least 0.5 seat), result ('cleared' /
    'missed', from `passed`: party -> bool; a party not on the ballot is 'missed'), model_right,
    final_week_right."""
    rows = []
    for party, p in p_pass.items():
        won = bool(passed.get(party, False))
        row = {"party": party, "p_pass": float(p), "model_call": "clears" if p >= 0.5 else "misses",
               "result": "cleared" if won else "missed"}
        row["model_right"] = (p >= 0.5) == won
        if final_week is not None:
            fw = float(final_week.get(party, 0.0)) >= 0.5
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
