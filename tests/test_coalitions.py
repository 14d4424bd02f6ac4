"""Coalition arithmetic: the published 2022 figures, the vetoes case, blocs and requirements, power indices
against brute force, and the vectorised helpers for many seat draws."""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import factorial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from helpers import data
from helpers.core.errors import DataError
from helpers.models.coalitions import (
    banzhaf,
    majorities,
    majority_of,
    minimal_winning_coalitions,
    pivot_counts,
    power,
    resolve_party,
    shapley_shubik,
    winning_coalitions,
)


def official_2022() -> dict[str, int]:
    frame = data.load_votes(ROOT / "data/knesset/results/2022-11-01.csv")
    return {p: int(s) for p, s in zip(frame["list"], frame["seats"], strict=True) if s > 0}


SEATS_2022 = {"likud": 32, "yesh_atid": 24, "religious_zionism": 14, "national_unity": 12, "shas": 11,
              "utj": 7, "yisrael_beiteinu": 6, "raam": 5, "hadash_taal": 5, "labor": 4}


def test_the_shipped_2022_seats_are_the_published_ones():
    assert official_2022() == SEATS_2022


def test_2022_has_70_minimal_winning_coalitions_at_61():
    found = minimal_winning_coalitions(SEATS_2022)
    assert len(found) == 70
    assert all(c.seats >= 61 for c in found)
    for c in found:  # every member is needed
        for m in c.members:
            assert c.seats - SEATS_2022[m] < 61
    names = {c.name for c in found}
    assert "likud+religious_zionism+shas+utj" in names  # the coalition that formed: 64 seats
    assert len(names) == 70


def test_majority_is_61_of_120_never_60():
    assert majority_of(120) == 61 and majority_of(200) == 101 and majority_of(101) == 51
    sixty = {"a": 60, "b": 60}
    assert winning_coalitions(sixty) == [c for c in winning_coalitions(sixty) if c.seats >= 61]
    assert [c.name for c in winning_coalitions(sixty)] == ["a+b"]


def test_banzhaf_raw_swings_2022():
    got = {p: raw for p, (raw, _) in banzhaf(SEATS_2022).items()}
    assert got == {"likud": 315, "yesh_atid": 191, "religious_zionism": 123, "national_unity": 99, "shas": 89,
                   "utj": 57, "yisrael_beiteinu": 49, "raam": 39, "hadash_taal": 39, "labor": 27}
    assert sum(share for _, share in banzhaf(SEATS_2022).values()) == pytest.approx(1.0)


def test_vetoes_case_from_the_reference():
    seats = {"A": 72, "B": 71, "C": 37, "D": 20}
    found = minimal_winning_coalitions(seats, 101, vetoes=[("A", "C"), ("B", "D"), ("C", "D")])
    assert {c.name for c in found} == {"B+C", "A+B"}
    assert [c.name for c in found] == ["A+B", "B+C"]  # seats, most first
    assert [c.surplus for c in found] == [42, 7]


def test_members_are_written_largest_first_and_sorted_by_seats():
    found = winning_coalitions({"small": 10, "big": 50, "mid": 45}, 51)
    assert [c.name for c in found] == ["big+mid+small", "big+mid", "big+small", "mid+small"]
    assert [c.seats for c in found] == [105, 95, 60, 55]


def test_required_parties_and_minimality_around_them():
    seats = {"a": 40, "b": 30, "c": 25, "d": 10}
    found = minimal_winning_coalitions(seats, 51, required=["d"])
    assert all("d" in c.members for c in found)
    # a+b+d: d itself is not needed, but every other member is; a+c+d likewise
    assert {c.name for c in found} == {"a+b+d", "a+c+d", "b+c+d"}


def test_blocs_are_all_in_or_all_out():
    seats = {"likud": 32, "rz": 14, "shas": 11, "utj": 7, "ya": 24, "nu": 12}
    blocs = {"Netanyahu bloc": ["likud", "rz", "shas", "utj"]}
    every = winning_coalitions(seats, 61, blocs=blocs)
    members = {"likud", "rz", "shas", "utj"}
    for c in every:
        inside = members & set(c.members)
        assert inside in (set(), members)
    minimal = minimal_winning_coalitions(seats, 61, blocs=blocs)
    assert [c.name for c in minimal] == ["likud+rz+shas+utj"]


def test_a_party_in_two_blocs_is_an_error():
    with pytest.raises(DataError, match="two blocs"):
        winning_coalitions({"a": 1, "b": 2}, blocs={"x": ["a"], "y": ["A"]})


def test_unknown_names_suggest_the_closest():
    with pytest.raises(DataError, match="did you mean 'likud'"):
        minimal_winning_coalitions(SEATS_2022, vetoes=[("likd", "shas")])
    assert resolve_party("LIKUD", list(SEATS_2022)) == "likud"
    assert resolve_party("Yesh Atid", list(SEATS_2022)) == "yesh_atid"


@pytest.mark.parametrize("majority", [0, 121])
def test_majority_out_of_range(majority):
    with pytest.raises(DataError, match="majority"):
        winning_coalitions(SEATS_2022, majority)


