"""The race simulated: plans (withdrawals and transfers), seeded draws of both rounds, and their tables."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.models.primaries.rules import check_threshold
from helpers.models.simulate import dirichlet

#: Sample size used when a poll gives none (comparable to the 550 of the February 2007 Haaretz-Dialog poll of
#: Labor members, the only member poll in the data that publishes one). Sampling error only: how far member
#: polls have missed beyond it is the separate :class:`MarginBias`.
DEFAULT_SAMPLE_SIZE = 500
#: Dirichlet concentration of transfer rates: a rate of 50% then has a standard deviation of about 7 points.
DEFAULT_CONCENTRATION = 50.0


@dataclass(frozen=True)
class Plan:
    """A plan for the race (withdrawals before round one, transfers in round two).

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


def plans_from_frame(frame: pd.DataFrame) -> list[Plan]:
    """Plans from a transfers table (:func:`helpers.data.primaries.load_transfers`): columns
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
        out.append(Plan(name=str(name), title=str(rows["title"].iloc[0]), withdrawals=withdrawals,
                            transfers=transfers))
    return out


@dataclass(frozen=True)
class MarginBias:
    """A systematic poll error on the margin between two candidates, with its own uncertainty.

    In every simulated contest a bias is drawn from Normal(`mean`, `sd`) (points of the `a` minus `b` margin,
    percent of the valid votes) and added to that contest's poll-plus-sampling shares: `a` gains half of it
    and `b` loses half, so their combined share and everyone else's stay as drawn. A draw that would push one
    of them below 0 gives that one 0 and the other their combined share (the bias cannot create votes).
    ``mean`` is the polls' average miss (real minus poll), so a positive mean moves the margin towards `a`."""

    a: str
    b: str
    mean: float
    sd: float = 0.0

    def __post_init__(self):
        if self.a == self.b:
            raise ValueError("a margin bias needs two different candidates")
        if not (math.isfinite(self.mean) and math.isfinite(self.sd) and self.sd >= 0):
            raise ValueError(f"a margin bias needs a finite mean and a standard deviation >= 0; got "
                             f"{self.mean!r}, {self.sd!r}")

    def label(self) -> str:
        return f"{self.a} - {self.b} margin {self.mean:+.1f} points (SD {self.sd:.1f})"


def shift_margin(s: np.ndarray, i: int, j: int, points: np.ndarray | float) -> np.ndarray:
    """Shares (draws x candidates, rows sum to 1) with `points` (percent; one per draw, or one for all) of
    margin moved from candidate `j` to candidate `i`: i gains half, j loses half, clipped so neither goes below
    0 (their sum is kept). Returns a new array."""
    out = np.array(s, dtype=float, copy=True)
    pair = out[:, i] + out[:, j]
    margin = out[:, i] - out[:, j] + np.asarray(points, dtype=float) / 100
    margin = np.clip(margin, -pair, pair)
    out[:, i] = (pair + margin) / 2
    out[:, j] = (pair - margin) / 2
    return out


@dataclass
class SimulationResult:
    """Probabilities from :func:`simulate_race` (each divides by ``draws``, the number of simulated contests).

    ``p_win``, ``p_outright`` (won in round one), ``p_runoff_win``, ``p_in_runoff``: per candidate (every
    candidate of the input, withdrawn ones at 0). ``matchups``: runoff pair -> probability (their sum is
    ``p_runoff``). ``first_round``: mean round-one share (percent of valid votes) of each candidate standing.
    """

    plan: Plan
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
            "scenario": self.plan.name,
            "candidate": self.candidates,
            "standing": [c in self.standing for c in self.candidates],
            "first_round": [self.first_round.get(c, 0.0) for c in self.candidates],
            "p_win": [self.p_win[c] for c in self.candidates],
            "p_outright": [self.p_outright[c] for c in self.candidates],
            "p_runoff_win": [self.p_runoff_win[c] for c in self.candidates],
            "p_in_runoff": [self.p_in_runoff[c] for c in self.candidates],
        })


def _generators(seed, count: int) -> list[np.random.Generator]:
    """Independent streams for round one and for each candidate's transfer row, so that scenarios run with the
    same seed share their round-one draws exactly (common random numbers)."""
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(count))
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [np.random.default_rng(s) for s in ss.spawn(count)]


#: Most Dirichlet draws :func:`_remembered` keeps, and the most numbers (draws x entries) it keeps of one: at
#: most 32 x 8 x 120,000 bytes, about 31 MB; bigger draws are made every time.
_REMEMBERED = 32
_REMEMBER_NUMBERS = 120_000


