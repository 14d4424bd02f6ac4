"""Coalition arithmetic: winning and minimal winning coalitions, vetoes, blocs, power indices.

Seats are whole seats per party; the majority defaults to floor(total / 2) + 1 (61 of 120, never 60).

Definitions (pure functions, no I/O):

- A coalition *wins* when its seats reach the majority.
- *Vetoes* are pairs of parties that will not sit together: no coalition holds both.
- *Required* parties are in every coalition listed.
- A *bloc* is a named group of parties that enter together or not at all (all in or all out). In the
  arithmetic a bloc is one unit: "every member is needed" means every unit (a party outside any bloc, or a
  whole bloc) is needed. A party may belong to one bloc only.
- A coalition is *minimal winning* when it wins and dropping any one unit that is not required makes it lose.
  (With no blocs and nothing required that is the textbook definition: every member is needed.) Parties with
  no seats are never needed, so they only appear in a coalition when required or inside a bloc.
- Order: members are written largest party first (ties in input order) and joined by ``+``; coalitions are
  sorted by seats, most first, then by their members in that party order.
- Power (Banzhaf, Shapley-Shubik) is the a-priori power over all coalitions of the parties with seats, with
  no vetoes or blocs: raw Banzhaf counts the coalitions in which a party's leaving turns a win into a loss.

For many seat draws at once (simulations): :func:`majorities` gives the (draws, coalitions) boolean array of
coalitions reaching the majority, :func:`pivot_counts` how often each member is pivotal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import factorial

import numpy as np

from helpers.core.errors import DataError
from helpers.core.limits import MAX_POWER_WORK
from helpers.data._names import NameIndex

__all__ = ["Coalition", "majority_of", "winning_coalitions", "minimal_winning_coalitions", "banzhaf",
           "shapley_shubik", "power", "majorities", "pivot_counts", "resolve_party", "coalitions_frame"]

MAX_UNITS = 24  # enumeration is 2^units; 24 units is ~17 million coalitions


@dataclass(frozen=True)
class Coalition:
    """A coalition: members largest first, seats, surplus = seats - majority (>= 0 for a winning one)."""

    members: tuple[str, ...]
    seats: int
    surplus: int

    @property
    def name(self) -> str:
        return "+".join(self.members)

    def as_dict(self) -> dict:
        return {"members": self.name, "seats": self.seats, "surplus": self.surplus}


def majority_of(total: int) -> int:
    """floor(total / 2) + 1: 61 of 120 seats, 101 of 200, 51 of 101."""
    return int(total) // 2 + 1


def _seat_items(seats) -> list[tuple[str, int]]:
    items = list(seats.items()) if isinstance(seats, Mapping) else [tuple(x) for x in seats]
    out, seen = [], set()
    for name, n in items:
        name = str(name)
        if name.casefold() in seen:
            raise DataError(f"Party '{name}' appears twice; each party must appear once.")
        seen.add(name.casefold())
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise DataError(f"Seats for '{name}' must be a whole number >= 0, not {n!r}.")
        out.append((name, int(n)))
    if not out or sum(n for _, n in out) == 0:
        raise DataError("No party has any seats, so there is no coalition to form.")
    return out


def _fold(name: str) -> str:
    """'Yesh Atid', 'yesh_atid', 'YESH-ATID' -> 'yesh atid'."""
    return " ".join(re.split(r"[\s_\-–]+", str(name).strip().casefold())).strip()


def resolve_party(name: str, parties: Sequence[str], what: str = "party") -> str:
    """The party in `parties` that `name` means: exact, else ignoring letter case, else also treating
    spaces, '_' and '-' alike ('Yesh Atid' = 'yesh_atid'). DataError naming it, with the closest known
    names, otherwise."""
    if name in parties:
        return name
    index = NameIndex.of(parties)
    hit = index.find(name)
    if hit is not None:
        return hit
    loose: dict[str, list[str]] = {}
    for p in parties:
        loose.setdefault(_fold(p), []).append(p)
    hits = loose.get(_fold(name), [])
    if len(hits) == 1:
        return hits[0]
    near = index.near(name, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(p) for p in near)}?" if near else \
        f"; the parties are {', '.join(parties)}."
    raise DataError(f"Unknown {what} '{name}'{hint}")


def _order(items: list[tuple[str, int]]) -> list[int]:
    """Positions largest party first, ties in input order."""
    return sorted(range(len(items)), key=lambda i: (-items[i][1], i))


def winning_coalitions(seats, majority: int | None = None, vetoes: Iterable[tuple[str, str]] = (),
                       required: Iterable[str] = (), blocs: Mapping[str, Iterable[str]] | None = None,
                       minimal: bool = False) -> list[Coalition]:
    """Every winning coalition (or, with `minimal`, every minimal winning one) that keeps the vetoes, holds
    the required parties and takes blocs whole. See the module docstring for the definitions and order.

    seats: mapping party -> seats or (party, seats) pairs. majority: seats needed (default floor(total/2)+1).
    Party names in vetoes, required and blocs are matched exactly or ignoring letter case."""
    items = _seat_items(seats)
    names = [n for n, _ in items]
    total = sum(n for _, n in items)
    majority = majority_of(total) if majority is None else int(majority)
    if not 1 <= majority <= total:
        raise DataError(f"The majority must be between 1 and the {total} seats; got {majority}.")
    index = {n: i for i, n in enumerate(names)}

    # units: each bloc, then every party outside a bloc that has seats or is required
    bloc_of: dict[int, str] = {}
    units: list[list[int]] = []
    for bloc, members in (blocs or {}).items():
        member_idx = []
        for m in members:
            i = index[resolve_party(m, names, f"party in bloc '{bloc}'")]
            if i in bloc_of:
                raise DataError(f"Party '{names[i]}' is in two blocs ('{bloc_of[i]}' and '{bloc}'); a party "
                                "may be in one bloc only.")
            bloc_of[i] = bloc
            member_idx.append(i)
        if member_idx:
            units.append(member_idx)
    need = {index[resolve_party(r, names, "required party")] for r in required}
    for i, (_, n) in enumerate(items):
        if i not in bloc_of and (n > 0 or i in need):
            units.append([i])
    if len(units) > MAX_UNITS:
        raise DataError(f"{len(units)} parties or blocs with seats are too many to list every coalition "
                        f"(at most {MAX_UNITS}); merge small parties or use --power.")
    veto_pairs = []
    for pair in vetoes:
        a, b = pair
        veto_pairs.append((index[resolve_party(a, names, "party in a veto")],
                           index[resolve_party(b, names, "party in a veto")]))

    unit_of = {i: u for u, members in enumerate(units) for i in members}
    weights = np.array([sum(items[i][1] for i in members) for members in units], dtype=np.int64)
    n_units = len(units)
    masks = np.arange(1 << n_units, dtype=np.int64)
    bits = [(masks >> u) & 1 for u in range(n_units)]
    coalition_seats = np.zeros(masks.size, dtype=np.int64)
    for u in range(n_units):
        coalition_seats += bits[u] * weights[u]
    ok = coalition_seats >= majority
    for i in need:
        ok &= bits[unit_of[i]] == 1
    for a, b in veto_pairs:
        ua, ub = unit_of.get(a), unit_of.get(b)
        if ua is None or ub is None:  # a party with no seats outside a bloc is never in a coalition
            continue
        ok &= ~((bits[ua] == 1) & (bits[ub] == 1))
    if minimal:
        surplus = coalition_seats - majority
        required_units = {unit_of[i] for i in need}
        for u in range(n_units):
            if u not in required_units:
                ok &= ~((bits[u] == 1) & (weights[u] <= surplus))
    order = _order(items)
    rank = {i: r for r, i in enumerate(order)}
    out = []
    for m in np.flatnonzero(ok):
        members = sorted((i for u in range(n_units) if bits[u][m] for i in units[u]), key=rank.__getitem__)
        out.append((tuple(rank[i] for i in members),
                    Coalition(tuple(names[i] for i in members), int(coalition_seats[m]),
                              int(coalition_seats[m]) - majority)))
    out.sort(key=lambda x: (-x[1].seats, x[0]))
    return [c for _, c in out]


def minimal_winning_coalitions(seats, majority: int | None = None, vetoes=(), required=(),
                               blocs=None) -> list[Coalition]:
    """The minimal winning coalitions: see :func:`winning_coalitions`."""
    return winning_coalitions(seats, majority, vetoes, required, blocs, minimal=True)


def coalitions_frame(coalitions: Sequence[Coalition]):
    """A DataFrame with the contract columns members, seats, surplus."""
    import pandas as pd

    return pd.DataFrame([c.as_dict() for c in coalitions], columns=["members", "seats", "surplus"])


# ----------------------------------------------------------------------------------------------- power


def _subset_counts(weights: list[int], cap: int) -> np.ndarray:
    """counts[k, w] = number of subsets of `weights` with k members and w seats (w capped at `cap`)."""
    counts = np.zeros((len(weights) + 1, cap + 1), dtype=object)
    counts[0, 0] = 1
    for w in weights:
        shifted = np.zeros_like(counts)
        shifted[1:, w:] = counts[:-1, : cap + 1 - w] if w <= cap else 0
        counts = counts + shifted
    return counts


def _swing_table(seats, majority):
    items = _seat_items(seats)
    total = sum(n for _, n in items)
    majority = majority_of(total) if majority is None else int(majority)
    if not 1 <= majority <= total:
        raise DataError(f"The majority must be between 1 and the {total} seats; got {majority}.")
    active = [i for i, (_, n) in enumerate(items) if n > 0]
    work = len(active) ** 2 * total
    if work > MAX_POWER_WORK:
        raise DataError(f"Exact power for {len(active)} parties with seats over {total:,} seats is too large a "
                        f"computation (parties squared times seats is {work:,}; at most {MAX_POWER_WORK:,}, "
                        "a few seconds); merge small parties.")
    table = {}
    for i in active:
        others = [items[j][1] for j in active if j != i]
        counts = _subset_counts(others, total)
        w_i = items[i][1]
        lo, hi = max(majority - w_i, 0), majority - 1  # the others' seats for which i swings
        table[i] = counts[:, lo: hi + 1].sum(axis=1) if hi >= lo else np.zeros(len(others) + 1, dtype=object)
    return items, active, table


def banzhaf(seats, majority: int | None = None) -> dict[str, tuple[int, float]]:
    """Banzhaf power: party -> (raw swings, normalised share of all swings, 0-1). A swing is a winning
    coalition that loses when the party leaves. Parties with no seats have none; counted over the parties
    with seats, without vetoes or blocs."""
    return _banzhaf(*_swing_table(seats, majority))


def _banzhaf(items, active, table) -> dict[str, tuple[int, float]]:
    raw = {items[i][0]: int(sum(table[i])) for i in active}
    total = sum(raw.values())
    return {name: (raw.get(name, 0), raw.get(name, 0) / total if total else 0.0) for name, _ in items}


def shapley_shubik(seats, majority: int | None = None) -> dict[str, float]:
    """Shapley-Shubik power: party -> the share (0-1) of the orderings of the parties with seats in which
    the party's joining first reaches the majority."""
    return _shapley_shubik(*_swing_table(seats, majority))


