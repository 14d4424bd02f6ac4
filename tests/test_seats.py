"""The exact seat engine: official Knesset results, published test vectors, brute-force references and
properties that must hold for every input."""

from __future__ import annotations

import itertools
from collections import defaultdict
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import ROOT, golden_rows
from helpers import data
from helpers.core.errors import DataError
from helpers.models.seats import METHODS, Threshold, allocate

ELECTIONS = ["2003-01-28", "2006-03-28", "2009-02-10", "2013-01-22", "2022-11-01"]
DIVISOR_METHODS = ["dhondt", "sainte-lague", "modified-sainte-lague"]


def official_election(date):
    """(votes by ballot letters in file order, official seats, threshold percent, agreement letter pairs)."""
    results = [r for r in golden_rows("knesset_results.csv") if r["election_date"] == date]
    election = next(r for r in golden_rows("knesset_elections.csv") if r["election_date"] == date)
    pairs = [(r["list_a_letters"], r["list_b_letters"]) for r in golden_rows("surplus_agreements.csv")
             if r["election_date"] == date]
    votes = [(r["list_letters"], int(r["votes"])) for r in results]
    official = {r["list_letters"]: int(r["seats"]) for r in results}
    return votes, official, election["threshold_percent"], pairs


# ------------------------------------------------------------------------------------- official results


@pytest.mark.parametrize("date", ELECTIONS)
def test_every_list_of_every_election_gets_its_official_seats(date):
    votes, official, threshold, pairs = official_election(date)
    result = allocate(votes, seats=120, threshold=threshold, agreements=pairs)  # bader-ofer by default
    assert result.method == "bader-ofer"
    assert result.as_dict() == official
    assert sum(result.seats) == 120
    assert not any(result.tie)
    # every list that ran is kept, in input order
    assert list(result.lists) == [name for name, _ in votes]


@pytest.mark.parametrize("date", ELECTIONS)
def test_shipped_knesset_files_hold_the_official_numbers_exactly(date):
    votes, official, threshold, pairs = official_election(date)
    frame = data.load_votes(ROOT / f"data/knesset/results/{date}.csv")
    assert list(frame["letters"]) == [letters for letters, _ in votes]
    assert list(frame["votes"]) == [v for _, v in votes]
    assert list(frame["seats"]) == [official[letters] for letters, _ in votes]
    key = dict(zip(frame["letters"], frame["list"], strict=True))
    shipped_pairs = data.load_pairs(ROOT / f"data/knesset/agreements/{date}.csv")
    assert shipped_pairs == [(key[a], key[b]) for a, b in pairs]
    elections = data.load_elections(ROOT / "data/knesset/elections.csv")
    row = elections[elections["date"] == date].iloc[0]
    assert row["threshold"] == Fraction(threshold)
    assert row["valid_votes"] == sum(frame["votes"])


@pytest.mark.parametrize("date", ELECTIONS)
def test_gauge_initial_seats_and_seats_without_agreements_match_the_check_file(date):
    votes, _, threshold, _ = official_election(date)
    check = [r for r in golden_rows("bader_ofer_check.csv") if r["election_date"] == date]
    result = allocate(votes, seats=120, threshold=threshold, method="bader-ofer")
    passing = {n for n, ok in zip(result.lists, result.passed, strict=True) if ok}
    assert passing == {r["list_letters"] for r in check}
    gauge_row = next(r for r in result.audit if r["step"] == "gauge")
    qualifying = int(check[0]["qualifying_votes_total"])
    assert gauge_row["votes"] == qualifying
    assert gauge_row["quotient"] == qualifying // 120
    assert abs(float(check[0]["votes_per_seat_quota"]) - qualifying / 120) < 0.006
    initial = {r["list"]: r["seats"] for r in result.audit if r["step"] == "initial"}
    assert initial == {r["list_letters"]: int(r["initial_seats_floor"]) for r in check}
    without = result.as_dict()
    for r in check:
        assert without[r["list_letters"]] == int(r["seats_bader_ofer_without_agreements"]), r["list_name"]
        assert int(r["seats_bader_ofer_with_agreements"]) == official_election(date)[1][r["list_letters"]]


