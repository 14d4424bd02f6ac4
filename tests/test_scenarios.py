"""Coalition scenarios: the scenario loader and its errors, each what-if step on hand-made inputs, and the
coalition probabilities counted against the raw seat draws."""

from __future__ import annotations

import dataclasses
import textwrap
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from helpers.core.errors import DataError
from helpers.data import knesset
from helpers.data import polls as poll_data
from helpers.data.scenarios import Politics, Step, WhatIf, load_scenario
from helpers.models import coalitions, simulate, whatif
from helpers.models import scenarios as scen
from helpers.models.seats import allocate
from helpers.views import scenarios as scen_views

POLLS_2022 = "data/polls/knesset-2022.csv"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    # scenario paths are relative to the project root, found from the working directory
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("BALLOTBOOK_ROOT", raising=False)


def write(tmp_path, text: str, name: str = "s.yml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


BASE = f"""\
polls: {POLLS_2022}
as_of: 2022-10-28
"""


# --------------------------------------------------------------------------------------------- the loader


def test_shipped_scenarios_load():
    s = load_scenario("data/scenarios/knesset-2022.yml")
    assert s.polls == POLLS_2022 and s.as_of == "2022-10-28" and s.majority == 61 and s.seats == 120
    assert ("religious_zionism", "raam") in s.vetoes and ("likud", "yesh_atid") in s.vetoes
    assert s.blocs["Netanyahu bloc"][:4] == ["likud", "religious_zionism", "shas", "utj"]
    assert "hadash_taal" not in sum(s.blocs.values(), []) and "balad" not in sum(s.blocs.values(), [])
    names = [w.name for w in s.what_if]
    assert "Labor and Meretz merge" in names and "Jewish Home withdraws" in names
    assert ("shas", "utj") in s.agreements and s.effective_poll_error() == 0.0
    assert s.effective_poll_error(0.5) == 0.5 and s.effective_poll_error(-1.0) == 0.0
    s09 = load_scenario("data/scenarios/knesset-2009.yml")
    assert s09.threshold == 2.0 and s09.as_of == "2009-02-06"
    assert s09.excluded == ["hadash", "balad", "raam_taal"]
    # merged poll columns count as their members
    assert {"balad", "hadash", "raam_taal", "jewish_home", "national_union"} <= set(s09.base_lists)


def test_parties_by_name_alias_and_any_case(tmp_path):
    p = write(tmp_path, BASE + textwrap.dedent("""\
        vetoes:
          - [LIKUD, Yesh Atid]
          - [Religious Zionist Party, ual]
          - [ש"ס, yisrael beiteinu]
        required: [likud]
        coalitions: {Right: [Likud, SHAS, UTJ]}
    """))
    s = load_scenario(p)
    assert s.vetoes == [("likud", "yesh_atid"), ("religious_zionism", "raam"), ("shas", "yisrael_beiteinu")]
    assert s.coalitions == {"Right": ["likud", "shas", "utj"]} and s.required == ["likud"]


def test_veto_shorthand_expands_to_pairs(tmp_path):
    s = load_scenario(write(tmp_path, BASE + "vetoes: [[likud, [labor, meretz]]]\n"))
    assert s.vetoes == [("likud", "labor"), ("likud", "meretz")]


def test_defaults(tmp_path):
    s = load_scenario(write(tmp_path, BASE + "seats: 100\n"))
    assert s.majority == 51 and s.threshold == 3.25 and s.title == "s" and s.vetoes == [] and s.what_if == []
    assert s.valid_votes is None


def test_results_base(tmp_path):
    s = load_scenario(write(tmp_path, "results: data/knesset/results/2022-11-01.csv\n"
                                      "vetoes: [[economic_freedom, likud]]\n"))
    assert s.polls is None and s.results and s.valid_votes == 4764742 and s.effective_poll_error() == 0.0
    assert s.vetoes == [("economic_freedom", "likud")]  # a list of the votes file, not in the registry


def message(tmp_path, text) -> str:
    with pytest.raises(DataError) as exc:
        load_scenario(write(tmp_path, text))
    msg = str(exc.value)
    assert "s.yml" in msg and len(msg.splitlines()) <= 2, msg
    return msg


def test_unknown_party_names_it_and_suggests(tmp_path):
    msg = message(tmp_path, BASE + "vetoes:\n  - [Likkud, yesh_atid]\n")
    assert "vetoes[0][0]" in msg and "line 4" in msg and "'Likkud'" in msg and "did you mean 'likud'" in msg


@pytest.mark.parametrize("text, needles", [
    ("polls: [a.csv\nas_of: 2022-10-28\n", ["line 2", "not valid YAML"]),
    (BASE + "vetos: []\n", ["unknown key 'vetos'", "did you mean 'vetoes'"]),
    (BASE + "what_if:\n  - name: X\n    steps:\n      - {merger: [labor, meretz]}\n",
     ["what_if[0] ('X').steps[0].merger", "unknown key 'merger' in a what-if step", "did you mean 'merge'"]),
    (BASE + "vetoes: [[likud, Yesh Atidd]]\n", ["vetoes[0][1]", "'Yesh Atidd'", "did you mean 'yesh_atid'"]),
    ("polls: data/polls/nothere.csv\nas_of: 2022-10-28\n", ["polls (line 1)", "nothere.csv does not exist"]),
    (BASE + "majority: 0\n", ["majority (line 3)", "'0' is not a whole number of seats > 0"]),
    (BASE + "majority: 60.5\n", ["'60.5' is not a whole number"]),
    (BASE + "majority: true\n", ["'true' is not a whole number"]),
    (BASE + "majority: '61'\n", ["'61' is not a whole number"]),
    (BASE + "majority: 121\n", ["at most 120"]),
    (BASE + "threshold: 100\n", ["threshold (line 3)", "100 is out of range", "such as 1/150"]),
    (f"polls: {POLLS_2022}\n", ["needs 'as_of:'"]),
    (f"polls: {POLLS_2022}\nas_of: 2021-01-01\n", ["no poll", "2021-01-01"]),
    (f"polls: {POLLS_2022}\nas_of: 28/10/2022\n", ["as_of", "YYYY-MM-DD"]),
    (BASE + "results: data/knesset/results/2022-11-01.csv\n", ["one base", "both"]),
    ("title: x\n", ["one base", "neither"]),
    ("- a\n- b\n", ["expected a mapping"]),
    ("", ["an empty file"]),
    (BASE + "majority: 61\nmajority: 62\n", ["line 4", "'majority' appears twice"]),
    (BASE + "agreements: data/nothere.csv\n", ["agreements (line 3)", "does not exist"]),
    (BASE + "blocs: {A: [likud, shas], B: [shas]}\n", ["blocs.B", "already in the bloc 'A'"]),
    (BASE + "required: [likud]\nexcluded: [Likud]\n", ["both required and excluded"]),
    (BASE + "required: [likud, labor]\nvetoes: [[likud, labor]]\n", ["no coalition is possible"]),
    (BASE + "vetoes: [[likud, likud]]\n", ["two different parties"]),
    (BASE + "vetoes: [likud]\n", ["not a pair"]),
    (BASE + "vetoes: [[likud, labor], [labor, likud]]\n", ["already listed"]),
    (BASE + "coalitions: {Right: likud}\n", ["coalitions.Right", "not a list"]),
    (BASE + "what_if:\n  - steps: [{threshold: 2}]\n", ["'name' is missing", "a what-if needs name and steps"]),
    (BASE + "what_if:\n  - {name: X, steps: []}\n", ["at least one step"]),
    (BASE + "what_if:\n  - {name: X, steps: [{threshold: 2}]}\n  - {name: x, steps: [{threshold: 3}]}\n",
     ["already used by what_if[0]"]),
    (BASE + "what_if:\n  - {name: X, steps: [{threshold: 2, drop: balad}]}\n", ["does one thing"]),
    (BASE + "what_if:\n  - {name: X, steps: [{drop: balad, into: labor}]}\n",
     ["unknown key 'into'", "drop step"]),
    (BASE + "what_if:\n  - {name: X, steps: [{drop: kadima}]}\n", ["'kadima' is not running"]),
    (BASE + "what_if:\n  - {name: X, steps: [{move: 1, from: likud}]}\n",
     ["'to' is missing", "a move step needs from and to"]),
    (BASE + "what_if:\n  - {name: X, steps: [{move: -1, from: likud, to: labor}]}\n", ["above 0"]),
    (BASE + "what_if:\n  - {name: X, steps: [{move: 1, unit: votes, from: likud, to: labor}]}\n",
     ["points or seats"]),
    (BASE + "what_if:\n  - {name: X, steps: [{merge: [labor]}]}\n", ["two parties or more"]),
    (BASE + "what_if:\n  - {name: X, steps: [{merge: [labor, meretz], into: likud}]}\n",
     ["'likud' is already running"]),
    (BASE + "what_if:\n  - {name: X, steps: [{merge: [labor, meretz], into: Labor Meretz}]}\n",
     ["unknown party 'Labor Meretz'", "lower_snake_case"]),
    (BASE + "what_if:\n  - {name: X, steps: [{split: labor, into: {a: 50, b: 40}}]}\n", ["sum to 90"]),
    (BASE + "what_if:\n  - {name: X, steps: [{run: likud, share: 2}]}\n", ["'likud' is already running"]),
    (BASE + "what_if:\n  - {name: X, steps: [{run: new_list}]}\n", ["'share' is missing", "a run step"]),
    (BASE + "what_if:\n  - {name: X, steps: [{run: new_list, share: 2, bloc: Nope}]}\n",
     ["unknown bloc 'Nope'"]),
    (BASE + "what_if:\n  - {name: X, steps: [{agreement_remove: [labor, meretz]}]}\n",
     ["no surplus agreement labor–meretz"]),
    (BASE + "agreements: data/knesset/agreements/2022-11-01.csv\n"
            "what_if:\n  - {name: X, steps: [{agreement_add: [labor, raam]}]}\n",
     ["'labor' already has a surplus agreement"]),
    (BASE + "what_if:\n  - {name: X, steps: [{veto_remove: [labor, likud]}]}\n", ["no veto labor–likud"]),
    (BASE + "what_if:\n  - {name: X, steps: [{threshold: 2}], colour: red}\n", ["unknown key 'colour'"]),
])
def test_errors_name_the_place(tmp_path, text, needles):
    msg = message(tmp_path, text)
    for needle in needles:
        assert needle in msg, (needle, msg)


def test_a_later_step_sees_lists_an_earlier_step_made(tmp_path):
    s = load_scenario(write(tmp_path, BASE + textwrap.dedent("""\
        what_if:
          - name: Merge then rename
            steps:
              - {merge: [labor, meretz], into: labor_meretz, label: Labor–Meretz}
              - {move: 0.5, from: Labor–Meretz, to: likud}
              - {veto_add: [labor_meretz, likud]}
    """)))
    steps = s.what_if[0].steps
    assert steps[1].parties == ("labor_meretz", "likud") and steps[2].parties == ("labor_meretz", "likud")
    assert s.labels["labor_meretz"] == "Labor–Meretz"
    # ... but a new list exists only inside its own what-if
    with pytest.raises(DataError, match="unknown party 'labor_meretz'"):
        load_scenario(write(tmp_path, BASE + textwrap.dedent("""\
            what_if:
              - {name: A, steps: [{merge: [labor, meretz], into: labor_meretz}]}
              - {name: B, steps: [{drop: labor_meretz}]}
        """), "t.yml"))


def test_seats_unit_is_converted_to_points(tmp_path):
    s = load_scenario(write(tmp_path, BASE + "what_if:\n  - {name: X, steps: [{move: 12, unit: seats, "
                                             "from: likud, to: labor}]}\n"))
    assert s.what_if[0].steps[0].amount == pytest.approx(10.0)  # 12 seats of 120 = 10 points


# ------------------------------------------------------------------------------------- what-ifs by hand


def hand_politics(**changes) -> Politics:
    base = Politics(running=("a", "b", "c", "d"), agreements=(("a", "c"), ("b", "d")),
                    vetoes=(("a", "d"), ("b", "c")), required=(), excluded=(),
                    blocs=(("Left", ("a", "b")), ("Right", ("c",))),
                    coalitions=(("AC", ("a", "c")), ("BD", ("b", "d"))), threshold=3.25)
    return dataclasses.replace(base, **changes)


SHARES = pd.Series({"a": 30.0, "b": 20.0, "c": 40.0, "d": 10.0})


def apply(step: Step, shares=SHARES, politics=None):
    v = whatif.Variant("Base", shares, politics or hand_politics())
    return whatif.apply_what_if(v, WhatIf("w", (step,)))


def test_merge():
    v = apply(Step("merge", ("a", "b"), into="ab", amount=100.0, label="A+B"))
    assert list(v.shares.index) == ["ab", "c", "d"]
    assert v.shares.to_dict() == pytest.approx({"ab": 50.0, "c": 40.0, "d": 10.0})
    pol = v.politics
    assert pol.bloc_map() == {"Left": ["ab"], "Right": ["c"]}
    assert pol.coalition_map() == {"AC": ["ab", "c"], "BD": ["ab", "d"]}
    assert set(map(frozenset, pol.vetoes)) == {frozenset({"ab", "d"}), frozenset({"ab", "c"})}
    # each member's agreement with an outside list: the first passes to the joint list
    assert pol.agreements == (("ab", "c"),)
    assert dict(pol.labels)["ab"] == "A+B" and set(v.changed) == {"a", "b", "ab"}


def test_merge_keeping_part_of_the_vote():
    v = apply(Step("merge", ("a", "b"), into="ab", amount=80.0))
    # the joint list keeps 40 of 50 points; the other 10 go to c and d in proportion (40:10)
    assert v.shares.to_dict() == pytest.approx({"ab": 40.0, "c": 48.0, "d": 12.0})


def test_merge_inside_an_agreement_drops_it():
    v = apply(Step("merge", ("a", "c"), into="a", amount=100.0))
    assert v.politics.agreements == (("b", "d"),)
    assert ("a", "a") not in v.politics.vetoes


def test_move_points():
    v = apply(Step("move", ("a", "b"), amount=5.0))
    assert v.shares.to_dict() == pytest.approx({"a": 25.0, "b": 25.0, "c": 40.0, "d": 10.0})
    with pytest.raises(DataError, match=r"what-if 'w', step 1 .*d, which has only 10.00%"):
        apply(Step("move", ("d", "a"), amount=12.0, text="move 12 points from d to a"))


def test_drop_with_transfers():
    v = apply(Step("drop", ("c",), parts=(("a", 50.0),)))
    # a gains 20 of c's 40 points; the other 20 spread in proportion: a 50, b 20, d 10 -> scaled to 100
    assert v.shares.to_dict() == pytest.approx({"a": 62.5, "b": 25.0, "d": 12.5})
    pol = v.politics
    assert "c" not in pol.running and pol.agreements == (("b", "d"),)
    assert pol.vetoes == (("a", "d"),) and pol.bloc_map() == {"Left": ["a", "b"], "Right": []}


def test_run_a_new_list():
    v = apply(Step("run", ("n",), parts=(("c", 50.0),), amount=10.0, label="New", bloc="Right"))
    # c gives 5 points; the other 5 come from everyone in proportion (a 30, b 20, c 35, d 10 -> 90 in all)
    assert v.shares["n"] == pytest.approx(10.0) and v.shares.sum() == pytest.approx(100.0)
    assert v.shares[["a", "b", "c", "d"]].to_dict() == pytest.approx(
        {"a": 30 * 90 / 95, "b": 20 * 90 / 95, "c": 35 * 90 / 95, "d": 10 * 90 / 95})
    assert v.politics.bloc_map()["Right"] == ["c", "n"]


def test_split():
    merged = pd.Series({"ab": 50.0, "c": 40.0, "d": 10.0})
    pol = hand_politics(running=("ab", "c", "d"), agreements=(("ab", "c"),), vetoes=(("ab", "d"),),
                        blocs=(("Left", ("ab",)),), coalitions=())
    v = apply(Step("split", ("ab",), parts=(("a", 60.0), ("b", 40.0))), merged, pol)
    assert list(v.shares.index) == ["a", "b", "c", "d"]
    assert v.shares.to_dict() == pytest.approx({"a": 30.0, "b": 20.0, "c": 40.0, "d": 10.0})
    assert v.politics.vetoes == (("a", "d"), ("b", "d")) and v.politics.agreements == ()
    assert v.politics.bloc_map() == {"Left": ["a", "b"]}


def test_threshold_and_agreements_and_vetoes():
    assert apply(Step("threshold", amount=2.0)).threshold == 2.0
    assert apply(Step("agreement_remove", ("c", "a"))).agreements == [("b", "d")]
    added = apply(Step("agreement_add", ("a", "b")), politics=hand_politics(agreements=()))
    assert added.agreements == [("a", "b")]
    with pytest.raises(DataError, match="already has a surplus agreement"):
        apply(Step("agreement_add", ("a", "b")))
    assert apply(Step("veto_remove", ("d", "a"))).politics.vetoes == (("b", "c"),)
    assert apply(Step("veto_add", ("a", "b"))).politics.vetoes[-1] == ("a", "b")
    # the shares do not move
    assert apply(Step("threshold", amount=2.0)).shares.to_dict() == SHARES.to_dict()


STEPS = st.one_of(
    st.builds(lambda x: Step("move", ("a", "c"), amount=x), st.floats(0.01, 30)),
    st.builds(lambda k: Step("merge", ("b", "d"), into="bd", amount=k), st.floats(1, 150)),
    st.builds(lambda t: Step("drop", ("b",), parts=(("a", t),)), st.floats(0.01, 100)),
    st.builds(lambda s, t: Step("run", ("n",), amount=s, parts=(("c", t),)), st.floats(0.1, 50),
              st.floats(0.01, 100)),
    st.builds(lambda t: Step("split", ("c",), parts=(("c1", t), ("c2", 100 - t))), st.floats(0.01, 99.99)),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0.5, 60), min_size=4, max_size=4), STEPS)
