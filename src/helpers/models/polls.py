"""Polls model: from published polls to vote shares, a poll of polls, trends and house effects.

Pure functions over the polls DataFrame of :func:`helpers.data.polls.load_polls`; no I/O, no plotting.
Shares are percentages of valid votes (0-100) unless a name says otherwise.

**Seats to shares.** Israeli polls publish seats, and a party under the threshold shows 0 seats: that means
"below the threshold", not "no support". A seats poll becomes shares like this (:func:`poll_shares`):

- a party with 0 seats counts as the percentage the poll published for it (``share_if_below``) when there is
  one; otherwise it is **censored**: somewhere in [0, threshold). :func:`poll_of_polls` estimates it
  (:func:`_fill_censored`): a list every poll puts below the line gets ``below_fraction`` x threshold, the
  fitted mean of such lists' results (:mod:`helpers.models.uncertainty`); a list other polls give seats gets,
  for each censored poll, the mean of a normal around its average truncated to [0, threshold) (EM);
- the parties with seats share what the published percentages and the residual ``others`` leave, ``P``: a
  seat is worth ``q = P / (S + m/2)`` points (``S`` the house size, 120, or the poll's own seat total when
  larger; ``m`` the parties with seats), and ``s`` seats stand for a share in ``[max(T, s q), max(T, (s+1) q))``
  (T the threshold): the party gets the middle of that range. Far from the line that is ``(s + 1/2) q``, which
  undoes the D'Hondt/Bader-Ofer rounding (4 seats of 120 means about 3.5%, not 3.2%); near it the range starts
  at the threshold, since a party with seats cleared it in that poll.

Share polls are taken as published; undecided respondents and rounding make them sum to a little under or
over 100, which the final normalisation of the average absorbs (undecided voters are assumed to split like
the decided).

**Poll of polls** (:func:`poll_of_polls`) as of a date pools (:func:`pool`) the newest complete pre-election
poll of each polling house (:func:`house_of`) published in the 14 days (``POOL_WINDOW_DAYS``) up to the newest
poll on or before that date; partial polls, exit polls and older polls are left out and listed
(``left_out``). Poll *i*, published ``age_i`` days before the as-of date with ``n_i`` respondents
(``DEFAULT_SAMPLE_SIZE`` = 600 when the poll does not say), weighs ``w_i = n_i * 0.5 ** (age_i /
half_life_days)``. A party's average is ``sum(w_i * share_ik) / sum(w_i)`` over the polls that list it; the
averages are scaled to sum to ``100 - others`` (``others``: the fitted share of lists no poll lists, for seats
polls only), and a party with seats in every poll is never put below the threshold by that scaling.

The **effective sample size** (:func:`pooled_sample_size`) is that of a weighted mean of polls whose errors
correlate with ``POLLSTER_CORRELATION`` = 0.5 between houses, as the R ``coalitions`` package (Bender & Bauer,
KOALA) pools polls: ``1 / (sum w_i^2 / n_i (1 - rho) + rho (sum w_i / sqrt(n_i))^2)`` with normalised weights.
Each poll enters with ``n_i * 0.5 ** (age_i / half_life_days)`` respondents (information decays with age as
the weights do). It saturates near ``n / rho`` however many polls there are (7 fresh houses of 600: about
1,050), and an old poll is worth less than a new one. It is what the simulation's Dirichlet posterior uses.

A poll column that merges several lists (``jewish_home+national_union``, ``arab_joint``) is split between its
members in proportion to the members' averages in the polls that list them separately (same weights); when no
poll as of the date lists them separately, the merged column stays one party.

**House effects** (:func:`house_effects`): each poll's share for a party minus a centred trend at the poll's
date (every poll before and after it, weighted ``n_j * 0.5 ** (|days apart| / half_life_days)``), averaged
over the pollster's polls: points by which a pollster tends to run above (+) or below (-) the others.
**Trends** (:func:`trend`) for charts use every poll (not only the pool), censored zeros left out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.core.errors import DataError
from helpers.data._table import parse_date
from helpers.models.uncertainty import FITTED

#: Respondents assumed for a poll that does not publish its sample size (a typical Israeli poll: 500-700).
DEFAULT_SAMPLE_SIZE = 600
#: Half-life of a poll's weight, in days.
DEFAULT_HALF_LIFE_DAYS = 7.0
#: A poll of polls uses the newest poll of each house published in this many days up to the newest poll.
POOL_WINDOW_DAYS = 14
#: Correlation between two polling houses' errors (the R ``coalitions`` package's default): the information in
#: many polls saturates near n / rho respondents.
POLLSTER_CORRELATION = 0.5
#: A pollster written like this is not named: its polls are grouped by media outlet instead.
UNNAMED = frozenset({"unnamed", "(not named)", "not named", "unknown"})
#: How a censored 0 (a seats poll's list below the line, no percentage published) is marked.
CENSORED = "below (censored)"
#: Share noise from publishing whole seats (about a third of a seat, in points of share).
SEAT_ROUNDING_POINTS = 0.35
#: Seats in the Knesset, the house a seats poll refers to.
HOUSE_SEATS = 120
#: The first-round line of a two-round leadership contest (Labor: 40% wins outright).
FIRST_ROUND_LINE = 40.0
#: A threshold at or above this (percent) cannot be a parliament's electoral threshold: it is a first-round
#: line.
FIRST_ROUND_MIN = 20.0


def _day(value) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return pd.Timestamp(parse_date(value) if isinstance(value, str) else value)
    except ValueError:
        raise DataError(f"as_of '{value}' is not a date written YYYY-MM-DD.") from None


def questions(polls: pd.DataFrame) -> list[str]:
    """The poll questions in the file, most-asked first ('' for the usual vote intention)."""
    per_poll = polls.drop_duplicates("poll_id")["question"].tolist()
    counts = Counter(per_poll)
    return sorted(counts, key=lambda q: (-counts[q], per_poll.index(q)))


def select_question(polls: pd.DataFrame, question: str = "") -> tuple[pd.DataFrame, str]:
    """The polls that asked `question` (letter case ignored), and the question chosen.

    With `question` empty: the question asked by the most polls (the first in the file on a tie), so a file
    of vote-intention polls is used whole and a leadership file uses its first-round polls."""
    asked = questions(polls)
    if not question:
        question = asked[0]
    match = [q for q in asked if q.casefold() == question.strip().casefold()]
    if not match:
        listed = ", ".join(f"'{q}'" for q in asked if q)
        raise DataError(f"no poll in {polls.attrs.get('path', 'the polls file')} asked '{question}'; the "
                        f"questions are {listed or 'none'}.")
    out = polls[polls["question"] == match[0]].copy()
    out.attrs = dict(polls.attrs)
    return out, match[0]


def contest_kind(polls: pd.DataFrame, threshold: float) -> str:
    """'parliament' (seats to allocate) or 'first-round' (a leadership contest's first round: shares only).

    A file is a first-round contest when none of its polls gives seats and either it has poll questions
    (a leadership file: 'first round', 'runoff') or the line is at least ``FIRST_ROUND_MIN`` percent."""
    has_seats = bool((polls["kind"] == "seats").any())
    if has_seats:
        return "parliament"
    asks = bool((polls["question"] != "").any())
    return "first-round" if asks or threshold >= FIRST_ROUND_MIN else "parliament"


def contest_line(kind: str, threshold: float) -> float:
    """The line a party or candidate must clear (percent): the threshold, or for a first-round contest given
    a parliament-sized threshold (below ``FIRST_ROUND_MIN``), the first-round line ``FIRST_ROUND_LINE``."""
    if kind == "first-round" and threshold < FIRST_ROUND_MIN:
        return FIRST_ROUND_LINE
    return float(threshold)


def _is_exit(poll_type: pd.Series) -> pd.Series:
    """Whether each poll type names an exit poll ('exit' in any letter case), tested once per distinct type."""
    codes, kinds = pd.factorize(poll_type)
    hit = np.array([bool(re.search("exit", str(k), flags=re.IGNORECASE)) for k in kinds] + [False])
    return pd.Series(hit[codes], index=poll_type.index)


def overview(polls: pd.DataFrame, as_of=None) -> dict:
    """Facts about the polls up to `as_of` for a report's opening lines: polls, pollsters, first, last
    (dates), kind ('seats', 'share' or 'mixed'), seats_off (seats polls not summing to the house size),
    merged (polls with a merged column), no_sample_size (polls without a sample size), partial (polls
    marked partial), later (polls after `as_of`, not used), exit (exit polls among those used)."""
    when = _day(as_of) or polls["date"].max()
    use = polls[polls["date"] <= when]
    per = use.drop_duplicates("poll_id")
    merged = use.loc[use["flag_merged"], "poll_id"].nunique()
    kinds = set(per["kind"].unique())
    return {
        "polls": int(len(per)), "pollsters": int(per["pollster"].nunique()),
        "first": per["date"].min().date().isoformat() if len(per) else "",
        "last": per["date"].max().date().isoformat() if len(per) else "",
        "as_of": when.date().isoformat(),
        "kind": kinds.pop() if len(kinds) == 1 else "mixed",
        "seats_off": int(per["flag_seats_total"].sum()), "merged": int(merged),
        "no_sample_size": int(per["flag_sample_size_missing"].sum()), "partial": int(per["partial"].sum()),
        "later": int(polls.loc[polls["date"] > when, "poll_id"].nunique()),
        "exit": int(_is_exit(per["poll_type"]).sum()),
    }


def smallest_list_seats(threshold: float, seats: int, passing_share: float) -> int:
    """Seats won by a list sitting exactly on the threshold (percent) when the passing lists hold
    `passing_share` percent of the votes: floor(threshold x seats / passing_share), as the Bader-Ofer gauge
    gives (3.25% of 120 seats with 96% passing: 4 seats)."""
    if passing_share <= 0:
        return 0
    return int(np.floor(threshold * seats / passing_share + 1e-9))


def poll_shares(polls: pd.DataFrame, threshold: float, house_seats: int = HOUSE_SEATS,
                others: float = 0.0) -> pd.DataFrame:
    """Each poll's figure for each party as a share (percent of valid votes), by the rule in the module
    docstring; `others` (percent) is kept aside for the lists no poll lists. Columns: poll_id, date,
    pollster, sample_size (Int64), party, share (percent; NaN for a censored 0), published (the poll's own
    figure: seats or percent), source: 'share', 'seats', 'below (published %)' or ``CENSORED``.

    Rows come poll by poll (polls in the order they first appear, each poll's rows in file order). Every
    step is a whole-column operation: per-poll totals are summed with ``np.bincount`` over the poll codes."""
    if not 0 <= threshold < 100:
        raise DataError(f"threshold {threshold:g} is outside 0 <= threshold < 100 (percent of valid votes).")
    codes = pd.factorize(polls["poll_id"], sort=False)[0]
    if len(polls) == 0 or not (codes >= 0).any():
        frame = polls.iloc[0:0].assign(share_pct=[], published=[], source=[])
        return _shares_frame(frame, frame["share_pct"], frame["published"], frame["source"])
    keep = np.flatnonzero(codes >= 0)
    order = keep[np.argsort(codes[keep], kind="stable")]  # poll by poll, as a groupby in order of appearance
    frame = polls.iloc[order]
    codes = codes[order]
    count = int(codes.max()) + 1
    first = np.r_[True, codes[1:] != codes[:-1]]
    seats_poll = (frame["kind"].to_numpy()[first] != "share")[codes]  # a poll's kind is that of its first row
    seats = frame["seats"].to_numpy(dtype=float, na_value=np.nan)  # whole seats, or published half seats (x.5)
    published_share = frame["share"].to_numpy(dtype=float, na_value=np.nan)
    below = seats_poll & (seats == 0)
    given = frame["share_if_below"].to_numpy(dtype=float, na_value=np.nan)
    # a 0 with a published percentage is that percentage; without one it is censored: somewhere below the
    # threshold (poll_of_polls estimates it), so it takes no share here
    below_share = np.where(np.isnan(given), np.nan if threshold > 0 else 0.0, given)
    below_total = np.bincount(codes, weights=np.where(below & ~np.isnan(below_share), below_share, 0.0),
                              minlength=count)
    bad = np.flatnonzero((below_total >= 100) & seats_poll[first])
    if len(bad):
        pid = frame["poll_id"].to_numpy()[first][bad[0]]
        raise DataError(f"poll '{pid}' puts {below_total[bad[0]]:g}% under the threshold, so its seats leave "
                        "no share for the parties that win them.")
    # D'Hondt-type rules give a list about half a seat less than its exact quota on average, so seats + 1/2
    # is the unbiased measure of a list's votes.
    seat_total = np.bincount(codes, weights=np.where(seats_poll, seats, 0.0), minlength=count)
    with_seats = np.bincount(codes, weights=(seats_poll & ~below).astype(float), minlength=count)
    denominator = np.maximum(seat_total, house_seats) + 0.5 * with_seats
    with np.errstate(invalid="ignore", divide="ignore"):
        quota = (np.maximum(100.0 - below_total - others, 0.0) / denominator)[codes]  # points of share per seat
        # s seats mean a share in [s, s + 1) quotas and at least the threshold: the middle of that range
        won = (np.maximum(seats * quota, threshold) + np.maximum((seats + 1) * quota, threshold)) / 2
    share = np.where(seats_poll, np.where(below, below_share, won), published_share)
    published = np.where(seats_poll, seats, published_share)
    source = np.where(seats_poll, np.where(below, np.where(np.isnan(given), CENSORED, "below (published %)"),
                                           "seats"), "share")
    return _shares_frame(frame, share, published, source)


def _shares_frame(frame: pd.DataFrame, share, published, source) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    return pd.DataFrame({
        "poll_id": frame["poll_id"], "date": frame["date"], "pollster": frame["pollster"],
        "sample_size": frame["sample_size"], "party": frame["party"],
        "share": np.asarray(share, dtype=float), "published": np.asarray(published, dtype=float),
        "source": pd.Series(np.asarray(source, dtype=object)).astype(str),
    })


def recency_weights(dates: pd.Series, as_of, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> np.ndarray:
    """``0.5 ** (age_days / half_life_days)`` for polls dated `dates` seen from `as_of` (age 0 or more)."""
    if not half_life_days > 0:
        raise DataError(f"half_life_days must be above 0 (got {half_life_days:g}).")
    age = (pd.Timestamp(as_of) - pd.to_datetime(dates)).dt.days.to_numpy(dtype=float)
    return 0.5 ** (np.maximum(age, 0.0) / half_life_days)


@dataclass
class PollOfPolls:
    """A poll of polls as of a date.

    shares: percent of valid votes per party (sums to 100), largest first. weights: one row per poll used
    (poll_id, date, pollster, age_days, sample_size as used, recency, weight, weight_share).
    effective_sample_size: sum of the weights (respondents, discounted by age). by_poll: the per-poll shares
    that went in (after splitting merged columns), long."""

    as_of: pd.Timestamp
    shares: pd.Series
    weights: pd.DataFrame
    effective_sample_size: float
    by_poll: pd.DataFrame
    half_life_days: float
    threshold: float
    question: str = ""
    excluded: list = field(default_factory=list)
    merged: dict = field(default_factory=dict)
    left_out: dict = field(default_factory=dict)
    others: float = 0.0

    @property
    def parties(self) -> list[str]:
        return list(self.shares.index)

    @property
    def n_polls(self) -> int:
        return len(self.weights)

    def table(self) -> pd.DataFrame:
        """party, share (percent), respondents (share x effective sample size), polls listing the party."""
        listed = self.by_poll.groupby("party")["poll_id"].nunique()
        return pd.DataFrame({
            "party": self.shares.index,
            "share": self.shares.to_numpy(),
            "respondents": self.shares.to_numpy() / 100 * self.effective_sample_size,
            "polls": [int(listed.get(p, 0)) for p in self.shares.index],
        })


def _weighted_average(values: pd.DataFrame) -> pd.Series:
    """Per party: sum(w * share) / sum(w) over the rows listing it."""
    g = values.assign(ws=values["weight"] * values["share"]).groupby("party", sort=False)
    return g["ws"].sum() / g["weight"].sum()


def _split_merges(values: pd.DataFrame, merges: dict[str, list[str]]) -> tuple[pd.DataFrame, dict]:
    """Replace merged columns by their members, in proportion to the members' own weighted averages."""
    direct = values[~values["party"].isin(merges)]
    averages = _weighted_average(direct) if len(direct) else pd.Series(dtype=float)
    parts = [direct]
    done = {}
    for key, members in merges.items():
        rows = values[values["party"] == key]
        if rows.empty:
            continue
        if all(m in averages.index for m in members) and averages[members].sum() > 0:
            ratio = averages[members] / averages[members].sum()
            for m in members:
                parts.append(rows.assign(party=m, share=rows["share"] * ratio[m]))
            done[key] = {m: float(ratio[m]) for m in members}
        else:
            parts.append(rows)
    return pd.concat(parts, ignore_index=True), done


def _stripped(column: pd.Series) -> pd.Series:
    """``column.astype(str).str.strip()``, stripping each distinct value once."""
    codes, distinct = pd.factorize(column.astype(str))
    return pd.Series(pd.Series(distinct, dtype=object).str.strip().to_numpy(dtype=object)[codes],
                     index=column.index, dtype="str")


def house_of(polls: pd.DataFrame) -> pd.Series:
    """The polling house of each row: the pollster, or for a poll whose pollster is not named the media
    outlet (each outlet's unnamed polls count as one house), or failing both the poll itself."""
    pollster = _stripped(polls["pollster"])
    unnamed = pollster.str.casefold().isin(UNNAMED) | (pollster == "")
    media = _stripped(polls["media"]) if "media" in polls else pd.Series("", index=polls.index)
    fallback = np.where(media != "", "unnamed / " + media, "poll " + polls["poll_id"].astype(str))
    return pd.Series(np.where(unnamed, fallback, pollster), index=polls.index)


def pooled_sample_size(sizes, weights, correlation: float = POLLSTER_CORRELATION) -> float:
    """The effective sample size of a weighted average of polls whose errors correlate.

    Poll *i* has ``sizes[i]`` respondents, so its share of a party with support p has variance p(1-p)/n_i;
    two different polls' errors correlate with `correlation` (rho). The average ``sum(w_i x_i)`` (weights
    normalised to 1) has variance ``p(1-p) * (sum_i w_i^2 / n_i + rho * sum_{i != j} w_i w_j / sqrt(n_i n_j))``,
    and the effective sample size is p(1-p) over that (p cancels). With m polls of n respondents at equal
    weight it is ``n / (1/m + rho (m-1)/m)``: it saturates at n / rho however many polls there are (R
    ``coalitions``, Bender & Bauer 2018)."""
    n = np.asarray(sizes, dtype=float)
    w = np.asarray(weights, dtype=float)
    if n.size == 0 or not (w > 0).any():
        raise DataError("a pooled sample needs at least one poll with a weight above 0.")
    w = w / w.sum()
    scaled = w / np.sqrt(n)
    variance = (1 - correlation) * float((scaled ** 2).sum()) + correlation * float(scaled.sum()) ** 2
    return 1.0 / variance


def _censored_mean(mean: float, sd: float, line: float) -> float:
    """E[x | 0 <= x < line] for x ~ Normal(mean, sd): the expected share of a list a poll put below the line."""
    from math import erf, exp, pi, sqrt

    def cdf(z):
        return 0.5 * (1 + erf(z / sqrt(2)))

    def pdf(z):
        return exp(-z * z / 2) / sqrt(2 * pi)

    lo, hi = (0.0 - mean) / sd, (line - mean) / sd
    mass = cdf(hi) - cdf(lo)
    if mass < 1e-12:  # far outside the interval: the mean sits about sd / distance inside its nearer end
        if mean >= line:
            return float(max(line - sd / max(-hi, 1.0), line / 2))
        return float(min(sd / max(-lo, 1.0), line / 2))
    return float(min(max(mean + sd * (pdf(lo) - pdf(hi)) / mass, 0.0), line))


def _fill_censored(values: pd.DataFrame, line: float, below_fraction: float) -> pd.DataFrame:
    """Give each censored figure (a 0 without a published percentage: somewhere in [0, line)) a share.

    A list every poll puts below the line gets ``below_fraction x line`` (the fitted mean of such lists'
    results, :data:`helpers.models.uncertainty.FITTED`). A list with figures too gets, for each censored
    poll, the mean of a normal around the list's weighted average (spread: the poll's sampling error)
    truncated to [0, line), with the average recomputed until it settles (EM for a censored mean)."""
    out = values.copy()
    censored = out["share"].isna()
    if not censored.any():
        return out
    for party in out.loc[censored, "party"].unique():
        rows = out["party"] == party
        cens = rows & censored
        seen = rows & ~censored
        if not seen.any():
            out.loc[cens, "share"] = below_fraction * line
            continue
        w = out.loc[rows, "weight"].to_numpy(dtype=float)
        n = out.loc[rows, "n"].to_numpy(dtype=float)
        known = ~out.loc[rows, "share"].isna().to_numpy()
        x = out.loc[rows, "share"].to_numpy(dtype=float)
        mu = float(np.average(x[known], weights=w[known]))
        # censored polls of one sample size get the same estimate: one per size, not one per poll
        sizes, size_of = np.unique(n[~known], return_inverse=True)
        for _ in range(50):
            filled = x.copy()
            filled[~known] = np.array([
                _censored_mean(mu, max(np.sqrt(max(mu * (100 - mu), 1.0) / size), SEAT_ROUNDING_POINTS), line)
                for size in sizes])[size_of]
            new = float(np.average(filled, weights=w))
            if abs(new - mu) < 1e-9:
                break
            mu = new
        out.loc[rows, "share"] = filled
    return out


def _scale_keeping_the_line(average: pd.Series, total: float, won: set, line: float) -> pd.Series:
    """`average` scaled to sum to `total`, except that a list in `won` (seats in every poll: it cleared the
    line in every poll) is never put below `line`: such a list is held at the line and the others share what
    is left, until no list in `won` is below it."""
    held: set = set()
    while True:
        free = [p for p in average.index if p not in held]
        room = total - line * len(held)
        base = float(average[free].sum())
        shares = average.copy()
        shares[free] = average[free] * (room / base) if base > 0 and room > 0 else 0.0
        shares[list(held)] = line
        under = {p for p in free if p in won and shares[p] < line}
        if not under or len(held | under) * line >= total:
            return shares
        held |= under


def pool(polls: pd.DataFrame, as_of=None, *, window_days: int = POOL_WINDOW_DAYS) -> tuple[pd.DataFrame, dict]:
    """The polls a poll of polls as of `as_of` uses, and why the others were left out.

    Used: the newest complete pre-election poll of each polling house (:func:`house_of`) published in the
    `window_days` days up to the newest such poll on or before `as_of`. Left out (returned as lists of poll
    ids): ``partial`` (marked partial), ``exit`` (exit polls: they measure election day itself and never enter
    a pre-election average), ``superseded`` (a newer poll of the same house is used), ``older`` (published
    before the window)."""
    when = _day(as_of) or polls["date"].max()
    use = polls[polls["date"] <= when]
    exits = _is_exit(use["poll_type"].astype(str))
    left = {"partial": sorted(use.loc[use["partial"] & ~exits, "poll_id"].unique().tolist()),
            "exit": sorted(use.loc[exits, "poll_id"].unique().tolist())}
    use = use[~use["partial"] & ~exits]
    if use.empty:
        return use, {**left, "superseded": [], "older": []}
    newest = use["date"].max()
    start = newest - pd.Timedelta(days=window_days - 1)
    left["older"] = sorted(use.loc[use["date"] < start, "poll_id"].unique().tolist())
    use = use[use["date"] >= start]
    per = use.drop_duplicates("poll_id").assign(house=house_of(use.drop_duplicates("poll_id")))
    per = per.sort_values(["date", "poll_id"], kind="stable")
    keep = per.drop_duplicates("house", keep="last")
    left["superseded"] = sorted(per.loc[~per["poll_id"].isin(keep["poll_id"]), "poll_id"].unique().tolist())
    chosen = use[use["poll_id"].isin(keep["poll_id"])]
    return chosen.assign(house=chosen["poll_id"].map(keep.set_index("poll_id")["house"])), left


def poll_of_polls(polls: pd.DataFrame, as_of=None, *, threshold: float,
                  half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                  default_sample_size: int = DEFAULT_SAMPLE_SIZE, house_seats: int = HOUSE_SEATS,
                  merges: dict[str, list[str]] | None = None,
                  house: pd.DataFrame | None = None, window_days: int = POOL_WINDOW_DAYS,
                  correlation: float = POLLSTER_CORRELATION, others: float | None = None,
                  below_fraction: float | None = None,
                  pooled: tuple[pd.DataFrame, dict] | None = None) -> PollOfPolls:
    """The poll of polls as of `as_of` (default: the latest poll's date), by the module docstring's rules.

    `threshold` (percent) is the line a censored 0 lies below; `merges` maps a merged column to its member
    keys (:func:`helpers.data.polls.merges_of`); `house` (from :func:`house_effects`) subtracts each
    pollster's house effect before averaging (a share never goes below 0). `others`: the percent of valid
    votes for lists no poll lists, kept as a residual when the polls publish seats (default: the fitted
    value, :data:`helpers.models.uncertainty.FITTED`); `below_fraction`: where a list every poll puts below
    the line sits, as a fraction of the line (default: fitted). Give it the polls of one question
    (:func:`select_question`). Raises DataError when no poll was published by `as_of`, or when the polls
    leave no share at all.

    `pooled`: what ``pool(polls, as_of, window_days=window_days)`` returned, from a caller that asks for many
    polls of polls of the same polls and date (the calibration's leave-one-out folds differ only in `others`
    and `below_fraction`, which the choice of polls does not read); it is only read, never changed."""
    if len(polls) == 0:
        raise DataError("the polls file holds no polls.")
    when = _day(as_of) or polls["date"].max()
    path = polls.attrs.get("path", "the polls file")
    usable, left = pool(polls, when, window_days=window_days) if pooled is None else pooled
    left = {why: list(ids) for why, ids in left.items()}  # this poll of polls' own lists
    if usable.empty:
        first = polls["date"].min().date().isoformat()
        raise DataError(f"no complete pre-election poll in {path} was published by {when.date().isoformat()} "
                        f"(the first poll is dated {first}); choose a later as_of.")
    seats_polls = bool((usable["kind"] == "seats").all())
    residual = (FITTED.others if others is None else float(others)) if seats_polls else 0.0
    per_poll = poll_shares(usable, threshold, house_seats, others=residual)
    if house is not None and len(house):
        effect = house.set_index(["pollster", "party"])["house_effect"].astype(float)
        adj = effect.reindex(pd.MultiIndex.from_arrays([per_poll["pollster"], per_poll["party"]]), fill_value=0.0)
        per_poll["share"] = np.maximum(per_poll["share"].to_numpy() - adj.to_numpy(dtype=float), 0.0)
    info = per_poll.drop_duplicates("poll_id")[["poll_id", "date", "pollster", "sample_size"]].copy()
    info["house"] = info["poll_id"].map(usable.drop_duplicates("poll_id").set_index("poll_id")["house"])
    info["age_days"] = (when - info["date"]).dt.days.astype(int)
    info["sample_size"] = info["sample_size"].fillna(default_sample_size).astype(int)
    info["recency"] = recency_weights(info["date"], when, half_life_days)
    info["weight"] = info["recency"] * info["sample_size"]
    info["weight_share"] = info["weight"] / info["weight"].sum()
    values = per_poll.drop(columns="sample_size").merge(
        info[["poll_id", "weight", "sample_size"]].rename(columns={"sample_size": "n"}), on="poll_id")
    fraction = FITTED.below_fraction if below_fraction is None else float(below_fraction)
    values = _fill_censored(values, threshold, fraction)
    listed = set(values["party"].unique())
    merges = {k: v for k, v in (merges or {}).items() if k in listed}
    values, split = _split_merges(values, merges)
    average = _weighted_average(values)
    total = float(average.sum())
    if not total > 0:
        raise DataError(f"the polls in {path} leave no share for any party (every figure is 0), so there is "
                        "nothing to average; a seats poll needs seats or published percentages.")
    won = values.assign(won=values["source"] == "seats").groupby("party")["won"].all()
    shares = _scale_keeping_the_line(average.astype(float), 100.0 - residual, set(won[won].index), threshold)
    shares = shares.iloc[np.lexsort((shares.index.to_numpy(), -shares.to_numpy()))]
    shares.name = "share"
    shares.index.name = "party"
    question = str(polls["question"].iloc[0]) if polls["question"].nunique() == 1 else ""
    # information decays with age as the weights do: a poll counts as n x 0.5 ** (age / half-life) respondents
    ess = pooled_sample_size(info["sample_size"] * info["recency"], info["weight"], correlation)
    return PollOfPolls(as_of=when, shares=shares, weights=info.reset_index(drop=True),
                       effective_sample_size=ess, by_poll=values,
                       half_life_days=half_life_days, threshold=threshold, question=question,
                       excluded=left["partial"], merged=split, left_out=left, others=residual)


_EPOCH = pd.Timestamp("1970-01-01")


def _epoch_days(dates) -> np.ndarray:
    """Whole days since 1970-01-01 of each date, as floats."""
    return ((pd.to_datetime(pd.Series(dates)) - _EPOCH).dt.days).to_numpy(dtype=float)


@dataclass
class _DayTotals:
    """Polls summed per group (a party) and day: the days (sorted within a group), n (sum of weights), s (sum of
    weight x value), m2 (sum of weight x squared distance from the day's weighted mean) and polls (count)."""

    group: np.ndarray
    day: np.ndarray
    n: np.ndarray
    s: np.ndarray
    m2: np.ndarray
    polls: np.ndarray

    def of(self, g: int) -> slice:
        lo, hi = np.searchsorted(self.group, [g, g + 1])
        return slice(int(lo), int(hi))


def _day_totals(group: np.ndarray, t: np.ndarray, n: np.ndarray, values: np.ndarray) -> _DayTotals:
    """Sum polls (group code, day `t`, weight `n`, value) per group and day in one pass (``np.bincount``); the
    spread is kept as each day's sum of squares about its own mean, so no variance is found by subtracting
    large sums."""
    days, day_code = np.unique(t, return_inverse=True)
    key = group.astype(np.int64) * len(days) + day_code
    keys, cell = np.unique(key, return_inverse=True)
    n_sum = np.bincount(cell, weights=n)
    s_sum = np.bincount(cell, weights=n * values)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(n_sum > 0, s_sum / n_sum, 0.0)
    m2 = np.bincount(cell, weights=n * (values - centre[cell]) ** 2)
    return _DayTotals(group=keys // len(days), day=days[keys % len(days)], n=n_sum, s=s_sum, m2=m2,
                      polls=np.bincount(cell))


def _kernel_average(totals: _DayTotals, part: slice, at: np.ndarray, half_life: float,
                    backward: bool) -> tuple[np.ndarray, np.ndarray]:
    """Weighted average and weighted spread at each day in `at` of the polls summed in ``totals[part]`` (one
    party): poll j weighs ``n_j * 0.5 ** (|at - t_j| / half_life)`` (with `backward`, only polls on or before
    the day). Polls of one day share their kernel factor, so the work is days x days, not polls x polls."""
    t, n, s, m2 = totals.day[part], totals.n[part], totals.s[part], totals.m2[part]
    diff = at[:, None] - t[None, :]
    k = 0.5 ** (np.abs(diff) / half_life)
    if backward:
        k = np.where(diff >= 0, k, 0.0)
    total = (k * n[None, :]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (k * s[None, :]).sum(axis=1) / total
        centre = np.where(n > 0, s / n, 0.0)
        # sum_j w_j (v_j - mean)^2 = sum over days of k (m2_day + n_day (centre_day - mean)^2)
        var = (k * (m2[None, :] + n[None, :] * (centre[None, :] - mean[:, None]) ** 2)).sum(axis=1) / total
    return mean, np.sqrt(np.maximum(var, 0.0))


def poll_points(polls: pd.DataFrame, *, unit: str = "share", threshold: float = 0.0,
                house_seats: int = HOUSE_SEATS, as_of=None) -> pd.DataFrame:
    """One point per poll and party, in the poll's unit, for charts: date, pollster, party, value.

    `unit` 'seats': the published seats (seats polls only); 'share': :func:`poll_shares`. Polls after `as_of`,
    partial polls and merged columns are left out."""
    when = _day(as_of) or polls["date"].max()
    use = polls[(polls["date"] <= when) & ~polls["partial"] & ~polls["flag_merged"]]
    if unit == "seats":
        use = use[use["kind"] == "seats"]
        out = use.assign(value=use["seats"].astype(float))
    elif unit == "share":
        out = poll_shares(use, threshold, house_seats).rename(columns={"share": "value"})
        out = out[out["value"].notna()]  # a censored 0 has no point value
    else:
        raise ValueError(f"unit must be 'seats' or 'share', not {unit!r}")
    return out[["date", "pollster", "party", "value", "sample_size"]].reset_index(drop=True)


def always_below(polls: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """Parties that every seats poll (up to `as_of`) shows with 0 seats: party, polls, published (how many of
    those polls published a percentage for it), low, high (the lowest and highest such percentage; NaN when
    none was published)."""
    when = _day(as_of) or polls["date"].max()
    use = polls[(polls["date"] <= when) & ~polls["partial"] & (polls["kind"] == "seats")]
    rows = []
    for party, g in use.groupby("party", sort=False):
        if (g["seats"] == 0).all():
            pub = g["share_if_below"].dropna()
            rows.append({"party": party, "polls": len(g), "published": len(pub),
                         "low": float(pub.min()) if len(pub) else np.nan,
                         "high": float(pub.max()) if len(pub) else np.nan})
    return pd.DataFrame(rows, columns=["party", "polls", "published", "low", "high"])


def trend(polls: pd.DataFrame, *, unit: str = "share", threshold: float = 0.0,
          half_life_days: float = DEFAULT_HALF_LIFE_DAYS, default_sample_size: int = DEFAULT_SAMPLE_SIZE,
          house_seats: int = HOUSE_SEATS, parties=None, as_of=None) -> pd.DataFrame:
    """Each party's running average at every poll date (up to `as_of`), in the poll's own unit.

    `unit` 'seats' averages the published seats; 'share' the shares of :func:`poll_shares`. The average on a
    day uses the polls published by then, weighted as in the poll of polls. ``low``/``high`` are the average
    -/+ 1.645 times the weighted spread of those polls around it: where about 90% of recent polls fall.
    Merged columns and partial polls are left out. Columns: date, party, value, low, high, polls."""
    per = poll_points(polls, unit=unit, threshold=threshold, house_seats=house_seats, as_of=as_of)
    if per.empty:
        return pd.DataFrame(columns=["date", "party", "value", "low", "high", "polls"])
    days = np.array(sorted(per["date"].unique()))
    at = _epoch_days(days)
    codes, names = pd.factorize(per["party"], sort=False)
    totals = _day_totals(codes, _epoch_days(per["date"]),
                         per["sample_size"].fillna(default_sample_size).to_numpy(dtype=float),
                         per["value"].to_numpy(dtype=float))
    out = []
    for code, party in enumerate(names):
        if parties is not None and party not in parties:
            continue
        part = totals.of(code)
        mean, spread = _kernel_average(totals, part, at, half_life_days, True)
        # polls published by each day: the running count over the party's poll days
        count = np.r_[0, np.cumsum(totals.polls[part])][np.searchsorted(totals.day[part], at, side="right")]
        ok = count > 0
        out.append(pd.DataFrame({"date": days[ok], "party": party, "value": mean[ok],
                                 "low": np.maximum(mean - 1.645 * spread, 0.0)[ok],
                                 "high": (mean + 1.645 * spread)[ok], "polls": count[ok]}))
    return pd.concat(out, ignore_index=True)


def house_effects(polls: pd.DataFrame, *, threshold: float, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                  default_sample_size: int = DEFAULT_SAMPLE_SIZE, house_seats: int = HOUSE_SEATS,
                  as_of=None) -> pd.DataFrame:
    """Pollster house effects in points of share (see the module docstring), long: pollster, party,
    house_effect (points; + means the pollster shows the party higher than the others do), polls (how many
    of the pollster's polls list the party). Merged columns and partial polls are left out; polls after
    `as_of` are not used."""
    when = _day(as_of) or polls["date"].max()
    use = polls[(polls["date"] <= when) & ~polls["partial"] & ~polls["flag_merged"]]
    per = poll_shares(use, threshold, house_seats)
    per = per[per["share"].notna()]  # a censored 0 has no point value
    if per.empty:
        return pd.DataFrame(columns=["pollster", "party", "house_effect", "polls"])
    codes, names = pd.factorize(per["party"], sort=False)
    order = np.argsort(codes, kind="stable")  # party by party, in order of appearance
    codes = codes[order]
    t = _epoch_days(per["date"])[order]
    v = per["share"].to_numpy(dtype=float)[order]
    totals = _day_totals(codes, t, per["sample_size"].fillna(default_sample_size).to_numpy(dtype=float)[order], v)
    centre = np.empty(len(v))
    for code in range(len(names)):
        part = totals.of(code)
        rows = slice(*np.searchsorted(codes, [code, code + 1]))
        days = totals.day[part]
        mean, _ = _kernel_average(totals, part, days, half_life_days, False)
        centre[rows] = mean[np.searchsorted(days, t[rows])]
    res = pd.DataFrame({"pollster": per["pollster"].to_numpy()[order], "party": names[codes],
                        "residual": v - centre})
    out = res.groupby(["pollster", "party"], sort=False)["residual"].agg(["mean", "size"]).reset_index()
    return out.rename(columns={"mean": "house_effect", "size": "polls"})


def final_week_rows(polls: pd.DataFrame, as_of, days: int = 7) -> pd.DataFrame:
    """The rows of the complete seats polls published in the `days` days up to `as_of` (default: the latest
    poll's date), one per poll and party as the polls file gives them. Raises DataError when there is none."""
    when = _day(as_of) or polls["date"].max()
    start = when - pd.Timedelta(days=days - 1)
    use = polls[(polls["date"] <= when) & (polls["date"] >= start) & ~polls["partial"]
                & (polls["kind"] == "seats")]
    if use.empty:
        raise DataError(f"no seats poll in {polls.attrs.get('path', 'the polls file')} was published in the "
                        f"{days} days up to {when.date().isoformat()}.")
    return use


def final_week(polls: pd.DataFrame, as_of, days: int = 7,
               merges: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """The plain average of the seats published in the `days` days up to `as_of` (complete polls only):
    party, seats (mean of the published seats over the polls that list the party), polls. A merged column
    is split between its members in proportion to the members' averages in the same polls."""
    use = final_week_rows(polls, as_of, days)
    values = pd.DataFrame({"poll_id": use["poll_id"], "party": use["party"],
                           "share": use["seats"].astype(float), "weight": 1.0})
    merges = {k: v for k, v in (merges or {}).items() if k in set(values["party"])}
    values, _ = _split_merges(values, merges)
    g = values.groupby("party", sort=False)
    out = pd.DataFrame({"seats": g["share"].mean().astype(float), "polls": g["poll_id"].nunique()})
    out.index.name = "party"
    return out.sort_values("seats", ascending=False, kind="stable").reset_index()
