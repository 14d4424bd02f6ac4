"""The exact allocation (:func:`allocate`): one election, integer votes, quotients compared by
cross-multiplication, every step in an audit. See :mod:`helpers.models.seats` for the rules and ties."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

from helpers.core.errors import DataError
from helpers.core.threshold import percent_words
from helpers.models.seats.rules import (
    DHONDT,
    DivisorRule,
    LargestRemainder,
    Method,
    SurplusAgreements,
    Threshold,
    _decimal,
    method_for,
)

# Floats order the quotients exactly while numerator x largest divisor stays below this (see _float_exact).
_FLOAT_EXACT_LIMIT = 2**50


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
    Fraction), 0 <= t < 100, or any threshold words of :mod:`helpers.core.threshold` ("1/150" of the valid
    votes, "1 quota" of `seats`). method: "bader-ofer", "dhondt", "sainte-lague", "modified-sainte-lague", "hare"
    or "droop"; None means "bader-ofer" when agreements are given, else "dhondt". agreements: pairs of list
    names that signed a surplus-vote agreement (matched exactly, else ignoring letter case).

    Bad arguments raise DataError with a sentence saying what is wrong."""
    names, counts = _votes_input(votes)
    seats = _check_seats(seats)
    limit = Threshold.of(threshold, seats)
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
                         note=f"threshold {_of_total(limit.percent, seats, total)} = {_decimal(need)} votes"))
        for name, v, ok in zip(names, counts, passed, strict=True):
            rows.append(_row("threshold", list=name, votes=v,
                             note="passes" if ok else ("no votes" if v == 0 else "below the threshold")))
    if not any(passed):
        raise DataError(f"No list reaches the threshold of {_of_valid(limit.percent, seats)}, so no seat can be "
                        "allocated.")
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


def _of_valid(percent: Fraction, seats: int) -> str:
    """'3.25% of valid votes', '1/150 of the valid votes (one full quota)'."""
    words = percent_words(percent, seats)
    return f"{words} of valid votes" if words.endswith("%") else words


def _of_total(percent: Fraction, seats: int, total: int) -> str:
    """'3.25% of 4,764,742 valid votes', '1/150 of the 15,000 valid votes (one full quota)'."""
    words = percent_words(percent, seats)
    if words.endswith("%"):
        return f"{words} of {total:,} valid votes"
    return words.replace(" of the valid votes", f" of the {total:,} valid votes", 1)


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
