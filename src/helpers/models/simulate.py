"""Seeded Monte Carlo of election day: vote shares, the threshold, and seats.

Pure model over plain data (shares in percent, a sample size): no I/O, no plotting. Each draw is one possible
election:

1. **Sampling error.** Shares come from the Dirichlet posterior of a poll of ``sample_size`` respondents:
   party *k* with share ``p_k`` (percent) has ``alpha_k = p_k / 100 * sample_size + 1/2`` (its respondents
   plus half a respondent, Jeffreys' prior), drawn as normalised gamma variates. A residual ``others``
   (percent of valid votes for lists not in the polls) is one more component: it counts in the valid votes
   (so the threshold is tested against all of them) and never wins seats.
2. **Election-day error** (``error_model``, :mod:`helpers.models.uncertainty`): with the default
   ``historical`` model each list's variate is multiplied by ``exp(sd_k * t)`` (t a clipped Student-t, sd_k
   fitted on past elections and smaller for bigger lists); ``sampling`` adds none. ``poll_error`` P adds a
   fixed extra error: a log-normal factor with mean 1 and standard deviation P points for every list
   (:func:`extra_error_sd`). The draw is then scaled back to 100%: no share is ever negative, nothing is
   clipped at 0 or centred.
3. **Seats.** Each draw's shares become whole votes (out of 10^9, as
   :func:`helpers.models.seats.to_vote_counts` does) and go through :func:`helpers.models.seats.allocate_batch`: the
   threshold and the surplus agreements apply to every draw, never to average shares. A party *clears the
   threshold* in a draw when its votes reach it, compared exactly as the seat engine does.

Every list draws its random numbers from its own stream (:func:`list_streams`: the seed and the list's key), so
a what-if that merges or drops lists leaves every other list's numbers unchanged (common random numbers).
Draws run in chunks (``CHUNK`` at a time) so that 100,000 draws of 15 parties need a few tens of MB. Same
inputs and seed give the same numbers. Every probability divides by
the number of draws actually used (``Simulation.draws``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from helpers.core import limits as _limits
from helpers.core.errors import DataError
from helpers.models.uncertainty import model_for

#: Draws generated and allocated at a time (memory stays at a few MB per chunk).
CHUNK = 10_000
#: Whole votes each draw is scaled to before allocation (as helpers.models.seats.VOTE_SCALE).
VOTE_SCALE = 10**9
#: Most draws one simulation may ask for (the draws are kept: about 150 MB for 15 parties); helpers.core.limits.
MAX_DRAWS = _limits.MAX_DRAWS
#: Seat draws are stored in the smallest signed integer that holds helpers.core.limits.MAX_SEATS: no sum of seats
#: within the house can wrap.
SEAT_DTYPE = np.dtype(f"int{_limits.SEAT_DTYPE_BITS}")
assert np.iinfo(SEAT_DTYPE).max >= _limits.MAX_SEATS


@dataclass
class Simulation:
    """The draws and their summary.

    parties: keys, in column order. shares: (draws, parties) float, share 0-1 of valid votes. seats: (draws,
    parties) SEAT_DTYPE (int16: seats are at most helpers.core.limits.MAX_SEATS), or None when no seats were
    allocated (seats=0). passed: (draws, parties) bool, cleared the threshold. summary: one row per party
    (see :func:`summarise`)."""

    parties: list[str]
    shares: np.ndarray
    seats: np.ndarray | None
    passed: np.ndarray
    summary: pd.DataFrame
    threshold: float
    total_seats: int
    seed: int
    sample_size: float
    poll_error: float
    method: str | None = None
    agreements: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    error_model: object = None
    others: float = 0.0
    #: the threshold as given, an exact Fraction percent (`threshold` is its float, for display and arithmetic);
    #: None means the float is exact (a Simulation built by hand)
    threshold_exact: Fraction | None = None

    @property
    def draws(self) -> int:
        return int(self.shares.shape[0])

    def seats_frame(self) -> pd.DataFrame:
        """The seat draws as a DataFrame (one column per party), for coalition counting."""
        if self.seats is None:
            raise ValueError("this simulation allocated no seats (seats=0)")
        return pd.DataFrame(self.seats, columns=self.parties)

    def probability(self, mask: np.ndarray) -> float:
        """The share of draws where `mask` (one bool per draw) holds: count / draws used."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (self.draws,):
            raise ValueError(f"mask must have one value per draw ({self.draws})")
        return float(mask.sum()) / self.draws


