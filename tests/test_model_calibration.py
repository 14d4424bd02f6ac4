"""The calibrated poll model (issue 14): pooling that saturates, the newest poll per house, exit and partial
polls left out, censored zeros, the 'others' residual, p_pass agreeing with seats under every method, one
random stream per list, the proportional error model and its fit, the shipped fit and its track record, and
the `calibrate` command's errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import ROOT, assert_clean_error, run_cli
from helpers.core.errors import DataError
from helpers.data.polls import load_polls
from helpers.models import polls as model
from helpers.models import simulate as sim_model
from helpers.models import uncertainty
from helpers.models.seats.rules import METHODS

POLLS = ROOT / "data" / "polls"


def write(tmp: Path, text: str, name: str = "polls.csv") -> Path:
    p = tmp / name
    p.write_text(text.lstrip("\n"), encoding="utf-8")
    return p


# -------------------------------------------------------------------------------------- pooled sample size


def pooled_by_hand(sizes, weights, rho):
    """1 / Var of sum(w_i x_i) (weights normalised) when x_i has variance 1/n_i and two different polls
    correlate at rho: the double sum written out."""
    w = [x / sum(weights) for x in weights]
    var = sum(wi * wj * (1 / ni if i == j else rho / math.sqrt(ni * nj))
              for i, (wi, ni) in enumerate(zip(w, sizes, strict=True))
              for j, (wj, nj) in enumerate(zip(w, sizes, strict=True)))
    return 1 / var


sizes_st = st.lists(st.integers(50, 5000), min_size=1, max_size=8)
rho_st = st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.8, 1.0])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5000), st.floats(0.01, 100), rho_st)
def test_one_poll_is_worth_its_respondents(n, weight, rho):
    assert model.pooled_sample_size([n], [weight], rho) == pytest.approx(n)


@settings(max_examples=60, deadline=None)
@given(st.integers(50, 5000), st.integers(1, 30), rho_st)
def test_equal_polls_saturate_at_n_over_rho(n, m, rho):
    """m polls of n respondents at equal weight: n / (1/m + rho (m-1)/m), rising with m towards n / rho."""
    got = model.pooled_sample_size([n] * m, [1.0] * m, rho)
    assert got == pytest.approx(n / (1 / m + rho * (m - 1) / m))
    more = model.pooled_sample_size([n] * (m + 1), [1.0] * (m + 1), rho)
    if rho < 1:
        assert more > got
    else:
        assert more == pytest.approx(got) == pytest.approx(n)    # fully correlated houses: no gain
    if rho > 0:
        assert got <= n / rho * (1 + 1e-12)


@settings(max_examples=80, deadline=None)
@given(sizes_st, st.data(), rho_st)
def test_pooled_sample_size_formula_and_bound(sizes, data, rho):
    """The formula is the variance of the weighted average; with rho > 0 it never exceeds n_max / rho (the
    correlated part alone, rho (sum w_i / sqrt(n_i))^2 >= rho / n_max, bounds the variance from below), and
    for rho < 1 it is strictly below, since every poll adds some variance of its own."""
    weights = data.draw(st.lists(st.floats(0.01, 10), min_size=len(sizes), max_size=len(sizes)))
    got = model.pooled_sample_size(sizes, weights, rho)
    assert got == pytest.approx(pooled_by_hand(sizes, weights, rho), rel=1e-9)
    if rho > 0:
        assert got <= max(sizes) / rho * (1 + 1e-12)
    # weights in proportion to the sizes and no correlation: the respondents add up
    assert model.pooled_sample_size(sizes, sizes, 0.0) == pytest.approx(sum(sizes))
    # and correlation never helps
    assert got <= model.pooled_sample_size(sizes, weights, 0.0) * (1 + 1e-12)


@settings(max_examples=80, deadline=None)
@given(st.integers(50, 5000), st.lists(st.floats(0.05, 1.0), min_size=1, max_size=8), st.floats(0.0, 1.0),
       rho_st)
def test_another_poll_never_lowers_the_sample_size(n, weights, extra, rho):
    """Polls of one size: adding a poll whose weight is at most the existing ones' (an older poll of another
    house) never lowers the effective sample size."""
    new = extra * min(weights)
    assume(new > 0)
    before = model.pooled_sample_size([n] * len(weights), weights, rho)
    after = model.pooled_sample_size([n] * (len(weights) + 1), [*weights, new], rho)
    assert after >= before * (1 - 1e-12)


def test_pooled_sample_size_needs_a_weight():
    with pytest.raises(DataError, match="at least one poll"):
        model.pooled_sample_size([], [])
    with pytest.raises(DataError, match="at least one poll"):
        model.pooled_sample_size([600, 600], [0.0, 0.0])


# ------------------------------------------------------------------------------------------------ the pool


POOL = """
poll_id,date,poll_type,pollster,media,sample_size,party,share,partial
a1,2022-10-10,pre_election_poll,Alpha,TV1,600,x,50,
a1,2022-10-10,pre_election_poll,Alpha,TV1,600,y,50,
a2,2022-10-20,pre_election_poll,Alpha,TV1,600,x,60,
a2,2022-10-20,pre_election_poll,Alpha,TV1,600,y,40,
b1,2022-10-18,pre_election_poll,Beta,TV2,800,x,40,
b1,2022-10-18,pre_election_poll,Beta,TV2,800,y,60,
c1,2022-10-01,pre_election_poll,Gamma,TV3,600,x,90,
c1,2022-10-01,pre_election_poll,Gamma,TV3,600,y,10,
u1,2022-10-12,pre_election_poll,(not named),Paper,500,x,30,
u1,2022-10-12,pre_election_poll,(not named),Paper,500,y,70,
u2,2022-10-19,pre_election_poll,(not named),Paper,500,x,45,
u2,2022-10-19,pre_election_poll,(not named),Paper,500,y,55,
v1,2022-10-19,pre_election_poll,unnamed,Radio,500,x,55,
v1,2022-10-19,pre_election_poll,unnamed,Radio,500,y,45,
e1,2022-10-20,exit_poll,Delta,TV4,5000,x,99,
e1,2022-10-20,exit_poll,Delta,TV4,5000,y,1,
p1,2022-10-20,pre_election_poll,Epsilon,TV5,600,x,99,yes
"""


def test_pool_keeps_the_newest_poll_of_each_house(tmp_path):
    """Window: the 14 days up to the newest usable poll (2022-10-20), so from 2022-10-07. Alpha's older poll
    is superseded, Gamma's is before the window, the unnamed polls count as one house per outlet, the exit
    poll and the partial poll never enter."""
    df = load_polls(write(tmp_path, POOL))
    chosen, left = model.pool(df)
    houses = chosen.drop_duplicates("poll_id").set_index("poll_id")["house"].to_dict()
    assert houses == {"a2": "Alpha", "b1": "Beta", "u2": "unnamed / Paper", "v1": "unnamed / Radio"}
    assert left == {"partial": ["p1"], "exit": ["e1"], "superseded": ["a1", "u1"], "older": ["c1"]}
    pp = model.poll_of_polls(df, threshold=0)
    assert set(pp.weights["poll_id"]) == set(houses) and pp.left_out == left
    # the house label is the pollster, or the outlet of an unnamed poll
    assert model.house_of(df.drop_duplicates("poll_id")).tolist() == [
        "Alpha", "Alpha", "Beta", "Gamma", "unnamed / Paper", "unnamed / Paper", "unnamed / Radio", "Delta",
        "Epsilon"]
    # as of 2022-10-19 Alpha's newest poll is a1 (2022-10-10); the window runs from 2022-10-06
    early, left_early = model.pool(df, "2022-10-19")
    assert set(early["poll_id"]) == {"a1", "b1", "u2", "v1"} and left_early["older"] == ["c1"]
    assert left_early["exit"] == [] and left_early["superseded"] == ["u1"]


def test_exit_polls_never_enter_the_average():
    """The labor-leadership file: the 2005 exit-poll projections and the 2007 first-round exit polls."""
    labor = load_polls(POLLS / "labor-leadership.csv")
    first, _ = model.select_question(labor, "first round")
    pp = model.poll_of_polls(first, "2007-05-28", threshold=40)
    exits = set(first.loc[first["poll_type"].str.contains("exit"), "poll_id"])
    assert len(exits) == 2 and set(pp.left_out["exit"]) == exits
    assert set(pp.weights["poll_id"]) == {"labor-2007-05-24-dialog-haaretz-first_round",
                                          "labor-2007-05-25-dahaf-yedioth_ahronoth-first_round"}
    primary, _ = model.select_question(labor, "leadership primary")
    assert primary["poll_type"].eq("exit_poll_projection").all()
    with pytest.raises(DataError, match="no complete pre-election poll"):
        model.poll_of_polls(primary, threshold=40)
    with pytest.raises(DataError, match="no complete pre-election poll"):
        model.poll_of_polls(load_polls(POLLS / "knesset-2022-exit.csv"), threshold=3.25)


@pytest.mark.parametrize("name", ["knesset-2003.csv", "knesset-2006.csv", "knesset-2009.csv",
                                  "knesset-2013.csv", "knesset-2022.csv"])
def test_shipped_averages_use_only_complete_pre_election_polls(name):
    df = load_polls(POLLS / name)
    per = df.drop_duplicates("poll_id").set_index("poll_id")
    last = df["date"].max()
    for days in (0, 7, 28):
        when = last - pd.Timedelta(days=days)
        if df["date"].min() > when:
            continue
        try:
            pp = model.poll_of_polls(df, when, threshold=3.25)
        except DataError:
            continue
        used = per.loc[pp.weights["poll_id"]]
        assert not used["partial"].any() and not used["poll_type"].str.contains("exit").any()
        assert (used["date"] <= when).all()
        assert (used["date"] > used["date"].max() - pd.Timedelta(days=model.POOL_WINDOW_DAYS)).all()
        assert model.house_of(used.reset_index()).is_unique


# ---------------------------------------------------------------------------------------- censored zeros


CENSORED = """
poll_id,date,pollster,sample_size,party,seats,share_if_below
p1,2022-10-20,Alpha,600,a,60,
p1,2022-10-20,Alpha,600,b,56,
p1,2022-10-20,Alpha,600,c,4,
p1,2022-10-20,Alpha,600,e,0,
"""


def test_a_list_every_poll_puts_below_gets_below_fraction_of_the_line(tmp_path):
    df = load_polls(write(tmp_path, CENSORED))
    pp = model.poll_of_polls(df, threshold=3.25, others=0.0, below_fraction=0.4)
    by = pp.by_poll.set_index("party")
    assert by.loc["e", "share"] == pytest.approx(0.4 * 3.25) and by.loc["e", "source"] == model.CENSORED
    quota = 100 / 121.5                          # three lists with seats, nothing published below the line
    assert 4 * quota > 3.25                      # c's interval [4, 5) quotas is above the line: 4.5 quotas
    total = 121.5 * quota + 0.4 * 3.25           # the censored list's figure comes on top, then all scale
    assert pp.shares["e"] == pytest.approx(0.4 * 3.25 / total * 100)
    assert pp.shares["a"] == pytest.approx(60.5 * quota / total * 100)
    assert pp.shares["c"] == pytest.approx(4.5 * quota / total * 100)
    # the default is the fitted fraction; a second poll censoring it too changes nothing
    fitted = model.poll_of_polls(df, threshold=3.25, others=0.0)
    assert fitted.by_poll.set_index("party").loc["e", "share"] == pytest.approx(
        uncertainty.FITTED.below_fraction * 3.25)
    two = load_polls(write(tmp_path, CENSORED + CENSORED.strip().split("\n", 1)[1].replace("p1,", "p2,")
                           .replace("Alpha", "Beta") + "\n", "two.csv"))
    assert model.poll_of_polls(two, threshold=3.25, others=0.0, below_fraction=0.4).shares["e"] == \
        pytest.approx(pp.shares["e"])


def seats_polls_text(polls) -> str:
    lines = ["poll_id,date,pollster,sample_size,party,seats,share_if_below"]
    for i, (parties, n) in enumerate(polls):
        for party, seats, below in parties:
            lines.append(f"q{i},2022-10-{10 + i:02d},House{i},{n},{party},{seats},{below}")
    return "\n".join(lines) + "\n"


@st.composite
def seats_polls(draw):
    """1-4 seats polls of 120 seats: 'big' always has seats, 'x' has 4+ seats in every poll, 'm' has seats in
    some polls and a 0 (censored or with a published percentage) in others."""
    out = []
    m_states = draw(st.lists(st.sampled_from(["seats", "censored", "published"]), min_size=1, max_size=4))
    assume("censored" in m_states)
    for state in m_states:
        x = draw(st.integers(4, 20))
        m = draw(st.integers(4, 8)) if state == "seats" else 0
        others = draw(st.lists(st.integers(0, 20), min_size=3, max_size=3))
        big = 120 - x - m - sum(others)
        parties = [("big", big, ""), ("x", x, ""), ("m", m, "2.1" if state == "published" else "")]
        parties += [(f"o{j}", s, "") for j, s in enumerate(others)]
        out.append((parties, draw(st.sampled_from([500, 600, 1000]))))
    return out


@settings(max_examples=25, deadline=None)
@given(seats_polls(), st.sampled_from([2.0, 3.25, 100 / 30]), st.sampled_from([0.0, 2.35]))
def test_censored_figures_stay_below_the_line_and_seats_stay_above(tmp_path_factory, polls, threshold, others):
    df = load_polls(write(tmp_path_factory.mktemp("c"), seats_polls_text(polls)))
    pp = model.poll_of_polls(df, threshold=threshold, others=others)
    by = pp.by_poll
    assert not by["share"].isna().any() and np.isfinite(pp.shares).all()
    cens = by[by["source"] == model.CENSORED]
    assert len(cens) and ((cens["share"] >= 0) & (cens["share"] < threshold)).all()
    # a list with seats in every poll is never below the line in the average
    for party in ("big", "x"):
        assert pp.shares[party] >= threshold
    # the listed lists share what the residual leaves; a list lifted to the line after scaling adds a little
    # on top (see the report of issue 14's tests: the shares are not scaled again after the lift)
    on_line = np.isclose(pp.shares, threshold)
    if not on_line.any():
        assert pp.shares.sum() == pytest.approx(100 - others)
    assert pp.shares.sum() >= 100 - others - 1e-9


# ------------------------------------------------------------------------------------------------- others


SHARES = {"a": 40.0, "b": 30.0, "c": 15.0, "d": 6.0, "e": 4.0}          # 95: 5 points for lists not polled


def test_others_take_their_share_of_the_valid_votes():
    """Sampling error only: the residual is one more Dirichlet entry, so the listed lists' shares sum to
    1 - (its respondents + 1/2) / (all respondents + (lists + 1) / 2) in expectation."""
    n = 1000
    sim = sim_model.simulate(SHARES, n, draws=20_000, seed=2, seats=0, threshold=3.25, error_model="sampling",
                             others=5.0)
    alpha = sim_model.dirichlet_alpha([*SHARES.values(), 5.0], n)
    rest = 1 - sim.shares.sum(axis=1)
    expected = alpha[-1] / alpha.sum()
    se = math.sqrt(expected * (1 - expected) / (alpha.sum() + 1) / sim.draws)
    assert abs(rest.mean() - expected) < 5 * se and (rest > 0).all()
    historical = sim_model.simulate(SHARES, n, draws=2_000, seed=2, seats=0, threshold=3.25, others=5.0)
    assert 1 - historical.shares.sum(axis=1).mean() == pytest.approx(0.05, rel=0.1)
    none = sim_model.simulate(SHARES, n, draws=2_000, seed=2, seats=0, threshold=3.25)
    assert np.allclose(none.shares.sum(axis=1), 1.0)


def test_the_line_is_a_share_of_all_valid_votes():
    """A list at 3.2% of all valid votes, with 3% for lists nobody polled: among the polled lists alone it
    has 3.30% and would clear 3.25%; against all valid votes it misses. Sampling error only, a huge sample."""
    listed = {"a": 3.2, "b": 48.0, "c": 45.8}
    kw = dict(draws=2_000, seed=0, seats=120, threshold=3.25, error_model="sampling")
    without = sim_model.simulate(listed, 10**9, **kw).summary.set_index("party")
    with_others = sim_model.simulate(listed, 10**9, others=3.0, **kw)
    assert without.loc["a", "p_pass"] == 1.0 and without.loc["a", "seats_p05"] >= 1
    got = with_others.summary.set_index("party")
    assert got.loc["a", "p_pass"] == 0.0 and got.loc["a", "seats_mean"] == 0
    assert got.loc["a", "share_mean"] == pytest.approx(3.2, abs=0.01)
    # exactly on the line of all valid votes: a coin toss, decided draw by draw by the list's share of all
    # valid votes (the residual included)
    on = sim_model.simulate({"a": 3.25, "b": 48.0, "c": 46.75}, 10**6, others=2.0, **kw)
    share = on.shares[:, 0]
    clear = np.abs(share - 0.0325) > 1e-8
    assert np.array_equal(on.passed[clear, 0], share[clear] >= 0.0325)
    assert 0.4 < on.summary.set_index("party").loc["a", "p_pass"] < 0.6


# ------------------------------------------------------------------------- p_pass agrees with seats > 0


METHOD_NAMES = sorted(METHODS)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 300), min_size=3, max_size=12), st.sampled_from(METHOD_NAMES),
       st.sampled_from([2.0, 3.25, 100 / 30, 3.3333333333333, 5.0, 10.0]), st.sampled_from([0.0, 3.0]),
       st.sampled_from(["sampling", "historical"]), st.integers(0, 2**31 - 1), st.booleans())
def test_p_pass_agrees_with_seats_in_every_draw(counts, method, threshold, others, error_model, seed, pairs):
    """A list that clears the line (of all valid votes) wins a seat and one that misses wins none, in every
    draw, under every method (Bader-Ofer with agreements too). With 120 seats and a line of 2% or more a
    list over the line holds at least 1/120 of the passing lists' votes, which wins a seat under each rule."""
    shares = {f"p{i}": c / sum(counts) * (100 - others) for i, c in enumerate(counts)}
    agreements = [("p0", "p1"), ("p2", "p3")][: len(counts) // 2] if pairs and method == "bader-ofer" else []
    sim = sim_model.simulate(shares, 400, draws=300, seed=seed, seats=120, threshold=threshold, method=method,
                             others=others, error_model=error_model, agreements=agreements)
    assert sim.method == method
    some = sim.passed.any(axis=1)
    assert np.array_equal(sim.passed[some], sim.seats[some] > 0)
    assert (sim.seats[~some] == 0).all()
    s = sim.summary
    assert np.allclose(s["p_pass"] + s["p_zero"], 1.0)


# -------------------------------------------------------------------------------------- one stream per list


FOUR = {"a": 30.0, "b": 20.0, "c": 5.0, "d": 4.0, "e": 41.0}


def raw_variates(key, share, total, sample_size, n, seed, model):
    """List `key`'s unnormalised draw, by hand from its own stream: gamma(alpha), then exp(sd x t)."""
    sampling, error, _ = sim_model.list_streams(seed, key)
    g = sampling.standard_gamma(share / total * sample_size + 0.5, size=n)
    sd = float(model.sd([share / total * 100])[0])
    return g * np.exp(sd * model.standard(error, n))


@pytest.mark.parametrize("error_model", ["historical", "sampling"])
def test_a_merge_leaves_the_other_lists_random_numbers_alone(error_model):
    kw = dict(draws=2_000, seed=11, seats=120, threshold=3.25, error_model=error_model)
    apart = sim_model.simulate(FOUR, 800, **kw)
    merged = sim_model.simulate({"c+d": 9.0, "e": 41.0, "a": 30.0, "b": 20.0}, 800, **kw)   # new places too
    m = uncertainty.model_for(error_model)
    ra = raw_variates("a", 30.0, 100.0, 800, 2_000, 11, m)
    rb = raw_variates("b", 20.0, 100.0, 800, 2_000, 11, m)
    for sim in (apart, merged):
        i, j = sim.parties.index("a"), sim.parties.index("b")
        # normalising divides a row by one number: the ratio of two lists is their raw variates' ratio
        assert np.allclose(sim.shares[:, i] / sim.shares[:, j], ra / rb, rtol=1e-12, atol=0)


def test_same_inputs_same_draws_and_order_does_not_matter():
    kw = dict(draws=2_000, seed=5, seats=120, threshold=3.25, agreements=[("a", "b")], others=2.0)
    one = sim_model.simulate(FOUR, 800, **kw)
    two = sim_model.simulate(FOUR, 800, **kw)
    assert np.array_equal(one.shares, two.shares) and np.array_equal(one.seats, two.seats)
    backwards = sim_model.simulate(dict(reversed(list(FOUR.items()))), 800, **kw)
    for k, party in enumerate(one.parties):
        j = backwards.parties.index(party)
        assert np.allclose(one.shares[:, k], backwards.shares[:, j], rtol=1e-12, atol=0), party
        assert np.array_equal(one.seats[:, k], backwards.seats[:, j]), party
    assert not np.array_equal(one.shares, sim_model.simulate(FOUR, 800, **{**kw, "seed": 6}).shares)
    # a list's stream depends on its key and the seed only
    def first(seed, key):
        return np.concatenate([g.random(4) for g in sim_model.list_streams(seed, key)])

    assert np.array_equal(first(5, "a"), first(5, "a"))
    assert not np.array_equal(first(5, "a"), first(5, "b"))
    assert not np.array_equal(first(5, "ab"), first(5, "ba"))
    assert len(set(first(5, "a"))) == 12  # three different streams


@pytest.mark.parametrize("poll_error", [0.0, 1.5])
def test_chunks_do_not_change_the_draws_with_an_election_day_error(poll_error):
    """Each kind of random number comes from its own stream, in order: the same draws in chunks of 7 or in one,
    and the first N of M draws are the N draws."""
    kw = dict(seed=3, seats=120, threshold=3.25, error_model="historical", poll_error=poll_error, others=2.0)
    whole = sim_model.simulate(FOUR, 800, draws=300, **kw)
    chunked = sim_model.simulate(FOUR, 800, draws=300, chunk=7, **kw)
    fewer = sim_model.simulate(FOUR, 800, draws=100, **kw)
    assert np.array_equal(whole.shares, chunked.shares) and np.array_equal(whole.seats, chunked.seats)
    assert np.array_equal(whole.shares[:100], fewer.shares)


# ---------------------------------------------------------------------------------------------- error model


@settings(max_examples=60, deadline=None)
@given(st.floats(0.5, 60), st.floats(0.5, 60))
def test_error_sd_shrinks_with_share_and_the_points_grow(p, q):
    assume(abs(p - q) > 1e-6)
    lo, hi = min(p, q), max(p, q)
    m = uncertainty.FITTED
    sd = m.sd([lo, hi])
    assert sd[0] > sd[1] > 0                      # proportional error: smaller for bigger lists
    assert sd[0] * lo < sd[1] * hi                # in points: bigger for bigger lists
    assert not uncertainty.model_for("sampling").sd([lo, hi]).any()
    assert uncertainty.model_for("historical") is m


def test_error_model_names():
    with pytest.raises(DataError, match="not one of historical, sampling"):
        uncertainty.model_for("gaussian")
    assert uncertainty.model_for(" Sampling ").scale == 0


@pytest.mark.parametrize("scale, dof", [(0.15, float("inf")), (0.08, float("inf")), (0.2, 4.0)])
def test_the_likelihood_recovers_a_known_scale(scale, dof):
    """Residuals drawn from the model with a known scale (sampling error of 1,000 respondents on top): the
    likelihood on the fit's grid peaks near that scale."""
    from helpers.models import calibration

    rng = np.random.default_rng(0)
    n = 3_000
    share = rng.uniform(1.0, 40.0, n)
    ess = np.full(n, 1000.0)
    sampling = (1 - share / 100) / (share / 100 * ess)
    sd = scale * (share / uncertainty.REFERENCE_SHARE) ** -0.5
    z = rng.standard_normal(n) if np.isinf(dof) else rng.standard_t(dof, n)
    res = pd.DataFrame({"share": share, "ess": ess, "log_error": z * np.sqrt(sampling + sd ** 2)})
    nll = calibration._neg_log_likelihood(res, calibration.SCALES, np.array([0.5]), dof)
    best = float(calibration.SCALES[int(np.argmin(nll[:, 0]))])
    assert best == pytest.approx(scale, abs=0.015)
    if not np.isinf(dof):
        fits = {d: float(calibration._neg_log_likelihood(res, calibration.SCALES, np.array([0.5]), d).min())
                for d in calibration.DOFS}
        assert min(fits, key=fits.get) in (3.0, 4.0, 5.0)


# ----------------------------------------------------------------------------------- the shipped fit


@pytest.fixture(scope="module")
def shipped():
    from helpers.data.history import load_history
    from helpers.models import calibration

    elections = load_history(root=ROOT)
    model_fit = calibration.fit(elections, uncertainty.FITTED)
    rows, table = calibration.track_record(elections, uncertainty.FITTED)
    return model_fit, rows, table


def test_the_shipped_fit_is_current(shipped):
    """`ballotbook calibrate` on the shipped history gives the fit in fitted.json, and docs/model-fit.md is
    the report of that fit and its track record, byte for byte."""
    from helpers.models import calibration

    doc = json.loads(uncertainty.FITTED_FILE.read_text(encoding="utf-8"))
    proc = run_cli("calibrate", "--format", "json", "--draws", "2000", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)["model"]
    for key in ("scale", "power", "dof"):
        assert float(got[key]) == float(doc[key]), key
    for key in ("others", "below_fraction"):
        assert got[key] == pytest.approx(doc[key], abs=1e-6), key
    assert got["fitted_on"] == doc["fitted_on"] == ["2003", "2006", "2009", "2013", "2022"]
    model_fit, rows, table = shipped
    # the fit is its own starting point (fitted.json keeps 6 decimals of others and below_fraction)
    fitted = uncertainty.FITTED
    assert (model_fit.scale, model_fit.power, model_fit.dof, model_fit.fitted_on) == \
        (fitted.scale, fitted.power, fitted.dof, fitted.fitted_on)
    assert model_fit.others == pytest.approx(fitted.others, abs=1e-6)
    assert model_fit.below_fraction == pytest.approx(fitted.below_fraction, abs=1e-6)
    assert {k: model_fit.fit[k] for k in ("lists", "neg_log_likelihood", "below_lists")} == \
        {k: doc[k] for k in ("lists", "neg_log_likelihood", "below_lists")}
    text = (ROOT / "docs" / "model-fit.md").read_text(encoding="utf-8")
    assert calibration.report(model_fit, table, rows) == text


def test_the_track_record_meets_the_bars_on_the_eve(shipped):
    """Leave one election out, the eve of each shipped election pooled: Brier <= 0.055, log score <= 0.18,
    90% seat ranges covering 85-97% of the official results, mean width under 6 seats; and better than the
    plain final-week average."""
    from helpers.models import calibration

    _, rows, table = shipped
    eve = rows[rows["lead_days"] == 1]
    assert set(eve["election"]) == {"2003-01-28", "2006-03-28", "2009-02-10", "2013-01-22", "2022-11-01"}
    assert eve["held_out"].all()
    s = calibration.score(eve)
    assert s["brier"] <= 0.055 and s["log_score"] <= 0.18, s
    assert 0.85 <= s["coverage"] <= 0.97 and s["width"] < 6, s
    assert s["brier"] < s["average_call_brier"]
    # each fold's model was fitted without the election it forecasts
    for r in table.to_dict("records"):
        assert r["election"][:4] not in r["fitted_on"].split()


@pytest.mark.slow
def test_a_list_at_30_percent_clears_a_decimal_third():
    """The issue's must-show, with the defaults (100,000 draws): a list at 30% clears 3.3333333333333% with
    p > 0.99. Slow: a decimal threshold sends every draw through the exact seat allocator (about 5 s); the
    same check with 2,000 draws runs in tests/test_simulate.py."""
    proc = run_cli("simulate", ROOT / "tests" / "data" / "polls-one-poll.csv", "--threshold", "3.3333333333333",
                   "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["error_model"] == "historical" and doc["draws"] == 100_000
    big = {p["party"]: p for p in doc["parties"]}["d"]
    assert big["share_mean"] > 25 and big["p_pass"] > 0.99


# ---------------------------------------------------------------------------------------- calibrate CLI


HISTORY_HEADER = "election,polls,results,agreements,merges,use"
ROW_2022 = "data/polls/knesset-2022.csv,data/knesset/results/2022-11-01.csv,data/knesset/agreements/2022-11-01.csv"


@pytest.mark.parametrize("text, needles", [
    ("election,polls,results,agreements,merges\n2022-11-01," + ROW_2022 + ",\n", ["missing column 'use'"]),
    (HISTORY_HEADER + "\n2022-11-01," + ROW_2022 + ",,maybe\n", ["row 2, column 'use'", "'maybe' is not one of"]),
    (HISTORY_HEADER + "\n2020-01-01," + ROW_2022 + ",,fit\n", ["row 2, column 'election'",
                                                               "2020-01-01 is not an election"]),
    (HISTORY_HEADER + "\n2022-11-01," + ROW_2022 + ",arab_joint,fit\n", ["column 'merges'",
                                                                         "not written key=list+list"]),
    (HISTORY_HEADER + "\n2022-11-01,data/polls/nope.csv,data/knesset/results/2022-11-01.csv,,,fit\n",
     ["data/polls/nope.csv does not exist"]),
])
def test_calibrate_refuses_a_bad_history_file(tmp_path, text, needles):
    bad = write(tmp_path, text, "history.csv")
    proc = run_cli("calibrate", "--history", bad, "--draws", "100", cwd=ROOT)
    assert_clean_error(proc, *needles)
    assert proc.stdout == ""


def synthetic_election(tmp: Path, date: str, censored_votes: list[int], unpolled: int, fit: bool = True):
    """One seats poll two days before `date` (a 60, b 56, c 4 seats; a 0 without a percentage for each
    censored list) and official votes: 1,000,000 valid, `unpolled` of them for a list no poll lists."""
    from helpers.data.knesset import load_votes
    from helpers.models.calibration import Election

    poll_day = (pd.Timestamp(date) - pd.Timedelta(days=2)).date().isoformat()
    cens = [f"z{i}" for i in range(len(censored_votes))]
    rows = [("a", 60), ("b", 56), ("c", 4)] + [(k, 0) for k in cens]
    polls = write(tmp, "poll_id,date,pollster,sample_size,party,seats\n" + "".join(
        f"p,{poll_day},P,1000,{k},{s}\n" for k, s in rows), f"polls-{date}.csv")
    rest = 1_000_000 - sum(censored_votes) - unpolled
    votes = {"a": rest * 50 // 100, "b": rest * 45 // 100}
    votes["c"] = rest - votes["a"] - votes["b"]
    votes.update(zip(cens, censored_votes, strict=True))
    votes["unpolled"] = unpolled
    results = write(tmp, "list,votes\n" + "".join(f"{k},{v}\n" for k, v in votes.items()), f"votes-{date}.csv")
    return Election(date=date, threshold=3.25, seats=120, polls=load_polls(polls), votes=load_votes(results),
                    fit=fit)


def test_fit_takes_others_and_below_fraction_from_the_official_results(tmp_path):
    """others: the mean official share of the lists no poll listed; below_fraction: the mean official share,
    over the threshold, of the lists every poll put below it without a percentage (with 3 or more of them;
    fewer keep the starting value). An election marked 'check' is never fitted on."""
    from helpers.models import calibration

    one = synthetic_election(tmp_path, "2030-01-10", [10_000, 8_000], unpolled=17_000)
    two = synthetic_election(tmp_path, "2031-01-10", [5_000], unpolled=30_000)
    held = synthetic_election(tmp_path, "2032-01-10", [30_000, 30_000], unpolled=90_000, fit=False)
    start = uncertainty.FITTED
    got = calibration.fit([one, two, held], start)
    assert got.fitted_on == ("2030", "2031")
    assert got.others == pytest.approx((1.7 + 3.0) / 2)
    assert got.below_fraction == pytest.approx((1.0 + 0.8 + 0.5) / 3 / 3.25)
    assert got.fit["below_lists"] == 3 and got.fit["lists"] == 5 + 4   # the polled lists of the two fitted elections
    assert got.scale in calibration.SCALES and got.dof in calibration.DOFS
    few = calibration.fit([one], start)
    assert few.below_fraction == start.below_fraction and few.others == pytest.approx(1.7)
    assert calibration.fit([held], start) is start
