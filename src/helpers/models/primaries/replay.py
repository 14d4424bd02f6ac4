"""Past contests replayed: the first-round rule on real counts, how wrong polls of party members were (a bias
with its own uncertainty), and how a forecast of the winner scores against what happened."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.data._names import NameIndex
from helpers.models.primaries.race import DEFAULT_SAMPLE_SIZE, MarginBias
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


@dataclass(frozen=True)
class PollBias:
    """How far polls of party members missed, as a bias with its own uncertainty (:func:`poll_bias`).

    ``mean``: the average miss on the ``a`` minus ``b`` margin (points, real minus poll); ``sd``: the
    uncertainty of the bias in a new poll, sqrt(``sd_between``^2 + ``se_sampling``^2), where ``sd_between`` is
    the standard deviation of the misses across the polls (0 with one poll) and ``se_sampling`` the sampling
    error of their mean at ``sample_size`` respondents per poll. ``polls`` and ``contests``: how many polls
    and distinct contests the estimate rests on (the spread between contests is not measured by polls of one
    contest)."""

    a: str
    b: str
    mean: float
    sd: float
    sd_between: float
    se_sampling: float
    polls: int
    contests: int
    sample_size: float

    def margin_bias(self) -> MarginBias:
        """The bias as the simulation draws it (:class:`helpers.models.primaries.race.MarginBias`)."""
        return MarginBias(self.a, self.b, self.mean, self.sd)


def poll_bias(misses: pd.DataFrame, sample_size: float = DEFAULT_SAMPLE_SIZE,
              exclude: Iterable[str] = ()) -> PollBias | None:
    """The member-poll bias from :func:`poll_misses`: the mean miss on the margin and its uncertainty.

    Uses the polls of the pair polled most often (ties: the first pair), leaving out the polls labelled in
    `exclude`. ``se_sampling`` = sqrt(mean of variance_i / n) / sqrt(k) (points), with n = `sample_size`
    respondents per poll (the polls publish none). None when no poll is left."""
    frame = misses[~misses["poll"].isin(list(exclude))] if len(misses) else misses
    if not len(frame):
        return None
    pair = frame["pair"].value_counts(sort=False)
    pair = pair.index[int(np.argmax(pair.to_numpy()))]
    frame = frame[frame["pair"] == pair]
    a, b = pair.split(" - ", 1)
    k = len(frame)
    values = frame["miss"].to_numpy(float)
    between = float(values.std(ddof=1)) if k > 1 else 0.0
    sampling = 100 * math.sqrt(float(frame["variance"].mean()) / float(sample_size) / k)
    contests = frame["round"].str.rsplit(" round ", n=1).str[0].nunique()
    return PollBias(a=a, b=b, mean=float(values.mean()), sd=math.hypot(between, sampling), sd_between=between,
                    se_sampling=sampling, polls=k, contests=int(contests), sample_size=float(sample_size))


def score_winner(p_win: Mapping[str, float], winner: str, draws: int | None = None) -> dict[str, float]:
    """Scores of a forecast of who wins against the real `winner`: ``p_winner`` (the probability it gave the
    winner), ``brier`` (sum over candidates of (p - outcome)^2: 0 perfect, 2 worst) and ``log`` (-ln p_winner,
    nats; a probability of 0 from `draws` simulated contests counts as 1/(2 x draws), else as 1e-6)."""
    if winner not in p_win:
        raise ValueError(f"{winner!r} is not among the forecast's candidates")
    brier = sum((float(p) - (1.0 if c == winner else 0.0)) ** 2 for c, p in p_win.items())
    floor = 1 / (2 * draws) if draws else 1e-6
    p = float(p_win[winner])
    return {"p_winner": p, "brier": brier, "log": -math.log(max(p, floor))}


def contest_of_poll(contests: pd.DataFrame, date: str, shares: Mapping[str, float]) -> dict | None:
    """The real contest a poll of `shares` (taken on `date`) was polling for, and how it ended.

    The first round held on or after `date` in which the poll's two leaders both stood. Returns
    ``{"contest", "round" (the round polled), "date", "winner" (the contest's final winner), "runoff" (the
    pair of its runoff, [] when round one decided), "first_round" ({candidate: votes} of the round polled)}``,
    or None when the data hold no such round (a scenario that never happened)."""
    if not date or not shares:
        return None
    top = sorted(shares, key=lambda c: -float(shares[c]))[:2]
    cands = contests[contests["kind"] == "candidate"].sort_values("date", kind="stable")
    later = cands[cands["date"] >= pd.Timestamp(date)]
    for (contest, rnd), grp in later.groupby(["contest", "round"], sort=False):
        if set(top) <= set(grp["candidate"]):
            rows = cands[cands["contest"] == contest]
            won = list(rows.loc[rows["result"] == "winner", "candidate"])
            ran = list(rows[(rows["round"] == 1) & (rows["result"] == "runoff")].sort_values(
                "votes", ascending=False, kind="stable")["candidate"])
            return {"contest": str(contest), "round": int(rnd), "date": str(grp["date"].iloc[0].date()),
                    "winner": won[-1] if won else None, "runoff": ran,
                    "first_round": dict(zip(grp["candidate"], (int(v) for v in grp["votes"]), strict=True))}
    return None


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
