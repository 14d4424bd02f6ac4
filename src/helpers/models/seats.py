"""Seat allocation: exact apportionment of seats to lists from their votes.

The rules are composed from small parts with domain names, as in votelib:

- a :class:`Threshold` (percent of all valid votes; lists below it drop out),
- an optional :class:`Gauge` start (the Knesset's first step: every list gets floor(votes / gauge) seats),
- a seat rule: a :class:`DivisorRule` (D'Hondt, Sainte-Laguë, modified Sainte-Laguë) awarding seats one at a
  time to the largest quotient votes / divisor, or a :class:`LargestRemainder` quota rule (Hare, Droop),
- :class:`SurplusAgreements`: each pair of lists that signed a surplus-vote agreement (and both cleared the
  threshold) takes part as one list; the pair's seats are then split between its two lists by a split rule.

The Knesset law (Bader-Ofer) is one composition of them: ``Method("bader-ofer", rule=DHONDT, start=Gauge(),
split=DHONDT)``; the other methods are compositions too (:data:`METHODS`).

Arithmetic is exact: votes are integers, quotients are compared by cross-multiplication, and what the audit
shows is a :class:`fractions.Fraction`.

Ties. When the last seat is decided by an exact tie (two or more lists or pairs with the same quotient, or the
same remainder, competing for fewer seats than there are of them) the seat goes to the one that comes first in
the input (a pair counts at the place of its first list), and every list involved gets ``tie=True``. The
audit has a ``tie`` row naming them. Only the tie for the *last* seat matters: ties earlier in the order are
settled by later seats and change nothing. Inside a surplus agreement the same holds for the pair's last seat.
With the gauge start, a tie can only arise in the seats given after the gauge step.

Degenerate inputs. A list with no votes never clears a threshold (not even 0%). The gauge start needs enough
votes that floor(votes / gauge) does not give out more seats than there are (always true from seats² valid
votes of passing lists up, e.g. 14,400 for 120 seats); the Droop quota needs enough votes that the remainder
seats do not outnumber the lists. Otherwise :class:`~helpers.core.errors.DataError` says so.

:func:`allocate_batch` is the fast vectorised allocator for simulations (many draws at once); it gives the
same seats and resolves ties by the same rule as :func:`allocate` on every draw (float shares are first
converted to whole vote counts by :func:`to_vote_counts`).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

import numpy as np

from helpers.core.errors import DataError

__all__ = [
    "Allocation", "allocate", "allocate_batch", "to_vote_counts", "Threshold", "Gauge", "DivisorRule",
    "LargestRemainder", "SurplusAgreements", "Method", "METHODS", "DHONDT", "SAINTE_LAGUE",
    "MODIFIED_SAINTE_LAGUE", "HARE", "DROOP", "VOTE_SCALE", "method_for",
]

#: Float shares are converted to whole votes out of this many per draw (see :func:`to_vote_counts`).
VOTE_SCALE = 10**9
#: allocate_batch works through this many draws at a time (bounds its temporary memory).
BATCH_CHUNK = 250_000

# Floats order the quotients exactly while numerator x largest divisor stays below this (see _float_exact).
_FLOAT_EXACT_LIMIT = 2**50


# --------------------------------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class Threshold:
    """The share of all valid votes, in percent, a list needs to take part: a list passes when
    votes >= percent/100 x total, compared exactly (3.25% of 4,764,742 is 154,854.115, so 154,855 passes and
    154,854 does not). A list with no votes never passes."""

    percent: Fraction = Fraction(0)

    @classmethod
    def of(cls, value) -> Threshold:
        """A threshold from a percent given as a number, a decimal string or a Fraction; 0 <= t < 100.

        A float is read as the decimal it prints as (3.25 -> 13/4, 0.1 -> 1/10): what the user typed."""
        if isinstance(value, Threshold):
            return value
        if isinstance(value, bool):
            raise DataError(f"The threshold must be a percent between 0 and 100, not {value!r}.")
        try:
            if isinstance(value, Fraction | Integral):
                percent = Fraction(value)
            elif isinstance(value, Real):
                percent = Fraction(repr(float(value)))
            elif isinstance(value, str):
                percent = Fraction(value.strip().rstrip("%").strip())
            else:
                raise TypeError
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            raise DataError(f"The threshold must be a percent between 0 and 100 (such as 3.25), "
                            f"not {value!r}.") from None
        if not 0 <= percent < 100:
            raise DataError(f"The threshold is a percent of valid votes with 0 <= t < 100; "
                            f"{_decimal(percent)} is out of range.")
        return cls(percent)

    def minimum(self, total: int) -> Fraction:
        """The exact number of votes (possibly fractional) a list needs out of `total` valid votes."""
        return self.percent * total / 100

    def passes(self, votes: int, total: int) -> bool:
        p = self.percent
        return votes > 0 and votes * 100 * p.denominator >= p.numerator * total


@dataclass(frozen=True)
class DivisorRule:
    """A highest-averages rule: the next seat goes to the largest votes / divisor(seats held).

    Divisors are kept as integers after multiplying them all by `scale` (1.4 -> 7 with scale 5), so that
    quotients compare exactly by cross-multiplication. divisor(k) = first for k == 0, else
    step x k + offset."""

    name: str
    first: int
    step: int
    offset: int
    scale: int = 1

    def divisor(self, held: int) -> int:
        """The scaled divisor for a list already holding `held` seats."""
        return self.first if held == 0 else self.step * held + self.offset

    def quotient(self, votes: int, held: int) -> Fraction:
        """votes / divisor for a list holding `held` seats, in votes."""
        return Fraction(votes * self.scale, self.divisor(held))


DHONDT = DivisorRule("dhondt", first=1, step=1, offset=1)
SAINTE_LAGUE = DivisorRule("sainte-lague", first=1, step=2, offset=1)
#: First divisor 1.4, then 3, 5, 7, ... (Norway, Sweden before 2018); divisors scaled by 5 to stay integers.
MODIFIED_SAINTE_LAGUE = DivisorRule("modified-sainte-lague", first=7, step=10, offset=5, scale=5)


@dataclass(frozen=True)
class LargestRemainder:
    """A quota rule: each list gets floor(votes / quota) seats, the seats left go one each to the largest
    remainders. Hare: quota = votes / seats (exact). Droop: quota = floor(votes / (seats + 1)) + 1."""

    name: str
    droop: bool = False

    def quota(self, total: int, seats: int) -> Fraction:
        return Fraction(total // (seats + 1) + 1) if self.droop else Fraction(total, seats)


HARE = LargestRemainder("hare")
DROOP = LargestRemainder("droop", droop=True)


@dataclass(frozen=True)
class Gauge:
    """The Knesset's first step: gauge = integer part of (votes of passing lists / seats), and every passing
    list first gets floor(votes / gauge) seats. The seat rule then gives out the seats left."""

    def gauge(self, passing_votes: int, seats: int) -> int:
        return passing_votes // seats


@dataclass(frozen=True)
class SurplusAgreements:
    """Surplus-vote agreements: pairs of lists that take part in the allocation as one list. An agreement is
    void when either list misses the threshold; its lists then stand alone."""

    pairs: tuple[tuple[int, int], ...] = ()

    def units(self, passed: Sequence[bool]) -> tuple[list[tuple[int, ...]], list[tuple[int, int, bool]]]:
        """The lists that take part, grouped: each unit is a tuple of list positions, ordered by the unit's
        first list; and each agreement with whether it is in force."""
        partner: dict[int, int] = {}
        status = []
        for a, b in self.pairs:
            live = passed[a] and passed[b]
            status.append((a, b, live))
            if live:
                partner[a], partner[b] = b, a
        units = []
        for i, ok in enumerate(passed):
            if not ok:
                continue
            j = partner.get(i)
            if j is None:
                units.append((i,))
            elif i < j:
                units.append((i, j))
        return units, status


@dataclass(frozen=True)
class Method:
    """A composed allocation method: seat rule, optional gauge start, and the rule that splits a pair's
    seats between its two lists."""

    name: str
    rule: DivisorRule | LargestRemainder
    start: Gauge | None = None
    split: DivisorRule | LargestRemainder | None = None

    @property
    def split_rule(self) -> DivisorRule | LargestRemainder:
        return self.split or self.rule


METHODS: dict[str, Method] = {
    "bader-ofer": Method("bader-ofer", DHONDT, start=Gauge(), split=DHONDT),
    "dhondt": Method("dhondt", DHONDT),
    "sainte-lague": Method("sainte-lague", SAINTE_LAGUE),
    "modified-sainte-lague": Method("modified-sainte-lague", MODIFIED_SAINTE_LAGUE),
    "hare": Method("hare", HARE),
    "droop": Method("droop", DROOP),
}


def method_for(method: str | None, has_agreements: bool = False) -> Method:
    """The Method for a name; None means bader-ofer when there are agreements, else dhondt."""
    if method is None:
        method = "bader-ofer" if has_agreements else "dhondt"
    if isinstance(method, Method):
        return method
    key = str(method).strip().lower().replace("_", "-").replace("'", "").replace("ë", "e")
    key = {"d-hondt": "dhondt", "webster": "sainte-lague", "bader-offer": "bader-ofer"}.get(key, key)
    if key not in METHODS:
        raise DataError(f"Unknown method '{method}'; use one of {', '.join(METHODS)}.")
    return METHODS[key]


# ------------------------------------------------------------------------------------------ the allocation


@dataclass(frozen=True)
class Allocation:
    """Seats per list, in input order.

    `tie` is True for the lists involved in an exact tie for the last seat (the seat went to the first of
    them in input order); `passed` for lists that cleared the threshold; `audit` lists the steps (dicts with
    keys step, seat, list, votes, quotient, seats, note; quotient is an exact Fraction where there is one)."""

    lists: tuple[str, ...]
    votes: tuple[int, ...]
    seats: tuple[int, ...]
    tie: tuple[bool, ...]
    passed: tuple[bool, ...]
    audit: list[dict]
    method: str = "dhondt"
    threshold: Fraction = Fraction(0)

    def as_dict(self) -> dict[str, int]:
        """list -> seats."""
        return dict(zip(self.lists, self.seats, strict=True))

    @property
    def has_tie(self) -> bool:
        return any(self.tie)

    def to_frame(self):
        """A DataFrame with columns list, votes, seats, tie, passed (input order)."""
        import pandas as pd

        return pd.DataFrame({"list": list(self.lists), "votes": list(self.votes), "seats": list(self.seats),
                             "tie": list(self.tie), "passed": list(self.passed)})

    def audit_frame(self):
        """The audit as a DataFrame (columns step, seat, list, votes, quotient, seats, note)."""
        import pandas as pd

        return pd.DataFrame(self.audit, columns=list(_AUDIT_KEYS))


_AUDIT_KEYS = ("step", "seat", "list", "votes", "quotient", "seats", "note")


def _row(step, *, seat=None, list=None, votes=None, quotient=None, seats=None, note=""):  # noqa: A002
    return {"step": step, "seat": seat, "list": list, "votes": votes, "quotient": quotient, "seats": seats,
            "note": note}


def _decimal(x: Fraction | int, places: int = 3) -> str:
    """A readable decimal for a number >= 0: 154854.115, 13/4 -> 3.25; '…' marks one cut to `places`."""
    x = Fraction(x)
    n, d = x.numerator, x.denominator
    if d == 1:
        return f"{n:,}"
    unit = 10**places
    q, r = divmod(n * unit, d)
    if 2 * r >= d:
        q += 1
    text = f"{q // unit:,}.{q % unit:0{places}d}".rstrip("0").rstrip(".")
    return text if r == 0 else text + "…"


def _votes_input(votes) -> tuple[list[str], list[int]]:
    items = list(votes.items()) if isinstance(votes, Mapping) else list(votes)
    names, counts, seen = [], [], {}
    for item in items:
        try:
            name, count = item
        except (TypeError, ValueError):
            raise DataError("Votes must be a mapping list -> votes or a sequence of (list, votes) "
                            "pairs.") from None
        name = str(name).strip()
        if not name:
            raise DataError("A list has an empty name; every list needs a name.")
        if name.casefold() in seen:
            raise DataError(f"List '{name}' appears twice; each list must appear once.")
        seen[name.casefold()] = True
        if type(count) is not int:
            if isinstance(count, bool) or not isinstance(count, Real) or (
                    not isinstance(count, Integral) and not float(count).is_integer()):
                raise DataError(f"Votes for '{name}' must be a whole number >= 0, not {count!r}.")
            count = int(count)
        if count < 0:
            raise DataError(f"Votes for '{name}' must be a whole number >= 0, not {count}.")
        names.append(name)
        counts.append(count)
    if not names:
        raise DataError("There are no lists to allocate seats to.")
    if sum(counts) == 0:
        raise DataError("Every list has zero votes, so there is nothing to allocate.")
    return names, counts


def _agreement_positions(agreements, names: list[str]) -> tuple[tuple[int, int], ...]:
    exact = {n: i for i, n in enumerate(names)}
    folded = {n.casefold(): i for i, n in enumerate(names)}
    used: dict[int, tuple[str, str]] = {}
    pairs = []
    for pair in agreements or ():
        try:
            a, b = pair
        except (TypeError, ValueError):
            raise DataError(f"A surplus agreement must be a pair of lists, not {pair!r}.") from None
        idx = []
        for name in (a, b):
            key = str(name).strip()
            i = exact.get(key, folded.get(key.casefold()))
            if i is None:
                from difflib import get_close_matches

                near = get_close_matches(key, names, n=3)
                hint = f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""
                raise DataError(f"The surplus agreement {a}+{b} names '{key}', which is not a list in the "
                                f"votes{hint}.")
            idx.append(i)
        i, j = idx
        if i == j:
            raise DataError(f"The surplus agreement {a}+{b} pairs a list with itself.")
        for k in (i, j):
            if k in used:
                raise DataError(f"List '{names[k]}' is in two surplus agreements ({'+'.join(used[k])} and "
                                f"{a}+{b}); a list may sign only one.")
            used[k] = (str(a), str(b))
        pairs.append((min(i, j), max(i, j)))
    return tuple(pairs)


def _check_seats(seats) -> int:
    """Seats to allocate: a whole number from 1 to helpers.core.limits.MAX_SEATS, else DataError."""
    from helpers.core.limits import MAX_SEATS, check_count

    return check_count(seats, "The number of seats", 1, MAX_SEATS)


def allocate(votes, seats: int = 120, threshold=0, method: str | None = None, agreements=()) -> Allocation:
    """Allocate `seats` seats to lists from their votes, exactly.

    votes: a mapping list -> votes, or a sequence of (list, votes) pairs, holding every list that ran (the
    threshold is a percent of their total). threshold: percent of valid votes (number, decimal string or
    Fraction), 0 <= t < 100. method: "bader-ofer", "dhondt", "sainte-lague", "modified-sainte-lague", "hare"
    or "droop"; None means "bader-ofer" when agreements are given, else "dhondt". agreements: pairs of list
    names that signed a surplus-vote agreement (matched exactly, else ignoring letter case).

    Bad arguments raise DataError with a sentence saying what is wrong."""
    names, counts = _votes_input(votes)
    seats = _check_seats(seats)
    limit = Threshold.of(threshold)
    pairs = _agreement_positions(agreements, names)
    how = method_for(method, bool(pairs))
    got, tied, passed, audit = _allocate_exact(names, counts, seats, limit, how, pairs, audit=True)
    return Allocation(tuple(names), tuple(counts), tuple(got), tuple(tied), tuple(passed), audit,
                      method=how.name, threshold=limit.percent)


def _allocate_exact(names, counts, seats, limit: Threshold, how: Method, pairs, audit: bool):
    """The reference allocator on plain lists; returns seats, tie flags, passed flags and the audit rows."""
    n = len(counts)
    total = sum(counts)
    rows: list[dict] = []
    passed = [limit.passes(v, total) for v in counts]
    if audit:
        need = limit.minimum(total)
        rows.append(_row("threshold", votes=total, quotient=need,
                         note=f"threshold {_decimal(limit.percent)}% of {total:,} valid votes = "
                              f"{_decimal(need)} votes"))
        for name, v, ok in zip(names, counts, passed, strict=True):
            rows.append(_row("threshold", list=name, votes=v,
                             note="passes" if ok else ("no votes" if v == 0 else "below the threshold")))
    if not any(passed):
        raise DataError(f"No list reaches the threshold of {_decimal(limit.percent)}% of valid votes, so no "
                        "seat can be allocated.")
    units, status = SurplusAgreements(pairs).units(passed)
    if audit:
        for a, b, live in status:
            lost = [names[k] for k in (a, b) if not passed[k]]
            rows.append(_row("agreement", list=f"{names[a]}+{names[b]}", votes=counts[a] + counts[b],
                             note="in force: the pair counts as one list" if live else
                             f"void: {' and '.join(lost)} below the threshold"))

    seat = [0] * n
    if how.start is not None:
        passing_votes = sum(v for v, ok in zip(counts, passed, strict=True) if ok)
        gauge = how.start.gauge(passing_votes, seats)
        if gauge == 0:
            raise DataError(f"Too few votes for the gauge: {passing_votes:,} votes of passing lists for "
                            f"{seats} seats gives a gauge of 0.")
        for i in range(n):
            if passed[i]:
                seat[i] = counts[i] // gauge
        if audit:
            rows.append(_row("gauge", votes=passing_votes, quotient=gauge,
                             note=f"gauge = integer part of {passing_votes:,} votes / {seats} seats"))
            for i in range(n):
                if passed[i]:
                    rows.append(_row("initial", list=names[i], votes=counts[i],
                                     quotient=Fraction(counts[i], gauge), seats=seat[i],
                                     note="floor(votes / gauge)"))
        if sum(seat) > seats:
            raise DataError(f"Too few votes for the gauge rule: floor(votes / {gauge}) gives out {sum(seat)} "
                            f"of {seats} seats (it needs about {seats * seats:,} votes); use another method.")

    unit_votes = [sum(counts[i] for i in u) for u in units]
    unit_start = [sum(seat[i] for i in u) for u in units]
    labels = ["+".join(names[i] for i in u) for u in units]
    if isinstance(how.rule, DivisorRule):
        unit_seats, unit_tie, awards = _divisor_greedy(unit_votes, unit_start, seats - sum(unit_start),
                                                       how.rule, audit)
        award_step = "seat"
    else:
        unit_seats, unit_tie, awards, quota, unit_start = _largest_remainder(unit_votes, seats, how.rule)
        award_step = "remainder"
        if audit:
            rows.append(_row("quota", votes=sum(unit_votes), quotient=quota,
                             note=f"{how.rule.name} quota for {seats} seats"))
            for label, v, b in zip(labels, unit_votes, unit_start, strict=True):
                rows.append(_row("initial", list=label, votes=v, quotient=v / quota, seats=b,
                                 note=f"floor(votes / quota); remainder {_decimal(v - b * quota)} votes"))
    tied = [False] * n
    for u, members in enumerate(units):
        if len(members) == 1:
            seat[members[0]] = unit_seats[u]
        if unit_tie[u]:
            for i in members:
                tied[i] = True
    if audit:
        held, done = list(unit_start), sum(unit_start)
        for u, q in awards:
            held[u] += 1
            done += 1
            rows.append(_row(award_step, seat=done, list=labels[u], votes=unit_votes[u], quotient=q,
                             seats=held[u]))
        _tie_row(rows, [labels[u] for u in range(len(units)) if unit_tie[u]], "the last seat")

    for u, members in enumerate(units):
        if len(members) == 2:
            a, b = members
            split_seats, split_tie = _split(counts[a], counts[b], unit_seats[u], how.split_rule)
            seat[a], seat[b] = split_seats
            if split_tie:
                tied[a] = tied[b] = True
            if audit:
                rule = how.split_rule.name
                for k, i in enumerate(members):
                    rows.append(_row("split", list=names[i], votes=counts[i], seats=split_seats[k],
                                     note=f"{labels[u]} share their {unit_seats[u]} seats by {rule}"))
                if split_tie:
                    _tie_row(rows, [names[a], names[b]], f"the last seat of {labels[u]}")
    return seat, tied, passed, rows


def _tie_row(rows, involved, what):
    if involved:
        rows.append(_row("tie", list="; ".join(involved),
                         note=f"exact tie for {what}: awarded to {involved[0]}, the first in input order"))


def _float_exact(max_votes: int, rule: DivisorRule, seats: int) -> bool:
    """Whether float quotients order these integers exactly: two distinct quotients a/b and c/d differ by a
    relative 1/(a x d) at least, far above float rounding (2^-52) while a x d < 2^50."""
    return max_votes * rule.scale * rule.divisor(seats + 1) < _FLOAT_EXACT_LIMIT


def _divisor_greedy(votes: list[int], start: list[int], left: int, rule: DivisorRule, audit: bool = True):
    """Give `left` more seats one at a time to the largest votes / divisor(seats held); ties go to the first.

    Returns seats, tie flags (units in an exact tie for the last seat) and, when `audit`, the awards in order
    as (unit, quotient that won the seat)."""
    n = len(votes)
    seats = list(start)
    if left <= 0 or n == 0:
        return seats, [False] * n, []
    scale = rule.scale
    divisor = rule.divisor
    if _float_exact(max(votes), rule, sum(seats) + left):
        heap = [(-(v * scale / divisor(seats[i])), i) for i, v in enumerate(votes)]
    else:
        heap = [(-Fraction(v * scale, divisor(seats[i])), i) for i, v in enumerate(votes)]
    exact = isinstance(heap[0][0], Fraction)
    heapq.heapify(heap)
    steps = []
    for _ in range(left):
        i = heapq.heappop(heap)[1]
        steps.append(i)
        seats[i] += 1
        d = divisor(seats[i])
        heapq.heappush(heap, (-Fraction(votes[i] * scale, d) if exact else -(votes[i] * scale / d), i))
    awards = []
    if audit:
        held = list(start)
        for i in steps:
            awards.append((i, Fraction(votes[i] * scale, divisor(held[i]))))
            held[i] += 1
    # the last seat is tied when the best quotient left equals the one that won it (exact comparison)
    i = steps[-1]
    last_v, last_d = votes[i], divisor(seats[i] - 1)
    tie = [False] * n
    best = heap[0][1]
    if votes[best] * last_d == last_v * divisor(seats[best]):
        for i, v in enumerate(votes):
            won_at_last = seats[i] > start[i] and v * last_d == last_v * divisor(seats[i] - 1)
            tie[i] = won_at_last or v * last_d == last_v * divisor(seats[i])
    return seats, tie, awards


def _largest_remainder(votes: list[int], house: int, rule: LargestRemainder):
    """Quota floors, then one seat each to the largest remainders (ties to the first).

    Returns seats, tie flags, the awards (unit, remainder in votes), the quota and the floors."""
    n = len(votes)
    total = sum(votes)
    quota = rule.quota(total, house)
    base = [int(v // quota) for v in votes]
    rem = [v - b * quota for v, b in zip(votes, base, strict=True)]
    left = house - sum(base)
    if left > n:
        raise DataError(f"Too few votes for the {rule.name} quota: {total:,} votes leave {left} seats for "
                        f"{n} lists after the quota step.")
    order = sorted(range(n), key=lambda i: (-rem[i], i))
    seats = list(base)
    for i in order[:left]:
        seats[i] += 1
    tie = [False] * n
    if 0 < left < n and rem[order[left - 1]] == rem[order[left]]:
        edge = rem[order[left - 1]]
        tie = [r == edge for r in rem]
    return seats, tie, [(i, rem[i]) for i in order[:left]], quota, base


def _split(va: int, vb: int, n: int, rule) -> tuple[list[int], bool]:
    """Split a pair's `n` seats between its two lists (first list first); and whether the last was a tie."""
    if n == 0:
        return [0, 0], False
    if isinstance(rule, DivisorRule):
        # D'Hondt gives each list at least floor(v x n / V) seats (its n-th quotient is at most V / n), so
        # the greedy starts there: the same seats and tie as from zero, in one step instead of n.
        start = [va * n // (va + vb), vb * n // (va + vb)] if rule == DHONDT else [0, 0]
        got, tie, _ = _divisor_greedy([va, vb], start, n - sum(start), rule, audit=False)
    else:
        got, tie, *_ = _largest_remainder([va, vb], n, rule)
    return got, any(tie)


# ---------------------------------------------------------------------------------------------- the batch
#
# The batch allocator works on float64 arrays shaped (lists, draws): one contiguous row per list, so that the
# per-list steps (agreements, splits) and the sums over lists run at memory speed. Every value it stores is a
# whole number below 2^53, so float arithmetic on them is exact integer arithmetic: products stay below
# 2^53, floor(a / b) of whole numbers below 2^52 is exact, and quotients votes / divisor order exactly (see
# _float_exact). _fits_fast checks the sizes; larger counts take the exact path draw by draw.


def _votes_array(votes) -> np.ndarray:
    a = np.asarray(votes)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise DataError(f"Votes must be a (draws, lists) array; got {a.ndim} dimensions.")
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise DataError(f"Votes must be numbers; got an array of {a.dtype}.")
    if a.size and a.min() < 0:
        raise DataError("Votes must be >= 0; the array holds a negative value.")
    return a


def _is_counts(a: np.ndarray) -> bool:
    """Integers, or floats that are all whole numbers (a share array shows a fraction on its first row)."""
    if np.issubdtype(a.dtype, np.integer):
        return True
    if not np.isfinite(a).all():
        raise DataError("Votes hold a value that is not a finite number (NaN or infinity).")
    return bool((np.floor(a[0]) == a[0]).all() and (np.floor(a) == a).all())


def _share_rows(a: np.ndarray) -> np.ndarray:
    """Float shares -> whole votes out of VOTE_SCALE per draw, as float64 shaped (lists, draws)."""
    totals = a.sum(axis=1, dtype=np.float64)
    rows = np.empty(a.shape[::-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(a.T, totals, out=rows)
    rows[:, totals == 0] = 0.0
    rows *= VOTE_SCALE
    rows += 0.5
    np.floor(rows, out=rows)
    return rows


def to_vote_counts(votes) -> np.ndarray:
    """Whole vote counts, int64, shape (draws, lists), as the batch allocator uses them.

    An integer array, or a float array whose values are all whole numbers, is taken as vote counts. Any other
    float array holds shares (in any unit: 0-1, percent, ...): each draw becomes VOTE_SCALE (10^9) votes,
    rounded half up, ``floor(v / draw_total * VOTE_SCALE + 0.5)`` in float64. :func:`allocate` on these
    counts gives exactly the seats :func:`allocate_batch` gives."""
    a = _votes_array(votes)
    if a.size == 0 or _is_counts(a):
        if a.size and a.max() >= 2**63:
            raise DataError("Vote counts must be below 2^63.")
        return a.astype(np.int64)
    return _share_rows(a).T.astype(np.int64)


def allocate_batch(votes: np.ndarray, seats: int = 120, threshold: float = 0.0, method: str = "dhondt",
                   agreements: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """Seats for many draws at once: int64 array (draws, lists), the same as :func:`allocate` gives on each
    draw (ties resolved by input order, as there).

    votes: (draws, lists) array of vote counts or shares (see :func:`to_vote_counts` for how float shares
    become whole votes). threshold: percent of each draw's valid votes. method: any of :data:`METHODS`.
    agreements: pairs of column indices. Raises DataError where allocate would (e.g. a draw with no votes).

    How it stays exact and fast: whole-array integer arithmetic. A divisor method first gives every list the
    seats its quotients win against an estimate L of the quotient that wins the last seat; that set is a
    prefix of the one-at-a-time seat order, so the exact result follows by adding or taking back the one or
    two seats the estimate missed, by argmax/argmin of exact quotients. Bader-Ofer does the same from the
    gauge's initial seats."""
    a = _votes_array(votes)
    seats = _check_seats(seats)
    limit = Threshold.of(threshold)
    n_draws, n_lists = a.shape
    pairs = _batch_pairs(agreements, n_lists)
    how = method_for(method, bool(pairs))
    if n_draws == 0 or n_lists == 0:
        return np.zeros((n_draws, n_lists), dtype=np.int64)
    counts = _is_counts(a)  # decided once for the whole array, as to_vote_counts does
    if n_draws <= BATCH_CHUNK:
        return _allocate_chunk(a, counts, 0, seats, limit, how, pairs)
    # in chunks, so that the temporary arrays stay a few hundred MB however many draws there are
    return np.concatenate([_allocate_chunk(a[start: start + BATCH_CHUNK], counts, start, seats, limit, how,
                                           pairs) for start in range(0, n_draws, BATCH_CHUNK)])


def _allocate_chunk(a, counts: bool, offset: int, seats: int, limit: Threshold, how: Method, pairs):
    """allocate_batch on one chunk of draws; `offset` is the chunk's first draw (for messages)."""
    n_draws, n_lists = a.shape
    if counts:
        empty = a.sum(axis=1) == 0
        if empty.any():
            bad = offset + int(np.flatnonzero(empty)[0])
            raise DataError(f"Draw {bad} has zero votes for every list, so there is nothing to allocate.")
        if not _fits_fast(int(a.max()), seats, n_lists, how.rule, limit):
            return _batch_exact(to_vote_counts(a), seats, limit, how, pairs)
        rows = np.ascontiguousarray(a.T, dtype=np.float64)
    else:
        rows = _share_rows(a)
        if not _fits_fast(VOTE_SCALE, seats, n_lists, how.rule, limit):  # e.g. a threshold of 3.14159265...
            return _batch_exact(rows.T.astype(np.int64), seats, limit, how, pairs)
    totals = rows.sum(axis=0)
    if not totals.all():
        bad = offset + int(np.flatnonzero(totals == 0)[0])
        raise DataError(f"Draw {bad} has zero votes for every list, so there is nothing to allocate.")
    num, den = limit.percent.numerator, limit.percent.denominator
    passed = rows * (100.0 * den) >= totals * float(num) if num else rows > 0
    n_passed = passed.sum(axis=0)
    if not n_passed.all():
        bad = offset + int(np.flatnonzero(n_passed == 0)[0])
        raise DataError(f"In draw {bad} no list reaches the threshold of {_decimal(limit.percent)}%, so no "
                        "seat can be allocated.")
    votes_ok = rows * passed

    # a pair in force counts as one list, in the row of its first list; the other row holds 0 votes, and a
    # row with 0 votes never takes a seat
    unit_votes = votes_ok.copy() if pairs else votes_ok
    live = []
    for a, b in pairs:
        both = passed[a] & passed[b]
        live.append(both)
        np.add(unit_votes[a], votes_ok[b], out=unit_votes[a], where=both)
        unit_votes[b][both] = 0.0
    n_units = n_passed - sum(live) if pairs else n_passed
    house = np.full(n_draws, float(seats))

    if how.start is not None:
        gauge = np.floor(votes_ok.sum(axis=0) / seats)
        if not gauge.all():
            bad = offset + int(np.flatnonzero(gauge == 0)[0])
            raise DataError(f"Too few votes for the gauge in draw {bad}: fewer votes than seats.")
        initial = np.floor(votes_ok / gauge)
        for (a, b), both in zip(pairs, live, strict=True):
            np.add(initial[a], initial[b], out=initial[a], where=both)
            initial[b][both] = 0.0
        over = initial.sum(axis=0) > seats
        if over.any():
            bad = offset + int(np.flatnonzero(over)[0])
            raise DataError(f"Too few votes for the gauge rule in draw {bad}: floor(votes / gauge) gives out "
                            "more seats than there are.")
        unit_seats = _rows_divisor(unit_votes, house, how.rule, n_units, start=initial)
    elif isinstance(how.rule, DivisorRule):
        unit_seats = _rows_divisor(unit_votes, house, how.rule, n_units)
    else:
        unit_seats = _rows_remainder(unit_votes, seats, how.rule, offset)

    for (a, b), both in zip(pairs, live, strict=True):
        if both.any():
            sa, sb = _rows_split(votes_ok[a], votes_ok[b], unit_seats[a], how.split_rule, both)
            unit_seats[a] = np.where(both, sa, unit_seats[a])
            unit_seats[b] = np.where(both, sb, unit_seats[b])
    return unit_seats.T.astype(np.int64)


def _batch_pairs(agreements, n_lists: int) -> tuple[tuple[int, int], ...]:
    pairs, used = [], set()
    for pair in agreements or ():
        try:
            a, b = (int(x) for x in pair)
        except (TypeError, ValueError):
            raise DataError(f"An agreement must be a pair of column indices, not {pair!r}.") from None
        if not (0 <= a < n_lists and 0 <= b < n_lists) or a == b:
            raise DataError(f"The agreement {tuple(pair)!r} must name two different columns between 0 and "
                            f"{n_lists - 1}.")
        if a in used or b in used:
            raise DataError(f"Column {a if a in used else b} is in two surplus agreements; a list may sign "
                            "only one.")
        used.update((a, b))
        pairs.append((min(a, b), max(a, b)))
    return tuple(pairs)


def _fits_fast(big: int, seats: int, n_lists: int, rule, limit: Threshold) -> bool:
    """Whether the fast path's products stay below 2^52 (exact in float64) and its quotients order exactly;
    `big` is the largest vote count."""
    p = limit.percent
    total = big * n_lists
    if big * 100 * p.denominator >= 2**52 or total * p.numerator >= 2**52:
        return False
    if total * (seats + 2) >= 2**52:  # Hare: votes x seats, floors x total
        return False
    return not isinstance(rule, DivisorRule) or _float_exact(2 * big, rule, seats)


def _batch_exact(counts, seats, limit, how, pairs):
    """The reference allocator draw by draw, for vote counts too large for the fast path."""
    names = [str(i) for i in range(counts.shape[1])]
    out = np.zeros(counts.shape, dtype=np.int64)
    for d in range(counts.shape[0]):
        got, *_ = _allocate_exact(names, [int(x) for x in counts[d]], seats, limit, how, pairs, audit=False)
        out[d] = got
    return out


def _few_bits(c: np.ndarray, bits: int) -> np.ndarray:
    """c rounded down to `bits` significant bits, so that a whole number below 2^(49 - bits) times it is an
    exact float product."""
    mantissa, exponent = np.frexp(c)
    return np.ldexp(np.floor(mantissa * 2.0 ** max(bits, 1)), exponent - max(bits, 1))


def _divisors(held: np.ndarray, rule: DivisorRule) -> np.ndarray:
    """Scaled divisors for units holding `held` seats."""
    if rule is DHONDT:
        return held + 1.0
    return np.where(held == 0, float(rule.first), rule.step * held + float(rule.offset))


def _rows_divisor(votes, house, rule: DivisorRule, n_units, start=None):
    """A divisor method on many draws: seats (units, draws), the same as the one-at-a-time greedy from
    `start` (or zero) with ties to the first unit. Units with 0 votes take no seat.

    First each unit gets max(start, #{k: votes / divisor(k) >= L}) for an estimate L of the quotient that
    wins the last seat (D'Hondt: V / (S + n/2); Sainte-Laguë types: V / 2S). L is a float with few significant
    bits, so votes / L is an exact float product and the count is exact. Those seats are a prefix of the
    greedy's seat order (every quotient >= L, ties included), so the greedy's result follows by adding the
    best next quotients while seats are short, or taking back the smallest won quotients (the last unit first
    among equals) while there are too many: one seat or none for most draws."""
    total = votes.sum(axis=0)
    bits = 49 - max(int(votes.max()), 1).bit_length()
    if rule is DHONDT:
        c = _few_bits((2.0 * house + n_units) / (2.0 * total), bits)  # c = 1 / L
        seats = votes * c
        np.floor(seats, out=seats)
    else:
        # y = votes x scale / (step x L); the count is 1 + floor(y - offset/step) once y x step >= first
        c = _few_bits(rule.scale * 2.0 * house / (rule.step * total), bits - 4)
        y = votes * c
        seats = np.where(y * rule.step >= rule.first, np.floor(y - rule.offset / rule.step) + 1.0, 0.0)
    if start is not None:
        np.maximum(seats, start, out=seats)
    diff = house - seats.sum(axis=0)
    idx = np.flatnonzero(diff)
    if not idx.size:
        return seats
    scaled = votes * rule.scale if rule.scale != 1 else votes
    n = seats.shape[0]
    while idx.size:
        add = diff[idx] > 0
        cols = idx[add]
        if cols.size:
            q = scaled[:, cols] / _divisors(seats[:, cols], rule)
            seats[np.argmax(q, axis=0), cols] += 1.0
            diff[cols] -= 1.0
        cols = idx[~add]
        if cols.size:
            held = seats[:, cols]
            floor = start[:, cols] if start is not None else 0.0
            won = np.where(held > floor, scaled[:, cols] / _divisors(np.maximum(held - 1.0, 0.0), rule),
                           np.inf)
            seats[n - 1 - np.argmin(won[::-1], axis=0), cols] -= 1.0
            diff[cols] += 1.0
        idx = idx[diff[idx] != 0]
    return seats


def _rows_remainder(votes, house: int, rule: LargestRemainder, offset: int = 0):
    """Hare or Droop largest remainder on many draws: seats (units, draws); remainders compared exactly."""
    total = votes.sum(axis=0)
    if rule.droop:
        quota = np.floor(total / (house + 1)) + 1.0
        base = np.floor(votes / quota)
        rem = votes - base * quota  # in votes
    else:
        base = np.floor(votes * house / total)
        rem = votes * house - base * total  # in votes x seats: the same order as the remainders
    active = votes > 0
    left = house - base.sum(axis=0)
    over = left > active.sum(axis=0)
    if over.any():
        raise DataError(f"Too few votes for the {rule.name} quota in draw "
                        f"{offset + int(np.flatnonzero(over)[0])}.")
    key = np.where(active, rem, -1.0).T
    order = np.argsort(-key, axis=1, kind="stable")  # largest remainder first, the first unit on ties
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :], axis=1)
    return base + (rank < left[:, None]).T


def _rows_split(va, vb, n, rule, mask):
    """Split each pair's n seats between its first (a) and second (b) list, where `mask`; (sa, sb)."""
    if rule is DHONDT:
        # D'Hondt gives each at least floor(v x n / V) (see _split); at most one seat is left, and it goes to
        # the larger next quotient, the first list on a tie
        both = np.where(mask, va + vb, 1.0)
        sa = np.floor(va * n / both)
        sb = np.floor(vb * n / both)
        extra = n - sa - sb
        a_wins = va * (sb + 1.0) >= vb * (sa + 1.0)
        return sa + extra * a_wins, sb + extra * ~a_wins
    cols = np.flatnonzero(mask)
    pair = np.stack([va[cols], vb[cols]])
    sa, sb = np.zeros_like(va), np.zeros_like(vb)
    if isinstance(rule, DivisorRule):
        got = _rows_divisor(pair, n[cols], rule, np.full(cols.size, 2.0))
    else:
        got = np.zeros_like(pair)
        for k in np.unique(n[cols]):
            sel = np.flatnonzero(n[cols] == k)
            if k > 0:
                got[:, sel] = _rows_remainder(pair[:, sel], int(k), rule)
    sa[cols], sb[cols] = got[0], got[1]
    return sa, sb
