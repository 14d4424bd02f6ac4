"""The leadership model's honest parts: the member-poll bias, the range of transfers two counts allow, the
replay of the May 2007 poll against what happened, and the 2008 figures as a scenario.

Golden values come from the official Labor counts (data/primaries/contests.csv, read here with csv, not with the
kit's loader) and the published poll figures; the ranges are checked against a derivation by hand and, by
property tests, against random flows that give back the counts exactly."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, at_root
from helpers.models import primaries as P
from helpers.sections import leadership
from helpers.views.tables import text as escaped

DATA = ROOT / "data" / "primaries"
POLLS = ["candidates-2007-05-24-dialog.csv", "candidates-2007-05-25-dahaf.csv",
         "candidates-2007-06-06-dialog-runoff.csv"]
A, B = "Ami Ayalon", "Ehud Barak"


def _csv(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _counts(contest: str, rnd: str) -> dict[str, int]:
    return {r["candidate"]: int(r["votes"]) for r in _csv("contests.csv")
            if r["contest"] == contest and r["round"] == rnd and r["kind"] == "candidate"}


def _poll(name: str) -> dict[str, float]:
    return {r["candidate"]: float(r["share"]) for r in _csv(name)}



def _prepare(candidates: str, **kw):
    with at_root():
        return leadership.prepare(candidates, transfers="data/primaries/scenarios-2008.csv",
                                  contests="data/primaries/contests.csv", rounds="data/primaries/rounds.csv",
                                  calibration_polls=[f"data/primaries/{p}" for p in POLLS],
                                  follow="Ehud Barak", swept="Amir Peretz", colours="data/primaries/colours.csv", **kw)


@pytest.fixture(scope="module")
def run_2007():
    return _prepare("data/primaries/candidates-2007-05-25-dahaf.csv", draws=4000)


@pytest.fixture(scope="module")
def run_2008():
    return _prepare("data/primaries/candidates-2008.csv", draws=2000)


# ---------------------------------------------------------------------------------------------------------
# Transfers: the range the counts allow
# ---------------------------------------------------------------------------------------------------------

def test_2007_ranges_match_a_derivation_by_hand():
    """With newcomers capped at the net rise in votes, every eliminated voter must have voted in the runoff
    (the finalists gained exactly that many votes less the newcomers), so the pooled rate to Ayalon lies between
    (Ayalon's gain - newcomers) / eliminated and 1 - (Barak's gain - newcomers) / eliminated; for Peretz alone,
    the other eliminated candidates' voters take up the slack at 0% or 100%."""
    r1, r2 = _counts("labor-2007", "1"), _counts("labor-2007", "2")
    assert r2 == {B: 34542, A: 32117}
    net = sum(r2.values()) - sum(r1.values())
    assert net == 85
    elim = {c: v for c, v in r1.items() if c not in r2}
    E = sum(elim.values())
    gain_a, gain_b = r2[A] - r1[A], r2[B] - r1[B]
    others = E - elim["Amir Peretz"]
    groups = {"Amir Peretz": ["Amir Peretz"], "others": ["Ophir Pines-Paz", "Danny Yatom"]}
    bounds = P.transfer_bounds(r1, r2, groups)
    assert bounds.newcomers == net
    lo, hi = bounds.range(["Amir Peretz", "others"], A)
    assert lo == pytest.approx((gain_a - net) / E)
    assert hi == pytest.approx(1 - (gain_b - net) / E)
    lo, hi = bounds.range("Amir Peretz", A)
    assert lo == pytest.approx((gain_a - net - others) / elim["Amir Peretz"])
    assert hi == pytest.approx(1 - (gain_b - net - others) / elim["Amir Peretz"])
    assert bounds.range("others", A) == pytest.approx((0.0, 1.0))
    # the range is a result, not a point: Peretz's voters are not identified to within 40 points
    assert hi - lo > 0.4


