"""Coalition scenarios: what-ifs applied to a base, one simulation per variant, and coalition probabilities
counted from the raw seat draws.

Pure model over plain data (no I/O, no plotting). Shares are percent of valid votes; seats are whole seats;
probabilities are counts of simulated elections divided by the number of draws used (0-1).

Definitions, all counted over the same draws (``Simulation.seats``, one row per simulated election):

- A group of parties (a bloc, a named coalition) *has a majority* in a simulated election when its members'
  seats add up to at least the majority. P(majority) is the share of simulated elections where it does.
  A member that does not run (or won no seat) counts 0.
- A coalition is *allowed* when it holds no vetoed pair, holds every required party and no excluded one.
- A *path to a majority* is an allowed coalition that is a minimal winning coalition (it has a majority and
  loses it without any one of its members that is not required) in at least ``min_share`` (1%) of the
  simulated elections; as in :mod:`helpers.models.coalitions`, a member with no seats is never needed. For each path:
  P(majority), P(every member needed) (the share of simulated elections in which it is minimal winning),
  mean seats, mean surplus (seats - majority, negative when short on average) and P(comfortable) (at least
  ``majority + 4`` seats: 65 of 120).
- A party is *pivotal* for a group in a simulated election when the group has a majority and would lose it
  without the party's seats. A party is *needed by some path* in a simulated election when it is a member that
  every one of its coalition partners needs, in at least one allowed minimal winning coalition of that
  election.

What-ifs live in :mod:`helpers.models.whatif`: they change the base's shares, surplus agreements, threshold
and politics step by step, and every variant is simulated with the same sample size, draws and seed as the
base. The reader's tables are in :mod:`helpers.views.scenarios`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.core.errors import DataError
from helpers.data._names import NameIndex
from helpers.models import simulate as sim_model
from helpers.models.whatif import Variant

#: Most parties the path enumeration takes (2^16 coalitions per simulated election).
MAX_PATH_PARTIES = 16
#: A path must be minimal winning in at least this share of the simulated elections to be listed.
MIN_PATH_SHARE = 0.01
#: Seats above the majority that make a comfortable one (61 + 4 = 65 of 120).
COMFORT_MARGIN = 4


def coalition_seats(sim: sim_model.Simulation, members: Sequence[str]) -> np.ndarray:
    """Seats of `members` together in each simulated election (int64, one per draw); a member that is not
    in the simulation counts 0."""
    if sim.seats is None:
        raise DataError("this simulation allocated no seats, so there are no coalitions to count.")
    cols = [sim.parties.index(m) for m in dict.fromkeys(members) if m in sim.parties]
    if not cols:
        return np.zeros(sim.draws, dtype=np.int64)
    return sim.seats[:, cols].sum(axis=1, dtype=np.int64)


def p_majority(sim: sim_model.Simulation, members: Sequence[str], majority: int) -> float:
    """P(the members' seats reach `majority`): simulated elections where they do / draws used."""
    return sim.probability(coalition_seats(sim, members) >= majority)


def breaks(members: Sequence[str], *, vetoes=(), required=(), excluded=()) -> list[str]:
    """The scenario's rules a coalition breaks, in words ([] when it is allowed)."""
    held = set(members)
    out = [f"veto {a}–{b}" for a, b in vetoes if a in held and b in held]
    out += [f"lacks required {r}" for r in required if r not in held]
    out += [f"holds excluded {x}" for x in excluded if x in held]
    return out


def group_table(sim: sim_model.Simulation, groups: Mapping[str, Sequence[str]], majority: int,
                comfortable: int | None = None) -> pd.DataFrame:
    """Per group (bloc or named coalition): name, members (tuple), seats_mean, seats_median, seats_p05,
    seats_p95 (90% of simulated elections between them), p_majority, p_comfortable (at least `comfortable`
    seats; default majority + 4), all from the draws."""
    comfortable = majority + COMFORT_MARGIN if comfortable is None else comfortable
    rows = []
    for name, members in groups.items():
        x = coalition_seats(sim, members)
        rows.append({"name": name, "members": tuple(members), "seats_mean": float(x.mean()),
                     "seats_median": float(np.quantile(x, 0.5, method="inverted_cdf")),
                     "seats_p05": float(np.quantile(x, 0.05, method="inverted_cdf")),
                     "seats_p95": float(np.quantile(x, 0.95, method="inverted_cdf")),
                     "p_majority": sim.probability(x >= majority),
                     "p_comfortable": sim.probability(x >= comfortable)})
    return pd.DataFrame(rows, columns=["name", "members", "seats_mean", "seats_median", "seats_p05",
                                       "seats_p95", "p_majority", "p_comfortable"])


def pivot_table(sim: sim_model.Simulation, groups: Mapping[str, Sequence[str]],
                majority: int) -> pd.DataFrame:
    """P(pivotal) of each party for each group: index party (the simulation's order), one column per group;
    NaN where the party is not a member. A member is pivotal in a simulated election when the group has a
    majority and loses it without the member's seats (:func:`helpers.models.coalitions.pivot_counts`)."""
    from helpers.models.coalitions import pivot_counts

    names = list(groups)
    cols = [[sim.parties.index(m) for m in dict.fromkeys(groups[g]) if m in sim.parties] for g in names]
    counts = pivot_counts(sim.seats, cols, majority) if names else np.zeros((0, len(sim.parties)))
    out = pd.DataFrame(index=pd.Index(sim.parties, name="party"))
    for g, members, row in zip(names, cols, counts, strict=True):
        values = np.full(len(sim.parties), np.nan)
        values[members] = row[members] / sim.draws
        out[g] = values
    return out


@dataclass
class Paths:
    """Paths to a majority (see the module docstring). table: members (tuple, largest first), seats_mean,
    p_majority, p_minimal (every member needed), surplus_mean, p_comfortable, sorted by p_majority, then
    p_minimal; only paths minimal in at least min_share of the simulated elections. total: their number.
    rare: allowed coalitions minimal in some simulated election but below min_share. p_any: P(at least one
    allowed coalition has a majority). needed: party -> P(needed by some path). parties: the parties
    enumerated (those that win a seat in some simulated election, not excluded, and the required)."""

    table: pd.DataFrame
    total: int
    rare: int
    p_any: float
    needed: pd.Series
    parties: list[str]
    majority: int
    comfortable: int
    min_share: float = MIN_PATH_SHARE
    draws: int = 0
    missing_required: list[str] = field(default_factory=list)


def _bit_counts(packed: np.ndarray) -> int:
    return int(np.unpackbits(packed).sum()) if not hasattr(np, "bitwise_count") else \
        int(np.bitwise_count(packed).sum(dtype=np.int64))


#: Words of eight flags :func:`_row_counts` adds before emptying its byte counters (each byte counts to 255).
_WORDS_PER_PASS = 255


def _row_counts(flags: np.ndarray) -> np.ndarray:
    """``flags.sum(axis=1)`` (int64) of a 2-D bool array, counted eight flags at a time.

    A bool is one byte holding 0 or 1, so eight neighbouring flags read as one uint64 word, and adding words
    adds the eight byte lanes side by side; with at most 255 words added per pass no lane carries into the
    next, and the pass's count is the sum of its eight bytes. Whole-number counts, so exactly the plain sum;
    about ten times faster than it on the (coalitions x draws) tables of :func:`paths_to_majority`, which count
    three such tables per chunk of draws."""
    rows, width = flags.shape
    whole = width - width % 8
    out = flags[:, whole:].sum(axis=1, dtype=np.int64)  # the last (width % 8) flags of each row, plainly
    if whole:
        words = np.ascontiguousarray(flags[:, :whole]).view(np.uint64)
        for start in range(0, words.shape[1], _WORDS_PER_PASS):
            lanes = np.add.reduce(words[:, start:start + _WORDS_PER_PASS], axis=1, dtype=np.uint64)
            out += lanes.view(np.uint8).reshape(rows, 8).sum(axis=1, dtype=np.int64)
    return out


def paths_to_majority(sim: sim_model.Simulation, majority: int, *, vetoes=(), required=(), excluded=(),
                      comfortable: int | None = None, min_share: float = MIN_PATH_SHARE,
                      chunk: int | None = None) -> Paths:
    """Every allowed coalition's fate in every simulated election, counted exactly (see the module docstring
    for the definitions). Enumerates the 2^k coalitions of the k parties that can matter, a chunk of draws at
    a time: seats and each coalition's smallest non-required member are built up one party at a time."""
    if sim.seats is None:
        raise DataError("this simulation allocated no seats, so there are no coalitions to count.")
    from helpers.core.limits import MAX_SEATS, check_count

    majority = check_count(majority, "majority", 1, MAX_SEATS)
    comfortable = majority + COMFORT_MARGIN if comfortable is None else comfortable
    # coalition seats are summed in SEAT_DTYPE (int16): exact while a draw's seats stay within MAX_SEATS
    dtype = sim_model.SEAT_DTYPE
    if sim.draws and int(sim.seats.sum(axis=1, dtype=np.int64).max()) > MAX_SEATS:
        raise DataError(f"a simulated house holds more than {MAX_SEATS:,} seats.")
    excluded, required = set(excluded), list(dict.fromkeys(required))
    missing = [r for r in required if r not in sim.parties]
    ever = sim.seats.max(axis=0) > 0
    parties = [p for i, p in enumerate(sim.parties) if p not in excluded and (ever[i] or p in required)]
    columns = ["members", "seats_mean", "p_majority", "p_minimal", "surplus_mean", "p_comfortable"]
    empty = Paths(pd.DataFrame(columns=columns), 0, 0, 0.0, pd.Series(0.0, index=sim.parties), parties,
                  majority, comfortable, min_share, sim.draws, missing)
    if missing or not parties:
        return empty
    k = len(parties)
    if k > MAX_PATH_PARTIES:
        raise DataError(f"{k} parties can win seats, too many to list every coalition (at most "
                        f"{MAX_PATH_PARTIES}); exclude some in the scenario or merge small lists.")
    K = 1 << k
    bit = {p: j for j, p in enumerate(parties)}
    masks = np.arange(K, dtype=np.int64)
    allowed = np.ones(K, dtype=bool)
    for a, b in vetoes:
        if a in bit and b in bit:
            allowed &= ~(((masks >> bit[a]) & 1).astype(bool) & ((masks >> bit[b]) & 1).astype(bool))
    for r in required:
        allowed &= ((masks >> bit[r]) & 1).astype(bool)
    optional = [p not in required for p in parties]

    seats = sim.seats[:, [sim.parties.index(p) for p in parties]].astype(dtype)
    n = sim.draws
    if chunk is None:
        chunk = int(max(64, min(4096, (1 << 23) // K)) // 8 * 8)
    wins = np.zeros(K, dtype=np.int64)
    minimal = np.zeros(K, dtype=np.int64)
    comfy = np.zeros(K, dtype=np.int64)
    any_count = 0
    needed = np.zeros(k, dtype=np.int64)
    big = np.iinfo(dtype).max  # above any seat count: "no optional member"
    buffers: dict = {}
    for start in range(0, n, chunk):
        part = np.ascontiguousarray(seats[start:start + chunk].T)  # parties x draws
        c = part.shape[1]
        if c not in buffers:
            # the (coalitions x draws) tables, made once per chunk width and filled again by every chunk:
            # fresh 16 MB tables per chunk cost more in page faults than the arithmetic that fills them
            buffers[c] = (np.empty((K, c), dtype=dtype), np.empty((K, c), dtype=dtype),
                          np.empty((K, c), dtype=dtype), np.empty((K, c), dtype=bool),
                          np.empty((K, c), dtype=bool))
        held, smallest, spare, win, mwc = buffers[c]  # smallest: the smallest non-required member's seats
        held[0] = 0
        smallest[0] = big
        for j in range(k):
            h = 1 << j
            np.add(held[:h], part[j], out=held[h:2 * h])
            if optional[j]:
                np.minimum(smallest[:h], part[j], out=smallest[h:2 * h])
            else:
                smallest[h:2 * h] = smallest[:h]
        np.greater_equal(held, majority, out=win)
        # minimal winning: it wins, and losing its smallest optional member takes it below the majority
        np.greater(smallest, np.subtract(held, majority, out=spare), out=mwc)
        mwc &= win
        mwc &= allowed[:, None]
        wins += _row_counts(win)
        minimal += _row_counts(mwc)
        comfy += _row_counts(np.greater_equal(held, comfortable, out=win))  # win is not read again
        packed = np.packbits(mwc, axis=1)  # draws packed 8 to a byte (zero padding counts nothing)
        any_count += _bit_counts(np.bitwise_or.reduce(packed, axis=0))
        width = packed.shape[1]
        for j in range(k):
            # rows whose bit j is set: view the masks as (high bits, bit j, low bits)
            rows = packed.reshape(K >> (j + 1), 2, 1 << j, width)[:, 1]
            needed[j] += _bit_counts(np.bitwise_or.reduce(rows.reshape(-1, width), axis=0))
    idx = np.flatnonzero(allowed & (minimal > 0))
    mean_seats = sim.seats[:, [sim.parties.index(p) for p in parties]].mean(axis=0, dtype=np.float64)
    order = sorted(range(k), key=lambda j: (-mean_seats[j], j))
    rows = []
    for m in idx:
        members = tuple(parties[j] for j in order if (m >> j) & 1)
        seats_mean = float(sum(mean_seats[j] for j in range(k) if (m >> j) & 1))
        rows.append({"members": members, "seats_mean": seats_mean, "p_majority": wins[m] / n,
                     "p_minimal": minimal[m] / n, "surplus_mean": seats_mean - majority,
                     "p_comfortable": comfy[m] / n})
    table = pd.DataFrame(rows, columns=columns)
    listed = table["p_minimal"] >= min_share - 1e-12
    rare = int((~listed).sum())
    table = table[listed].sort_values(["p_minimal", "p_majority", "seats_mean"], ascending=False,
                                      kind="stable").reset_index(drop=True)
    need = pd.Series(0.0, index=pd.Index(sim.parties, name="party"))
    for j, p in enumerate(parties):
        need[p] = needed[j] / n
    return Paths(table, len(table), rare, any_count / n, need, parties, majority, comfortable, min_share, n,
                 missing)


def seat_distribution(sim: sim_model.Simulation, groups: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """How often each group wins each number of seats: name, seats, probability (share of the simulated
    elections; per group the probabilities sum to 1)."""
    rows = []
    for name, members in groups.items():
        values, counts = np.unique(coalition_seats(sim, members), return_counts=True)
        rows.extend({"name": name, "seats": int(v), "probability": c / sim.draws}
                    for v, c in zip(values, counts, strict=True))
    return pd.DataFrame(rows, columns=["name", "seats", "probability"])


def p_some_majority(sim: sim_model.Simulation, majority: int, *, vetoes=(), required=(),
                    excluded=()) -> float:
    """P(at least one allowed coalition has a majority): counted over the maximal allowed coalitions (any
    allowed coalition with a majority lies inside one of them), so it needs no per-draw enumeration."""
    if any(r not in sim.parties for r in required):
        return 0.0
    if sim.seats is None:
        raise DataError("this simulation allocated no seats, so there are no coalitions to count.")
    ever = sim.seats.max(axis=0) > 0  # a list that never wins a seat changes no coalition's seats
    parties = [p for i, p in enumerate(sim.parties) if p not in set(excluded) and (ever[i] or p in required)]
    k = len(parties)
    if k > 22:
        raise DataError(f"{k} lists are too many to find the largest allowed coalitions (at most 22).")
    bit = {p: j for j, p in enumerate(parties)}
    masks = np.arange(1 << k, dtype=np.int64)
    allowed = np.ones(1 << k, dtype=bool)
    for a, b in vetoes:
        if a in bit and b in bit:
            allowed &= ~((((masks >> bit[a]) & 1) & ((masks >> bit[b]) & 1)).astype(bool))
    for r in required:
        allowed &= ((masks >> bit[r]) & 1).astype(bool)
    maximal = allowed.copy()
    for j in range(k):
        has = ((masks >> j) & 1).astype(bool)
        grown = allowed[masks | (1 << j)]
        maximal &= has | ~grown
    sets = [[parties[j] for j in range(k) if (m >> j) & 1] for m in np.flatnonzero(maximal)]
    reach = np.zeros(sim.draws, dtype=bool)
    for members in sets:
        reach |= coalition_seats(sim, members) >= majority
    return sim.probability(reach)


def bloc_order(parties: Sequence[str], blocs: Mapping[str, Sequence[str]], seats: Mapping[str, float],
               first: Sequence[str] = ()) -> list[str]:
    """Parties grouped by bloc (in the scenario's order, then those in no bloc), largest first within each;
    the parties of `first` (a coalition to highlight) come before all others, in that same order."""
    rank = {}
    for b, (_, members) in enumerate(blocs.items()):
        for m in members:
            rank.setdefault(m, b)
    lead = set(first)

    def key(p):
        return (0 if p in lead else 1, rank.get(p, len(blocs)), -float(seats.get(p, 0.0)), p)

    return sorted(parties, key=key)


def threshold_sensitivity(sim: sim_model.Simulation, shares: pd.Series, blocs: Mapping[str, Sequence[str]],
                          majority: int, *, valid_votes: int | None = None, low: float = 0.02,
                          high: float = 0.98, near_points: float = 1.0) -> pd.DataFrame:
    """For each party near the threshold (P(clears) between `low` and `high`, or a share within
    `near_points` of the line) and each bloc: party, share (percent, the base average), gap_points (threshold
    minus share: the points it needs, negative = its cushion), gap_votes (gap_points of `valid_votes`, NaN
    without them), p_pass, bloc, p_bloc (P(bloc majority)), p_bloc_if_pass and p_bloc_if_fail (the same,
    counted only in the simulated elections where the party clears / misses the line; NaN when there are
    none), draws_pass, draws_fail. One row per party and bloc (a row with bloc '' when there are no blocs)."""
    p_pass = sim.passed.mean(axis=0)
    rows = []
    group_seats = {b: coalition_seats(sim, m) >= majority for b, m in blocs.items()}
    for i, party in enumerate(sim.parties):
        share = float(shares.get(party, np.nan))
        close = abs(share - sim.threshold) <= near_points
        if not (low <= p_pass[i] <= high or close):
            continue
        ok = sim.passed[:, i]
        gap = sim.threshold - share
        base = {"party": party, "share": share, "gap_points": gap,
                "gap_votes": gap / 100.0 * valid_votes if valid_votes else np.nan,
                "p_pass": float(p_pass[i]), "draws_pass": int(ok.sum()), "draws_fail": int((~ok).sum())}
        if not blocs:
            rows.append({**base, "bloc": "", "p_bloc": np.nan, "p_bloc_if_pass": np.nan,
                         "p_bloc_if_fail": np.nan})
        for b, reach in group_seats.items():
            rows.append({**base, "bloc": b, "p_bloc": float(reach.mean()),
                         "p_bloc_if_pass": float(reach[ok].mean()) if ok.any() else np.nan,
                         "p_bloc_if_fail": float(reach[~ok].mean()) if (~ok).any() else np.nan})
    cols = ["party", "share", "gap_points", "gap_votes", "p_pass", "bloc", "p_bloc", "p_bloc_if_pass",
            "p_bloc_if_fail", "draws_pass", "draws_fail"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["share", "party"], ascending=[False, True], kind="stable").reset_index(drop=True)


def comparison(items: Sequence[Variant], sims: Sequence[sim_model.Simulation], majority: int) -> pd.DataFrame:
    """Base against each what-if, long: variant, kind ('bloc', 'coalition' or 'any'), name, members (tuple),
    p_majority. Blocs and coalitions are each variant's own (a merged list replaces its members); 'any' is
    P(some allowed coalition has a majority) under that variant's vetoes."""
    rows = []
    for v, s in zip(items, sims, strict=True):
        pol = v.politics
        for kind, groups in (("bloc", pol.bloc_map()), ("coalition", pol.coalition_map())):
            for name, members in groups.items():
                rows.append({"variant": v.name, "kind": kind, "name": name, "members": tuple(members),
                             "p_majority": p_majority(s, members, majority)})
        rows.append({"variant": v.name, "kind": "any", "name": "Some allowed coalition", "members": (),
                     "p_majority": p_some_majority(s, majority, vetoes=pol.vetoes, required=pol.required,
                                                   excluded=pol.excluded)})
    return pd.DataFrame(rows, columns=["variant", "kind", "name", "members", "p_majority"])


def changed_seats(items: Sequence[Variant], sims: Sequence[sim_model.Simulation]) -> pd.DataFrame:
    """For each what-if, the lists its steps touched: variant, party, base_share, share (percent),
    base_seats_mean, seats_mean, base_p_zero, p_zero (NaN where the list does not run). The first item is the
    base."""
    base, base_sim = items[0], sims[0]
    b = base_sim.summary.set_index("party")
    rows = []
    for v, s in zip(items[1:], sims[1:], strict=True):
        x = s.summary.set_index("party")
        for party in v.changed:
            rows.append({
                "variant": v.name, "party": party,
                "base_share": float(base.shares[party]) if party in base.shares.index else np.nan,
                "share": float(v.shares[party]) if party in v.shares.index else np.nan,
                "base_seats_mean": float(b.loc[party, "seats_mean"]) if party in b.index else np.nan,
                "seats_mean": float(x.loc[party, "seats_mean"]) if party in x.index else np.nan,
                "base_p_zero": float(b.loc[party, "p_zero"]) if party in b.index else np.nan,
                "p_zero": float(x.loc[party, "p_zero"]) if party in x.index else np.nan})
    return pd.DataFrame(rows, columns=["variant", "party", "base_share", "share", "base_seats_mean",
                                       "seats_mean", "base_p_zero", "p_zero"])


def slug(name: str) -> str:
    """'Netanyahu bloc' -> 'netanyahu_bloc' (for manifest output keys)."""
    import re

    out = re.sub(r"[^0-9a-z]+", "_", name.casefold()).strip("_")
    return out or "unnamed"


def pick_group(coalitions: Mapping[str, Sequence[str]], blocs: Mapping[str, Sequence[str]],
               name: str = "") -> tuple[str, list[str]]:
    """The coalition to highlight: `name` (a named coalition or bloc, letter case ignored), else the first
    named coalition, else the first bloc; ('', []) when the scenario names none. DataError for an unknown
    name, listing the names there are."""
    groups = {**{k: list(v) for k, v in blocs.items()}, **{k: list(v) for k, v in coalitions.items()}}
    if name:
        hit = NameIndex.of(groups, first_wins=True).find(name)
        if hit is None:
            known = ", ".join(f"'{k}'" for k in groups) or "none"
            raise DataError(f"highlight '{name}' is not a coalition or bloc of the scenario; its names are "
                            f"{known}.")
        return hit, groups[hit]
    for source in (coalitions, blocs):
        if source:
            first = next(iter(source))
            return first, list(source[first])
    return "", []