def test_shares_stay_a_whole_vote(values, step):
    shares = pd.Series(dict(zip("abcd", values, strict=True)))
    shares = shares / shares.sum() * 100
    try:
        v = apply(step, shares)
    except DataError:  # more moved or taken than a list has: refused, not clipped
        return
    assert v.shares.sum() == pytest.approx(100.0) and (v.shares >= 0).all()
    assert set(v.shares.index) == set(v.politics.running)


# ------------------------------------------------------------------------------ probabilities from draws


@pytest.fixture(scope="module")
def run_2022():
    s = load_scenario(ROOT / "data/scenarios/knesset-2022.yml")
    registry = poll_data.load_parties(ROOT / "data/parties.csv")
    polls = poll_data.load_polls(ROOT / POLLS_2022, parties=registry)
    base = whatif.base_from_polls(polls, s.as_of, threshold=s.threshold, house_seats=s.seats,
                                merges=poll_data.merges_of(registry, polls["party"].unique()))
    variants = whatif.variants(s, base.shares)
    sims = whatif.simulate_variants(variants, base, draws=4000, seed=7, seats=s.seats,
                                  poll_error=s.effective_poll_error())
    return s, base, variants, sims


def raw_share(sim, members, majority) -> float:
    """The share of draws in which the members' seats reach the majority, counted from Simulation.seats."""
    count = 0
    for row in sim.seats:
        held = sum(int(row[sim.parties.index(m)]) for m in members if m in sim.parties)
        count += held >= majority
    return count / sim.draws