def test_2011_counts_do_not_say_how_far_mitzna_carried_his_voters():
    r1, r2 = _counts("labor-2011", "1"), _counts("labor-2011", "2")
    bounds = P.transfer_bounds(r1, r2)
    assert bounds.newcomers == 0  # fewer runoff votes than round-one votes
    assert bounds.range("Amram Mitzna", "Amir Peretz") == pytest.approx((0.0, 1.0))
    # if every finalist's voter came back, Peretz's whole gain came from the eliminated: pooled rate is a point
    tight = P.transfer_bounds(r1, r2, retention_floor=1.0)
    gain = r2["Amir Peretz"] - r1["Amir Peretz"]
    E = r1["Isaac Herzog"] + r1["Amram Mitzna"]
    lo, hi = tight.range(["Isaac Herzog", "Amram Mitzna"], "Amir Peretz")
    assert lo == pytest.approx(gain / E) and hi == pytest.approx(gain / E)
    assert tight.range("Amram Mitzna", "Amir Peretz")[1] == pytest.approx(gain / r1["Amram Mitzna"])


def test_assumptions_that_contradict_the_counts_are_refused():
    r1, r2 = _counts("labor-2007", "1"), _counts("labor-2007", "2")
    with pytest.raises(ValueError, match="no flow"):
        P.transfer_bounds(r1, r2, newcomers=0, retention_floor=1.0)  # the runoff had 85 more votes
    with pytest.raises(ValueError, match="groups"):
        P.transfer_bounds(r1, r2, {"x": ["Amir Peretz"]})


def _flow(votes, data):
    """A random flow from round one to a runoff, in whole votes: (round1, round2, groups, true rates to A,
    kept shares, newcomers)."""
    a1, b1, *elim = votes
    r1 = {"A": a1, "B": b1, **{f"E{i}": v for i, v in enumerate(elim)}}
    kept_a = data.draw(st.integers(0, a1))
    kept_b = data.draw(st.integers(0, b1))
    to_a, to_b = {}, {}
    for i, v in enumerate(elim):
        to_a[f"E{i}"] = data.draw(st.integers(0, v))
        to_b[f"E{i}"] = data.draw(st.integers(0, v - to_a[f"E{i}"]))
    new_a = data.draw(st.integers(0, 500))
    new_b = data.draw(st.integers(0, 500))
    r2 = {"A": kept_a + sum(to_a.values()) + new_a, "B": kept_b + sum(to_b.values()) + new_b}
    return r1, r2, to_a, to_b, (kept_a, kept_b), new_a + new_b


@settings(max_examples=60, deadline=None)
@given(votes=st.lists(st.integers(1, 20_000), min_size=3, max_size=5), data=st.data())
def test_bounds_contain_every_flow_that_gives_back_the_counts(votes, data):
    r1, r2, to_a, to_b, kept, new = _flow(votes, data)
    if min(r2.values()) == 0:
        return
    floor = data.draw(st.sampled_from([0.0, min(kept[0] / r1["A"], kept[1] / r1["B"])]))
    extra = data.draw(st.integers(0, 300))
    bounds = P.transfer_bounds(r1, r2, retention_floor=floor, newcomers=new + extra)
    for g in bounds.groups:
        for target, flows in (("A", to_a), ("B", to_b)):
            lo, hi = bounds.range(g, target)
            truth = flows[g] / r1[g]
            assert lo - 1e-9 <= truth <= hi + 1e-9
    pooled = list(bounds.groups)
    lo, hi = bounds.range(pooled, "A")
    assert lo - 1e-9 <= sum(to_a.values()) / sum(r1[g] for g in pooled) <= hi + 1e-9


@settings(max_examples=40, deadline=None)
@given(votes=st.lists(st.integers(1, 20_000), min_size=3, max_size=4), data=st.data())
def test_each_end_of_a_range_is_a_flow_that_gives_back_the_counts_exactly(votes, data):
    """The bounds are sharp: at each end there is a complete flow meeting every assumption and both counts."""
    r1, r2, _, _, _, new = _flow(votes, data)
    if min(r2.values()) == 0:
        return
    bounds = P.transfer_bounds(r1, r2, newcomers=new)
    g = data.draw(st.sampled_from(list(bounds.groups)))
    for end in ("low", "high"):
        w = bounds.witness(g, "A", end)
        expected = bounds.range(g, "A")[0 if end == "low" else 1]
        assert w[f"{g} -> A"] / r1[g] == pytest.approx(expected, abs=1e-9)
        for f in ("A", "B"):
            got = w[f"{f} kept"] + w[f"(newcomers) -> {f}"] + sum(w[f"{h} -> {f}"] for h in bounds.groups)
            assert got == pytest.approx(r2[f], abs=1e-6)
            assert -1e-6 <= w[f"{f} kept"] <= r1[f] + 1e-6
        for h in bounds.groups:
            assert sum(w[f"{h} -> {t}"] for t in ("A", "B", P.STAY_HOME)) == pytest.approx(r1[h], abs=1e-6)
            assert min(w[f"{h} -> {t}"] for t in ("A", "B", P.STAY_HOME)) >= -1e-6
        assert w["(newcomers) -> A"] + w["(newcomers) -> B"] <= new + 1e-6


