"""The batch allocator (:func:`allocate_batch`): the seats of many simulated draws at once, the same on every
draw as :func:`helpers.models.seats.allocate` gives."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from helpers.core.errors import DataError
from helpers.core.threshold import percent_words
from helpers.models.seats.exact import _allocate_exact, _check_seats, _float_exact
from helpers.models.seats.rules import DHONDT, DivisorRule, LargestRemainder, Method, Threshold, method_for

#: Float shares are converted to whole votes out of this many per draw (see :func:`to_vote_counts`).
VOTE_SCALE = 10**9
#: allocate_batch works through this many draws at a time (bounds its temporary memory).
BATCH_CHUNK = 250_000


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


def allocate_batch(votes: np.ndarray, seats: int = 120, threshold=0, method: str = "dhondt",
                   agreements: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """Seats for many draws at once: int64 array (draws, lists), the same as :func:`allocate` gives on each
    draw (ties resolved by input order, as there).

    votes: (draws, lists) array of vote counts or shares (see :func:`to_vote_counts` for how float shares
    become whole votes). threshold: percent of each draw's valid votes, or any threshold words of
    :mod:`helpers.core.threshold` ("1/150", "1 quota"); give an exact Fraction (Fraction(2, 3) for 1/150), not a
    rounded float, and it is compared exactly, on the fast path (votes x 100 x den >= total x num in exact
    float64 integers). method: any of :data:`METHODS`.
    agreements: pairs of column indices. Raises DataError where allocate would (e.g. a draw with no votes).

    How it stays exact and fast: whole-array integer arithmetic. A divisor method first gives every list the
    seats its quotients win against an estimate L of the quotient that wins the last seat; that set is a
    prefix of the one-at-a-time seat order, so the exact result follows by adding or taking back the one or
    two seats the estimate missed, by argmax/argmin of exact quotients. Bader-Ofer does the same from the
    gauge's initial seats."""
    a = _votes_array(votes)
    seats = _check_seats(seats)
    limit = Threshold.of(threshold, seats)
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
        raise DataError(f"In draw {bad} no list reaches the threshold of {percent_words(limit.percent, seats)}, "
                        "so no seat can be allocated.")
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