def _shapley_shubik(items, active, table) -> dict[str, float]:
    n = len(active)
    out = {}
    for i in active:
        value = sum(Fraction(int(c) * factorial(k) * factorial(n - k - 1), factorial(n))
                    for k, c in enumerate(table[i]))
        out[items[i][0]] = float(value)
    return {name: out.get(name, 0.0) for name, _ in items}


def power(seats, majority: int | None = None):
    """A DataFrame: party, seats, banzhaf_swings, banzhaf (0-1), shapley_shubik (0-1), in input order."""
    import pandas as pd

    swings = _swing_table(seats, majority)  # the costly part, computed once for both indices
    items = swings[0]
    b = _banzhaf(*swings)
    s = _shapley_shubik(*swings)
    return pd.DataFrame({"party": [n for n, _ in items], "seats": [k for _, k in items],
                         "banzhaf_swings": [b[n][0] for n, _ in items],
                         "banzhaf": [b[n][1] for n, _ in items],
                         "shapley_shubik": [s[n] for n, _ in items]})


# ---------------------------------------------------------------------------------------- many draws


def _membership(coalitions: Sequence[Sequence[int]], n_parties: int) -> np.ndarray:
    member = np.zeros((n_parties, len(coalitions)), dtype=np.int64)
    for c, members in enumerate(coalitions):
        for p in members:
            if not 0 <= int(p) < n_parties:
                raise DataError(f"Coalition {c} names party column {p}; there are {n_parties} columns.")
            member[int(p), c] = 1
    return member


