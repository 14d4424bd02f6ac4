"""The Monte Carlo model: determinism, the threshold probabilities of the reference test vector, seats from
the real seat engine on every draw, and probabilities that divide by the draws used."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.core.errors import DataError
from helpers.models import seats as engine
from helpers.models import simulate as sim_model

#: One poll of 600 respondents, 12 parties (README test vector): a, b, c poll 4.0%, 3.5% and 3.0%.
VECTOR = {"a": 4.0, "b": 3.5, "c": 3.0, "d": 30.0, "e": 20.0, "f": 10.0, "g": 8.0, "h": 7.0, "i": 5.5,
          "j": 4.5, "k": 2.5, "l": 2.0}
#: P(clearing 3.25%) under the Dirichlet posterior (counts + 1/2), from tests/golden/SOURCES.md.
EXPECTED = {"a": 0.8405, "b": 0.6327, "c": 0.3632}


def test_threshold_probabilities_match_the_dirichlet_posterior():
    """With sampling error only and no residual, a simulation is the Dirichlet posterior of the poll."""
    sim = sim_model.simulate(VECTOR, 600, draws=60_000, seed=1, threshold=3.25, error_model="sampling",
                             others=0.0)
    assert sim.error_model.scale == 0 and not sim.error_model.sd([1.0, 30.0]).any()
    p = sim.summary.set_index("party")["p_pass"]
    for party, expected in EXPECTED.items():
        # Monte Carlo standard error at 60,000 draws is below 0.002
        assert p[party] == pytest.approx(expected, abs=0.01), party
    # the historical default adds an election-day error: the lists near the line move towards a coin toss
    wide = sim_model.simulate(VECTOR, 600, draws=20_000, seed=1, threshold=3.25).summary.set_index("party")
    assert wide.loc["a", "p_pass"] < p["a"] - 0.02 and wide.loc["c", "p_pass"] > p["c"] + 0.01


def test_dirichlet_parameters_are_respondents_plus_a_half():
    alpha = sim_model.dirichlet_alpha(list(VECTOR.values()), 600)
    assert alpha[0] == pytest.approx(24.5) and alpha.sum() == pytest.approx(606)


def test_same_seed_same_draws_other_seed_other_draws():
    kw = dict(draws=3_000, threshold=3.25, poll_error=1.0, agreements=[("a", "b")])
    one = sim_model.simulate(VECTOR, 600, seed=7, **kw)
    two = sim_model.simulate(VECTOR, 600, seed=7, **kw)
    other = sim_model.simulate(VECTOR, 600, seed=8, **kw)
    assert np.array_equal(one.shares, two.shares) and np.array_equal(one.seats, two.seats)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    assert not np.array_equal(one.shares, other.shares)


def test_chunks_do_not_change_the_draws():
    """With sampling error only each list's stream gives its gamma variates in order, so chunking is
    invisible."""
    kw = dict(draws=2_500, seed=3, error_model="sampling")
    big = sim_model.simulate(VECTOR, 600, chunk=10_000, **kw)
    small = sim_model.simulate(VECTOR, 600, chunk=700, **kw)
    assert np.array_equal(big.shares, small.shares) and np.array_equal(big.seats, small.seats)
    with_others = [sim_model.simulate(VECTOR, 600, chunk=c, others=2.5, **kw) for c in (10_000, 700)]
    assert np.array_equal(with_others[0].shares, with_others[1].shares)
    assert np.array_equal(with_others[0].passed, with_others[1].passed)


def test_every_draw_gives_all_seats_and_means_sum_to_the_total():
    sim = sim_model.simulate(VECTOR, 600, draws=5_000, seed=0, seats=120, threshold=3.25, poll_error=1.5)
    assert (sim.seats.sum(axis=1) == 120).all()
    assert sim.summary["seats_mean"].sum() == pytest.approx(120)
    # a list under the threshold never has a seat
    assert not (sim.seats[~sim.passed] > 0).any()


def test_seats_equal_the_exact_allocator_on_every_draw():
    pairs = [("d", "e"), ("a", "b"), ("i", "j")]
    sim = sim_model.simulate(VECTOR, 600, draws=40, seed=5, threshold=3.25, poll_error=1.5, agreements=pairs)
    counts = sim_model.vote_counts(sim.shares)
    for d in range(sim.draws):
        exact = engine.allocate(dict(zip(sim.parties, counts[d].tolist(), strict=True)), seats=120,
                                threshold=3.25, agreements=pairs)
        assert list(exact.seats) == sim.seats[d].tolist()
        assert list(exact.passed) == sim.passed[d].tolist()


def test_probabilities_divide_by_the_draws_used():
    sim = sim_model.simulate(VECTOR, 600, draws=7, seed=0, threshold=3.25, poll_error=2.0)
    for col in ("p_pass", "p_zero"):
        scaled = sim.summary[col] * 7
        assert np.allclose(scaled, np.round(scaled)), col
    assert sim.probability(np.ones(7, dtype=bool)) == 1.0
    assert sim.probability(np.arange(7) < 2) == pytest.approx(2 / 7)


def test_quantiles_are_real_seat_counts():
    sim = sim_model.simulate(VECTOR, 600, draws=2_000, seed=0, threshold=3.25, poll_error=1.0)
    s = sim.summary
    for col in ("seats_p05", "seats_median", "seats_p95"):
        assert (s[col] == np.round(s[col])).all()
    assert (s["seats_p05"] <= s["seats_median"]).all() and (s["seats_median"] <= s["seats_p95"]).all()
    d = s.set_index("party").loc["d"]
    column = sim.seats[:, sim.parties.index("d")]
    assert (column <= d["seats_p05"]).mean() >= 0.05 and (column < d["seats_p05"]).mean() < 0.05


def test_election_day_error_widens_the_range():
    calm = sim_model.simulate(VECTOR, 600, draws=4_000, seed=0)
    rough = sim_model.simulate(VECTOR, 600, draws=4_000, seed=0, poll_error=1.5)
    width = lambda s: (s["share_p95"] - s["share_p05"]).to_numpy()  # noqa: E731
    assert (width(rough.summary) > width(calm.summary)).all()
    assert np.allclose(rough.shares.sum(axis=1), 1.0) and (rough.shares >= 0).all()


def test_no_seats_for_a_first_round():
    shares = {"Ayalon": 36.0, "Barak": 34.0, "Peretz": 19.0, "Pines-Paz": 9.0, "Yatom": 2.0}
    sim = sim_model.simulate(shares, 2000, draws=2_000, seed=0, seats=0, threshold=40)
    assert sim.seats is None and sim.summary["seats_mean"].isna().all()
    runoffs = sim_model.runoff_pairs(sim)
    assert runoffs["probability"].sum() == pytest.approx(1.0)
    assert runoffs.iloc[0][["first", "second"]].tolist() == ["Ayalon", "Barak"]


def test_draws_where_nobody_clears_keep_zero_seats():
    sim = sim_model.simulate({"x": 50.0, "y": 50.0}, 200, draws=500, seed=0, seats=10, threshold=55)
    nobody = ~sim.passed.any(axis=1)
    assert nobody.any() and (sim.seats[nobody] == 0).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"draws": 0}, "draws must be"),
    ({"threshold": 100.0}, "outside 0 <= threshold < 100"),
    ({"seed": -1}, "seed must be"),
    ({"poll_error": -1.0}, "poll_error"),
    ({"agreements": [("a", "zz")]}, "names 'zz', which is not a party"),
])
def test_bad_arguments_are_data_errors(kwargs, message):
    with pytest.raises(DataError, match=message):
        sim_model.simulate(VECTOR, 600, **kwargs)


def test_bad_shares_are_data_errors():
    with pytest.raises(DataError, match="at least two parties"):
        sim_model.simulate({"a": 100.0}, 600)
    with pytest.raises(DataError, match="sum to 0"):
        sim_model.simulate({"a": 0.0, "b": 0.0}, 600)


def test_usable_agreements():
    kept, dropped = sim_model.usable_agreements([("a", "b"), ("a", "pirates")], ["a", "b"])
    assert kept == [("a", "b")] and dropped == [("a", "pirates")]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=300), min_size=2, max_size=14).filter(lambda c: sum(c)),
       st.sampled_from([0.0, 2.0, 3.25, 10.0]), st.integers(0, 2**31 - 1), st.sampled_from([0.0, 1.5]))
def test_simulation_invariants(counts, threshold, seed, poll_error):
    shares = {f"p{i}": float(c) for i, c in enumerate(counts)}
    sim = sim_model.simulate(shares, 500, draws=60, seed=seed, seats=30, threshold=threshold,
                             poll_error=poll_error)
    some = sim.passed.any(axis=1)
    assert (sim.seats[some].sum(axis=1) == 30).all()       # every seat is given when anyone passes
    assert not (sim.seats[~sim.passed] > 0).any()           # never a seat below the threshold
    assert np.allclose(sim.shares.sum(axis=1), 1.0)
    s = sim.summary
    assert ((0 <= s["p_pass"]) & (s["p_pass"] <= 1)).all()
    assert s["seats_mean"].sum() == pytest.approx(30 * some.mean())
    # a list that misses the threshold has no seat, so P(no seat) >= P(miss)
    assert (s["p_zero"] >= 1 - s["p_pass"] - 1e-12).all()


def test_one_dirichlet_sampler_for_polls_and_primaries():
    """The polls' sampler draws list k's gamma variate from list k's own stream; normalised, they are a
    Dirichlet draw, the same distribution as the primaries' sampler (:func:`dirichlet`, one stream). A zero
    parameter is drawn as 0 and leaves the other entries' draws unchanged."""
    from helpers.models.primaries import race

    alpha = np.array([300.5, 200.5, 50.5])
    keys = ["x", "y", "z"]
    a = sim_model.draw_shares(alpha, 1000, [sim_model.list_streams(7, k) for k in keys])
    gammas = np.column_stack([sim_model.list_streams(7, k)[0].standard_gamma(x, 1000)
                              for k, x in zip(keys, alpha, strict=True)])
    assert np.allclose(a, gammas / gammas.sum(axis=1, keepdims=True), rtol=1e-14, atol=0)
    assert race.dirichlet is sim_model.dirichlet
    # same distribution: Dirichlet means alpha / alpha0 and variances alpha (alpha0 - alpha) / (alpha0^2 (alpha0 + 1))
    n = 40_000
    many = sim_model.draw_shares(alpha, n, [sim_model.list_streams(1, k) for k in keys])
    one = sim_model.dirichlet(np.random.default_rng(1), alpha, n)
    a0 = alpha.sum()
    var = alpha * (a0 - alpha) / (a0 ** 2 * (a0 + 1))
    for draws in (many, one):
        assert np.all(np.abs(draws.mean(axis=0) - alpha / a0) < 5 * np.sqrt(var / n))
        assert np.allclose(draws.var(axis=0), var, rtol=0.05)
    with_zero = sim_model.draw_shares(np.array([300.5, 0.0, 200.5, 50.5]), 1000,
                                      [sim_model.list_streams(7, k) for k in ["x", "w", "y", "z"]])
    assert (with_zero[:, 1] == 0).all() and np.allclose(with_zero.sum(axis=1), 1.0)
    assert np.allclose(with_zero[:, [0, 2, 3]], a, rtol=1e-14, atol=0)
    zero = sim_model.dirichlet(np.random.default_rng(7), np.array([300.5, 0.0, 200.5, 50.5]), 1000)
    assert (zero[:, 1] == 0).all()
    assert np.array_equal(zero[:, [0, 2, 3]], sim_model.dirichlet(np.random.default_rng(7), alpha, 1000))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 10**9), min_size=2, max_size=6), min_size=1, max_size=5)
       .filter(lambda rows: len({len(r) for r in rows}) == 1),
       st.sampled_from([3.3333333333333, 100 / 30, 2.0000000001, 3.25, 0.1, 99.99999]))