def test_named_coalition_probability_is_the_share_of_raw_draws(run_2022):
    s, _, _, sims = run_2022
    table = scen.group_table(sims[0], s.coalitions, s.majority).set_index("name")
    for name, members in s.coalitions.items():
        assert table.loc[name, "p_majority"] == raw_share(sims[0], members, s.majority)
    blocs = scen.group_table(sims[0], s.blocs, s.majority).set_index("name")
    for name, members in s.blocs.items():
        assert blocs.loc[name, "p_majority"] == raw_share(sims[0], members, s.majority)


def test_bars_coalitions_and_hemicycle_agree(run_2022):
    s, _, _, sims = run_2022
    sim = sims[0]
    mean = sim.summary.set_index("party")["seats_mean"]
    table = scen.group_table(sim, s.coalitions, s.majority).set_index("name")
    for name, members in s.coalitions.items():
        assert table.loc[name, "seats_mean"] == pytest.approx(mean[members].sum(), abs=1e-9)
    picture = simulate.projection(sim)
    assert picture.sum() == s.seats and (abs(picture - mean[picture.index]) < 2.5).all()


def test_the_projected_parliament_can_occur(run_2022):
    """The hemicycle's parliament is the seat law on the median shares: it sums to the house, every list in it
    has at least the seats of a list exactly at the threshold, and it equals the exact allocator's seats for
    those shares."""
    from helpers.models.seats import allocate

    s, _, _, sims = run_2022
    sim = sims[0]
    picture = simulate.projection(sim)
    assert picture.sum() == s.seats
    won = picture[picture > 0]
    median = np.median(sim.shares, axis=0)
    assert all(median[sim.parties.index(p)] * 100 >= s.threshold for p in won.index)
    smallest = int(s.threshold / 100 * s.seats)            # 3.25% of 120 seats: 3.9, so at least 3 seats
    assert won.min() >= smallest
    rest = 1 - float(np.median(sim.shares.sum(axis=1)))
    votes = [(p, float(median[i])) for i, p in enumerate(sim.parties)] + [("(others)", rest)]
    passed = [p for p, v in votes[:-1] if v / sum(x for _, x in votes) * 100 >= s.threshold]
    exact = allocate([(p, round(v * 1e9)) for p, v in votes if p in passed], seats=s.seats,
                     agreements=[a for a in sim.agreements if set(a) <= set(passed)])
    assert dict(zip(exact.lists, exact.seats, strict=True)) == {p: int(picture[p]) for p in passed}


