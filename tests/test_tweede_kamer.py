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


# ------------------------------------------------------------------------------ the final week's polls

POLLS = "data/tweede-kamer/polls/2023.csv"
#: The six seat polls of the final week as the pollsters published them (seats in the column order of the
#: Wikipedia table the file cites: VVD, D66, PVV, CDA, SP, GL-PvdA, FvD, PvdD, CU, Volt, JA21, SGP, DENK,
#: 50PLUS, BBB, BIJ1, BVNL, NSC), typed here from the sources of data/SOURCES.md, not read from the file.
ORDER = "vvd d66 pvv cda sp gl_pvda fvd pvdd cu volt ja21 sgp denk 50plus bbb bij1 bvnl nsc".split()
PUBLISHED = {
    "2023-11-14 I&O Research": "27 7 20 4 7 23 4 6 3 5 1 4 4 1 8 0 1 25",
    "2023-11-18 Peil.nl": "26 8 26 6 5 23 5 5 3 4 1 2 4 0 7 1 1 23",
    "2023-11-20 I&O Research": "27 8 26 4 6 27 4 5 4 3 2 3 3 0 6 0 1 21",
    "2023-11-21 Ipsos": "29 11 27 4 5 24 3 5 4 4 1 3 4 0 6 1 0 19",
    "2023-11-21 I&O Research": "27 9 28 4 6 27 4 5 3 3 1 3 3 0 5 0 1 21",
    "2023-11-21 Peil.nl": "26 8 29 6 5 28 4 4 3 3 1 2 4 0 6 1 1 19",
}


def test_the_polls_file_holds_the_published_seats_and_each_poll_fills_the_house():
    from helpers.data.polls import load_polls
    from helpers.data.rules import load_rules

    rules = load_rules(ROOT / "data/tweede-kamer/rules.yml")
    polls = load_polls(ROOT / POLLS, parties=rules.registry(), house_seats=rules.seats)
    got = {pid: {r.party: int(r.seats) for r in g.itertuples()} for pid, g in polls.groupby("poll_id")}
    assert got == {pid: dict(zip(ORDER, map(int, s.split()), strict=True)) for pid, s in PUBLISHED.items()}
    assert all(sum(seats.values()) == rules.seats for seats in got.values())
    assert polls["date"].max().date().isoformat() == "2023-11-21"  # the eve of the election, nothing later
    for row in rows(POLLS):  # every row names its source, and a second one where the file says cross-checked
        assert "wikipedia.org" in row["source"] and row["partial"] == "no"
        assert ("cross-checked" in row["notes"]) == (" | " in row["source"]), row["poll_id"]


def test_a_coalition_scenario_on_seat_polls_reads_them_as_seats_of_its_own_house(tmp_path):
    """A scenario's base from seats polls is the same poll of polls as the threshold report's, with seats of the
    rules' 150. A poll that lists only the lists with more than 3 seats (about 135 of 150) leaves the rest to the
    lists it does not name; read as seats of 120 it would give the named lists all the votes."""
    from conftest import at_root
    from helpers.sections import coalitions, thresholds

    lines = (ROOT / POLLS).read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    big = [line for line in lines[1:] if int(next(csv.reader([line]))[header.index("seats")]) > 3]
    polls = tmp_path / "big-lists.csv"
    polls.write_text("\n".join([lines[0], *big]) + "\n", encoding="utf-8")
    scenario_file = tmp_path / "polls.yml"
    scenario_file.write_text(f"title: On the final week's polls\nrules: data/tweede-kamer/rules.yml\n"
                             f"polls: {polls}\nas_of: 2023-11-21\n", encoding="utf-8")
    with at_root():
        scenario = coalitions.prepare(str(scenario_file), draws=300)
        report = thresholds.prepare(str(polls), rules="data/tweede-kamer/rules.yml", draws=300)
    base = scenario.base.shares
    assert scenario.base.kind == "polls" and scenario.majority == 76
    assert base.to_dict() == pytest.approx(report.average.shares.to_dict())
    assert 16 < base["pvv"] < 19.5  # 26-29 seats of 150 in the newest polls
