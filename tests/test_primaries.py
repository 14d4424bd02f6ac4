"""The two-round primaries model, its data files and the leadership report.

Golden tests use the published Labor counts in tests/golden; property tests check the invariants
the simulation must keep; a point solved under an assumption gives back the real runoffs (arithmetic only: it
holds by construction). The ranges, the bias and the replay are tested in tests/test_leadership_model.py."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, golden_rows
from helpers.core.errors import DataError
from helpers.data import primaries as D
from helpers.models import primaries as P

DATA = ROOT / "data" / "primaries"
@pytest.fixture(scope="module")
def contests():
    return D.load_contests(DATA / "contests.csv")


# ---------------------------------------------------------------------------------------------------------
# Golden: real contests
# ---------------------------------------------------------------------------------------------------------

def _published_rounds():
    out: dict = {}
    for r in golden_rows("labor_leadership.csv"):
        if not r["candidate"].startswith("("):
            out.setdefault((r["election_date"], r["round"]), []).append(r)
    return out


PUBLISHED = _published_rounds()


@pytest.mark.parametrize("key", sorted(PUBLISHED), ids=lambda k: f"{k[0]}-r{k[1]}")
@pytest.mark.parametrize("alt", [False, True], ids=["votes", "votes_alt"])
def test_model_gives_every_real_outcome(key, alt):
    rows = PUBLISHED[key]
    votes = {r["candidate"]: int(r["votes_alt"] if alt and r["votes_alt"] else r["votes"]) for r in rows}
    res = P.first_round(votes)
    winners = [r["candidate"] for r in rows if r["winner"] == "yes"]
    if winners:
        assert (res["outcome"], res["winner"], res["runoff"]) == ("winner", winners[0], [])
    else:
        assert res["outcome"] == "runoff" and res["tie"] == []
        assert set(res["runoff"]) == {r["candidate"] for r in rows if r["winner"] == "advanced"}


def test_2005_two_candidates_over_40_percent_of_valid_votes():
    # Peres had 40.31% of the candidates' votes (39.96% as published on a larger base): over the threshold,
    # but Peretz had more votes and won outright.
    votes = {r["candidate"]: int(r["votes"]) for r in PUBLISHED[("2005-11-09", "1")]}
    res = P.first_round(votes)
    over = [c["candidate"] for c in res["candidates"] if c["share"] > 40]
    assert over == ["Amir Peretz", "Shimon Peres"] and res["winner"] == "Amir Peretz"


def test_published_percentages_follow_from_the_stated_denominators(contests):
    rounds = D.load_rounds(DATA / "rounds.csv")
    checked = 0
    for contest, rnd, ballots in [("labor-2022", 1, True), ("labor-2021", 1, True), ("labor-2013", 1, False)]:
        kinds = ("candidate", "ballot_option")
        votes = D.contest_round(contests, contest, rnd, kinds=kinds)
        total = None
        if ballots:
            hit = rounds[(rounds["contest"] == contest) & (rounds["round"] == rnd)]
            total = int(hit["ballots_cast"].iloc[0])
        res = P.first_round(votes, ballots=total)
        published = contests[(contests["contest"] == contest) & (contests["round"] == rnd)].set_index(
            "candidate")["percent"]
        for c in res["candidates"]:
            assert round(c["share"], 2) == pytest.approx(published[c["candidate"]], abs=0.011), c
            checked += 1
    assert checked == 2 + 8 + 2


def test_replay_agrees_on_every_round(contests):
    table = P.replay(contests, D.load_rounds(DATA / "rounds.csv"))
    assert len(table) == 9 and table["agrees"].all()
    assert table.loc[table["contest"] == "labor-2022", "leader_share_ballots"].iloc[0] == pytest.approx(
        100 * 12429 / 15070)


# ---------------------------------------------------------------------------------------------------------
# The first-round rule: corner cases
# ---------------------------------------------------------------------------------------------------------

def test_exactly_40_percent_both_ways():
    votes = {"A": 40, "B": 35, "C": 25}
    assert P.first_round(votes)["runoff"] == ["A", "B"]
    assert P.first_round(votes, inclusive=True)["winner"] == "A"
    assert P.first_round({"A": 4000, "B": 3500, "C": 2500}, threshold=40.0)["outcome"] == "runoff"
    # 401/1000 is exactly 40.1%: the decimal threshold is compared exactly, not as a binary float.
    assert P.first_round({"A": 401, "B": 300, "C": 299}, threshold=40.1, inclusive=True)["winner"] == "A"
    assert P.first_round({"A": 401, "B": 300, "C": 299}, threshold=40.1)["outcome"] == "runoff"


def test_ballots_denominator_can_push_below_the_threshold():
    votes = {"A": 41, "B": 35, "C": 24}
    assert P.first_round(votes)["winner"] == "A"
    res = P.first_round(votes, ballots=110)
    assert res["outcome"] == "runoff" and res["candidates"][0]["share"] == pytest.approx(100 * 41 / 110)
    with pytest.raises(ValueError):
        P.first_round(votes, ballots=99)


def test_corner_cases():
    assert P.first_round({"A": 45, "B": 42, "C": 13})["winner"] == "A"
    top_tie = P.first_round({"A": 45, "B": 45, "C": 10})
    assert top_tie["outcome"] == "runoff" and top_tie["runoff"] == ["A", "B"] and top_tie["tie"] == []
    second = P.first_round({"A": 40, "B": 30, "C": 30})
    assert second["runoff"] == ["A", "B", "C"] and second["tie"] == ["B", "C"]
    assert [c["result"] for c in second["candidates"]] == ["runoff"] * 3
    three = P.first_round({"A": 1, "B": 1, "C": 1})
    assert three["outcome"] == "runoff" and three["tie"] == ["A", "B", "C"]
    assert P.first_round({"Solo": 3}, threshold=100)["winner"] == "Solo"
    zero = P.first_round({"A": 60, "B": 40, "C": 0})
    assert zero["winner"] == "A" and zero["candidates"][2] == {"candidate": "C", "votes": 0, "share": 0.0,
                                                               "result": "out"}


@pytest.mark.parametrize("votes, threshold", [
    ({"A": 0, "B": 0}, 40), ({"A": -1, "B": 3}, 40), ({"A": 1.5, "B": 3}, 40), ({}, 40),
    ({"A": 1}, 0), ({"A": 1}, 100.01), ({"A": 1}, math.nan)])
def test_bad_first_round_input(votes, threshold):
    with pytest.raises(ValueError):
        P.first_round(votes, threshold=threshold)


# ---------------------------------------------------------------------------------------------------------
# Calibration on real runoffs
# ---------------------------------------------------------------------------------------------------------

def test_calibration_reproduces_the_2007_runoff(contests):
    r1 = D.contest_round(contests, "labor-2007", 1)
    r2 = D.contest_round(contests, "labor-2007", 2)
    assert r2 == {"Ehud Barak": 34542, "Ami Ayalon": 32117}
    pooled = P.calibrate(r1, r2)
    back = pooled.reproduced()
    for f in r2:
        assert abs(back[f] - r2[f]) < 0.5
    rates = pooled.rates[pooled.label]
    assert 0 < rates["Ehud Barak"] < 1 and 0 < rates["Ami Ayalon"] < 1
    # More valid votes in the runoff than in round one: the leftover is net newcomers (85 votes).
    assert rates[P.STAY_HOME] * (15037 + 5330 + 1806) == pytest.approx(-(34542 + 32117 - 66574))
    fixed = {n: {"Ehud Barak": 0.75, "Ami Ayalon": 0.25} for n in ("Ophir Pines-Paz", "Danny Yatom")}
    endorsed = P.calibrate(r1, r2, fixed=fixed)
    for f in r2:
        assert abs(endorsed.reproduced()[f] - r2[f]) < 0.5
    # The flows of the chart add up to the real count for each finalist and to each candidate's votes.
    flows = endorsed.flows
    for f in r2:
        assert flows.loc[flows["target"] == f, "votes"].sum() == pytest.approx(r2[f])
    for c, v in r1.items():
        assert flows.loc[flows["source"] == c, "votes"].sum() == pytest.approx(v)


def test_calibrated_rates_replayed_through_the_simulation_give_the_real_winner(contests):
    for contest, winner in (("labor-2007", "Ehud Barak"), ("labor-2011", "Shelly Yachimovich")):
        r1 = D.contest_round(contests, contest, 1)
        r2 = D.contest_round(contests, contest, 2)
        cal = P.calibrate(r1, r2)
        row = {f: min(1.0, v) for f, v in cal.rates[cal.label].items() if f != P.STAY_HOME}
        total = sum(row.values())
        row = {f: v / total for f, v in row.items()} if total > 1 else row
        sc = P.Plan("real", transfers={c: row for c in cal.free})
        res = P.simulate_race(r1, sc, sample_size=math.inf, concentration=None, draws=10, seed=1)
        assert res.p_runoff == 1.0 and res.p_win[winner] == 1.0
        assert set(res.matchups) == {tuple(sorted(r2, key=list(r1).index))}


def test_calibration_family_is_linear_and_brackets_the_pooled_answer(contests):
    r1 = D.contest_round(contests, "labor-2011", 1)
    r2 = D.contest_round(contests, "labor-2011", 2)
    fam = P.calibration_family(r1, r2, ["Isaac Herzog"], np.linspace(0, 1, 11), towards="Amir Peretz")
    diffs = np.diff(fam["Amir Peretz"].to_numpy())
    assert np.allclose(diffs, diffs[0])
    x = P.family_solve(fam, "Amir Peretz", 50)
    assert P.family_at(fam, "Amir Peretz", x) == pytest.approx(50)
    assert not fam["feasible"].all() and fam["feasible"].any()


def test_poll_misses_of_2007(contests):
    polls = [D.load_poll(DATA / f) for f in ("candidates-2007-05-24-dialog.csv",
                                            "candidates-2007-05-25-dahaf.csv",
                                            "candidates-2007-06-06-dialog-runoff.csv")]
    misses = P.poll_misses(polls, contests)
    assert list(misses["round"]) == ["labor-2007 round 1", "labor-2007 round 1", "labor-2007 round 2"]
    # Dialog, 24 May: Ayalon 34, Barak 30 of 91 decided; count: Barak 23887, Ayalon 20514 of 66574.
    assert misses["miss"].iloc[0] == pytest.approx(100 * ((23887 - 20514) / 66574 - (30 - 34) / 91))
    # The bias is the mean miss of the three polls, all on the Barak - Ayalon margin, each recomputed here.
    bias = P.poll_bias(misses)
    assert (bias.a, bias.b, bias.polls, bias.contests) == ("Ehud Barak", "Ami Ayalon", 3, 1)
    dahaf = 100 * ((23887 - 20514) / 66574 - (31 - 35) / 97)
    runoff = 100 * ((34542 - 32117) / 66659 - (43 - 47) / 90)
    assert bias.mean == pytest.approx((misses["miss"].iloc[0] + dahaf + runoff) / 3)


# ---------------------------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------------------------

SHARES = {"Ehud Barak": 35.6, "Ami Ayalon": 30.6, "Amir Peretz": 22.4, "Ophir Pines-Paz": 8.0}
PACT = P.Plan("b", transfers={"Amir Peretz": {"Ami Ayalon": 0.65, "Ehud Barak": 0.35}})


def _as_tuple(res):
    return (res.p_win, res.p_outright, res.p_runoff, res.matchups, res.first_round)


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = P.simulate_race(SHARES, PACT, sample_size=300, draws=3000, seed=7)
    b = P.simulate_race(SHARES, PACT, sample_size=300, draws=3000, seed=7)
    c = P.simulate_race(SHARES, PACT, sample_size=300, draws=3000, seed=8)
    assert _as_tuple(a) == _as_tuple(b)
    assert _as_tuple(a) != _as_tuple(c)
    g1 = P.simulate_race(SHARES, PACT, draws=500, seed=np.random.default_rng(3))
    g2 = P.simulate_race(SHARES, PACT, draws=500, seed=np.random.default_rng(3))
    assert _as_tuple(g1) == _as_tuple(g2)


def test_scenarios_share_their_first_round_draws():
    base = P.simulate_race(SHARES, P.Plan("a"), draws=2000, seed=5)
    pact = P.simulate_race(SHARES, PACT, draws=2000, seed=5)
    assert base.first_round == pact.first_round and base.p_outright == pact.p_outright


def test_no_runoff_when_the_third_candidate_is_small():
    # The article's race: with Peretz far under 100 - 2 x 40 = 20 percent, the leader always has over 40%,
    # so a second-round pact cannot change anything.
    shares = {"Ehud Barak": 49.75, "Ami Ayalon": 46.25, "Amir Peretz": 4}
    a = P.simulate_race(shares, P.Plan("a"), sample_size=94, draws=5000, seed=0)
    b = P.simulate_race(shares, P.Plan("b", transfers={"Amir Peretz": {"Ami Ayalon": 1.0}}), sample_size=94,
                   draws=5000, seed=0)
    assert a.p_runoff == 0 and b.p_runoff == 0 and a.p_win == b.p_win
    c = P.simulate_race(shares, P.Plan("c", withdrawals={"Amir Peretz": {"Ami Ayalon": 1.0}}), sample_size=94,
                   draws=5000, seed=0)
    assert c.p_win["Ami Ayalon"] > a.p_win["Ami Ayalon"] and c.p_win["Amir Peretz"] == 0
    assert P.runoff_floor(40) == 20


def test_exact_shares_give_certain_outcomes():
    res = P.simulate_race({"A": 40, "B": 35, "C": 25}, sample_size=math.inf, concentration=None, draws=10)
    assert res.p_runoff == 1.0 and res.matchups == {("A", "B"): 1.0}
    res = P.simulate_race({"A": 40, "B": 35, "C": 25}, sample_size=math.inf, inclusive=True, draws=10)
    assert res.p_outright["A"] == 1.0
    # Measured on all ballots (10% not for a candidate), 45% of valid votes is 40.5% of ballots.
    res = P.simulate_race({"A": 45, "B": 35, "C": 20}, sample_size=math.inf, invalid=10, draws=10)
    assert res.p_outright["A"] == 1.0
    res = P.simulate_race({"A": 44, "B": 35, "C": 21}, sample_size=math.inf, invalid=10, draws=10)
    assert res.p_runoff == 1.0


def test_bad_scenarios_are_refused():
    with pytest.raises(ValueError):
        P.simulate_race(SHARES, P.Plan("x", withdrawals={"Nobody": {"Ami Ayalon": 1}}), draws=10)
    with pytest.raises(ValueError):
        P.simulate_race(SHARES, P.Plan("x", transfers={"Amir Peretz": {"Ami Ayalon": 0.8, "Ehud Barak": 0.4}}),
                   draws=10)
    with pytest.raises(ValueError):
        P.simulate_race(SHARES, P.Plan("x", withdrawals={"Amir Peretz": {"Amir Peretz": 1}}), draws=10)


shares_strategy = st.lists(st.floats(min_value=0.5, max_value=60), min_size=2, max_size=6)


@settings(max_examples=40, deadline=None)
@given(values=shares_strategy, threshold=st.floats(min_value=5, max_value=100), inclusive=st.booleans(),
       seed=st.integers(0, 2**32 - 1), withdraw=st.booleans(), rate=st.floats(0, 1))
def test_probabilities_add_up(values, threshold, inclusive, seed, withdraw, rate):
    names = [f"C{i}" for i in range(len(values))]
    shares = dict(zip(names, values, strict=True))
    sc = P.Plan("s", withdrawals={names[-1]: {names[0]: rate}} if withdraw else {},
                    transfers={names[1]: {names[0]: rate}})
    res = P.simulate_race(shares, sc, sample_size=200, threshold=threshold, inclusive=inclusive, draws=300,
                     seed=seed)
    assert sum(res.p_win.values()) == pytest.approx(1.0)
    assert res.p_outright_any + res.p_runoff == pytest.approx(1.0)
    assert sum(res.matchups.values()) == pytest.approx(res.p_runoff)
    assert sum(res.p_in_runoff.values()) == pytest.approx(2 * res.p_runoff)
    for c in names:
        assert res.p_win[c] == pytest.approx(res.p_outright[c] + res.p_runoff_win[c])
        assert 0 <= res.p_win[c] <= 1
    if withdraw:
        assert res.p_win[names[-1]] == 0


@settings(max_examples=40, deadline=None)
@given(values=shares_strategy, seed=st.integers(0, 2**32 - 1),
       threshold=st.floats(min_value=5, max_value=100), to=st.integers(0, 5), away=st.integers(0, 5))
def test_withdrawing_for_x_never_lowers_x_chance_of_winning_round_one(values, seed, threshold, to, away):
    names = [f"C{i}" for i in range(len(values))]
    x, w = names[to % len(names)], names[away % len(names)]
    if x == w:
        return
    shares = dict(zip(names, values, strict=True))
    kw = dict(sample_size=150, threshold=threshold, draws=300, seed=seed)
    before = P.simulate_race(shares, P.Plan("a"), **kw)
    after = P.simulate_race(shares, P.Plan("c", withdrawals={w: {x: 1.0}}), **kw)
    assert after.p_outright[x] >= before.p_outright[x]


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(min_value=0.5, max_value=60), min_size=3, max_size=3),
       seed=st.integers(0, 2**32 - 1), threshold=st.floats(min_value=5, max_value=50),
       inclusive=st.booleans(), row=st.lists(st.floats(0, 1), min_size=2, max_size=2),
       concentration=st.sampled_from([None, 5.0, 50.0]))
def test_in_a_three_way_race_withdrawing_for_x_never_lowers_x_chance(values, seed, threshold, inclusive, row,
                                                                        concentration):
    # Holds when finalists keep all their voters (the default) and the threshold is at most 50%: whoever
    # X beat with W in the race, X beats with W's voters added.
    x, y, w = "X", "Y", "W"
    shares = dict(zip((x, y, w), values, strict=True))
    a, b = row
    transfers = {w: {x: a / max(1.0, a + b), y: b / max(1.0, a + b)}}
    kw = dict(sample_size=120, threshold=threshold, inclusive=inclusive, draws=300, seed=seed,
              concentration=concentration)
    before = P.simulate_race(shares, P.Plan("a", transfers=transfers), **kw)
    after = P.simulate_race(shares, P.Plan("c", withdrawals={w: {x: 1.0}}, transfers=transfers), **kw)
    assert after.p_win[x] >= before.p_win[x]


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(1, 1000), min_size=3, max_size=5), rates=st.lists(
    st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=5, max_size=5))
def test_vectorised_runoff_agrees_with_runoff_votes(counts, rates):
    names = [f"C{i}" for i in range(len(counts))]
    votes = dict(zip(names, counts, strict=True))
    res = P.first_round(votes)
    if res["tie"] or res["outcome"] == "winner" or len(set(counts)) < len(counts):
        return
    f1, f2 = res["runoff"]
    transfers = {}
    for n, (a, b) in zip(names, rates, strict=False):
        if n in (f1, f2):
            continue
        s = max(1.0, a + b)
        transfers[n] = {f1: a / s, f2: b / s}
    expected = P.runoff_votes(votes, (f1, f2), transfers)
    if abs(expected[f1] - expected[f2]) < 1e-6:
        return
    sim = P.simulate_race(votes, P.Plan("t", transfers=transfers), sample_size=math.inf, concentration=None,
                     draws=3)
    assert sim.p_win[f1 if expected[f1] > expected[f2] else f2] == 1.0


# ---------------------------------------------------------------------------------------------------------
# Data files and loaders
# ---------------------------------------------------------------------------------------------------------

def test_contests_file_keeps_the_published_numbers_exactly(contests):
    raw = list(csv.DictReader((DATA / "contests.csv").open(encoding="utf-8")))
    reference = golden_rows("labor_leadership.csv")
    assert len(raw) == len(reference)
    for mine, theirs in zip(raw, reference, strict=True):
        assert mine["date"] == theirs["election_date"] and mine["candidate"] == theirs["candidate"]
        for col in ("votes", "percent", "votes_alt", "percent_alt"):
            assert mine[col] == theirs[col], (col, mine, theirs)
    assert contests["votes"].dtype == "int64" and str(contests["votes_alt"].dtype) == "Int64"


def test_round_files_match_the_published_counts():
    for (date, rnd), rows in PUBLISHED.items():
        frame = D.load_round(DATA / f"labor-{date[:4]}-round{rnd}.csv")
        assert D.round_votes(frame) == {r["candidate"]: int(r["votes"]) for r in rows}


def test_default_candidates_file_uses_the_published_4_percent_and_labels_assumptions():
    frame = D.load_candidates(DATA / "candidates-2008.csv")
    poll = [r for r in golden_rows("polls_labor_leadership.csv") if r["scenario"] == "next leadership race"]
    assert len(poll) == 1 and poll[0]["candidate"] == "Amir Peretz"
    row = frame.set_index("candidate")
    assert row.loc["Amir Peretz", "share"] == float(poll[0]["percent"])
    for name in ("Ehud Barak", "Ami Ayalon"):
        assert "ASSUMPTION" in row.loc[name, "source"]
    assert frame["share"].sum() == pytest.approx(100)
    assert D.poll_size(frame) is None


def test_rules_file_states_the_40_percent_rule():
    rules = {r["rule"]: r["value"] for r in csv.DictReader((DATA / "rules.csv").open(encoding="utf-8"))}
    assert rules["first_round_win_threshold_percent"] == "40"


def test_shipped_transfers_file_loads_against_the_default_candidates():
    names = list(D.candidate_shares(D.load_candidates(DATA / "candidates-2008.csv")))
    plans = P.plans_from_frame(D.load_transfers(DATA / "scenarios-2008.csv", candidates=names))
    assert [p.name for p in plans] == ["a", "b", "c"]
    assert plans[2].withdrawals == {"Amir Peretz": {"Ehud Barak": 0.35, "Ami Ayalon": 0.65}}
    for p in plans:
        p.check(names)


def _write(tmp_path, text, name="f.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("text, needles", [
    ("candidate\nA\n", ["exactly one of the columns", "neither"]),
    ("candidate,share,votes\nA,1,1\n", ["both"]),
    ("candidate,share\nA,120\n", ["row 2", "'share'", "120"]),
    ("candidate,share\nA,60\nB,50\n", ["add up to 110"]),
    ("candidate,share\nA,0\nB,0\n", ["0"]),
    ("candidate,share\nA,50\na,40\n", ["row 3", "already appears"]),
    ("candidate,share,sample_size\nA,50,500\nB,40,600\n", ["row 3", "'sample_size'", "one sample size"]),
    ("candidate,share,sample_size\nA,50,0\n", ["row 2", "'sample_size'"]),
    ("candidate,share,date\nA,50,May 2008\n", ["row 2", "'date'"]),
    ("candidate,votes\nA,1.5\n", ["row 2", "'votes'"]),
])
def test_load_candidates_rejects_bad_files(tmp_path, text, needles):
    with pytest.raises(DataError) as err:
        D.load_candidates(_write(tmp_path, text))
    for n in needles:
        assert n in str(err.value), (n, str(err.value))


def test_load_candidates_accepts_votes_and_partial_dates(tmp_path):
    frame = D.load_candidates(_write(tmp_path, "candidate,votes,date\nA,30,2008\nB,10,2008-05\n"))
    assert list(frame["share"]) == [75.0, 25.0] and D.poll_size(frame) == 40 and D.as_of(frame) == "2008-05"
    with pytest.raises(DataError):
        D.load_candidates(tmp_path / "missing.csv")


@pytest.mark.parametrize("text, needles", [
    ("scenario,title,step,source,target,percent\na,T,move,A,B,10\n", ["row 2", "'step'"]),
    ("scenario,title,step,source,target,percent\na,T,transfer,A,B,70\na,T,transfer,A,C,40\n",
     ["row 3", "add up to 110"]),
    ("scenario,title,step,source,target,percent\na,T,withdraw,A,A,10\n", ["row 2", "themself"]),
    ("scenario,title,step,source,target,percent\na,T,transfer,A,Z,10\n", ["row 2", "'Z'", "not a candidate"]),
    ("scenario,title,step,source,target,percent\na,T,transfer,A,B,\n", ["row 2", "'percent'"]),
    ("scenario,title,step,source,target,percent\na,T,transfer,A,B,10\na,U,transfer,A,C,10\n",
     ["row 3", "one title"]),
])
def test_load_transfers_rejects_bad_files(tmp_path, text, needles):
    with pytest.raises(DataError) as err:
        D.load_transfers(_write(tmp_path, text), candidates=["A", "B", "C"])
    for n in needles:
        assert n in str(err.value), (n, str(err.value))


def test_load_contests_rejects_a_candidate_twice_in_a_round(tmp_path):
    text = "contest,date,round,candidate,votes\nx,2007-05-28,1,A,3\nx,2007-05-28,1,a,4\n"
    with pytest.raises(DataError, match="row 3"):
        D.load_contests(_write(tmp_path, text))


def test_the_pipeline_loader_for_candidates_is_ours():
    from helpers import data

    assert data.loader_for("candidates") is D.load_candidates


# ---------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------

NOTEBOOK = ROOT / "notebooks" / "03_leadership_race.ipynb"


def test_report_notebook_shows_data_only_through_escaped_helpers():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")
    assert nb["cells"][1]["metadata"]["tags"] == ["parameters"]
    params = "".join(nb["cells"][1]["source"])
    for name in ('candidates: "candidates file" =', 'threshold: "percent (0, 100]" = 40.0',
                 'inclusive: "bool" = False', 'draws: "count 1..MAX_DRAWS" = 20000', 'seed: "seed" = 0'):
        assert name in params
    for cell in nb["cells"]:
        assert not cell.get("outputs") and cell.get("execution_count") is None
        if cell["cell_type"] == "code":
            src = "".join(cell["source"])
            for banned in ("display(", "Markdown(", "HTML(", ".style", "print("):
                assert banned not in src, (banned, src)
            assert "../" not in src


@pytest.mark.slow
def test_report_runs_and_explains_the_three_plans(tmp_path):
    import nbformat
    import papermill as pm

    from helpers.notebook import read_record

    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(out), cwd=str(ROOT / "notebooks"), kernel_name="python3",
                        progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    rec = read_record(nb)
    o = rec["outputs"]
    assert rec["seed"] == 0
    # (a) and (b) coincide (no runoff is possible with Peretz at 4%); (c) moves votes in round one.
    assert o["p_runoff_a"] == 0 and o["p_barak_a"] == o["p_barak_b"]
    assert o["p_barak_c"] < o["p_barak_a"]
    text = "\n".join(str(out.get("data", {}).get("text/markdown", ""))
                     for c in nb.cells for out in c.get("outputs", []))
    assert "worth nothing" in text and "before round one" in text


@pytest.mark.slow
def test_report_with_the_2007_poll_gives_three_different_chances(tmp_path):
    import nbformat
    import papermill as pm

    from helpers.notebook import read_record

    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(out), cwd=str(ROOT), kernel_name="python3", progress_bar=False,
                        parameters={"candidates": "data/primaries/candidates-2007-05-24-dialog.csv",
                                    "draws": 4000})
    o = read_record(nbformat.read(out, as_version=4))["outputs"]
    assert len({o["p_barak_a"], o["p_barak_b"], o["p_barak_c"]}) == 3
    assert o["p_runoff_a"] > 0.3


def test_explain_says_a_round_two_promise_is_worth_nothing_when_round_one_decides():
    """views.primaries.explain (moved out of the model) writes its sentences from the simulated numbers."""
    from helpers.views import primaries as primary_views

    shares = {"A": 45.0, "B": 35.0, "C": 20.0}
    plans = [P.Plan("base", "As polled"), P.Plan("deal", "C backs B", transfers={"C": {"B": 1.0}})]
    results = [P.simulate_race(shares, plan, sample_size=math.inf, draws=200) for plan in plans]
    assert results[1].p_runoff == 0
    said = primary_views.explain(results, shares, "B", threshold=40)
    assert said[0] == "B wins with probability 0.0% under As polled; 0.0% under C backs B."
    assert said[2].startswith("C backs B: this changes only what happens in a second round")
    swept = P.sweep(shares, plans, "C", [10.0, 30.0], "B", sample_size=math.inf, draws=200)
    assert len(primary_views.sweep_summary(swept, "B", "C")) == 1


def _race_numbers(res):
    """Everything a race result holds, for exact comparison."""
    return (res.candidates, res.standing, res.p_outright_any, res.p_runoff, res.p_win, res.p_outright,
            res.p_runoff_win, res.p_in_runoff, res.matchups, res.first_round, res.outside_top_two)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(2, 5), data=st.data(), seed=st.integers(0, 2**32 - 1),
       draws=st.sampled_from([1, 7, 500, 4000, 40_000]), withdraw=st.booleans())
def test_remembered_draws_give_the_race_drawn_afresh(k, data, seed, draws, withdraw):
    """A race run from a seed number (its Dirichlet draws remembered per process) is the race run from the same
    seed's SeedSequence (drawn every time), to the bit, the first time and again; a run in between with other
    shares or plans does not change it, nor does a run that withdraws a candidate (which changes round-one
    shares in place)."""
    from helpers.models.primaries import race

    names = [f"C{i}" for i in range(k)]
    shares = dict(zip(names, data.draw(st.lists(st.floats(1.0, 60.0), min_size=k, max_size=k)), strict=True))
    rate = data.draw(st.floats(0.0, 1.0))
    plan = P.Plan("p", transfers={names[-1]: {names[0]: rate}},
                  withdrawals={names[-1]: {names[0]: rate}} if withdraw and k > 2 else {})
    fresh = P.simulate_race(shares, plan, draws=draws, seed=np.random.SeedSequence(seed))
    first = P.simulate_race(shares, plan, draws=draws, seed=seed)
    P.simulate_race({**shares, names[0]: shares[names[0]] + 5}, P.Plan("other"), draws=draws, seed=seed)
    again = P.simulate_race(shares, plan, draws=draws, seed=seed)
    assert _race_numbers(first) == _race_numbers(fresh) == _race_numbers(again)
    assert race._remembered.cache_info().currsize <= race._REMEMBERED


def test_remembered_draws_are_keyed_on_all_they_depend_on():
    """Under each key (seed, streams, stream, parameters, draws) the draws are those of that generator made
    afresh; seed, stream and parameters each pick other numbers (how many streams were split off does not
    change a stream, and more draws start with the same ones); a caller's copy can be changed without changing
    what is remembered."""
    from helpers.models.primaries import race
    from helpers.models.simulate import dirichlet

    def plain(seed, count, stream, alpha, draws):
        rng = race._generators(seed, count)[stream]
        return dirichlet(rng, np.asarray(alpha, dtype=float), draws)

    base = (3, 5, 1, (20.5, 10.5, 5.5), 100)
    variants = [base, (4, 5, 1, base[3], 100), (3, 6, 1, base[3], 100), (3, 5, 2, base[3], 100),
                (3, 5, 1, (20.5, 10.5, 6.5), 100), (3, 5, 1, base[3], 101)]
    seen = []
    for seed, count, stream, alpha, draws in variants:
        sample = race._sampler(seed, count)
        got = sample(stream, None, np.array(alpha), draws)
        want = plain(seed, count, stream, alpha, draws)
        assert np.array_equal(got, want)
        got[:] = -1.0  # the caller's own copy
        assert np.array_equal(sample(stream, None, np.array(alpha), draws), want)
        assert got.shape == (draws, len(alpha))
        seen.append(want[:100].tobytes())
    assert len({seen[0], seen[1], seen[3], seen[4]}) == 4
    # a Generator seed has a state of its own: never remembered
    rng = np.random.default_rng(3)
    assert not np.array_equal(race._sampler(rng, 5)(1, rng, np.array(base[3]), 100),
                              race._sampler(rng, 5)(1, rng, np.array(base[3]), 100))