@functools.lru_cache(maxsize=_REMEMBERED)
def _remembered(seed: int, count: int, stream: int, alpha: bytes, draws: int) -> np.ndarray:
    """``dirichlet(rng, alpha, draws)`` with ``rng`` the fresh generator of stream `stream` of
    ``_generators(seed, count)``, kept read-only. The key is everything the draws depend on: the seed number,
    how many streams it was split into, which stream, the Dirichlet parameters (float64 bytes) and the count."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(count)[stream])
    out = dirichlet(rng, np.frombuffer(alpha, dtype=np.float64), draws)
    out.flags.writeable = False
    return out


def _sampler(seed, count: int) -> Callable[[int, np.random.Generator, np.ndarray, int], np.ndarray]:
    """How :func:`simulate_race` draws: ``sample(stream, rng, alpha, draws)`` is ``dirichlet(rng, alpha,
    draws)`` for ``rng``, stream `stream` of ``_generators(seed, count)``, which the race uses for that one
    draw only (round one, or one candidate's transfer row).

    With a seed number those draws are a function of (seed, count, stream, alpha, draws), and a report asks
    for the same ones again and again: every plan of a comparison shares its round-one draws (common random
    numbers), and the sensitivity sweep runs every plan at every swept share, each plan with the same transfer
    rows. So they are remembered per process (:func:`_remembered`) and each call gets its own writable copy
    (the race changes round-one shares in place). A Generator or SeedSequence seed carries state of its own:
    its draws are made every time."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        return lambda stream, rng, alpha, draws: dirichlet(rng, alpha, draws)

    def sample(stream: int, rng: np.random.Generator, alpha, draws: int) -> np.ndarray:
        alpha = np.ascontiguousarray(alpha, dtype=np.float64)
        if alpha.ndim != 1 or draws * alpha.size > _REMEMBER_NUMBERS:
            return dirichlet(rng, alpha, draws)
        return _remembered(int(seed), count, stream, alpha.tobytes(), int(draws)).copy()

    return sample


def draw_first_round(shares: Mapping[str, float], sample_size: float, draws: int,
                     rng: np.random.Generator, *, sample=None) -> np.ndarray:
    """Round-one shares (draws x candidates, rows sum to 1): a Dirichlet posterior with each candidate's
    respondents (share x sample_size) + 1/2. Shares are renormalised first (undecided split like the
    decided). A sample size of ``inf`` fixes the shares. `sample`: a function (rng, alpha, draws) drawing the
    Dirichlet (default :func:`helpers.models.simulate.dirichlet`)."""
    p = np.array([float(shares[c]) for c in shares], dtype=float)
    if (p < 0).any() or not np.isfinite(p).all() or p.sum() <= 0:
        raise ValueError("first-round shares must be numbers >= 0, not all zero")
    p = p / p.sum()
    if math.isinf(sample_size):
        return np.tile(p, (draws, 1))
    if not sample_size > 0:
        raise ValueError(f"the sample size must be > 0; got {sample_size!r}")
    return (sample or dirichlet)(rng, p * sample_size + 0.5, draws)


def simulate_race(shares: Mapping[str, float], plan: Plan | None = None, *,
                  sample_size: float | None = None, threshold: float = 40.0, inclusive: bool = False,
                  invalid: float = 0.0, draws: int = 20_000, seed: int | np.random.Generator = 0,
                  concentration: float | None = DEFAULT_CONCENTRATION,
                  bias: MarginBias | None = None) -> SimulationResult:
    """Simulate a two-round contest `draws` times.

    `shares`: candidate -> first-round share (percent; a poll, or votes — any positive scale). `sample_size`:
    the poll's respondents or a stated effective size (None: :data:`DEFAULT_SAMPLE_SIZE`; ``math.inf``: no
    sampling error). `invalid`: percent of ballots that are not votes for a candidate, used only to measure
    the threshold on ballots cast (0: on valid votes). `concentration`: Dirichlet concentration of every
    transfer row around the scenario's rates (None: rates exactly as given). `bias`: a systematic poll error
    (:class:`MarginBias`) drawn once per simulated contest on top of the sampling error (None: none; ignored
    when its two candidates are not both in `shares`).

    Each draw: round-one shares from the poll (sampling error), then the drawn poll bias; withdrawals applied
    (their voters move or stay home; shares are renormalised); the leader wins if over the threshold;
    otherwise the top two meet and each finalist gets the votes of :func:`runoff_votes` with that draw's
    transfer rates. Exact ties (probability zero with
    sampling error) go to the candidate listed first in round one and to the round-one leader in round two.
    The same seed gives the same numbers; scenarios run with the same seed share their round-one draws.
    """
    plan = plan or Plan("baseline")
    names = list(shares)
    k = len(names)
    if k == 0:
        raise ValueError("there are no candidates")
    if len(set(names)) != k:
        raise ValueError("a candidate appears twice")
    plan.check(names)
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

    gens = _generators(seed, k + 2)
    sample = _sampler(seed, k + 2)
    s = draw_first_round(shares, sample_size, draws, gens[0],
                         sample=lambda rng, alpha, n: sample(0, rng, alpha, n))
    if bias is not None and bias.a in index and bias.b in index:
        # its own stream (the last), so runs with and without a bias share their sampling and transfer draws
        points = bias.mean + bias.sd * gens[k + 1].standard_normal(draws)
        s = shift_margin(s, index[bias.a], index[bias.b], points)

    # Withdrawals before round one: the withdrawn candidate's share moves (or is lost); renormalise.
    standing = np.ones(k, dtype=bool)
    for w, row in plan.withdrawals.items():
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
        row = dict(plan.transfers.get(c, {}))
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
            trans[:, i, :] = sample(1 + i, gens[1 + i], mean * concentration, draws)

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
        plan=plan, draws=int(draws), candidates=names,
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
    """The tables of several :func:`simulate_race` results, one under the other, with each scenario's ``title``
    and ``p_runoff`` added."""
    frames = []
    for res in results:
        t = res.table()
        t.insert(1, "title", res.plan.title or res.plan.name)
        t["p_runoff"] = res.p_runoff
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def compare(shares: Mapping[str, float], plans: Sequence[Plan], **kwargs) -> pd.DataFrame:
    """:func:`simulate_race` for each scenario with the same settings and seed, :func:`stack`-ed."""
    return stack([simulate_race(shares, sc, **kwargs) for sc in plans])


def matchups(results: Sequence[SimulationResult]) -> pd.DataFrame:
    """Runoff pairs per scenario: columns ``title``, ``runoff`` ("A vs B"), ``probability`` (share 0-1).
    Empty when no scenario ever goes to a runoff."""
    rows = [{"title": r.plan.title or r.plan.name, "runoff": f"{a} vs {b}", "probability": p}
            for r in results for (a, b), p in r.matchups.items()]
    return pd.DataFrame(rows, columns=["title", "runoff", "probability"])


def outputs(results: Sequence[SimulationResult], follow: str) -> dict[str, float]:
    """Key numbers for the report's record: ``p_<surname>_<scenario>`` (P(follow wins)) and
    ``p_runoff_<scenario>``, rounded to 4 decimals."""
    key = follow.split()[-1].casefold() if follow.split() else "follow"
    out = {}
    for r in results:
        out[f"p_{key}_{r.plan.name}"] = round(r.p_win[follow], 4)
    for r in results:
        out[f"p_runoff_{r.plan.name}"] = round(r.p_runoff, 4)
    return out


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


def sweep(shares: Mapping[str, float], plans: Sequence[Plan], candidate: str,
          values: Sequence[float], follow: str, **kwargs) -> pd.DataFrame:
    """P(`follow` wins) under each scenario as `candidate`'s first-round share takes each of `values`
    (percent; the others keep their proportions, :func:`rescale`). Columns: share, scenario, title, p_win,
    p_runoff."""
    rows = []
    for v in values:
        sh = rescale(shares, candidate, v)
        for sc in plans:
            res = simulate_race(sh, sc, **kwargs)
            rows.append({"share": float(v), "scenario": sc.name, "title": sc.title or sc.name,
                         "p_win": res.p_win[follow], "p_runoff": res.p_runoff})
    return pd.DataFrame(rows)


def margin_shift(shares: Mapping[str, float], plan: Plan, follow: str, rival: str) -> float:
    """Points of first-round margin (rival minus follow, percent of valid votes before renormalising) that
    the plan's withdrawals move towards `rival`: sum of withdrawn share x (rate to rival - rate to
    follow)."""
    total = sum(float(v) for v in shares.values())
    shift = 0.0
    for w, row in plan.withdrawals.items():
        shift += 100 * float(shares[w]) / total * (row.get(rival, 0.0) - row.get(follow, 0.0))
    return shift


def vary_plan(plan: Plan, source: str, toward: str, share: float) -> Plan:
    """`plan` with `source`'s voters going to `toward` at `share` (0-1) in every row of the plan that moves
    `source`'s voters (withdrawal and transfer rows). The row's other targets keep their proportions and the
    row's total (the share who vote) is kept; `share` above that total is cut to it. Rows of other sources
    are unchanged; a row without `toward` is unchanged."""
    if not 0 <= share <= 1:
        raise ValueError(f"a share must be between 0 and 1; got {share!r}")

    def change(table):
        out = {s: dict(r) for s, r in table.items()}
        row = out.get(source)
        if row is None or toward not in row:
            return out
        total = sum(v for t, v in row.items() if t != source)
        rest = {t: v for t, v in row.items() if t not in (toward, source)}
        new = min(share, total)
        left = total - new
        rest_total = sum(rest.values())
        for t, v in rest.items():
            row[t] = left * v / rest_total if rest_total > 0 else left / len(rest)
        row[toward] = new
        return out

    return Plan(name=plan.name, title=plan.title, withdrawals=change(plan.withdrawals),
                transfers=change(plan.transfers))
