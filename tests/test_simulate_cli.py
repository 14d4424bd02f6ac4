"""`ballotbook simulate` run as a user runs it: the README's threshold probabilities from a one-poll file,
byte-identical output for a seed, the contract's columns, and clean exit-2 errors."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import ROOT, assert_clean_error, run_cli

ONE_POLL = ROOT / "tests" / "data" / "polls-one-poll.csv"
POLLS_2022 = ROOT / "data" / "polls" / "knesset-2022.csv"
EXPECTED = {"a": 0.8405, "b": 0.6327, "c": 0.3632}


def simulate(*args):
    return run_cli("simulate", *args)


def rows(stdout: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(stdout)))


def clean_error(proc, *needles):
    assert_clean_error(proc, *needles)
    assert proc.stdout == ""


@pytest.fixture(scope="module")
def one_poll_run():
    return simulate(ONE_POLL, "--draws", 40000, "--seed", 0)


def test_one_poll_reproduces_the_threshold_probabilities(one_poll_run):
    """--error-model sampling: a file of one share poll simulates exactly that poll's Dirichlet posterior (a
    share poll has no residual for unlisted lists). The default adds the historical election-day error."""
    sampling = simulate(ONE_POLL, "--draws", 40000, "--seed", 0, "--error-model", "sampling")
    assert sampling.returncode == 0, sampling.stderr
    got = {r["party"]: float(r["p_pass"]) for r in rows(sampling.stdout)}
    for party, expected in EXPECTED.items():
        assert abs(got[party] - expected) < 0.03, (party, got[party], expected)
        assert abs(got[party] - expected) < 0.01, (party, got[party], expected)  # in fact much closer
    assert one_poll_run.returncode == 0, one_poll_run.stderr
    default = {r["party"]: float(r["p_pass"]) for r in rows(one_poll_run.stdout)}
    assert default != got and default["a"] < got["a"]


def test_output_columns_and_numbers(one_poll_run):
    out = one_poll_run.stdout
    assert out.splitlines()[0] == "party,share_mean,seats_mean,seats_p05,seats_p95,p_pass"
    table = rows(out)
    assert len(table) == 12
    assert sum(float(r["seats_mean"]) for r in table) == pytest.approx(120, abs=1e-4)
    for r in table:
        assert len(r["p_pass"].split(".")[1]) >= 4 and len(r["share_mean"].split(".")[1]) >= 4
        assert int(r["seats_p05"]) <= int(r["seats_p95"])
        assert float(r["p_pass"]) * 40000 == pytest.approx(round(float(r["p_pass"]) * 40000), abs=1e-6)
    shares = [float(r["share_mean"]) for r in table]
    assert shares == sorted(shares, reverse=True)


def test_same_seed_byte_identical_output(one_poll_run):
    again = simulate(ONE_POLL, "--draws", 40000, "--seed", 0)
    assert again.returncode == 0 and again.stdout == one_poll_run.stdout
    other = simulate(ONE_POLL, "--draws", 40000, "--seed", 1)
    assert other.returncode == 0 and other.stdout != one_poll_run.stdout


def test_json_with_poll_error_and_agreements(tmp_path):
    from helpers.models.uncertainty import FITTED

    pairs = tmp_path / "pairs.csv"
    pairs.write_text("list_a,list_b\nshas,utj\nmeretz,labor\n", encoding="utf-8")
    args = (POLLS_2022, "--draws", 5000, "--seed", 3, "--poll-error", 1.5, "--agreements", pairs,
            "--format", "json")
    proc = simulate(*args)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    # the newest poll of each house in the 14 days up to the last poll, counted from the file
    with open(POLLS_2022, encoding="utf-8", newline="") as f:
        houses = {r["pollster"] for r in csv.DictReader(f) if "2022-10-15" <= r["date"] <= "2022-10-28"}
    assert doc["polls_used"] == len(houses) == 7
    assert doc["as_of"] == "2022-10-28" and doc["method"] == "bader-ofer"
    assert doc["draws"] == 5000 and doc["seed"] == 3
    assert doc["error_model"] == "historical" and doc["poll_error"] == 1.5
    assert doc["others"] == pytest.approx(FITTED.others) and doc["others"] > 0   # seats polls: a residual
    assert doc["agreements"] == [["shas", "utj"], ["meretz", "labor"]]
    parties = {p["party"]: p for p in doc["parties"]}
    assert len(parties) == 13 and parties["likud"]["p_pass"] == 1.0
    assert sum(p["seats_mean"] for p in parties.values()) == pytest.approx(120, abs=1e-3)
    # the listed lists share what the residual leaves
    assert sum(p["share_mean"] for p in parties.values()) == pytest.approx(100 - doc["others"], abs=0.5)
    assert 0 < parties["meretz"]["p_pass"] < 1
    assert simulate(*args).stdout == proc.stdout


@pytest.mark.parametrize("args, needles", [
    (["--draws", "0"], ["--draws must be at least 1"]),
    (["--threshold", "100"], ["--threshold", "0 <= t < 100"]),
    (["--threshold", "-1"], ["--threshold"]),
    (["--seed", "-5"], ["--seed"]),
    (["--seats", "0"], ["--seats"]),
    (["--poll-error", "-1"], ["--poll-error"]),
])
def test_bad_options_exit_2(args, needles):
    clean_error(simulate(ONE_POLL, *args), *needles)


def test_bad_polls_file_names_row_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,pollster,sample_size,party,seats\n2022-10-01,P,,likud,32\n2022-10-01,P,,labor,-3\n",
                   encoding="utf-8")
    clean_error(simulate(bad), "row 3, column 'seats'", "'-3' is not a whole number")


def test_missing_files(tmp_path):
    clean_error(simulate(tmp_path / "nope.csv"), "does not exist")
    clean_error(simulate(ONE_POLL, "--agreements", tmp_path / "nope.csv"), "does not exist")


def test_agreement_with_an_unpolled_list_is_void(tmp_path):
    """The unpolled list gets no votes and misses the threshold; the law voids the pair. Said on stderr."""
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("list_a,list_b\nshas,pirates\nlikud,religious_zionism\n", encoding="utf-8")
    proc = simulate(POLLS_2022, "--draws", 10, "--agreements", pairs, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "shas-pirates is void" in proc.stderr and "'pirates' is not in the polls" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["agreements"] == [["likud", "religious_zionism"]]
    assert doc["agreements_void"] == [["shas", "pirates"]]


def test_seats_polls_with_no_seats_at_all_are_explained(tmp_path):
    empty = tmp_path / "zero.csv"
    empty.write_text("date,pollster,sample_size,party,seats\n2022-10-01,P,,a,0\n2022-10-01,P,,b,0\n",
                     encoding="utf-8")
    clean_error(simulate(empty, "--threshold", "0"), "no share for any party")