def test_paths_count_the_raw_draws(run_2022):
    s, _, _, sims = run_2022
    sim = sims[0]
    paths = scen.paths_to_majority(sim, s.majority, vetoes=s.vetoes)
    assert 0 < paths.total == len(paths.table)
    assert paths.p_any == pytest.approx(scen.p_some_majority(sim, s.majority, vetoes=s.vetoes))
    for row in paths.table.head(5).itertuples():
        members = list(row.members)
        assert row.p_majority == raw_share(sim, members, s.majority)
        assert not scen.breaks(members, vetoes=s.vetoes)
        cols = [sim.parties.index(m) for m in members]
        held = sim.seats[:, cols].sum(axis=1)
        needed = np.all(held[:, None] - sim.seats[:, cols] < s.majority, axis=1)
        assert row.p_minimal == np.mean((held >= s.majority) & needed)
        assert row.p_minimal >= scen.MIN_PATH_SHARE


def one_draw(sim, seats_row, parties=None):
    """A Simulation holding a single draw with these seats."""
    parties = parties or sim.parties
    seats = np.asarray([seats_row], dtype=np.int16)
    return dataclasses.replace(sim, parties=list(parties), seats=seats, shares=np.ones((1, len(parties))),
                               passed=seats > 0)


def test_paths_match_the_exact_coalition_finder_draw_by_draw(run_2022):
    s, _, _, sims = run_2022
    sim = sims[0]
    rng = np.random.default_rng(1)
    for d in rng.choice(sim.draws, 25, replace=False):
        single = one_draw(sim, sim.seats[d])
        paths = scen.paths_to_majority(single, s.majority, vetoes=s.vetoes, min_share=0.0)
        seats = {p: int(n) for p, n in zip(sim.parties, sim.seats[d], strict=True)}
        expected = {frozenset(c.members)
                    for c in coalitions.minimal_winning_coalitions(seats, s.majority, vetoes=s.vetoes)}
        assert {frozenset(m) for m in paths.table["members"]} == expected
        assert (paths.table["p_minimal"] == 1.0).all()


