"""The Dutch House of Representatives (Tweede Kamer), election of 22 November 2023: the kit's data against the
Electoral Council's (Kiesraad) own export, and the engine against the official seats, down to the last seat.

tests/golden/tweede_kamer_2023.csv is a byte-for-byte copy of the Kiesraad's national result file
(uitslag_TK20231122_Nederland.csv; see tests/golden/SOURCES.md). Nothing here is computed by the kit."""

from __future__ import annotations

import csv
from fractions import Fraction

import pytest

from conftest import GOLDEN, ROOT, rows, run_cli
from helpers import data
from helpers.models.seats import allocate

RESULTS = "data/tweede-kamer/results/2023-11-22.csv"
QUOTA = Fraction(100, 150)  # one full quota, as an exact percent of the valid votes


def golden() -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """The Kiesraad file: {official list name: (votes, seats)} and its totals {Type: number}."""
    with open(GOLDEN / "tweede_kamer_2023.csv", encoding="utf-8", newline="") as f:
        lines = list(csv.DictReader(f, delimiter=";"))
    lists = {r["Partij"]: (int(r["AantalStemmen"]), int(r["AantalZetels"] or 0))
             for r in lines if r["Type"] == "Partij"}
    totals = {r["Type"]: int(r["AantalStemmen"]) for r in lines if r["Type"] != "Partij"}
    return lists, totals


@pytest.fixture(scope="module")
def votes() -> dict[str, int]:
    return {r["list"]: int(r["votes"]) for r in rows(RESULTS)}


def seats_for(votes: dict[str, int]) -> dict[str, int]:
    alloc = allocate(votes, seats=150, threshold=QUOTA, method="dhondt")
    assert not any(alloc.tie), "no tie in these cases"
    return dict(zip(alloc.lists, alloc.seats, strict=True))


def test_results_file_equals_the_kiesraad_export():
    lists, totals = golden()
    ours = rows(RESULTS)
    assert len(ours) == len(lists) == 26
    assert {r["name"]: (int(r["votes"]), int(r["seats"])) for r in ours} == lists
    assert sum(v for v, _ in lists.values()) == totals["AantalGeldigeStemmen"] == 10_432_726
    assert sum(s for _, s in lists.values()) == 150
    # the loader reads it, and every key is a party of the Dutch registry
    loaded = data.load_votes(ROOT / RESULTS)
    registry = data.load_parties(ROOT / "data/tweede-kamer/parties.csv")
    assert set(loaded["list"]) == set(registry["key"])


def test_engine_reproduces_every_official_seat(votes):
    official = {r["list"]: int(r["seats"]) for r in rows(RESULTS)}
    got = seats_for(votes)
    assert got == official
    assert sum(1 for s in got.values() if s) == 15  # the lists that reached one full quota


def test_quota_is_exact(votes):
    alloc = allocate(votes, seats=150, threshold=QUOTA, method="dhondt")
    passed = dict(zip(alloc.lists, alloc.passed, strict=True))
    # JA21 (71,345) clears 1/150 of 10,432,726 = 69,551 38/75; BVNL (52,913) does not
    assert passed["ja21"] and not passed["bvnl"]
    assert Fraction(10_432_726, 150) == Fraction(5_216_363, 75) == 69_551 + Fraction(38, 75)


@pytest.mark.parametrize("party, change, d66, sp", [
    # the 150th seat goes to SP at 328,225 / 5 = 65,645 against D66's 656,292 / 10 = 65,629.2
    ("d66", +159, 10, 4),  # 656,451 / 10 = 65,645.1 > 65,645: the smallest gain that moves the seat
    ("d66", +157, 9, 5),   # 65,644.9 < 65,645 (+158 is an exact tie: lots would be drawn)
    ("sp", -80, 10, 4),    # 328,145 / 5 = 65,629 < 65,629.2: the smallest loss that moves the seat
    ("sp", -78, 9, 5),     # 65,629.4 > 65,629.2 (-79 is an exact tie)
])
def test_last_seat_margin(votes, party, change, d66, sp):
    moved = dict(votes)
    moved[party] += change
    got = seats_for(moved)
    assert (got["d66"], got["sp"]) == (d66, sp)
    assert sum(got.values()) == 150


@pytest.mark.parametrize("party, change", [("d66", +158), ("sp", -79)])
def test_last_seat_ties_exactly_between_the_margins(votes, party, change):
    moved = dict(votes)
    moved[party] += change
    alloc = allocate(moved, seats=150, threshold=QUOTA, method="dhondt")
    tied = {name for name, t in zip(alloc.lists, alloc.tie, strict=True) if t}
    assert tied == {"d66", "sp"}


@pytest.mark.parametrize("how", [
    ("--seats", "150", "--threshold", "1/150", "--method", "dhondt"),  # the law, spelt out
    ("--rules", "data/tweede-kamer/rules.yml"),                         # the house's rules file
])
def test_cli_reproduces_the_official_seats(how):
    proc = run_cli("seats", RESULTS, *how)
    assert proc.returncode == 0, proc.stderr
    printed = {r["list"]: int(r["seats"]) for r in csv.DictReader(proc.stdout.splitlines())}
    assert printed == {r["list"]: int(r["seats"]) for r in rows(RESULTS)}


def test_rules_file_reads_as_the_law_says():
    rules = data.load_rules(ROOT / "data/tweede-kamer/rules.yml")
    assert (rules.seats, rules.majority, rules.method, rules.agreements_method) == (150, 76, "dhondt", None)
    assert rules.threshold == QUOTA  # "1 quota" = 1/150 of the valid votes, exactly
    assert rules.parties == "data/tweede-kamer/parties.csv"


def test_scenario_reads_the_dutch_rules_and_registry():
    from helpers.data.scenarios import load_scenario
    from helpers.models.scenarios import breaks

    s = load_scenario(ROOT / "data/tweede-kamer/scenarios/2023.yml")
    assert (s.seats, s.majority) == (150, 76)
    assert s.valid_votes == 10_432_726
    assert set(map(frozenset, s.vetoes)) == {frozenset(p) for p in [
        ("nsc", "pvv"), ("pvv", "gl_pvda"), ("pvv", "d66"), ("cda", "pvv"), ("cda", "fvd"), ("vvd", "gl_pvda")]}
    official = {r["list"]: int(r["seats"]) for r in rows(RESULTS)}
    assert {name: sum(official[p] for p in members) for name, members in s.coalitions.items()} == {
        "PVV–VVD–NSC–BBB": 88, "GL-PvdA–VVD–NSC–D66": 78}
    # both named majorities are blocked by a stated refusal; the what-ifs lift exactly that one
    assert breaks(s.coalitions["PVV–VVD–NSC–BBB"], vetoes=s.vetoes)
    assert breaks(s.coalitions["GL-PvdA–VVD–NSC–D66"], vetoes=s.vetoes)
    lifted = [(step.kind, frozenset(step.parties)) for w in s.what_if for step in w.steps]
    assert lifted == [("veto_remove", frozenset({"nsc", "pvv"})), ("veto_remove", frozenset({"vvd", "gl_pvda"}))]
    assert not breaks(s.coalitions["PVV–VVD–NSC–BBB"], vetoes=[v for v in s.vetoes if set(v) != {"nsc", "pvv"}])