def dirichlet_alpha(shares: Sequence[float], sample_size: float) -> np.ndarray:
    """Posterior Dirichlet parameters: each party's respondents (share% / 100 x sample_size) + 1/2."""
    p = np.asarray(shares, dtype=float)
    if p.ndim != 1 or p.size < 2:
        raise DataError("a simulation needs at least two parties with shares.")
    if not np.all(np.isfinite(p)) or (p < 0).any():
        raise DataError("shares must be finite percentages >= 0.")
    total = p.sum()
    if not total > 0:
        raise DataError("the shares sum to 0, so there is nothing to simulate.")
    if not (np.isfinite(sample_size) and sample_size > 0):
        raise DataError(f"the sample size must be above 0 (got {sample_size!r}).")
    return p / total * sample_size + 0.5


def dirichlet(rng: np.random.Generator, alpha, size: int) -> np.ndarray:
    """`size` draws (size x len(alpha), rows sum to 1) from Dirichlet(alpha), as normalised gamma variates.

    The one Dirichlet sampler of the models (the polls' simulation and the primaries' race). An entry with
    alpha 0 is always drawn as 0 and takes no random numbers; a row whose gammas are all 0 stays 0."""
    alpha = np.asarray(alpha, dtype=float)
    pos = alpha > 0
    every = bool(pos.all())
    used = alpha if every else alpha[pos]
    g = rng.standard_gamma(used, size=(size, used.size))
    s = g.sum(axis=1, keepdims=True)
    s[s == 0] = 1.0
    if every:
        return g / s
    out = np.zeros((size, alpha.size))
    out[:, pos] = g / s
    return out


#: The key of the residual for lists no poll lists (it counts in the valid votes, never wins seats).
OTHERS = "(others)"


def list_streams(seed: int, key: str) -> tuple[np.random.Generator, ...]:
    """The random streams of one list: three generators (sampling, election-day error, extra error) spawned from
    ``SeedSequence([seed, len, *utf-8 bytes of key])``, so a list's draws depend neither on which other lists
    run nor in what order (a what-if that merges two lists leaves every other list's numbers unchanged), nor
    on how the draws are chunked (each kind of number comes from its own stream, in order)."""
    words = list(str(key).encode("utf-8")) or [0]
    seq = np.random.SeedSequence([int(seed), len(words), *words])
    return tuple(np.random.default_rng(s) for s in seq.spawn(3))


def draw_shares(alpha: np.ndarray, n: int, streams: Sequence[tuple[np.random.Generator, ...]], *, sd=None,
                extra_sd=None, model=None) -> np.ndarray:
    """`n` draws of shares (0-1, rows sum to 1), from each list's streams (:func:`list_streams`).

    Sampling error: list *k*'s gamma variate with shape ``alpha[k]`` (normalised, they are a Dirichlet draw).
    Election-day error: the variate is multiplied by ``exp(sd[k] * z)`` with z from ``model.standard`` (a
    standard normal without a model; ``sd``: log scale, :meth:`helpers.models.uncertainty.ErrorModel.sd`) and,
    for a fixed extra error, by a log-normal factor with mean 1 and log-scale ``extra_sd[k]``. The row is then
    scaled to 1: shares stay positive and nothing is clipped."""
    alpha = np.asarray(alpha, dtype=float)
    k = alpha.size
    out = np.zeros((n, k))
    for j in range(k):
        sampling, error, extra = streams[j]
        g = sampling.standard_gamma(alpha[j], size=n) if alpha[j] > 0 else np.zeros(n)
        if sd is not None and sd[j] > 0:
            z = model.standard(error, n) if model is not None else error.standard_normal(n)
            g = g * np.exp(sd[j] * z)
        if extra_sd is not None and extra_sd[j] > 0:
            e = extra_sd[j]
            g = g * np.exp(e * extra.standard_normal(n) - e * e / 2)
        out[:, j] = g
    s = out.sum(axis=1, keepdims=True)
    s[s == 0] = 1.0
    return out / s