def test_paths_golden_vector_with_vetoes(run_2022):
    # tests/golden/SOURCES.md: {A 72, B 71, C 37, D 20} of 200, vetoes A-C, B-D, C-D, majority 101
    single = one_draw(run_2022[3][0], [72, 71, 37, 20], ["A", "B", "C", "D"])
    paths = scen.paths_to_majority(single, 101, vetoes=[("A", "C"), ("B", "D"), ("C", "D")], min_share=0.0)
    assert {frozenset(m) for m in paths.table["members"]} == {frozenset("BC"), frozenset("AB")}
    required = scen.paths_to_majority(single, 101, vetoes=[("A", "C")], required=["D"], min_share=0.0)
    assert {frozenset(m) for m in required.table["members"]} == {frozenset("ABD"), frozenset("BCD")}
    excluded = scen.paths_to_majority(single, 101, excluded=["B"], min_share=0.0)
    assert {frozenset(m) for m in excluded.table["members"]} == {frozenset("AC")}


def test_pivots_and_threshold_sensitivity_count_the_draws(run_2022):
    s, base, _, sims = run_2022
    sim = sims[0]
    bloc = s.blocs["Netanyahu bloc"]
    pivots = scen.pivot_table(sim, s.blocs, s.majority)
    cols = [sim.parties.index(m) for m in bloc]
    held = sim.seats[:, cols].sum(axis=1)
    shas = sim.seats[:, sim.parties.index("shas")]
    assert pivots.loc["shas", "Netanyahu bloc"] == np.mean((held >= s.majority) & (held - shas < s.majority))
    assert np.isnan(pivots.loc["shas", "Change bloc"])
    near = scen.threshold_sensitivity(sim, base.shares, s.blocs, s.majority, valid_votes=s.valid_votes)
    row = near[(near["party"] == "meretz") & (near["bloc"] == "Netanyahu bloc")].iloc[0]
    ok = sim.passed[:, sim.parties.index("meretz")]
    assert row["p_bloc_if_pass"] == np.mean(held[ok] >= s.majority)
    assert row["p_bloc_if_fail"] == np.mean(held[~ok] >= s.majority)
    assert row["gap_votes"] == pytest.approx((3.25 - base.shares["meretz"]) / 100 * 4764742)