# ------------------------------------------------------------------------------------ brute force


def brute_winning(seats: dict, majority: int, vetoes=(), minimal=False):
    names = [p for p, s in seats.items() if s > 0]
    out = set()
    for k in range(1, len(names) + 1):
        for combo in itertools.combinations(names, k):
            total = sum(seats[p] for p in combo)
            if total < majority or any(a in combo and b in combo for a, b in vetoes):
                continue
            if minimal and any(total - seats[p] >= majority for p in combo):
                continue
            out.add(frozenset(combo))
    return out


seat_maps = st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 40), min_size=1, max_size=7)


@settings(max_examples=150, deadline=None)
@given(seats=seat_maps, extra=st.integers(-10, 10), data=st.data())
def test_coalitions_agree_with_brute_force(seats, extra, data):
    total = sum(seats.values())
    if total == 0:
        return
    majority = min(max(majority_of(total) + extra, 1), total)
    names = sorted(seats)
    vetoes = data.draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=2))
    vetoes = [(a, b) for a, b in vetoes if a != b]
    for minimal in (False, True):
        got = winning_coalitions(seats, majority, vetoes=vetoes, minimal=minimal)
        assert {frozenset(c.members) for c in got} == brute_winning(seats, majority, vetoes, minimal)
        assert len(got) == len({c.name for c in got})
        assert [c.seats for c in got] == sorted((c.seats for c in got), reverse=True)
        assert all(c.surplus == c.seats - majority for c in got)


def brute_shapley(seats: dict, majority: int) -> dict:
    names = [p for p, s in seats.items() if s > 0]
    pivots = dict.fromkeys(seats, 0)
    for order in itertools.permutations(names):
        running = 0
        for p in order:
            running += seats[p]
            if running >= majority:
                pivots[p] += 1
                break
    return {p: Fraction(v, factorial(len(names))) for p, v in pivots.items()}


@settings(max_examples=80, deadline=None)
@given(seats=st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 30), min_size=1, max_size=6))
def test_power_indices_agree_with_brute_force(seats):
    total = sum(seats.values())
    if total == 0:
        return
    majority = majority_of(total)
    ss = shapley_shubik(seats, majority)
    for p, value in brute_shapley(seats, majority).items():
        assert ss[p] == pytest.approx(float(value), abs=1e-12)
    swings = {p: 0 for p in seats}
    for coalition in brute_winning(seats, majority):
        for p in coalition:
            if sum(seats[q] for q in coalition) - seats[p] < majority:
                swings[p] += 1
    assert {p: raw for p, (raw, _) in banzhaf(seats, majority).items()} == swings


def test_power_table():
    table = power(SEATS_2022)
    assert list(table.columns) == ["party", "seats", "banzhaf_swings", "banzhaf", "shapley_shubik"]
    assert table["shapley_shubik"].sum() == pytest.approx(1.0)
    assert table.loc[table["party"] == "likud", "banzhaf_swings"].item() == 315


# ------------------------------------------------------------------------------------ many draws


def test_majorities_and_pivots_for_many_draws():
    rng = np.random.default_rng(0)
    draws = rng.multinomial(120, [0.27, 0.2, 0.12, 0.1, 0.09, 0.06, 0.05, 0.04, 0.04, 0.03], size=2_000)
    coalitions = [[0, 2, 4, 5], [1, 3, 6, 7, 8, 9], [0, 1]]
    wins = majorities(draws, coalitions)
    pivots = pivot_counts(draws, coalitions)
    assert wins.shape == (2_000, 3) and pivots.shape == (3, 10)
    for c, members in enumerate(coalitions):
        held = draws[:, members].sum(axis=1)
        assert (wins[:, c] == (held >= 61)).all()
        for p in range(10):
            expected = 0
            if p in members:
                expected = sum(1 for d in range(len(draws)) if held[d] >= 61 and held[d] - draws[d, p] < 61)
            assert pivots[c, p] == expected
    # a majority given per draw, or as a number
    assert (majorities(draws, coalitions, 70) == (draws @ np.array(
        [[int(p in m) for m in coalitions] for p in range(10)]) >= 70)).all()


def test_majority_per_draw_follows_the_house_size():
    seats = np.array([[50, 50], [60, 41]])  # houses of 100 and 101: majorities 51 and 51
    assert majorities(seats, [[0]]).tolist() == [[False], [True]]


def test_party_names_resolve_one_way_everywhere():
    """The coalitions command, the polls registry and the race's candidates fold names alike (letter case,
    invisible characters, doubled spaces) and suggest the closest names when one is unknown."""
    from helpers.data.polls import find_party, load_parties
    from helpers.models.primaries import resolve_name

    assert resolve_party("yesh\u200b ATID", ["likud", "Yesh Atid"]) == "Yesh Atid"
    assert find_party(load_parties(), "LIKUD\u200b") == "likud"
    assert resolve_name("amir  PERETZ", ["Ehud Barak", "Amir Peretz"]) == "Amir Peretz"
    with pytest.raises(DataError, match="did you mean 'likud'"):
        resolve_party("likd", ["likud", "shas"])