def test_a_void_agreement_is_noted_and_changes_nothing():
    votes, official, threshold, pairs = official_election("2022-11-01")
    result = allocate(votes, 120, threshold, agreements=pairs)
    notes = {r["list"]: r["note"] for r in result.audit if r["step"] == "agreement"}
    void = [k for k, note in notes.items() if note.startswith("void")]
    assert len(void) == 2  # Meretz-Labor (Meretz below) and Yesh Kivun-Pirates (both below)
    assert any("מרצ" in k for k in void)
    live = [p for p in pairs if "מרצ" not in p and "נק" not in p]
    assert allocate(votes, 120, threshold, agreements=live).seats == result.seats


def test_the_2022_audit_shows_the_gauge_and_each_remaining_seat():
    votes, _, threshold, pairs = official_election("2022-11-01")
    audit = allocate(votes, 120, threshold, agreements=pairs).audit
    steps = [r["step"] for r in audit]
    assert steps.index("threshold") < steps.index("gauge") < steps.index("initial") < steps.index("seat")
    cut = audit[0]
    assert cut["votes"] == 4764742 and cut["quotient"] == Fraction(4764742 * 13, 400)
    seats = [r for r in audit if r["step"] == "seat"]
    assert [r["seat"] for r in seats] == list(range(114, 121))
    quotients = [r["quotient"] for r in seats]
    assert quotients == sorted(quotients, reverse=True)  # each seat to the largest quotient left
    assert seats[-1]["list"] == "מחל+ט" and seats[-1]["quotient"] == Fraction(1631806, 46)


# ---------------------------------------------------------------------------------------- the threshold


def test_threshold_is_compared_exactly():
    limit = Threshold.of(3.25)
    assert limit.percent == Fraction(13, 4)
    assert limit.minimum(4764742) == Fraction("154854.115")
    assert limit.passes(154855, 4764742) and not limit.passes(154854, 4764742)
    at = allocate({"a": 154855, "b": 4764742 - 154855}, 120, "3.25")
    below = allocate({"a": 154854, "b": 4764742 - 154854}, 120, "3.25")
    assert at.passed == (True, True) and at.seats[0] > 0
    assert below.passed == (False, True) and below.seats == (0, 120)


def test_a_list_exactly_at_the_threshold_passes():
    # 13 of 400 votes is exactly 3.25%
    result = allocate({"a": 13, "b": 387}, 10, 3.25)
    assert result.passed == (True, True)
    assert allocate({"a": 12, "b": 387}, 10, 3.25).passed == (False, True)


@pytest.mark.parametrize("value", [3.25, "3.25", Fraction(13, 4), "3.25%"])
def test_threshold_forms(value):
    assert Threshold.of(value).percent == Fraction(13, 4)


# ------------------------------------------------------------------------------------------ test vectors


@pytest.mark.parametrize("votes,seats,method,expected", [
    ([4160, 3380, 2460], 10, "sainte-lague", [4, 3, 3]),  # V1
    ([4160, 3380, 2460], 10, "dhondt", [4, 4, 2]),  # V2
    ([4160, 7, 2460], 10, "dhondt", [6, 0, 4]),  # V3
    ([6, 1], 4, "sainte-lague", [3, 1]),  # V7
    ([6, 1], 4, "modified-sainte-lague", [4, 0]),  # V7
    ([1347, 1014, 1444], 20, "sainte-lague", [7, 5, 8]),  # V10
    ([690, 656, 497, 364], 10, "bader-ofer", [3, 3, 2, 2]),  # V11
])
def test_vectors(votes, seats, method, expected):
    result = allocate([(f"l{i}", v) for i, v in enumerate(votes)], seats, method=method)
    assert list(result.seats) == expected
    assert len(result.seats) == len(votes)  # zeros stay in the output
    assert not any(result.tie)


@pytest.mark.parametrize("method", ["dhondt", "sainte-lague", "modified-sainte-lague", "hare", "droop"])
def test_vectors_v5_v6_for_every_method(method):
    assert allocate([("a", 14), ("b", 28), ("c", 7), ("d", 35)], 12, method=method).seats == (2, 4, 1, 5)
    assert allocate([("a", 0), ("b", 14), ("c", 28), ("d", 0), ("e", 0)], 6, method=method).seats == \
        (0, 2, 4, 0, 0)