def test_variants_share_the_seed_and_the_comparison_counts_them(run_2022):
    s, base, variants, sims = run_2022
    again = simulate.simulate(base.shares, base.sample_size, draws=4000, seed=7, threshold=3.25,
                              agreements=variants[0].agreements, others=base.others)
    assert np.array_equal(again.seats, sims[0].seats)
    merged = next(i for i, v in enumerate(variants) if v.name == "Labor and Meretz merge")
    v, sim = variants[merged], sims[merged]
    assert "labor_meretz" in sim.parties and "labor" not in sim.parties
    assert v.politics.bloc_map()["Change bloc"].count("labor_meretz") == 1
    table = scen.comparison(variants, sims, s.majority)
    got = table[(table["variant"] == v.name) & (table["name"] == "Change government")]["p_majority"].item()
    assert got == raw_share(sim, v.politics.coalition_map()["Change government"], s.majority)
    low = next(i for i, v in enumerate(variants) if v.name.startswith("Threshold at 2%"))
    assert sims[low].threshold == 2.0


def test_results_base_reproduces_the_official_seats_and_what_ifs_are_exact(tmp_path):
    s = load_scenario(write(tmp_path, textwrap.dedent("""\
        results: data/knesset/results/2022-11-01.csv
        agreements: data/knesset/agreements/2022-11-01.csv
        what_if:
          - {name: No Likud–RZ agreement, steps: [{agreement_remove: [likud, religious_zionism]}]}
          - {name: Merged, steps: [{merge: [labor, meretz], into: labor}]}
    """)))
    votes = knesset.load_votes(ROOT / "data/knesset/results/2022-11-01.csv")
    base = whatif.base_from_results(votes)
    variants = whatif.variants(s, base.shares)
    sims = whatif.simulate_variants(variants, base, draws=50, seed=0, seats=120,
                                  poll_error=s.effective_poll_error())
    official = dict(zip(votes["list"], votes["seats"], strict=True))
    assert (sims[0].seats == [official[p] for p in sims[0].parties]).all()
    pairs = [p for p in knesset.load_pairs(ROOT / "data/knesset/agreements/2022-11-01.csv")
             if set(p) != {"likud", "religious_zionism"}]
    exact = allocate(list(zip(votes["list"], votes["votes"], strict=True)), seats=120,
                     threshold=Fraction(13, 4), agreements=pairs)
    expect = dict(zip(votes["list"], exact.seats, strict=True))
    assert (sims[1].seats == [expect[p] for p in sims[1].parties]).all()
    # Labor and Meretz together clear the line that Meretz alone missed in 2022
    assert (sims[2].seats[:, sims[2].parties.index("labor")] >= 7).all()


