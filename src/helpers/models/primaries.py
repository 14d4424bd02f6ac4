"""Two-round leadership primaries: the first-round rule, runoffs, withdrawals, vote transfers, simulation.

Pure model: no I/O, no plotting. Units: *percent* (0-100) for published shares and thresholds, *share*
(0-1) for fractions of a candidate's voters (transfer rates), *votes* for counts.

The contest rule (Labor's, and the default): a candidate whose first-round share is over the threshold
(40 percent) wins outright; otherwise the two leading candidates meet in a runoff. Sources disagree on two
points, so both are parameters:

* ``inclusive`` — whether exactly the threshold is enough (``>=``) or the share must be over it (``>``);
* the denominator — the votes for candidates (valid votes, the default) or every ballot cast (``ballots``,
  which also counts blank, invalid and "none of the above" ballots).

Comparisons are exact (integers and fractions), so 40 of 100 votes is exactly 40 percent.

Stated rules for the corner cases (they are rare in real contests but a count must never be silently decided):

* Several candidates over the threshold: the one with the most votes wins.
* The most votes shared by two or more candidates: nobody wins outright, even over the threshold; they meet in
  the runoff.
* A tie for a runoff place (second place shared, or first place shared by three or more): the runoff cannot
  be named from the count. The outcome is ``"runoff"``; ``runoff`` lists the leader and *every* candidate tied
  for the last place, and ``tie`` names the tied candidates, so the caller reports it instead of guessing.
* A single candidate wins whatever the threshold: there is nobody to meet in a runoff.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

#: Target name for voters who vote in round one but not in round two (or, for a withdrawal, not at all).
STAY_HOME = "(stayed home)"
#: Source name, in flows, for round-two voters beyond everyone who came back (net new voters).
NEW_VOTERS = "(new voters, net)"
#: Effective sample size used when a poll gives none (comparable to the 550 of the 2007 Haaretz-Dialog poll).
DEFAULT_SAMPLE_SIZE = 500
#: Dirichlet concentration of transfer rates: a rate of 50% then has a standard deviation of about 7 points.
DEFAULT_CONCENTRATION = 50.0


# ---------------------------------------------------------------------------------------------------------
# The first round, exactly
# ---------------------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------------------
# Round two, deterministically: transfers and their calibration on real runoffs
# ---------------------------------------------------------------------------------------------------------

def _retention_of(retention: float | Mapping[str, float], name: str) -> float:
    if isinstance(retention, Mapping):
        return float(retention.get(name, 1.0))
    return float(retention)


def runoff_votes(round1: Mapping[str, float], finalists: Sequence[str],
                 transfers: Mapping[str, Mapping[str, float]] | None = None,
                 retention: float | Mapping[str, float] = 1.0) -> dict[str, float]:
    """Expected round-two votes of each finalist, and of :data:`STAY_HOME`.

    A finalist keeps `retention` (share 0-1, default 1) of its round-one voters. An eliminated candidate's
    voters go to each finalist at the rates in ``transfers[eliminated]`` (shares 0-1; what is left over stays
    home). A rate towards another eliminated candidate (a second choice who is out too) is spread over the
    finalists and home in proportion. An eliminated candidate without a row splits evenly between the
    finalists. Rates adding up to more than 1 are taken as given (the group brought net new voters; the
    stay-home count is then negative)."""
    f1, f2 = finalists
    transfers = transfers or {}
    out = {f1: 0.0, f2: 0.0, STAY_HOME: 0.0}
    for name, v in round1.items():
        if name in (f1, f2):
            r = _retention_of(retention, name)
            out[name] += r * v
            out[STAY_HOME] += (1 - r) * v
            continue
        row = transfers.get(name)
        if row is None:
            a = b = 0.5
        else:
            a, b = float(row.get(f1, 0.0)), float(row.get(f2, 0.0))
            elsewhere = sum(float(x) for t, x in row.items() if t not in (f1, f2, name))
            if 0 < elsewhere < 1:
                a, b = a / (1 - elsewhere), b / (1 - elsewhere)
            elif elsewhere >= 1:
                a = b = 0.5
        out[f1] += a * v
        out[f2] += b * v
        out[STAY_HOME] += (1 - a - b) * v
    return out


@dataclass
class Calibration:
    """Transfer rates that reproduce a real runoff (see :func:`calibrate`).

    ``rates`` maps each round-one group (a candidate, or the pooled ``free`` group named ``label``) to
    ``{finalist: share, STAY_HOME: share}``; a negative stay-home share means the runoff had more voters than
    came from that group (net new voters). ``flows`` has one row per (source, target, votes)."""

    finalists: tuple[str, str]
    rates: dict[str, dict[str, float]]
    free: list[str]
    label: str
    retention: dict[str, float]
    round1: dict[str, int]
    round2: dict[str, int]
    flows: pd.DataFrame = field(repr=False, default=None)

    def reproduced(self) -> dict[str, float]:
        """Round-two votes (and stay-home) the calibrated rates give back through :func:`runoff_votes`; equal
        to the real counts up to float rounding."""
        transfers = {}
        for group, row in self.rates.items():
            members = self.free if group == self.label else [group]
            for m in members:
                transfers[m] = {k: v for k, v in row.items() if k != STAY_HOME}
        return runoff_votes(self.round1, self.finalists, transfers, self.retention)

    def table(self) -> pd.DataFrame:
        """One row per round-one group: its votes and the share of them going to each finalist / home."""
        rows = []
        for group, row in self.rates.items():
            members = self.free if group == self.label else [group]
            rows.append({"group": group, "votes": sum(self.round1[m] for m in members),
                         **{k: 100 * v for k, v in row.items()}})
        return pd.DataFrame(rows)


def calibrate(round1: Mapping[str, int], round2: Mapping[str, int], *,
              fixed: Mapping[str, Mapping[str, float]] | None = None,
              retention: float | Mapping[str, float] = 1.0, label: str | None = None) -> Calibration:
    """Solve for the transfer rates that turn a real first round into the real runoff.

    The finalists are the candidates of `round2` (exactly two, both in `round1`); they keep `retention` of
    their own round-one voters. The eliminated candidates named in `fixed` send their voters at the given
    rates (shares 0-1 to each finalist; the rest stays home). All other eliminated candidates form one pooled
    group (named `label`, default their names joined by " + ") whose rates are solved exactly so that each
    finalist's runoff count is reproduced; whatever is left over is the group's stay-home share (negative when
    the runoff drew more voters than it lost, i.e. net new voters). Two equations, two unknowns: with more
    than one free group the answer is not identified, hence the pooling.

    Accounts for turnout change: it is whatever the counts imply after the stated retention."""
    fixed = dict(fixed or {})
    finalists = tuple(round2)
    if len(finalists) != 2:
        raise ValueError(f"a runoff has two finalists; got {len(finalists)}")
    for f in finalists:
        if f not in round1:
            raise ValueError(f"finalist {f!r} is not in the first round")
    eliminated = [c for c in round1 if c not in finalists]
    for name in fixed:
        if name not in eliminated:
            raise ValueError(f"{name!r} is not an eliminated candidate")
    free = [c for c in eliminated if c not in fixed]
    if not free:
        raise ValueError("every eliminated candidate has fixed rates; nothing is left to solve")
    label = label or " + ".join(free)
    pool = sum(round1[c] for c in free)
    if pool <= 0:
        raise ValueError("the free group has no votes; its rates cannot be solved")
    fixed_rows = {n: {f: float(r.get(f, 0.0)) for f in finalists} for n, r in fixed.items()}
    base = runoff_votes({k: v for k, v in round1.items() if k not in free}, finalists, fixed_rows, retention)
    rates_free = {f: (round2[f] - base[f]) / pool for f in finalists}
    rates_free[STAY_HOME] = 1.0 - sum(rates_free.values())
    rates = {}
    for n, r in fixed_rows.items():
        rates[n] = {**r, STAY_HOME: 1.0 - sum(r.values())}
    rates[label] = rates_free
    ret = {f: _retention_of(retention, f) for f in finalists}
    cal = Calibration(finalists=finalists, rates=rates, free=free, label=label, retention=ret,
                      round1=dict(round1), round2=dict(round2))
    cal.flows = calibration_flows(cal)
    return cal


def calibration_flows(cal: Calibration) -> pd.DataFrame:
    """Flows of votes from round one to round two: columns ``source``, ``target``, ``votes``.

    Sources are round-one candidates (the pooled group split back into its members in proportion to their
    votes) and, when the runoff drew more voters than returned, :data:`NEW_VOTERS`; targets are the two
    finalists and :data:`STAY_HOME`. Per finalist the flows add up to its real runoff count."""
    rows = []
    f1, f2 = cal.finalists
    new_to = {f1: 0.0, f2: 0.0}
    for name, v in cal.round1.items():
        if name in cal.finalists:
            r = cal.retention[name]
            rows.append((name, name, r * v))
            rows.append((name, STAY_HOME, (1 - r) * v))
            continue
        row = cal.rates[cal.label] if name in cal.free else cal.rates[name]
        a, b = row[f1], row[f2]
        home = 1.0 - a - b
        if home < 0:  # more runoff votes than this group had: the surplus are net new voters
            scale = 1.0 / (a + b)
            for f, x in ((f1, a), (f2, b)):
                new_to[f] += x * v - x * scale * v
            a, b, home = a * scale, b * scale, 0.0
        rows += [(name, f1, a * v), (name, f2, b * v), (name, STAY_HOME, home * v)]
    for f, x in new_to.items():
        if x > 0:
            rows.append((NEW_VOTERS, f, x))
    flows = pd.DataFrame(rows, columns=["source", "target", "votes"])
    return flows[flows["votes"] > 0].reset_index(drop=True)


def calibration_family(round1: Mapping[str, int], round2: Mapping[str, int], vary: Iterable[str],
                       values: Sequence[float], *, towards: str, stay_home: float = 0.0,
                       retention: float | Mapping[str, float] = 1.0) -> pd.DataFrame:
    """The rates the free group needs for each assumption about the `vary` group.

    For each x in `values` (share 0-1), the candidates in `vary` send x of their voters who vote to the
    finalist `towards` and the rest to the other finalist, with `stay_home` (share) of them not voting; the
    remaining eliminated candidates are solved as one group (:func:`calibrate`). Returns one row per x:
    ``assumed`` (percent), ``<finalist>`` and ``STAY_HOME`` columns (percent of the free group's voters) and
    ``feasible`` (both solved rates to the finalists between 0 and 100; a negative stay-home share is allowed:
    net new voters)."""
    vary = list(vary)
    finalists = list(round2)
    if towards not in finalists:
        raise ValueError(f"{towards!r} is not a finalist")
    other = finalists[1] if finalists[0] == towards else finalists[0]
    rows = []
    for x in values:
        fixed = {n: {towards: x * (1 - stay_home), other: (1 - x) * (1 - stay_home)} for n in vary}
        cal = calibrate(round1, round2, fixed=fixed, retention=retention)
        r = cal.rates[cal.label]
        pct = {k: 100 * v for k, v in r.items()}
        rows.append({"assumed": 100 * x, **pct,
                     "feasible": all(-1e-9 <= pct[f] <= 100 + 1e-9 for f in finalists)})
    return pd.DataFrame(rows)


def check_reproduction(cal: Calibration) -> pd.DataFrame:
    """The real runoff count beside what the calibrated rates give back: columns ``finalist``, ``real``
    (votes), ``reproduced`` (votes) and ``difference``."""
    back = cal.reproduced()
    return pd.DataFrame([{"finalist": f, "real": int(cal.round2[f]), "reproduced": back[f],
                          "difference": back[f] - cal.round2[f]} for f in cal.finalists])


def family_at(family: pd.DataFrame, column: str, assumed: float) -> float:
    """A :func:`calibration_family` column (percent) at an assumption (percent), interpolated linearly."""
    return float(np.interp(assumed, family["assumed"], family[column]))


def family_solve(family: pd.DataFrame, column: str, level: float) -> float | None:
    """The assumption (percent) at which a :func:`calibration_family` column reaches `level` (percent); the
    family is linear in the assumption, so the answer is exact up to float rounding. None if never."""
    x, y = family["assumed"].to_numpy(float), family[column].to_numpy(float)
    if len(x) < 2 or y[-1] == y[0]:
        return None
    slope = (y[-1] - y[0]) / (x[-1] - x[0])
    at = x[0] + (level - y[0]) / slope
    return float(at) if x.min() - 1e-9 <= at <= x.max() + 1e-9 else None


# ---------------------------------------------------------------------------------------------------------
# Scenarios and simulation
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """A plan for the race.

    ``withdrawals``: candidate -> {candidate: share 0-1} — withdraws before round one; the given shares of
    their voters vote for those candidates in round one, the rest stay home.
    ``transfers``: candidate -> {candidate: share 0-1} — if eliminated after round one, the given shares of
    their voters vote for those finalists (see :func:`runoff_votes` for the rules); a row from a candidate to
    themself is the share of their own voters who come back if they are a finalist (turnout change;
    default 1). An endorsement is a change to a row.
    """

    name: str
    title: str = ""
    withdrawals: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    transfers: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def check(self, candidates: Sequence[str]) -> None:
        """ValueError when the scenario names someone not in `candidates` or has impossible rates."""
        known = set(candidates)
        for kind, table in (("withdrawal", self.withdrawals), ("transfer", self.transfers)):
            for source, row in table.items():
                if source not in known:
                    raise ValueError(f"scenario {self.name!r}: {kind} from {source!r}, who is not a "
                                     "candidate")
                total = 0.0
                for target, rate in row.items():
                    if target not in known:
                        raise ValueError(f"scenario {self.name!r}: {kind} to {target!r}, who is not a "
                                         "candidate")
                    if not 0 <= rate <= 1:
                        raise ValueError(f"scenario {self.name!r}: {kind} rate {rate!r} is not a share "
                                         "between 0 and 1")
                    total += rate
                if total > 1 + 1e-9:
                    raise ValueError(f"scenario {self.name!r}: {kind} rates from {source!r} add up to more "
                                     "than 100%")
        for source, row in self.withdrawals.items():
            if source in row:
                raise ValueError(f"scenario {self.name!r}: {source!r} withdraws in favour of themself")
            for target in row:
                if target in self.withdrawals:
                    raise ValueError(f"scenario {self.name!r}: {source!r} withdraws in favour of {target!r}, "
                                     "who also withdraws")
        if len(set(candidates) - set(self.withdrawals)) < 1:
            raise ValueError(f"scenario {self.name!r}: every candidate withdraws")


def scenarios_from_frame(frame: pd.DataFrame) -> list[Scenario]:
    """Scenarios from a transfers table (:func:`helpers.data.primaries.load_transfers`): columns
    ``scenario, title, step ('withdraw'|'transfer'), source, target, percent``. A row with an empty source
    only declares the scenario."""
    out = []
    for name, rows in frame.groupby("scenario", sort=False):
        withdrawals: dict[str, dict[str, float]] = {}
        transfers: dict[str, dict[str, float]] = {}
        for rec in rows.itertuples(index=False):
            if not rec.source:
                continue
            table = withdrawals if rec.step == "withdraw" else transfers
            table.setdefault(rec.source, {})[rec.target] = float(rec.percent) / 100
        out.append(Scenario(name=str(name), title=str(rows["title"].iloc[0]), withdrawals=withdrawals,
                            transfers=transfers))
    return out


@dataclass
class SimulationResult:
    """Probabilities from :func:`simulate` (each divides by ``draws``, the number of simulated contests).

    ``p_win``, ``p_outright`` (won in round one), ``p_runoff_win``, ``p_in_runoff``: per candidate (every
    candidate of the input, withdrawn ones at 0). ``matchups``: runoff pair -> probability (their sum is
    ``p_runoff``). ``first_round``: mean round-one share (percent of valid votes) of each candidate standing.
    """

    scenario: Scenario
    draws: int
    candidates: list[str]
    standing: list[str]
    p_outright_any: float
    p_runoff: float
    p_win: dict[str, float]
    p_outright: dict[str, float]
    p_runoff_win: dict[str, float]
    p_in_runoff: dict[str, float]
    matchups: dict[tuple[str, str], float]
    first_round: dict[str, float]
    outside_top_two: float = 0.0

    def table(self) -> pd.DataFrame:
        """One row per candidate: standing (False if withdrawn), first_round (mean share, percent), p_win,
        p_outright, p_runoff_win, p_in_runoff (shares 0-1)."""
        return pd.DataFrame({
            "scenario": self.scenario.name,
            "candidate": self.candidates,
            "standing": [c in self.standing for c in self.candidates],
            "first_round": [self.first_round.get(c, 0.0) for c in self.candidates],
            "p_win": [self.p_win[c] for c in self.candidates],
            "p_outright": [self.p_outright[c] for c in self.candidates],
            "p_runoff_win": [self.p_runoff_win[c] for c in self.candidates],
            "p_in_runoff": [self.p_in_runoff[c] for c in self.candidates],
        })


def _dirichlet(rng: np.random.Generator, alpha: np.ndarray, size: int) -> np.ndarray:
    """Dirichlet draws (size x len(alpha)) allowing zero entries (always drawn as 0)."""
    alpha = np.asarray(alpha, dtype=float)
    out = np.zeros((size, alpha.size))
    pos = alpha > 0
    if pos.any():
        g = rng.standard_gamma(alpha[pos], size=(size, int(pos.sum())))
        s = g.sum(axis=1, keepdims=True)
        s[s == 0] = 1.0
        out[:, pos] = g / s
    return out


def _generators(seed, count: int) -> list[np.random.Generator]:
    """Independent streams for round one and for each candidate's transfer row, so that scenarios run with the
    same seed share their round-one draws exactly (common random numbers)."""
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(count))
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [np.random.default_rng(s) for s in ss.spawn(count)]


def draw_first_round(shares: Mapping[str, float], sample_size: float, draws: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Round-one shares (draws x candidates, rows sum to 1): a Dirichlet posterior with each candidate's
    respondents (share x sample_size) + 1/2. Shares are renormalised first (undecided split like the
    decided). A sample size of ``inf`` fixes the shares."""
    p = np.array([float(shares[c]) for c in shares], dtype=float)
    if (p < 0).any() or not np.isfinite(p).all() or p.sum() <= 0:
        raise ValueError("first-round shares must be numbers >= 0, not all zero")
    p = p / p.sum()
    if math.isinf(sample_size):
        return np.tile(p, (draws, 1))
    if not sample_size > 0:
        raise ValueError(f"the sample size must be > 0; got {sample_size!r}")
    return _dirichlet(rng, p * sample_size + 0.5, draws)


def simulate(shares: Mapping[str, float], scenario: Scenario | None = None, *,
             sample_size: float | None = None, threshold: float = 40.0, inclusive: bool = False,
             invalid: float = 0.0, draws: int = 20_000, seed: int | np.random.Generator = 0,
             concentration: float | None = DEFAULT_CONCENTRATION) -> SimulationResult:
    """Simulate a two-round contest `draws` times.

    `shares`: candidate -> first-round share (percent; a poll, or votes — any positive scale). `sample_size`:
    the poll's respondents or a stated effective size (None: :data:`DEFAULT_SAMPLE_SIZE`; ``math.inf``: no
    sampling error). `invalid`: percent of ballots that are not votes for a candidate, used only to measure
    the threshold on ballots cast (0: on valid votes). `concentration`: Dirichlet concentration of every
    transfer row around the scenario's rates (None: rates exactly as given).

    Each draw: round-one shares from the poll; withdrawals applied (their voters move or stay home; shares are
    renormalised); the leader wins if over the threshold; otherwise the top two meet and each finalist gets
    the votes of :func:`runoff_votes` with that draw's transfer rates. Exact ties (probability zero with
    sampling error) go to the candidate listed first in round one and to the round-one leader in round two.
    The same seed gives the same numbers; scenarios run with the same seed share their round-one draws.
    """
    scenario = scenario or Scenario("baseline")
    names = list(shares)
    k = len(names)
    if k == 0:
        raise ValueError("there are no candidates")
    if len(set(names)) != k:
        raise ValueError("a candidate appears twice")
    scenario.check(names)
    t = float(check_threshold(threshold))
    if not 0 <= invalid < 100:
        raise ValueError(f"invalid ballots must be a percentage with 0 <= x < 100; got {invalid!r}")
    from helpers.core.limits import MAX_DRAWS

    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or not 1 <= draws <= MAX_DRAWS:
        raise ValueError(f"draws must be a whole number from 1 to {MAX_DRAWS:,}; got {draws!r}")
    if sample_size is None:
        sample_size = DEFAULT_SAMPLE_SIZE
    if concentration is not None and not concentration > 0:
        raise ValueError(f"the concentration must be > 0; got {concentration!r}")
    index = {c: i for i, c in enumerate(names)}

    gens = _generators(seed, k + 1)
    s = draw_first_round(shares, sample_size, draws, gens[0])

    # Withdrawals before round one: the withdrawn candidate's share moves (or is lost); renormalise.
    standing = np.ones(k, dtype=bool)
    for w, row in scenario.withdrawals.items():
        i = index[w]
        moved = s[:, i].copy()
        for target, rate in row.items():
            s[:, index[target]] += rate * moved
        s[:, i] = 0.0
        standing[i] = False
    s = s / s.sum(axis=1, keepdims=True)

    # Round one.
    measured = s * (1 - invalid / 100) * 100  # percent of the threshold's denominator
    # Withdrawn candidates sort below everyone standing, even a standing candidate with no votes.
    order = np.argsort(-np.where(standing, s, -1.0), axis=1, kind="stable")
    first, second = order[:, 0], order[:, 1] if k > 1 else order[:, 0]
    rows = np.arange(draws)
    lead = measured[rows, first]
    outright = lead >= t if inclusive else lead > t
    if k == 1 or standing.sum() == 1:
        outright[:] = True

    # Round two: transfer rows (draws x candidates x (candidates + home)), drawn per candidate.
    home = k
    trans = np.zeros((draws, k, k + 1))
    retention = np.ones(k)
    for c in names:
        i = index[c]
        row = dict(scenario.transfers.get(c, {}))
        if c in row:
            retention[i] = row.pop(c)
        mean = np.zeros(k + 1)
        if row:
            for target, rate in row.items():
                mean[index[target]] = rate
            mean[home] = max(0.0, 1.0 - mean[:k].sum())
        else:  # no stated transfer: an even split between whoever reaches the runoff
            mean[:k] = 1.0
            mean[i] = 0.0
            mean[home] = 0.0
            mean /= mean.sum() if mean.sum() > 0 else 1.0
        if concentration is None or not mean.any():
            trans[:, i, :] = mean
        else:
            trans[:, i, :] = _dirichlet(gens[1 + i], mean * concentration, draws)

    runoff = ~outright
    a = trans[rows, :, first]  # draws x candidates: share of each candidate's voters going to `first`
    b = trans[rows, :, second]
    h = trans[:, :, home]
    norm = a + b + h
    even = norm <= 0
    a = np.where(even, 0.5, a / np.where(even, 1.0, norm))
    b = np.where(even, 0.5, b / np.where(even, 1.0, norm))
    eliminated = np.ones((draws, k), dtype=bool)
    eliminated[rows, first] = False
    eliminated[rows, second] = False
    v1 = retention[first] * s[rows, first] + (s * a * eliminated).sum(axis=1)
    v2 = retention[second] * s[rows, second] + (s * b * eliminated).sum(axis=1)
    first_wins_runoff = v1 >= v2
    winner = np.where(outright | first_wins_runoff, first, second)

    p_win = np.bincount(winner, minlength=k) / draws
    p_out = np.bincount(first[outright], minlength=k) / draws
    p_in = (np.bincount(first[runoff], minlength=k) + np.bincount(second[runoff], minlength=k)) / draws
    matchups: dict[tuple[str, str], float] = {}
    if runoff.any():
        lo = np.minimum(first[runoff], second[runoff])
        hi = np.maximum(first[runoff], second[runoff])
        keys, counts = np.unique(lo * k + hi, return_counts=True)
        for key, n in sorted(zip(keys, counts, strict=True), key=lambda kv: -kv[1]):
            matchups[(names[int(key) // k], names[int(key) % k])] = n / draws
    return SimulationResult(
        scenario=scenario, draws=int(draws), candidates=names,
        standing=[c for c in names if standing[index[c]]],
        p_outright_any=float(outright.mean()), p_runoff=float(runoff.mean()),
        p_win={c: float(p_win[index[c]]) for c in names},
        p_outright={c: float(p_out[index[c]]) for c in names},
        p_runoff_win={c: float(p_win[index[c]] - p_out[index[c]]) for c in names},
        p_in_runoff={c: float(p_in[index[c]]) for c in names},
        matchups=matchups,
        first_round={c: float(100 * s[:, index[c]].mean()) for c in names if standing[index[c]]},
        outside_top_two=float(100 * (1 - s[rows, first] - s[rows, second]).mean()) if k > 1 else 0.0,
    )


def stack(results: Sequence[SimulationResult]) -> pd.DataFrame:
    """The tables of several :func:`simulate` results, one under the other, with each scenario's ``title``
    and ``p_runoff`` added."""
    frames = []
    for res in results:
        t = res.table()
        t.insert(1, "title", res.scenario.title or res.scenario.name)
        t["p_runoff"] = res.p_runoff
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def compare(shares: Mapping[str, float], scenarios: Sequence[Scenario], **kwargs) -> pd.DataFrame:
    """:func:`simulate` for each scenario with the same settings and seed, :func:`stack`-ed."""
    return stack([simulate(shares, sc, **kwargs) for sc in scenarios])


def matchups(results: Sequence[SimulationResult]) -> pd.DataFrame:
    """Runoff pairs per scenario: columns ``title``, ``runoff`` ("A vs B"), ``probability`` (share 0-1).
    Empty when no scenario ever goes to a runoff."""
    rows = [{"title": r.scenario.title or r.scenario.name, "runoff": f"{a} vs {b}", "probability": p}
            for r in results for (a, b), p in r.matchups.items()]
    return pd.DataFrame(rows, columns=["title", "runoff", "probability"])


def outputs(results: Sequence[SimulationResult], follow: str) -> dict[str, float]:
    """Key numbers for the report's record: ``p_<surname>_<scenario>`` (P(follow wins)) and
    ``p_runoff_<scenario>``, rounded to 4 decimals."""
    key = follow.split()[-1].casefold() if follow.split() else "follow"
    out = {}
    for r in results:
        out[f"p_{key}_{r.scenario.name}"] = round(r.p_win[follow], 4)
    for r in results:
        out[f"p_runoff_{r.scenario.name}"] = round(r.p_runoff, 4)
    return out


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


def gains(round1: Mapping[str, int], round2: Mapping[str, int]) -> dict[str, int]:
    """Votes each finalist gained (or lost) between the rounds."""
    return {f: int(round2[f]) - int(round1.get(f, 0)) for f in round2}


def share_in(votes: Mapping[str, float], name: str) -> float | None:
    """`name`'s share (percent) of `votes`, or None when `name` is not there."""
    if name not in votes:
        return None
    return 100 * float(votes[name]) / sum(float(v) for v in votes.values())


def rescale(shares: Mapping[str, float], candidate: str, value: float) -> dict[str, float]:
    """Shares (percent) with `candidate` set to `value` and everyone else scaled to fill the rest, keeping
    their proportions."""
    if candidate not in shares:
        raise ValueError(f"{candidate!r} is not a candidate")
    if not 0 <= value < 100:
        raise ValueError(f"a share must be between 0 and 100; got {value!r}")
    total = sum(float(v) for v in shares.values())
    others = total - float(shares[candidate])
    if others <= 0:
        raise ValueError("the other candidates have no share to rescale")
    return {c: (value if c == candidate else float(v) / others * (100 - value)) for c, v in shares.items()}


def sweep(shares: Mapping[str, float], scenarios: Sequence[Scenario], candidate: str,
          values: Sequence[float], follow: str, **kwargs) -> pd.DataFrame:
    """P(`follow` wins) under each scenario as `candidate`'s first-round share takes each of `values`
    (percent; the others keep their proportions, :func:`rescale`). Columns: share, scenario, title, p_win,
    p_runoff."""
    rows = []
    for v in values:
        sh = rescale(shares, candidate, v)
        for sc in scenarios:
            res = simulate(sh, sc, **kwargs)
            rows.append({"share": float(v), "scenario": sc.name, "title": sc.title or sc.name,
                         "p_win": res.p_win[follow], "p_runoff": res.p_runoff})
    return pd.DataFrame(rows)


def sweep_summary(frame: pd.DataFrame, follow: str, swept: str, gap: float = 0.02) -> list[str]:
    """Plain sentences about a :func:`sweep`: up to which share of `swept` the round-two-only scenarios give
    `follow` the same chance as the first scenario (within `gap`), and from which share they differ."""
    titles = list(dict.fromkeys(frame["title"]))
    if len(titles) < 2:
        return []
    base = frame[frame["title"] == titles[0]].set_index("share")["p_win"]
    out = []
    for t in titles[1:]:
        other = frame[frame["title"] == t].set_index("share")["p_win"]
        diff = (other - base).reindex(base.index)
        apart = diff[diff.abs() > gap]
        if apart.empty:
            out.append(f"{t}: within {100 * gap:.0f} points of {titles[0]} at every share of {swept} tried.")
            continue
        first = float(apart.index.min())
        at_max = float(diff.iloc[-1])
        out.append(f"{t}: differs from {titles[0]} by more than {100 * gap:.0f} points once {swept} has "
                   f"{first:g}% or more; at {float(diff.index[-1]):g}% it moves {follow}'s chance by "
                   f"{100 * at_max:+.1f} points.")
    return out


def runoff_floor(threshold: float = 40.0) -> float:
    """The smallest combined share (percent) of the candidates outside the top two for which a runoff is
    possible at all: 100 - 2 x threshold. Below it the leader always has over `threshold` percent (the top two
    share more than 2 x threshold, so the larger has more than threshold). With three candidates and a 40%
    threshold: a runoff needs the third to poll at least 20%."""
    return max(0.0, 100.0 - 2.0 * float(threshold))


# ---------------------------------------------------------------------------------------------------------
# How wrong are polls of party members? An effective sample size from real misses
# ---------------------------------------------------------------------------------------------------------

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
    for n in names:
        if n.casefold() == str(name).strip().casefold():
            return n
    raise ValueError(f"{name!r} is not one of the candidates ({', '.join(names)})")


# ---------------------------------------------------------------------------------------------------------
# Plain words
# ---------------------------------------------------------------------------------------------------------

def _rival(res: SimulationResult, follow: str) -> str | None:
    others = [c for c in res.standing if c != follow]
    return max(others, key=lambda c: res.first_round.get(c, 0.0)) if others else None


def margin_shift(shares: Mapping[str, float], scenario: Scenario, follow: str, rival: str) -> float:
    """Points of first-round margin (rival minus follow, percent of valid votes before renormalising) that
    the scenario's withdrawals move towards `rival`: sum of withdrawn share x (rate to rival - rate to
    follow)."""
    total = sum(float(v) for v in shares.values())
    shift = 0.0
    for w, row in scenario.withdrawals.items():
        shift += 100 * float(shares[w]) / total * (row.get(rival, 0.0) - row.get(follow, 0.0))
    return shift


def explain(results: Sequence[SimulationResult], shares: Mapping[str, float], follow: str,
            threshold: float = 40.0) -> list[str]:
    """Plain sentences (no markup) saying why the scenarios give `follow` different chances (or the same).

    Written from the numbers: the chance of a runoff in each scenario, the arithmetic that rules a runoff in
    or out (:func:`runoff_floor`), and how many points of first-round margin a withdrawal moves."""
    if not results:
        return []
    base = results[0]
    floor = runoff_floor(threshold)
    pct = lambda p: f"{100 * p:.1f}%"  # noqa: E731
    out = []
    rival = _rival(base, follow)
    chances = [f"{pct(r.p_win[follow])} under {r.scenario.title or r.scenario.name}" for r in results]
    out.append(f"{follow} wins with probability " + "; ".join(chances) + ".")
    out.append(
        f"A runoff happens only when nobody has over {threshold:g}% in round one, and that needs the "
        f"candidates outside the top two to hold at least {floor:g}% between them. In the first plan they "
        f"hold {base.outside_top_two:.1f}% on average, so a runoff happens in {pct(base.p_runoff)} of the "
        "simulated contests.")
    for res in results[1:]:
        sc = res.scenario
        name = sc.title or sc.name
        diff = res.p_win[follow] - base.p_win[follow]
        if sc.withdrawals:
            withdrawn = ", ".join(sc.withdrawals)
            shift = margin_shift(shares, sc, follow, rival) if rival else 0.0
            out.append(
                f"{name}: {withdrawn} leaves before round one, so their voters count in the round that "
                f"decides. They move {abs(shift):.1f} points of margin towards "
                f"{rival if shift >= 0 else follow}, and {follow}'s chance changes by {100 * diff:+.1f} "
                f"points (to {pct(res.p_win[follow])}).")
        elif res.p_runoff < 0.005:
            out.append(
                f"{name}: this changes only what happens in a second round, and there (almost) never is one, "
                f"so {follow}'s chance changes by {100 * diff:+.1f} points (it stays at "
                f"{pct(res.p_win[follow])}). A promise for round two is worth nothing when round one already "
                "decides.")
        else:
            out.append(
                f"{name}: this changes the second round, which happens in {pct(res.p_runoff)} of contests; "
                f"there the promised voters decide some runoffs, and {follow}'s chance changes by "
                f"{100 * diff:+.1f} points (to {pct(res.p_win[follow])}).")
    return out
