"""The batch allocator gives exactly the reference allocator's seats on every draw: 100,000 randomised
draws (Knesset-like, lists exactly at and just under the threshold, exact ties), hypothesis cases, the exact
path for huge counts, and the documented conversion of float shares to whole votes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from helpers.core.errors import DataError
from helpers.models.seats import METHODS, VOTE_SCALE, allocate, allocate_batch, to_vote_counts

PROFILE = np.array([24.0, 16.0, 10.0, 9.0, 7.5, 6.0, 5.0, 4.5, 4.2, 4.0, 3.7, 3.5, 2.0, 0.3, 0.2, 0.1])
AGREEMENTS = [(4, 5), (0, 2), (10, 9), (1, 3)]  # as in 2022: Shas-UTJ, Likud-RZ, Meretz-Labor, YA-NU
NAMES = [f"l{i}" for i in range(len(PROFILE))]


def knesset_like(n: int, seed: int) -> np.ndarray:
    """Whole votes (out of 10^9 per draw) around a 16-list Knesset profile; a tenth of the draws put list 11
    exactly at 3.25%, a tenth one vote under it, a tenth copy list 8's votes to list 9 (exact ties)."""
    rng = np.random.default_rng(seed)
    counts = to_vote_counts(rng.dirichlet(PROFILE / PROFILE.sum() * 20_000, size=n))
    kind = rng.integers(0, 10, size=n)
    for d in np.flatnonzero(kind <= 1):
        # list 11 has v votes and the others R: v x 400 = 13 x (R + v) when R = 387 m and v = 13 m
        others = counts[d].sum() - counts[d, 11]
        counts[d, 0] -= others % 387
        m = (others - others % 387) // 387
        counts[d, 11] = 13 * m - (kind[d] == 1)
    dup = kind == 2
    counts[dup, 9] = counts[dup, 8]
    return counts


def exact_seats(counts: np.ndarray, seats: int, threshold, method: str, pairs) -> np.ndarray:
    names = [f"l{i}" for i in range(counts.shape[1])]
    agreements = [(names[a], names[b]) for a, b in pairs]
    return np.array([allocate(list(zip(names, row.tolist(), strict=True)), seats, threshold, method,
                              agreements).seats for row in counts])


@pytest.mark.slow  # the exact allocator, in plain Python, takes about 10 s for 100,000 draws
def test_100000_knesset_like_draws_equal_the_exact_allocator():
    """The main check (about 15-25 s): 100,000 Bader-Ofer draws with the 2022-style agreements."""
    counts = knesset_like(100_000, seed=2022)
    threshold = 3.25
    total = counts.sum(axis=1)
    at = counts[:, 11] * 400 == total * 13
    assert at.sum() > 5_000 and (counts[:, 11] * 400 < total * 13).sum() > 5_000  # the edge is exercised
    batch = allocate_batch(counts, 120, threshold, "bader-ofer", AGREEMENTS)
    exact = exact_seats(counts, 120, threshold, "bader-ofer", AGREEMENTS)
    bad = np.flatnonzero((batch != exact).any(axis=1))
    assert bad.size == 0, f"{bad.size} draws differ, first {bad[:5]}: {counts[bad[0]].tolist()}"
    assert (batch[at, 11] > 0).all()  # exactly at the threshold passes


@pytest.mark.parametrize("method", ["dhondt", "sainte-lague", "modified-sainte-lague", "hare", "droop"])
def test_other_methods_on_knesset_like_draws(method):
    counts = knesset_like(2_000, seed=7)
    pairs = AGREEMENTS if method in ("dhondt", "modified-sainte-lague", "droop") else []
    batch = allocate_batch(counts, 120, 3.25, method, pairs)
    assert (batch == exact_seats(counts, 120, 3.25, method, pairs)).all()


@pytest.mark.parametrize("method", ["dhondt", "sainte-lague", "modified-sainte-lague", "hare", "bader-ofer"])
def test_small_counts_full_of_ties(method):
    """Small whole numbers make exact ties for the last seat common; the batch breaks them like allocate."""
    rng = np.random.default_rng(11)
    counts = rng.integers(0, 40, size=(2_000, 6)) * 3
    counts[:, 0] += 1  # never an all-zero draw
    seats = 10 if method != "bader-ofer" else 6
    pairs = [(1, 4)] if method != "hare" else []
    try:
        exact = exact_seats(counts, seats, 0, method, pairs)
    except DataError:
        # Bader-Ofer's gauge needs enough votes; keep the draws where allocate accepts them
        keep = []
        for d, row in enumerate(counts):
            try:
                allocate(list(zip(NAMES, row.tolist(), strict=False)), seats, 0, method,
                         [(NAMES[1], NAMES[4])])
                keep.append(d)
            except DataError:
                pass
        counts = counts[keep]
        exact = exact_seats(counts, seats, 0, method, pairs)
    ties = sum(any(allocate(list(zip(NAMES, row.tolist(), strict=False)), seats, 0, method,
                            [(NAMES[a], NAMES[b]) for a, b in pairs]).tie) for row in counts[:1000])
    assert ties > 20  # the draws really are full of ties
    assert (allocate_batch(counts, seats, 0, method, pairs) == exact).all()


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 3000), min_size=5, max_size=5), min_size=1, max_size=6),
       seats=st.integers(1, 40), method=st.sampled_from(sorted(METHODS)),
       threshold=st.sampled_from([0, 3.25, 10, 20]), with_pair=st.booleans())