def extra_error_sd(shares_percent, poll_error: float) -> np.ndarray:
    """The log-scale sd of a log-normal factor with mean 1 whose standard deviation, on a list of share p
    (percent), is `poll_error` points: ``sqrt(log(1 + (poll_error / p)^2))`` (0 for a list at 0)."""
    p = np.asarray(shares_percent, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.sqrt(np.log1p((poll_error / p) ** 2))
    return np.where(p > 0, out, 0.0) if poll_error > 0 else np.zeros_like(p)


def vote_counts(shares: np.ndarray) -> np.ndarray:
    """Whole votes per draw, ``floor(share / draw total x 10^9 + 0.5)`` (helpers.models.seats.to_vote_counts)."""
    totals = shares.sum(axis=1, keepdims=True)
    return np.floor(shares / totals * VOTE_SCALE + 0.5).astype(np.int64)


def clears(counts: np.ndarray, threshold) -> np.ndarray:
    """Which lists clear `threshold` (percent: a number or an exact Fraction, or the words of
    :mod:`helpers.core.threshold` but quotas) in each draw, exactly as the seat engine compares."""
    from helpers.models.seats import Threshold

    p = Threshold.of(threshold).percent
    totals = counts.sum(axis=1, keepdims=True)
    num, den = p.numerator, 100 * p.denominator
    if max(int(counts.max(initial=0)) * den, num * int(totals.max(initial=0))) < 2**62:
        return (counts > 0) & (counts * den >= num * totals)
    # A threshold typed as a decimal (3.3333333333333) is an exact fraction with a large denominator, and the
    # products above would overflow int64. counts * den >= num * total  <=>  counts >= ceil(num * total / den)
    # for whole counts: one exact Python-integer division per draw, then an int64 comparison.
    needed = np.array([-(-num * int(t) // den) for t in totals.ravel().tolist()], dtype=np.int64)
    return (counts > 0) & (counts >= needed.reshape(totals.shape))


def simulate(shares: Mapping[str, float] | pd.Series, sample_size: float, *, draws: int = 20_000,
             seed: int = 0, seats: int = 120, threshold=3.25, poll_error: float = 0.0,
             agreements: Sequence[tuple[str, str]] = (), method: str | None = None,
             error_model="historical", others: float = 0.0, chunk: int = CHUNK) -> Simulation:
    """Simulate `draws` elections from poll-of-polls `shares` (percent per list) with `sample_size`
    (effective) respondents, as described in the module docstring.

    draws: 1 to helpers.core.limits.MAX_DRAWS (1,000,000). seed: a whole number >= 0.
    seats: seats to allocate per draw, 0 to helpers.core.limits.MAX_SEATS (10,000); 0: shares and the threshold
    only, e.g. a leadership first round.
    threshold: percent of valid votes (0 <= t < 100) as a number or an exact Fraction (Fraction(2, 3) is 1/150
    of the valid votes), or the words of :mod:`helpers.core.threshold` ("1/150", "1 quota" of `seats`); it is
    compared exactly in every draw. error_model: 'historical' (default), 'sampling' or an
    :class:`helpers.models.uncertainty.ErrorModel`; poll_error: a fixed extra error in points (0-50) on top.
    others: percent of valid votes for lists not in `shares` (a residual that counts in the total and never
    wins seats); the lists share the rest in proportion to `shares`. agreements: pairs of list keys
    (surplus-vote agreements); method: an allocation method of :mod:`helpers.models.seats` (default:
    'bader-ofer' with agreements, 'dhondt' without). Bad arguments raise DataError."""
    import time

    shares = pd.Series(shares, dtype=float)
    parties = [str(p) for p in shares.index]
    draws = _limits.check_count(draws, "draws", 1, MAX_DRAWS)
    seed = _limits.check_count(seed, "seed", 0, _limits.MAX_SEED)
    seats = _limits.check_count(seats, "seats", 0, _limits.MAX_SEATS)
    from helpers.models.seats import Threshold

    if isinstance(threshold, float | int) and not (np.isfinite(threshold) and 0 <= threshold < 100):
        raise DataError(f"threshold {threshold!r} is outside 0 <= threshold < 100 (percent of valid votes).")
    limit = Threshold.of(threshold, seats or None).percent  # exact; DataError for bad words
    if not (np.isfinite(poll_error) and 0 <= poll_error <= _limits.MAX_POLL_ERROR):
        raise DataError(f"poll_error is an error in percentage points from 0 to {_limits.MAX_POLL_ERROR} "
                        f"(got {poll_error!r}).")
    if not (np.isfinite(others) and 0 <= others < 100):
        raise DataError(f"others is a percentage of valid votes from 0 to below 100 (got {others!r}).")
    model = model_for(error_model)
    keys = parties + ([OTHERS] if others > 0 else [])
    values = shares.to_numpy()
    if others > 0:  # the lists share what the residual leaves, however their shares are scaled
        total = float(values.sum())
        values = np.append(values / total * (100.0 - others) if total > 0 else values, others)
    alpha = dirichlet_alpha(values, sample_size)
    percent = values / values.sum() * 100.0
    sd = model.sd(percent)
    extra = extra_error_sd(percent, poll_error)
    pairs = []
    index = {p: i for i, p in enumerate(parties)}
    for a, b in agreements:
        missing = [x for x in (a, b) if x not in index]
        if missing:
            raise DataError(f"the surplus agreement {a}-{b} names '{missing[0]}', which is not a party in "
                            f"the polls ({', '.join(parties)}).")
        pairs.append((index[a], index[b]))
    if method is None:
        method = "bader-ofer" if pairs else "dhondt"

    streams = [list_streams(seed, key) for key in keys]
    k = len(parties)
    all_shares = np.empty((draws, k), dtype=np.float64)
    all_passed = np.empty((draws, k), dtype=bool)
    all_seats = np.zeros((draws, k), dtype=SEAT_DTYPE) if seats > 0 else None
    timing = {"draw_s": 0.0, "allocate_s": 0.0}
    if seats > 0:
        from helpers.models.seats import allocate_batch
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        t0 = time.perf_counter()
        s = draw_shares(alpha, n, streams, sd=sd, extra_sd=extra, model=model)
        counts = vote_counts(s)
        ok = clears(counts, limit)[:, :k]
        counts = counts[:, :k]
        t1 = time.perf_counter()
        all_shares[start:start + n] = s[:, :k]
        all_passed[start:start + n] = ok
        if seats > 0:
            # a draw where nobody clears the line has no seats to give; the seat engine refuses it. The
            # threshold was applied above, exactly and against all valid votes (the residual of unlisted lists
            # included); among the lists that cleared, seats depend only on their own votes, so the lists that
            # did not clear get 0 votes and the allocator needs no threshold of its own (which keeps it on its
            # fast path for a threshold such as 100/30, whose exact fraction has a large denominator).
            rows = np.flatnonzero(ok.any(axis=1))
            if rows.size:
                got = allocate_batch(np.where(ok, counts, 0)[rows], seats=seats, threshold=0,
                                     method=method, agreements=pairs)
                all_seats[start + rows] = got
        timing["draw_s"] += t1 - t0
        timing["allocate_s"] += time.perf_counter() - t1
    summary = summarise(parties, all_shares, all_passed, all_seats)
    return Simulation(parties=parties, shares=all_shares, seats=all_seats, passed=all_passed,
                      summary=summary, threshold=float(limit), total_seats=int(seats), seed=int(seed),
                      sample_size=float(sample_size), poll_error=float(poll_error),
                      method=method if seats else None, agreements=[(a, b) for a, b in agreements],
                      timings=timing, error_model=model, others=float(others), threshold_exact=limit)


def _quantile(values: np.ndarray, q: float) -> float:
    """The smallest value v with P(X <= v) >= q (an actual seat count, never between two)."""
    return float(np.quantile(values, q, method="inverted_cdf"))


#: The columns of :func:`summarise`, in order.
SUMMARY_COLUMNS = ["party", "share_mean", "share_p05", "share_p95", "seats_mean", "seats_median", "seats_p05",
                   "seats_p95", "p_pass", "p_zero"]


def _seat_quantiles(seats: np.ndarray, qs) -> np.ndarray:
    """``_quantile(seats[:, i], q)`` for every column i and every q in `qs` (rows: qs, columns: parties), by
    counting rather than sorting: seat counts are small non-negative integers, so the value at sorted
    position k of a column is the first seat count whose cumulative count exceeds k.

    Which position k each q picks is left to ``np.quantile`` itself (on the positions 0..n-1), so the
    rounding of ``n * q`` is numpy's own and the result is the one :func:`_quantile` gives, value for value
    (tests/test_simulate.py checks it against :func:`_quantile` on generated draws). Per party sorting 20,000
    draws three times was most of :func:`summarise`."""
    n, k = seats.shape
    x = seats.astype(np.int64, copy=False)
    if n == 0 or k == 0 or x.min() < 0:  # not seat counts: sort like _quantile
        return np.array([[_quantile(x[:, i], q) for i in range(k)] for q in qs], dtype=float)
    at = np.quantile(np.arange(n), qs, method="inverted_cdf").astype(np.int64)  # sorted positions, as numpy picks
    width = int(x.max()) + 1
    counts = np.bincount((x + np.arange(k, dtype=np.int64) * width).ravel(), minlength=k * width).reshape(k, width)
    below = np.cumsum(counts, axis=1)  # below[i, v]: draws of party i with at most v seats (non-decreasing in v)
    # the first v with more than `pos` draws at or below it = how many v have at most `pos`
    return np.array([(below <= pos).sum(axis=1) for pos in at], dtype=float)


def summarise(parties: list[str], shares: np.ndarray, passed: np.ndarray,
              seats: np.ndarray | None) -> pd.DataFrame:
    """Per party: share_mean, share_p05, share_p95 (percent), p_pass (probability of clearing the threshold),
    and when seats were allocated seats_mean, seats_median, seats_p05, seats_p95 (5% and 95% points: 90% of
    draws fall between them) and p_zero (probability of no seat). Probabilities = count / draws.

    Whole-array operations, each giving what a loop over the parties' columns gives to the last bit (checked
    against such a loop in tests/test_simulate.py): every party's shares are one contiguous row, so a
    row's mean is summed in the same (pairwise) order as a copied column's, and ``np.quantile`` along the rows
    interpolates each row as it would the column; seat sums are whole numbers, exact in any order; seat
    quantiles by counting (:func:`_seat_quantiles`)."""
    n = shares.shape[0]
    if n == 0:
        raise DataError("a simulation needs at least one draw.")
    k = len(parties)
    if k == 0:
        return pd.DataFrame([], columns=SUMMARY_COLUMNS)
    rows = np.ascontiguousarray((shares[:, :k] * 100.0).T)
    share_p05, share_p95 = np.quantile(rows, [0.05, 0.95], axis=1)
    out = {"party": list(parties), "share_mean": rows.mean(axis=1), "share_p05": share_p05,
           "share_p95": share_p95}
    if seats is not None:
        x = seats[:, :k]
        median, p05, p95 = _seat_quantiles(x, [0.5, 0.05, 0.95])
        out.update(seats_mean=x.sum(axis=0, dtype=np.int64) / n, seats_median=median, seats_p05=p05,
                   seats_p95=p95, p_zero=(x == 0).sum(axis=0) / n)
    else:
        nan = np.full(k, np.nan)
        out.update(seats_mean=nan, seats_median=nan, seats_p05=nan, seats_p95=nan, p_zero=nan)
    out["p_pass"] = passed[:, :k].sum(axis=0) / n
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def projection(sim: Simulation) -> pd.Series:
    """The projected parliament: the seat law applied to each list's median share over the draws (with the
    residual of unlisted lists counted in the valid votes, as in every draw). Unlike rounded mean seats it is
    a parliament that can occur: the seats sum to the house, and a list gets seats only when its median share
    clears the threshold, so never fewer than the smallest number of seats a list that clears it can win.
    Index party, name ``seats``."""
    if sim.seats is None:
        raise ValueError("this simulation allocated no seats (seats=0)")
    from helpers.models.seats import allocate_batch

    median = np.median(sim.shares, axis=0)
    rest = max(1.0 - float(np.median(sim.shares.sum(axis=1))), 0.0)  # the unlisted lists' typical share
    counts = vote_counts(np.append(median, rest)[None, :])
    exact = sim.threshold_exact if sim.threshold_exact is not None else sim.threshold
    ok = clears(counts, exact)[:, :len(sim.parties)]
    counts = counts[:, :len(sim.parties)]
    if not ok.any():
        return pd.Series(0, index=sim.parties, name="seats")
    index = {p: i for i, p in enumerate(sim.parties)}
    pairs = [(index[a], index[b]) for a, b in sim.agreements]
    got = allocate_batch(np.where(ok, counts, 0), seats=sim.total_seats, threshold=0, method=sim.method,
                         agreements=pairs)[0]
    return pd.Series(got.astype(int), index=sim.parties, name="seats")


def probability_at_least(sim: Simulation, parties: Sequence[str], seats: int) -> float:
    """P(the `parties` together win at least `seats` seats), over the draws used."""
    if sim.seats is None:
        raise ValueError("this simulation allocated no seats (seats=0)")
    cols = [sim.parties.index(p) for p in parties if p in sim.parties]
    total = sim.seats[:, cols].sum(axis=1) if cols else np.zeros(sim.draws, dtype=int)
    return sim.probability(total >= seats)


def near_the_line(summary: pd.DataFrame, low: float = 0.02, high: float = 0.98) -> pd.DataFrame:
    """The parties whose chance of clearing the line is between `low` and `high`: the ones in doubt."""
    return summary[(summary["p_pass"] >= low) & (summary["p_pass"] <= high)].reset_index(drop=True)


def runoff_pairs(sim: Simulation) -> pd.DataFrame:
    """For a first-round contest: in the draws where nobody clears the line, which two lead (the runoff).
    Columns: first, second (keys, the larger first), probability (share of all draws). A row with first
    'nobody' gives P(no runoff): someone cleared the line."""
    if sim.draws == 0:
        raise DataError("a simulation needs at least one draw.")
    runoff = ~sim.passed.any(axis=1)
    rows = []
    if runoff.any():
        top = np.argsort(-sim.shares[runoff], axis=1, kind="stable")[:, :2]
        pairs, counts = np.unique(top, axis=0, return_counts=True)
        for (a, b), c in zip(pairs, counts, strict=True):
            rows.append({"first": sim.parties[a], "second": sim.parties[b], "probability": c / sim.draws})
    if (~runoff).any():
        rows.append({"first": "nobody", "second": "", "probability": float((~runoff).sum()) / sim.draws})
    out = pd.DataFrame(rows, columns=["first", "second", "probability"])
    return out.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)


def summary_table(summary: pd.DataFrame, names: Mapping[str, str] | None = None, *, seats: bool = True,
                  line_word: str = "threshold") -> pd.DataFrame:
    """The summary as a reader's table: display names, shares in percent, seat ranges as text, probabilities
    in percent (0-100). Columns: Party, Share %, Share 90% range, [Seats (median), Seats 90% range,
    Mean seats,] P(clears the <line_word>) %, [P(no seat) %]."""
    names = names or {}
    out = pd.DataFrame({
        "Party": [names.get(p, p) for p in summary["party"]],
        "Share %": summary["share_mean"].to_numpy(),
        "Share 90% range": [f"{a:.1f}–{b:.1f}" for a, b in zip(summary["share_p05"], summary["share_p95"],
                                                                  strict=True)],
    })
    if seats:
        out["Seats (median)"] = summary["seats_median"].astype(int).to_numpy()
        low, high = summary["seats_p05"], summary["seats_p95"]
        out["Seats 90% range"] = [f"{a:.0f}–{b:.0f}" for a, b in zip(low, high, strict=True)]
        out["Mean seats"] = summary["seats_mean"].to_numpy()
    out[f"P(clears the {line_word}) %"] = 100 * summary["p_pass"].to_numpy()
    if seats:
        out["P(no seat) %"] = 100 * summary["p_zero"].to_numpy()
    return out


def usable_agreements(pairs, parties) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Split surplus-agreement pairs into those whose two lists are both among `parties` (kept) and the
    others (dropped: an agreement with a list nobody polled cannot be simulated)."""
    known = set(parties)
    kept, dropped = [], []
    for a, b in pairs:
        (kept if a in known and b in known else dropped).append((a, b))
    return kept, dropped
