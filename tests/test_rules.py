"""Rules files (helpers.data.rules, issue 17): the Knesset's file, the threshold words, the schema, exit-2
errors naming file, key and line, the party registry a rules file (or a scenario's rules) chooses, and a
scenario's `rules:` key."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from jsonschema import Draft202012Validator

from conftest import ROOT, assert_clean_error, at_root, run_cli
from helpers import data
from helpers.core.errors import DataError
from helpers.data import rules as rules_module

MADEUP = ROOT / "tests" / "data" / "madeup"
REGISTRY = (MADEUP / "parties.csv").as_posix()
GOOD = {"name": "Test House", "seats": 150, "threshold": '"1 quota"', "method": "dhondt", "agreements": "none",
        "polls_report": "seats", "parties": REGISTRY}


def write_rules(tmp_path, **changes) -> str:
    """A rules file in tmp_path from GOOD with `changes` (a value None drops the key); its path."""
    values = {**GOOD, **changes}
    text = "".join(f"{k}: {v}\n" for k, v in values.items() if v is not None)
    p = tmp_path / "rules.yml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_the_knesset_rules_file_says_what_the_kit_has_always_assumed():
    r = data.load_rules("data/knesset/rules.yml")
    assert (r.name, r.country, r.seats, r.majority) == ("Knesset", "Israel", 120, 61)
    assert r.threshold == Fraction(13, 4) and r.threshold_text == "3.25%"
    assert (r.method, r.agreements_method, r.polls_report) == ("dhondt", "bader-ofer", "seats")
    assert (r.parties, r.election_day_error) == ("data/parties.csv", "historical")
    # the Knesset's allocation: Bader-Ofer with agreements, D'Hondt without (the kit's default until now)
    assert (r.allocation_method(True), r.allocation_method(False)) == ("bader-ofer", "dhondt")
    from helpers.core import paths
    assert paths.RULES == "data/knesset/rules.yml" and (ROOT / paths.RULES).is_file()


def test_a_quota_threshold_is_exact_and_told_in_words(tmp_path):
    r = data.load_rules(write_rules(tmp_path))
    assert r.threshold == Fraction(100, 150) and r.majority == 76  # floor(150 / 2) + 1 when not given
    assert r.threshold_text == "1/150 of the valid votes (one full quota)"
    assert r.agreements_method is None and r.allocation_method(True) == "dhondt"
    assert r.election_day_error == "sampling"  # a subject without a fitted history
    assert data.load_rules(write_rules(tmp_path, threshold='"2/300"')).threshold == Fraction(100, 150)
    assert data.load_rules(write_rules(tmp_path, threshold=5)).threshold == Fraction(5)


def test_the_methods_a_rules_file_may_name_are_the_seat_models_methods():
    from helpers.models.seats.rules import METHODS

    assert set(rules_module.METHODS) == set(METHODS)
    document = json.loads((ROOT / "src/helpers/data/schemas/rules.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    assert set(document["properties"]["method"]["enum"]) == set(METHODS)
    assert set(document["properties"]["agreements"]["enum"]) == {"none", *rules_module.AGREEMENT_METHODS}


def test_a_rules_file_is_a_kind_of_data_file_checked_before_any_kernel():
    assert "rules" in data.file_kinds()
    assert data.loader_for("rules") is rules_module.load_rules


@pytest.mark.parametrize("changes, key, line, says", [
    ({"seat": 150, "seats": None}, "seat", 7, "did you mean 'seats'"),
    ({"parties": None}, "", None, "'parties' is missing"),
    ({"method": "dhont"}, "method", 4, "dhondt, sainte-lague"),
    ({"threshold": '"3,25%"'}, "threshold", 3, "is not a threshold"),
    ({"threshold": '"150 quotas"'}, "threshold", 3, "whole of the valid votes"),
    ({"majority": 151}, "majority", 8, "from 1 to the 150 seats"),
    ({"seats": 0}, "seats", 2, "from 1 to 10,000"),
    ({"agreements": "yes"}, "agreements", 5, "none, or the method"),
    ({"polls_report": "percent"}, "polls_report", 6, "seats or shares"),
    ({"parties": "no/such/registry.csv"}, "parties", 7, "does not exist"),
])
def test_a_bad_rules_file_is_exit_2_naming_file_key_and_line(tmp_path, changes, key, line, says):
    path = write_rules(tmp_path, **changes)
    with pytest.raises(DataError) as caught:
        data.load_rules(path)
    text = str(caught.value)
    assert text.startswith(path) or "rules.yml" in text.split(":")[0], text
    if key:
        assert key in text and f"line {line}" in text, text
    assert says in text, text
    # and through a command: one sentence, exit 2, nothing else run
    proc = run_cli("coalitions", MADEUP / "seats.csv", "--rules", path)
    assert_clean_error(proc, "rules.yml", says)


def test_the_registry_of_a_subject_is_the_one_its_rules_name():
    with at_root():
        israeli = data.polls.registry_for(None)
        assert israeli.attrs["path"] == "data/parties.csv"
        assert data.polls.registry_for("data/knesset/rules.yml").equals(israeli)
        madeup = data.polls.registry_for("tests/data/madeup/rules.yml")
        assert madeup.attrs["path"] == "tests/data/madeup/parties.csv"
        polls = data.load_polls(MADEUP / "polls.csv", parties=madeup)
        # FP, Fireflies and Firefly Party are one party in Freedonia's registry (and in no other)
        assert sorted(polls["party"].unique()) == sorted(madeup["key"])
        folded = data.load_polls(MADEUP / "polls.csv")  # the Knesset's registry knows none of them
        assert folded["party"].nunique() > len(madeup)


def test_a_scenario_with_rules_takes_the_house_and_the_names_from_them():
    sc = data.load_scenario("tests/data/madeup/scenario.yml")
    assert (sc.seats, sc.majority, sc.threshold, sc.method) == (50, 26, 5.0, "sainte-lague")
    assert sc.rules == "tests/data/madeup/rules.yml" and sc.parties == "tests/data/madeup/parties.csv"
    assert sc.vetoes == [("firefly", "workers"), ("liberty", "sylvania")]  # display names resolved to keys
    assert "tests/data/madeup/rules.yml" in sc.sources()
    israeli = data.load_scenario("data/scenarios/knesset-2022.yml")  # no rules: the Knesset as before
    assert (israeli.seats, israeli.majority, israeli.threshold, israeli.method, israeli.rules) == \
        (120, 61, 3.25, None, None)


BASE = ("title: t\nrules: tests/data/madeup/rules.yml\npolls: tests/data/madeup/polls.csv\n"
        "as_of: 2026-10-08\n")


@pytest.mark.parametrize("rest, at, says", [
    ("vetoes: [[likud, firefly]]\n", "vetoes[0][0] (line 5)", "from tests/data/madeup/parties.csv"),
    ("vetoes: [[Fireflys, liberty]]\n", "vetoes[0][0] (line 5)", "did you mean 'firefly'"),
    ("agreements: data/knesset/agreements/2022-11-01.csv\n", "agreements (line 5)", "agreements: none"),
    ("rules: no/such.yml\n", None, "rules"),
])
def test_a_scenario_with_rules_checks_names_against_its_registry(tmp_path, rest, at, says):
    p = tmp_path / "s.yml"
    p.write_text((BASE.replace("rules: tests/data/madeup/rules.yml\n", "") if rest.startswith("rules")
                  else BASE) + rest, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        data.load_scenario(p)
    text = str(caught.value)
    assert (at is None or at in text) and says in text, text


def test_a_scenario_may_override_its_rules(tmp_path):
    p = tmp_path / "s.yml"
    p.write_text(BASE + "seats: 60\nthreshold: 4\n", encoding="utf-8")
    sc = data.load_scenario(p)
    assert (sc.seats, sc.majority, sc.threshold) == (60, 31, 4.0)  # the rules' majority is for 50 seats
    p.write_text(BASE + "majority: 30\n", encoding="utf-8")
    assert data.load_scenario(p).majority == 30
    # a majority the rules give (a two-thirds house) is the scenario's when it does not give one
    rules = write_rules(tmp_path, seats=51, majority=34, threshold='"1/20"')
    p.write_text(BASE.replace("tests/data/madeup/rules.yml", rules), encoding="utf-8")
    sc = data.load_scenario(p)
    assert (sc.seats, sc.majority, sc.threshold, sc.method) == (51, 34, 5.0, "dhondt")


def test_coalitions_takes_the_majority_from_the_rules_unless_given(tmp_path):
    seats = MADEUP / "seats.csv"
    rules = write_rules(tmp_path, seats=50, majority=30)
    plain = run_cli("coalitions", seats, "--format", "json")
    ruled = run_cli("coalitions", seats, "--rules", rules, "--format", "json")
    given = run_cli("coalitions", seats, "--rules", rules, "--majority", "26", "--format", "json")
    assert plain.returncode == ruled.returncode == given.returncode == 0, (ruled.stderr, given.stderr)
    assert given.stdout == plain.stdout  # an explicit --majority wins; 26 is half of 50 + 1
    found = json.loads(ruled.stdout)
    assert found and all(c["seats"] >= 30 and c["surplus"] == c["seats"] - 30 for c in found)
    assert {c["members"] for c in found} != {c["members"] for c in json.loads(plain.stdout)}
    too_big = write_rules(tmp_path, seats=120, majority=61)
    assert_clean_error(run_cli("coalitions", seats, "--rules", too_big), "61 seats", "50 seats")


@pytest.mark.parametrize("command", [
    ("simulate", "data/polls/knesset-2022.csv", "--draws", "2000", "--format", "json"),
    ("simulate", "data/polls/knesset-2022.csv", "--draws", "2000", "--agreements",
     "data/knesset/agreements/2022-11-01.csv"),
    ("seats", "data/knesset/results/2022-11-01.csv", "--threshold", "3.25", "--agreements",
     "data/knesset/agreements/2022-11-01.csv", "--audit"),
])
def test_the_knesset_rules_file_gives_what_the_commands_gave_without_it(command):
    plain = run_cli(*command)
    ruled = run_cli(*command, "--rules", "data/knesset/rules.yml")
    assert plain.returncode == ruled.returncode == 0, ruled.stderr
    assert ruled.stdout == plain.stdout and ruled.stderr == plain.stderr


def test_agreements_are_refused_by_rules_that_have_none():
    proc = run_cli("seats", MADEUP / "votes.csv", "--rules", MADEUP / "rules.yml", "--agreements",
                   "data/knesset/agreements/2022-11-01.csv")
    assert_clean_error(proc, "tests/data/madeup/rules.yml", "agreements: none")


@pytest.mark.parametrize("path", sorted({*ROOT.glob("data/**/rules.yml"), MADEUP / "rules.yml"}),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_shipped_rules_file_loads_with_its_registry(path):
    r = data.load_rules(path)
    assert 1 <= r.majority <= r.seats and 0 <= r.threshold < 100
    with at_root():
        assert len(r.registry()) > 0



def test_a_quota_in_the_rules_is_a_quota_of_the_seats_really_allocated(tmp_path):
    """The Dutch rules say "1 quota": with an explicit --seats 100 that is 1/100 of the valid votes, not 1/150. A
    list with 0.8% of the votes clears one quota of 150 (0.67%) and not one quota of 100 (1%)."""
    votes = tmp_path / "v.csv"
    votes.write_text("list,votes\nbig,9920\nsmall,80\n")

    def small_seats(*extra):
        proc = run_cli("seats", votes, "--rules", "data/tweede-kamer/rules.yml", *extra, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        return {r["list"]: r["seats"] for r in json.loads(proc.stdout)}["small"]

    assert small_seats() == 1
    assert small_seats("--seats", "100") == 0