def test_extreme_flows_as_plans_give_back_the_real_runoff():
    r1, r2 = _counts("labor-2007", "1"), _counts("labor-2007", "2")
    bounds = P.transfer_bounds(r1, r2)
    worst, best = P.extreme_plans(bounds, _poll("candidates-2007-05-25-dahaf.csv"), B)
    for plan in (worst, best):
        transfers = {c: r for c, r in plan.transfers.items() if c not in r2}
        back = P.runoff_votes(r1, (B, A), transfers, {f: plan.transfers[f][f] for f in r2})
        # the plan leaves out only the newcomers (at most the net rise of 85 votes)
        assert sum(r2[f] - back[f] for f in r2) == pytest.approx(bounds.newcomers)
        assert all(-1e-6 <= r2[f] - back[f] <= bounds.newcomers + 1e-6 for f in r2)


@settings(max_examples=50, deadline=None)
@given(rate=st.floats(0, 1), total=st.floats(0.1, 1), split=st.floats(0, 1), withdraw=st.booleans())
def test_vary_plan_sets_the_rate_and_keeps_the_share_who_vote(rate, total, split, withdraw):
    row = {"Y": total * split, "Z": total * (1 - split)}
    plan = P.Plan("p", withdrawals={"X": row} if withdraw else {}, transfers={} if withdraw else {"X": row})
    new = P.vary_plan(plan, "X", "Y", rate)
    got = (new.withdrawals if withdraw else new.transfers)["X"]
    assert got["Y"] == pytest.approx(min(rate, total))
    assert got["Y"] + got["Z"] == pytest.approx(total)
    new.check(["X", "Y", "Z"])


# ---------------------------------------------------------------------------------------------------------
# The member-poll bias
# ---------------------------------------------------------------------------------------------------------

def _miss(poll: dict[str, float], count: dict[str, int]) -> tuple[float, float]:
    common = [c for c in poll if c in count]
    pt, ct = sum(poll[c] for c in common), sum(count[c] for c in common)
    pa, pb = poll[B] / pt, poll[A] / pt
    return 100 * ((count[B] - count[A]) / ct - (pa - pb)), pa + pb - (pa - pb) ** 2


def test_bias_is_the_mean_miss_with_spread_and_sampling_error_from_the_official_counts():
    from helpers.data import primaries as D

    contests = D.load_contests(DATA / "contests.csv")
    misses = P.poll_misses([D.load_poll(DATA / p) for p in POLLS], contests)
    bias = P.poll_bias(misses, sample_size=500)
    r1, r2 = _counts("labor-2007", "1"), _counts("labor-2007", "2")
    mine = [_miss(_poll(POLLS[0]), r1), _miss(_poll(POLLS[1]), r1), _miss(_poll(POLLS[2]), r2)]
    values = np.array([m for m, _ in mine])
    assert (bias.a, bias.b) == (B, A)
    assert bias.mean == pytest.approx(values.mean())
    assert bias.mean > 5  # every final poll had Ayalon ahead; Barak won both rounds
    assert bias.sd_between == pytest.approx(values.std(ddof=1))
    se = 100 * math.sqrt(np.mean([v for _, v in mine]) / 500 / 3)
    assert bias.se_sampling == pytest.approx(se)
    assert bias.sd == pytest.approx(math.hypot(values.std(ddof=1), se))
    # leaving one poll out uses the other two
    dahaf = misses["poll"].iloc[1]
    loo = P.poll_bias(misses, sample_size=500, exclude=[dahaf])
    assert loo.polls == 2 and loo.mean == pytest.approx(values[[0, 2]].mean())
    assert P.poll_bias(misses, exclude=list(misses["poll"])) is None