def test_reader_tables_and_texts(run_2022):
    s, _, variants, sims = run_2022
    names = {"likud": "Likud", "labor_meretz": "Labor–Meretz"}
    paths = scen.paths_to_majority(sims[0], s.majority, vetoes=s.vetoes)
    t = scen_views.paths_table(paths, names, limit=3)
    assert len(t) == min(3, paths.total) and "P(61+) %" in t.columns
    assert scen.pick_group(s.coalitions, s.blocs) == ("Right-religious", s.coalitions["Right-religious"])
    assert scen.pick_group(s.coalitions, s.blocs, "change BLOC")[0] == "Change bloc"
    with pytest.raises(DataError, match="highlight 'Nope'"):
        scen.pick_group(s.coalitions, s.blocs, "Nope")
    step = s.what_if[0].steps[0]
    assert scen_views.step_text(step, {**names, "labor": "Labor", "meretz": "Meretz"}) == \
        "Labor and Meretz run together as Labor–Meretz"
    wide = scen_views.comparison_table(scen.comparison(variants, sims, s.majority), s.majority)
    assert list(wide["Scenario"]) == [v.name for v in variants]
    assert scen.slug("Change + Hadash-Ta'al") == "change_hadash_ta_al"


def test_a_what_if_leaves_the_other_lists_random_numbers_alone(run_2022):
    """Common random numbers: in the merge variant, every list the merge does not touch keeps its own draws,
    so the ratio of any two untouched lists' shares is the same, draw by draw, as in the base."""
    s, base, variants, sims = run_2022
    merged = next(i for i, v in enumerate(variants) if v.name == "Labor and Meretz merge")
    a, b = sims[0], sims[merged]
    untouched = [p for p in a.parties if p in b.parties and p not in ("labor", "meretz")]
    assert len(untouched) >= 8
    ref = untouched[0]
    for p in untouched[1:]:
        ratio_a = a.shares[:, a.parties.index(p)] / a.shares[:, a.parties.index(ref)]
        ratio_b = b.shares[:, b.parties.index(p)] / b.shares[:, b.parties.index(ref)]
        np.testing.assert_allclose(ratio_a, ratio_b, rtol=1e-9)