def _majority_per_draw(seats: np.ndarray, majority) -> np.ndarray:
    if majority is None:
        return seats.sum(axis=1) // 2 + 1
    return np.broadcast_to(np.asarray(majority, dtype=np.int64), (seats.shape[0],))


def majorities(seats: np.ndarray, coalitions: Sequence[Sequence[int]], majority=None) -> np.ndarray:
    """Boolean (draws, coalitions): whether each coalition (a list of party column indices) reaches the
    majority in each draw. seats: (draws, parties) whole seats. majority: seats needed, a number or one per
    draw (default floor(draw total / 2) + 1)."""
    seats = np.asarray(seats, dtype=np.int64)
    held = seats @ _membership(coalitions, seats.shape[1])
    return held >= _majority_per_draw(seats, majority)[:, None]


def pivot_counts(seats: np.ndarray, coalitions: Sequence[Sequence[int]], majority=None) -> np.ndarray:
    """Int (coalitions, parties): in how many draws the coalition has a majority and loses it without that
    member (the member is pivotal). Non-members count 0."""
    seats = np.asarray(seats, dtype=np.int64)
    member = _membership(coalitions, seats.shape[1])
    held = seats @ member
    need = _majority_per_draw(seats, majority)
    wins = held >= need[:, None]
    out = np.zeros((len(coalitions), seats.shape[1]), dtype=np.int64)
    for c, members in enumerate(coalitions):
        for p in {int(x) for x in members}:
            out[c, p] = int(np.count_nonzero(wins[:, c] & (held[:, c] - seats[:, p] < need)))
    return out