@pytest.mark.parametrize("mean, sd", [(8.9, 2.4), (-5.0, 1.0), (3.0, 6.0)])
def test_simulated_margin_is_centred_on_the_bias_and_spread_by_its_sd(mean, sd):
    """With no sampling error and two candidates, the simulated margin is poll margin + bias, so the chance
    the trailing candidate wins is the normal probability that the bias overturns the poll margin."""
    shares = {B: 47.0, A: 53.0}  # margin B - A: -6 points
    res = P.simulate_race(shares, sample_size=math.inf, bias=P.MarginBias(B, A, mean, sd), draws=100_000,
                          seed=3)
    margin = res.first_round[B] - res.first_round[A]
    assert margin == pytest.approx(-6.0 + mean, abs=0.05)
    expected = 0.5 * math.erfc(-(mean - 6.0) / (sd * math.sqrt(2)))
    assert res.p_win[B] == pytest.approx(expected, abs=0.006)


def test_a_zero_bias_changes_nothing_and_a_bias_keeps_the_other_draws():
    shares = _poll("candidates-2007-05-25-dahaf.csv")
    plan = P.Plan("b", transfers={"Amir Peretz": {A: 0.65, B: 0.35}})
    plain = P.simulate_race(shares, plan, draws=3000, seed=7)
    zero = P.simulate_race(shares, plan, draws=3000, seed=7, bias=P.MarginBias(B, A, 0.0, 0.0))
    assert plain.p_win == zero.p_win and plain.first_round == zero.first_round
    biased = P.simulate_race(shares, plan, draws=3000, seed=7, bias=P.MarginBias(B, A, 8.9, 2.4))
    # only Barak and Ayalon move; everyone else's draws are the same
    for c in ("Amir Peretz", "Ophir Pines-Paz", "Danny Yatom"):
        assert biased.first_round[c] == pytest.approx(plain.first_round[c])
    assert biased.p_win[B] > plain.p_win[B]


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.lists(st.floats(0, 1), min_size=3, max_size=3), min_size=1, max_size=5),
       points=st.floats(-150, 150))
def test_shift_margin_keeps_the_pair_total_and_moves_the_margin(rows, points):
    s = np.array(rows) + 1e-3
    s = s / s.sum(axis=1, keepdims=True)
    out = P.shift_margin(s, 0, 1, points)
    assert np.allclose(out.sum(axis=1), 1.0) and (out >= -1e-12).all()
    assert np.allclose(out[:, 2], s[:, 2])
    inside = np.abs(s[:, 0] - s[:, 1] + points / 100) <= s[:, 0] + s[:, 1]
    moved = (out[:, 0] - out[:, 1]) - (s[:, 0] - s[:, 1])
    assert np.allclose(moved[inside], points / 100)


# ---------------------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------------------

def test_score_winner_by_hand():
    s = P.score_winner({"X": 0.2, "Y": 0.7, "Z": 0.1}, "X")
    assert s["brier"] == pytest.approx(0.8 ** 2 + 0.7 ** 2 + 0.1 ** 2)
    assert s["log"] == pytest.approx(-math.log(0.2))
    assert P.score_winner({"X": 1.0, "Y": 0.0}, "X") == {"p_winner": 1.0, "brier": 0.0, "log": 0.0}
    assert P.score_winner({"X": 0.0, "Y": 1.0}, "X", draws=1000)["log"] == pytest.approx(math.log(2000))


@given(p=st.lists(st.floats(0, 1), min_size=2, max_size=5), i=st.integers(0, 4))
def test_scores_are_bounded(p, i):
    total = sum(p)
    if total == 0:
        return
    probs = {f"c{k}": v / total for k, v in enumerate(p)}
    s = P.score_winner(probs, f"c{i % len(p)}")
    assert -1e-12 <= s["brier"] <= 2 + 1e-12 and s["log"] >= 0


# ---------------------------------------------------------------------------------------------------------
# The report: the 2007 replay and the 2008 scenario
# ---------------------------------------------------------------------------------------------------------

def test_contest_of_the_may_2007_poll_is_the_real_2007_contest():
    from helpers.data import primaries as D

    contests = D.load_contests(DATA / "contests.csv")
    real = P.contest_of_poll(contests, "2007-05-25", _poll("candidates-2007-05-25-dahaf.csv"))
    winner = [r["candidate"] for r in _csv("contests.csv") if r["contest"] == "labor-2007"
              and r["round"] == "2" and r["result"] == "winner"]
    assert real["contest"] == "labor-2007" and [real["winner"]] == winner == [B]
    assert sorted(real["runoff"]) == sorted(_counts("labor-2007", "2"))
    assert P.contest_of_poll(contests, "2008", _poll("candidates-2008.csv")) is None