def test_v4_a_tie_for_the_last_seat_is_reported():
    result = allocate({"a": 360, "b": 280}, 15, method="dhondt")
    assert result.tie == (True, True)
    assert result.seats == (9, 6)  # the documented rule: the first list in input order gets the seat
    assert allocate({"b": 280, "a": 360}, 15).as_dict() == {"b": 7, "a": 8}
    tie_rows = [r for r in result.audit if r["step"] == "tie"]
    assert tie_rows and "a" in tie_rows[0]["list"] and "b" in tie_rows[0]["list"]
    assert result.audit[-2]["quotient"] == Fraction(40)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_v8_three_way_tie_and_v9_no_tie(method):
    v8 = allocate({"a": 11, "b": 11, "c": 11}, 4, method=method)
    assert v8.tie == (True, True, True) and v8.seats == (2, 1, 1)
    v9 = allocate({"a": 12, "b": 12, "c": 11, "d": 12}, 3, method=method)
    assert v9.seats == (1, 1, 0, 1) and not any(v9.tie)


def test_bader_ofer_tie_at_the_last_remaining_seat():
    # equal lists with equal remainders after the gauge: the first gets the last seat, both are flagged
    result = allocate({"a": 50_000, "b": 50_000, "c": 10_000}, 5, method="bader-ofer")
    assert [r["seats"] for r in result.audit if r["step"] == "initial"] == [2, 2, 0]  # gauge 22,000
    assert result.seats == (3, 2, 0) and result.tie == (True, True, False)


def test_ties_inside_a_surplus_agreement_are_reported():
    result = allocate({"a": 30_000, "b": 30_000, "c": 40_000}, 5, agreements=[("a", "b")])
    assert result.seats == (2, 1, 2) and result.tie[:2] == (True, True) and not result.tie[2]


# ----------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kwargs,needle", [
    ({"method": "plurality"}, "Unknown method"),
    ({"threshold": 100}, "0 <= t < 100"),
    ({"threshold": -1}, "0 <= t < 100"),
    ({"threshold": "x"}, "percent"),
    ({"seats": 0}, "seats"),
    ({"agreements": [("a", "b"), ("a", "c")]}, "two surplus agreements"),
    ({"agreements": [("a", "zz")]}, "'zz'"),
    ({"agreements": [("a", "a")]}, "itself"),
])
def test_bad_arguments_raise_a_clear_data_error(kwargs, needle):
    with pytest.raises(DataError, match=needle):
        allocate({"a": 10_000, "b": 20_000, "c": 30_000}, **{"seats": 10, **kwargs})


@pytest.mark.parametrize("votes,needle", [
    ({"a": 0, "b": 0}, "zero votes"),
    ({"a": -1, "b": 3}, "whole number"),
    ({"a": 1.5, "b": 3}, "whole number"),
    ({}, "no lists"),
    ([("a", 1), ("A", 2)], "twice"),
])
def test_bad_votes_raise_a_clear_data_error(votes, needle):
    with pytest.raises(DataError, match=needle):
        allocate(votes, 10)


def test_nobody_passing_is_an_error():
    with pytest.raises(DataError, match="No list reaches"):
        allocate({"a": 1, "b": 1, "c": 1}, 10, threshold=50)


def test_agreement_names_match_ignoring_case():
    assert allocate({"Likud": 50_000, "RZ": 20_000, "X": 30_000}, 10, agreements=[("likud", "rz")]).seats == \
        allocate({"Likud": 50_000, "RZ": 20_000, "X": 30_000}, 10, agreements=[("Likud", "RZ")]).seats


# -------------------------------------------------------------------------------- brute-force references


DIVISORS = {
    "dhondt": lambda k: Fraction(k + 1),
    "sainte-lague": lambda k: Fraction(2 * k + 1),
    "modified-sainte-lague": lambda k: Fraction(7, 5) if k == 0 else Fraction(2 * k + 1),
}


def passing(votes, threshold):
    total = sum(votes)
    return [v > 0 and Fraction(v) >= Fraction(str(threshold)) / 100 * total for v in votes]


def compositions(total, parts):
    for cut in itertools.combinations(range(total + parts - 1), parts - 1):
        bounds = (-1, *cut, total + parts - 1)
        yield tuple(bounds[i + 1] - bounds[i] - 1 for i in range(parts))