def test_clears_is_exact_for_any_threshold_written_as_a_decimal(rows, threshold):
    """A decimal threshold is an exact fraction, sometimes with a huge denominator (3.3333333333333): the
    comparison must stay exact instead of overflowing int64 (it used to give every party p_pass of about 0.5)."""
    from fractions import Fraction

    counts = np.array(rows, dtype=np.int64)
    got = sim_model.clears(counts, threshold)
    line = Fraction(threshold) / 100
    expected = [[c > 0 and Fraction(c) >= line * sum(r) for c in r] for r in rows]
    assert got.tolist() == expected


def test_a_list_at_30_percent_clears_a_threshold_typed_with_many_decimals():
    import json

    from conftest import ROOT, run_cli

    proc = run_cli("simulate", ROOT / "tests/data/polls-one-poll.csv", "--threshold", "3.3333333333333",
                   "--draws", "2000", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rows = doc["parties"] if isinstance(doc, dict) else doc
    big = [r for r in rows if r["share_mean"] > 25]
    assert big and all(r["p_pass"] > 0.99 for r in big)


def _summarise_by_party(parties, shares, passed, seats):
    """The straightforward form of :func:`simulate.summarise`: one party's column at a time."""
    n = shares.shape[0]
    rows = []
    for i, party in enumerate(parties):
        s = shares[:, i] * 100.0
        row = {"party": party, "share_mean": float(s.mean()), "share_p05": float(np.quantile(s, 0.05)),
               "share_p95": float(np.quantile(s, 0.95)), "p_pass": int(passed[:, i].sum()) / n}
        if seats is not None:
            x = seats[:, i]
            row.update(seats_mean=float(x.mean(dtype=np.float64)),
                       seats_median=float(np.quantile(x, 0.5, method="inverted_cdf")),
                       seats_p05=float(np.quantile(x, 0.05, method="inverted_cdf")),
                       seats_p95=float(np.quantile(x, 0.95, method="inverted_cdf")),
                       p_zero=int((x == 0).sum()) / n)
        else:
            row.update(seats_mean=np.nan, seats_median=np.nan, seats_p05=np.nan, seats_p95=np.nan, p_zero=np.nan)
        rows.append(row)
    return pd.DataFrame(rows, columns=sim_model.SUMMARY_COLUMNS)


@settings(max_examples=60, deadline=None)
@given(draws=st.sampled_from([1, 2, 3, 19, 20, 21, 100, 8_193, 20_000]), parties=st.integers(1, 14),
       extra=st.integers(0, 1), top=st.integers(0, 120), with_seats=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_summary_equals_the_party_by_party_loop_to_the_bit(draws, parties, extra, top, with_seats, seed):
    """The whole-array summary is the per-party loop's, bit for bit: means, interpolated share quantiles,
    seat quantiles (counted, not sorted) and probabilities; `extra` adds a residual column it must ignore."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.ones(parties + extra), size=draws)
    passed = shares > 0.0325
    seats = rng.integers(0, top + 1, size=(draws, parties + extra)).astype(sim_model.SEAT_DTYPE) if with_seats \
        else None
    names = [f"p{i}" for i in range(parties)]
    got = sim_model.summarise(names, shares, passed, seats)
    want = _summarise_by_party(names, shares, passed, seats)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.drop(columns="party").to_numpy().tobytes() == want.drop(columns="party").to_numpy().tobytes()


def test_seat_quantiles_count_like_numpy_sorts():
    """Skewed seat counts (most draws 0, a long tail): every quantile lands where numpy's inverted CDF does."""
    rng = np.random.default_rng(7)
    for n in (1, 5, 20, 21, 999, 1000, 1001, 20_000):
        x = np.where(rng.random((n, 4)) < 0.9, 0, rng.integers(4, 60, size=(n, 4))).astype(sim_model.SEAT_DTYPE)
        qs = [0.5, 0.05, 0.95]
        want = [[float(np.quantile(x[:, i], q, method="inverted_cdf")) for i in range(4)] for q in qs]
        assert sim_model._seat_quantiles(x, qs).tolist() == want