def test_replay_gives_the_models_chance_of_the_real_winner_and_says_what_happened(run_2007):
    run = run_2007
    section = leadership.replay(run)
    said = section.of("say")
    assert "What happened" in said[0] and escaped(B) in said[0]
    # the numbers come from the model: rerun the simulation on the extreme flows of the real counts
    r1, r2 = _counts("labor-2007", "1"), _counts("labor-2007", "2")
    groups = {"Amir Peretz": ["Amir Peretz"], "Ophir Pines-Paz + Danny Yatom": ["Ophir Pines-Paz", "Danny Yatom"]}
    bounds = P.transfer_bounds(r1, r2, groups)
    shares = _poll("candidates-2007-05-25-dahaf.csv")
    mine = [P.simulate_race(shares, plan, draws=run.draws, **run.settings).p_win[B]
            for plan in P.extreme_plans(bounds, shares, B)]
    assert section.values["p_low"] == pytest.approx(min(mine))
    assert section.values["p_high"] == pytest.approx(max(mine))
    # the poll had Ayalon ahead, so the model gave the real winner a low chance, and the text says so
    assert section.values["p_high"] < 0.5
    assert "low" in said[0] or "less than even" in said[0]
    table = section.values["table"]
    happened = table[table["model"] == "what happened"].iloc[0]
    assert happened[B] == 1.0 and happened["brier"] == 0.0
    scored = table[table["model"] != "what happened"]
    for _, row in scored.iterrows():
        assert row["brier"] == pytest.approx(sum((row[c] - (c == B)) ** 2 for c in shares))
    out = leadership.record(run)["outputs"]
    assert out["replay_p_winner_low"] == round(section.values["p_low"], 4)
    # the poll's own contest: no out-of-sample bias, so none is applied to the plans
    assert run.bias is None and not run.bias_applied


def test_2008_figures_are_a_scenario_with_their_assumptions_listed_and_varied(run_2008):
    run = run_2008
    assumed = [r["candidate"] for r in _csv("candidates-2008.csv") if "ASSUMPTION" in r["source"].upper()]
    assert assumed and run.assumed == assumed
    assert not run.bias_applied  # a poll's bias does not apply to figures that are not a poll
    section = leadership.scenario(run)
    assert len(section.of("figure")) == 1 and len(section.of("table")) == 1
    said = " ".join(section.of("say"))
    assert "scenario, not a forecast" in said and "if* these assumptions hold" in said
    for name in assumed:
        assert escaped(name) in said
    table = section.values["table"]
    lo, hi = run.ref.bounds.range("Amir Peretz", A)
    assert any(f"{100 * lo:.0f}% to {A}" in a for a in table["assumption"])
    assert any(f"{100 * hi:.0f}% to {A}" in a for a in table["assumption"])
    # the sensitivity is wide: the assumptions, not the simulation, decide the answer
    plans = [c for c in table.columns if c != "assumption"]
    assert table[plans].to_numpy().max() - table[plans].to_numpy().min() > 0.5
    why = leadership.why(run).of("say")[0]
    assert "If these assumptions hold" in why and "probability" not in why
    assert leadership.replay(run).values["replay"] is None
    assert leadership.record(run)["outputs"]["scenario"] == 1


def test_a_poll_of_another_contest_gets_the_out_of_sample_bias(tmp_path):
    """A poll (no assumed figures) of a race that is not in the data: the bias measured on the 2007 polls is
    drawn in every simulated contest."""
    path = tmp_path / "poll.csv"
    path.write_text("candidate,share,sample_size,date,source,notes\n"
                    f"{B},44,600,2008-05-01,a test poll,\n{A},46,600,2008-05-01,a test poll,\n"
                    "Amir Peretz,10,600,2008-05-01,a test poll,\n", encoding="utf-8")
    run = _prepare(str(path), draws=2000)
    assert run.bias is not None and run.bias_applied and run.effective == 600
    plain = P.simulate_race(run.shares, run.plans[0], draws=2000, **run.settings)
    assert run.results[0].p_win[B] > plain.p_win[B]
    assert run.results[0].p_win[B] == pytest.approx(P.simulate_race(
        run.shares, run.plans[0], draws=2000, bias=run.bias.margin_bias(), **run.settings).p_win[B])