def test_batch_equals_allocate_on_any_draws(rows, seats, method, threshold, with_pair):
    counts = np.array(rows, dtype=np.int64)
    pairs = [(3, 1)] if with_pair else []
    try:
        exact = exact_seats(counts, seats, threshold, method, pairs)
    except DataError:
        with pytest.raises(DataError):
            allocate_batch(counts, seats, threshold, method, pairs)
        return
    assert (allocate_batch(counts, seats, threshold, method, pairs) == exact).all()


def test_huge_counts_take_the_exact_path():
    rng = np.random.default_rng(3)
    counts = (rng.dirichlet(PROFILE, size=50) * 4e17).astype(np.int64)
    counts[:, 3] = counts[:, 2]
    for method, pairs in (("bader-ofer", AGREEMENTS), ("dhondt", []), ("hare", [])):
        exact = exact_seats(counts, 120, 3.25, method, pairs)
        assert (allocate_batch(counts, 120, 3.25, method, pairs) == exact).all()
    # an odd threshold (a long decimal) also takes the exact path, with the same answer
    shares = counts / counts.sum(axis=1, keepdims=True)
    odd = 3.14159265358979
    exact = exact_seats(to_vote_counts(shares), 120, odd, "dhondt", [])
    assert (allocate_batch(shares, 120, odd, "dhondt") == exact).all()


def test_float_shares_become_whole_votes_by_the_stated_rule():
    shares = np.random.default_rng(5).dirichlet(PROFILE, size=1000)
    counts = to_vote_counts(shares)
    assert counts.dtype == np.int64
    expected = np.floor(shares * (VOTE_SCALE / shares.sum(axis=1))[:, None] + 0.5).astype(np.int64)
    assert (counts == expected).all()
    assert (allocate_batch(shares, 120, 3.25, "bader-ofer", AGREEMENTS) ==
            allocate_batch(counts, 120, 3.25, "bader-ofer", AGREEMENTS)).all()
    # percent shares are the same shares
    assert (to_vote_counts(shares * 100) - counts).__abs__().max() <= 1
    # whole numbers in a float array are vote counts
    assert (to_vote_counts(counts.astype(float)) == counts).all()


def test_one_dimensional_votes_are_one_draw():
    assert allocate_batch(np.array([4160, 3380, 2460]), 10).tolist() == [[4, 4, 2]]


@pytest.mark.parametrize("votes,kwargs,needle", [
    (np.array([[0, 0], [1, 2]]), {}, "zero votes"),
    (np.array([[-1, 2]]), {}, ">= 0"),
    (np.array([[np.nan, 0.5]]), {}, "finite"),
    (np.array([[1, 2, 3]]), {"method": "borda"}, "Unknown method"),
    (np.array([[1, 2, 3]]), {"threshold": 100}, "0 <= t < 100"),
    (np.array([[1, 2, 3]]), {"agreements": [(0, 1), (1, 2)]}, "two surplus agreements"),
    (np.array([[1, 2, 3]]), {"agreements": [(0, 5)]}, "columns"),
    (np.array([[1, 2, 3]]), {"seats": 0}, "seats"),
    (np.array([[1, 1, 1]]), {"threshold": 50}, "no list reaches"),
])
def test_bad_batch_input_raises_data_error(votes, kwargs, needle):
    with pytest.raises(DataError, match=needle):
        allocate_batch(votes, **{"seats": 10, **kwargs})


def test_empty_batch():
    assert allocate_batch(np.zeros((0, 4), dtype=np.int64)).shape == (0, 4)


@settings(max_examples=100, deadline=None)
@given(shares=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=3, max_size=8))
def test_any_float_shares_allocate_as_their_counts(shares):
    assume(sum(shares) > 0 and any(s != int(s) for s in shares))
    counts = to_vote_counts(np.array([shares]))
    assume(counts.sum() > 0)
    got = allocate_batch(np.array([shares]), 120, 0, "dhondt")[0]
    assert tuple(got) == allocate([(f"l{i}", int(c)) for i, c in enumerate(counts[0])], 120).seats