@settings(max_examples=80, deadline=None)
@given(rows=st.integers(1, 40), width=st.sampled_from([0, 1, 7, 8, 9, 63, 64, 2039, 2040, 2041, 2048, 4100]),
       p=st.floats(0.0, 1.0), offset=st.integers(0, 3), seed=st.integers(0, 2**32 - 1))
def test_row_counts_are_the_plain_sums(rows, width, p, offset, seed):
    """Counting eight flags at a time gives bool.sum(axis=1) exactly, over several 255-word passes, with a
    ragged tail, all-True rows (every byte lane at its most) and a view that does not start a row."""
    flags = np.random.default_rng(seed).random((rows, width + offset)) < p
    flags[0] = True
    view = flags[:, offset:]
    got = scen._row_counts(view)
    assert got.dtype == np.int64
    assert got.tolist() == view.sum(axis=1).tolist()


def paths_by_coalition(sim, majority, vetoes=(), required=(), comfortable=None):
    """Per allowed coalition (as a frozenset): (draws with a majority, draws minimal winning, draws
    comfortable), counted one coalition at a time over all draws, for parties that ever win a seat."""
    from itertools import combinations

    comfortable = majority + scen.COMFORT_MARGIN if comfortable is None else comfortable
    ever = [p for i, p in enumerate(sim.parties) if sim.seats[:, i].max() > 0 or p in required]
    out = {}
    for size in range(len(ever) + 1):
        for members in combinations(ever, size):
            if scen.breaks(list(members), vetoes=vetoes) or not set(required) <= set(members):
                continue
            cols = [sim.parties.index(m) for m in members]
            held = sim.seats[:, cols].sum(axis=1, dtype=np.int64)
            optional = [sim.parties.index(m) for m in members if m not in required]
            smallest = sim.seats[:, optional].min(axis=1) if optional else np.full(sim.draws, 10**9)
            win = held >= majority
            out[frozenset(members)] = (int(win.sum()), int((win & (smallest > held - majority)).sum()),
                                       int((held >= comfortable).sum()))
    return out


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 7), draws=st.integers(1, 150), chunk=st.sampled_from([None, 8, 16, 64]),
       veto=st.booleans(), require=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_paths_counts_equal_one_coalition_at_a_time(run_2022, k, draws, chunk, veto, require, seed):
    """Every listed path's P(majority), P(minimal) and P(comfortable) are the counts of the plain
    coalition-by-coalition computation, whatever the chunk of draws (reused tables, ragged last chunk)."""
    rng = np.random.default_rng(seed)
    parties = [f"P{i}" for i in range(k)]
    seats = rng.integers(0, 50, size=(draws, k)).astype(np.int16)
    seats[:, 0] = np.where(rng.random(draws) < 0.3, 0, seats[:, 0])
    sim = dataclasses.replace(run_2022[3][0], parties=parties, seats=seats, shares=np.ones((draws, k)) / k,
                              passed=seats > 0)
    majority = int(rng.integers(1, 50 * k + 2))
    vetoes = [("P0", "P1")] if veto and k > 1 else []
    required = ["P1"] if require and k > 1 and seats[:, 1].max() > 0 else []
    paths = scen.paths_to_majority(sim, majority, vetoes=vetoes, required=required, min_share=0.0, chunk=chunk)
    want = paths_by_coalition(sim, majority, vetoes, required)
    listed = {frozenset(m): r for m, r in zip(paths.table["members"], paths.table.itertuples(), strict=True)}
    assert set(listed) == {c for c, (_, minimal, _) in want.items() if minimal > 0}
    for c, row in listed.items():
        wins, minimal, comfy = want[c]
        assert (row.p_majority, row.p_minimal, row.p_comfortable) == (wins / draws, minimal / draws,
                                                                       comfy / draws)