def divisor_reference(votes, seats, method, threshold):
    """Every allocation meeting the divisor criterion, by enumeration: the smallest quotient that won a
    seat is at least the largest quotient that did not (and lists below the threshold hold none)."""
    d = DIVISORS[method]
    ok = passing(votes, threshold)
    found = []
    for s in compositions(seats, len(votes)):
        if any(si and not p for si, p in zip(s, ok, strict=True)):
            continue
        won = [Fraction(v) / d(si - 1) for v, si, p in zip(votes, s, ok, strict=True) if si]
        lost = [Fraction(v) / d(si) for v, si, p in zip(votes, s, ok, strict=True) if p]
        if min(won) >= max(lost):
            found.append(s)
    return found


def remainder_reference(votes, seats, method, threshold):
    """Every allocation giving each passing list floor or floor + 1 of its quota that is closest to the
    quotas (least total distance): the largest-remainder allocations."""
    ok = passing(votes, threshold)
    total = sum(v for v, p in zip(votes, ok, strict=True) if p)
    quota = Fraction(total, seats) if method == "hare" else Fraction(total // (seats + 1) + 1)
    exact = [Fraction(v) / quota if p else Fraction(0) for v, p in zip(votes, ok, strict=True)]
    options = [(int(q), int(q) + 1) if p else (0,) for q, p in zip(exact, ok, strict=True)]
    best, found = None, []
    for s in itertools.product(*options):
        if sum(s) != seats:
            continue
        distance = sum(abs(si - q) for si, q in zip(s, exact, strict=True))
        if best is None or distance < best:
            best, found = distance, [s]
        elif distance == best:
            found.append(s)
    return found


def bader_ofer_reference(votes, seats, threshold, pairs):
    """The Knesset law as DESIGN.md words it, with plain loops and Fractions."""
    ok = passing(votes, threshold)
    gauge = sum(v for v, p in zip(votes, ok, strict=True) if p) // seats
    s = [v // gauge if p else 0 for v, p in zip(votes, ok, strict=True)]
    units = [[i] for i in range(len(votes)) if ok[i]]
    for a, b in pairs:
        if ok[a] and ok[b]:
            units = [u for u in units if u != [a] and u != [b]] + [sorted([a, b])]
    units.sort()
    unit_seats = [sum(s[i] for i in u) for u in units]
    for _ in range(seats - sum(s)):
        quotient = [Fraction(sum(votes[i] for i in u), n + 1) for u, n in zip(units, unit_seats, strict=True)]
        best = max(range(len(units)), key=lambda k: (quotient[k], -k))
        unit_seats[best] += 1
    for u, n in zip(units, unit_seats, strict=True):
        if len(u) == 1:
            s[u[0]] = n
        else:
            split = divisor_reference([votes[i] for i in u], n, "dhondt", 0) if n else [(0, 0)]
            s[u[0]], s[u[1]] = max(split)  # ties to the first list
    return tuple(s)


small_votes = st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(votes=small_votes, seats=st.integers(1, 9), method=st.sampled_from(DIVISOR_METHODS),
       threshold=st.sampled_from([0, 10, 25]))
def test_divisor_methods_agree_with_brute_force(votes, seats, method, threshold):
    assume(any(passing(votes, threshold)))
    result = allocate([(f"l{i}", v) for i, v in enumerate(votes)], seats, threshold, method)
    valid = divisor_reference(votes, seats, method, threshold)
    assert result.seats in valid
    assert result.seats == max(valid)  # ties go to the first list in input order
    assert any(result.tie) == (len(valid) > 1)


@settings(max_examples=150, deadline=None)
@given(votes=small_votes, seats=st.integers(1, 9), method=st.sampled_from(["hare", "droop"]),
       threshold=st.sampled_from([0, 10, 25]))
def test_largest_remainder_agrees_with_brute_force(votes, seats, method, threshold):
    assume(any(passing(votes, threshold)))
    try:
        result = allocate([(f"l{i}", v) for i, v in enumerate(votes)], seats, threshold, method)
    except DataError as exc:  # Droop with too few votes leaves more seats than lists
        assert method == "droop" and "Too few votes" in str(exc)
        return
    valid = remainder_reference(votes, seats, method, threshold)
    assert result.seats == max(valid)
    assert any(result.tie) == (len(valid) > 1)


@settings(max_examples=150, deadline=None)
@given(votes=st.lists(st.integers(0, 400_000), min_size=2, max_size=6), seats=st.integers(1, 30),
       threshold=st.sampled_from([0, 2, 3.25, 10]), data=st.data())
def test_bader_ofer_agrees_with_the_law_as_written(votes, seats, threshold, data):
    assume(any(passing(votes, threshold)))
    n = len(votes)
    order = data.draw(st.permutations(range(n)))
    pairs = [(order[i], order[i + 1]) for i in range(0, data.draw(st.integers(0, n // 2)) * 2, 2)]
    names = [f"l{i}" for i in range(n)]
    try:
        result = allocate(list(zip(names, votes, strict=True)), seats, threshold, "bader-ofer",
                          [(names[a], names[b]) for a, b in pairs])
    except DataError as exc:
        assert "Too few votes" in str(exc)
        return
    assert result.seats == bader_ofer_reference(votes, seats, threshold, pairs)


# ------------------------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(votes=st.lists(st.integers(0, 10**7), min_size=1, max_size=12), seats=st.integers(1, 150),
       method=st.sampled_from(sorted(METHODS)), threshold=st.sampled_from([0, 1.5, 3.25, 5]))
def test_seats_sum_to_the_house_and_lists_below_the_threshold_get_none(votes, seats, method, threshold):
    assume(any(passing(votes, threshold)))
    try:
        result = allocate([(f"l{i}", v) for i, v in enumerate(votes)], seats, threshold, method)
    except DataError as exc:
        assert "Too few votes" in str(exc)  # gauge or Droop quota with tiny totals: said, never wrong
        return
    assert sum(result.seats) == seats
    assert list(result.passed) == passing(votes, threshold)
    for s, ok in zip(result.seats, result.passed, strict=True):
        assert ok or s == 0


@settings(max_examples=200, deadline=None)
@given(votes=st.lists(st.integers(0, 5000), min_size=2, max_size=6), seats=st.integers(1, 40),
       method=st.sampled_from(DIVISOR_METHODS + ["hare"]), threshold=st.sampled_from([0, 5, 10]),
       data=st.data())
def test_more_votes_never_mean_fewer_seats(votes, seats, method, threshold, data):
    """Divisor methods: more votes for one list (others unchanged) never cost it a seat, with or without a
    threshold (a rival pushed under the threshold only frees seats). Hare without a threshold holds it too
    (its floor never drops; a rival whose floor drops brings a remainder seat with it)."""
    if method == "hare":
        threshold = 0
    assume(any(passing(votes, threshold)))
    i = data.draw(st.integers(0, len(votes) - 1))
    more = list(votes)
    more[i] += data.draw(st.integers(1, 3000))
    before = allocate([(f"l{k}", v) for k, v in enumerate(votes)], seats, threshold, method).seats[i]
    after = allocate([(f"l{k}", v) for k, v in enumerate(more)], seats, threshold, method).seats[i]
    assert after >= before


def test_droop_with_its_whole_number_quota_can_punish_more_votes():
    """Why the monotonicity property above leaves Droop out: its quota floor(V / (S+1)) + 1 jumps."""
    assert allocate({"a": 47, "b": 3}, 12, method="droop").seats == (12, 0)
    assert allocate({"a": 50, "b": 3}, 12, method="droop").seats == (11, 1)


def test_allocation_helpers():
    result = allocate({"a": 4160, "b": 3380, "c": 2460}, 10)
    assert result.as_dict() == {"a": 4, "b": 4, "c": 2}
    frame = result.to_frame()
    assert list(frame.columns) == ["list", "votes", "seats", "tie", "passed"]
    audit = result.audit_frame()
    assert list(audit.columns) == ["step", "seat", "list", "votes", "quotient", "seats", "note"]
    assert (audit["step"] == "seat").sum() == 10


def test_grouping_reference_data_by_election_is_complete():
    counts = defaultdict(int)
    for r in golden_rows("knesset_results.csv"):
        counts[r["election_date"]] += 1
    assert sorted(counts) == ELECTIONS
