"""Past contests replayed: the first-round rule on real counts, and how wrong polls of party members were."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from helpers.data._names import NameIndex
from helpers.models.primaries.rules import first_round


def margin_miss(poll: Mapping[str, float], result: Mapping[str, float], a: str, b: str) -> dict[str, float]:
    """The poll's miss on the a-minus-b margin. Both inputs are renormalised over the candidates they share
    (undecided and unlisted dropped). Returns ``poll_margin``, ``result_margin``, ``miss`` (points) and
    ``variance`` (of the margin in one respondent's terms: pa + pb - (pa - pb)^2, shares 0-1)."""
    common = [c for c in poll if c in result]
    for c in (a, b):
        if c not in common:
            raise ValueError(f"{c!r} must be in both the poll and the result")
    pt = sum(float(poll[c]) for c in common)
    rt = sum(float(result[c]) for c in common)
    pa, pb = float(poll[a]) / pt, float(poll[b]) / pt
    ra, rb = float(result[a]) / rt, float(result[b]) / rt
    return {"poll_margin": 100 * (pa - pb), "result_margin": 100 * (ra - rb),
            "miss": 100 * ((ra - rb) - (pa - pb)), "variance": pa + pb - (pa - pb) ** 2}


def effective_size(misses: Iterable[Mapping[str, float]]) -> float:
    """The sample size n at which the polls' margin misses are, on average, one standard error:
    n = k / sum(miss_i^2 / variance_i) (misses in points, as from :func:`margin_miss`)."""
    ms = list(misses)
    if not ms:
        raise ValueError("no polls to calibrate on")
    total = sum((m["miss"] / 100) ** 2 / m["variance"] for m in ms)
    if total <= 0:
        return math.inf
    return len(ms) / total


def poll_misses(polls: Sequence[tuple[str, str, Mapping[str, float]]], contests: pd.DataFrame,
                a: str | None = None, b: str | None = None) -> pd.DataFrame:
    """Compare polls with the real count of the round they were polling for.

    `polls`: (label, date 'YYYY-MM-DD', {candidate: share}). `contests`: as from
    :func:`helpers.data.primaries.load_contests`. The margin is `a` minus `b` (default: the poll's two
    leaders, in the order of the real count). Each poll is matched with the first round held on or after its
    date in which both stood. Returns one row per poll: ``poll``, ``date``, ``round`` (e.g. "labor-2007
    round 1"), ``pair`` ("A - B") and the :func:`margin_miss` columns (points)."""
    cands = contests[contests["kind"] == "candidate"].sort_values("date", kind="stable")
    rows = []
    for label, date, shares in polls:
        pa, pb = (a, b) if a and b else sorted(shares, key=lambda c: -float(shares[c]))[:2]
        later = cands[cands["date"] >= pd.Timestamp(date)]
        found = None
        for (contest, rnd), grp in later.groupby(["contest", "round"], sort=False):
            names = set(grp["candidate"])
            if pa in names and pb in names:
                found = (contest, rnd, dict(zip(grp["candidate"], grp["votes"], strict=True)))
                break
        if found is None:
            raise ValueError(f"no round on or after {date} has both {pa!r} and {pb!r}")
        contest, rnd, votes = found
        if not (a and b) and votes[pb] > votes[pa]:
            pa, pb = pb, pa
        rows.append({"poll": label, "date": date, "round": f"{contest} round {rnd}", "pair": f"{pa} - {pb}",
                     **margin_miss(shares, votes, pa, pb)})
    return pd.DataFrame(rows)


def replay(contests: pd.DataFrame, rounds: pd.DataFrame | None = None, *, threshold: float = 40.0,
           inclusive: bool = False) -> pd.DataFrame:
    """Every round of a contests table through :func:`first_round`, beside the published result.

    `contests` as from :func:`helpers.data.primaries.load_contests` (only ``kind == 'candidate'`` rows
    count); `rounds` (optional, :func:`helpers.data.primaries.load_rounds`) adds the leader's share of all
    ballots cast where that is published. Returns one row per round: ``contest``, ``round``, ``date``,
    ``leader``, ``leader_share`` (percent of the candidates' votes), ``leader_share_ballots`` (percent of
    ballots cast, NaN when unknown), ``model`` and ``published`` ("winner: X" or "runoff: X vs Y") and
    ``agrees`` (the model names the same winner, or the same runoff pair, as the published result)."""
    out = []
    cands = contests[contests["kind"] == "candidate"]
    for (contest, rnd), grp in cands.groupby(["contest", "round"], sort=False):
        votes = dict(zip(grp["candidate"], (int(v) for v in grp["votes"]), strict=True))
        res = first_round(votes, threshold=threshold, inclusive=inclusive)
        ballots = math.nan
        if rounds is not None:
            hit = rounds[(rounds["contest"] == contest) & (rounds["round"] == rnd)]
            if len(hit) and not pd.isna(hit["ballots_cast"].iloc[0]):
                ballots = float(hit["ballots_cast"].iloc[0])
        leader = max(votes, key=lambda c: votes[c])
        ranked = grp.sort_values("votes", ascending=False, kind="stable")
        won = list(ranked.loc[ranked["result"] == "winner", "candidate"])
        ran = list(ranked.loc[ranked["result"] == "runoff", "candidate"])
        published = (f"winner: {won[0]}" if won else f"runoff: {' vs '.join(ran)}" if ran else "")
        model = (f"winner: {res['winner']}" if res["outcome"] == "winner"
                 else f"runoff: {' vs '.join(res['runoff'])}")
        agrees = (res["outcome"] == "winner" and won == [res["winner"]]) or (
            res["outcome"] == "runoff" and not won and set(ran) == set(res["runoff"]) and not res["tie"])
        out.append({"contest": contest, "round": int(rnd), "date": grp["date"].iloc[0], "leader": leader,
                    "leader_share": 100 * votes[leader] / sum(votes.values()),
                    "leader_share_ballots": 100 * votes[leader] / ballots if ballots == ballots else math.nan,
                    "model": model, "published": published, "agrees": bool(agrees)})
    return pd.DataFrame(out)


def resolve_name(name: str, names: Sequence[str]) -> str:
    """`name` as spelled in `names` (letter case ignored); ValueError naming the choices otherwise."""
    hit = NameIndex.of(names, first_wins=True).find(name)
    if hit is not None:
        return hit
    raise ValueError(f"{name!r} is not one of the candidates ({', '.join(names)})")
