"""The threshold words (helpers.core.threshold): one reader for a percent ("3.25", "3.25%"), an exact fraction of
the valid votes ("1/150") and a number of quotas ("1 quota"), used by `seats --threshold`, `simulate
--threshold` and a notebook parameter of the kind "threshold"; and the exact comparison behind them."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, assert_clean_error, notebook_json, run_cli
from helpers.core.errors import DataError
from helpers.core.threshold import parse_threshold
from helpers.models.seats import Threshold, allocate, allocate_batch
from helpers.pipeline.declarations import parse
from helpers.pipeline.parameters import validate

FIFTY = ROOT / "tests" / "data" / "polls-fifty-seats.csv"


def rows(stdout: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(stdout)))


# ------------------------------------------------------------------------------------------------ the reader
@pytest.mark.parametrize("value, seats, percent, words", [
    (3.25, None, Fraction(13, 4), "3.25%"),
    ("3.25", None, Fraction(13, 4), "3.25%"),
    (" 3.25 % ", None, Fraction(13, 4), "3.25%"),
    (5, None, Fraction(5), "5%"),
    ("0", None, Fraction(0), "0%"),
    ("99.999999", None, Fraction(99999999, 1000000), "99.999999%"),
    ("1/150", None, Fraction(100, 150), "1/150 of the valid votes"),
    ("1/150", 150, Fraction(100, 150), "1/150 of the valid votes (one full quota)"),
    ("3 / 150", 150, Fraction(2), "3/150 of the valid votes (three full quotas)"),
    ("0/7", None, Fraction(0), "0/7 of the valid votes"),
    ("1 quota", 150, Fraction(100, 150), "1/150 of the valid votes (one full quota)"),
    ("2 Quotas", 150, Fraction(200, 150), "2/150 of the valid votes (two full quotas)"),
    ("1 quota", 50, Fraction(2), "1/50 of the valid votes (one full quota)"),
    (Fraction(100, 150), 150, Fraction(2, 3), "1/150 of the valid votes (one full quota)"),
])
def test_each_form_reads_as_an_exact_percent_and_the_readers_words(value, seats, percent, words):
    got = parse_threshold(value, "--threshold", seats=seats)
    assert got.percent == percent and got.text == words


@pytest.mark.parametrize("value, seats, needles", [
    ("100", None, ["0 <= t < 100"]),
    ("100%", None, ["0 <= t < 100"]),
    (-0.5, None, ["0 <= t < 100"]),
    ("1/1", None, ["'1/1'", "0 <= a/b < 1"]),
    ("3/2", None, ["0 <= a/b < 1"]),
    ("1/0", None, ["0 <= a/b < 1"]),
    ("-1/150", None, ["0 <= a/b < 1"]),
    ("1.5/150", None, ["is not a threshold", "1/150"]),
    ("150 quotas", 150, ["150 quotas of 150 seats"]),
    ("-1 quota", 150, ["negative"]),
    ("nan", None, ["is not a threshold"]),
    ("three percent", None, ["is not a threshold", "3.25%", "1/150", "1 quota"]),
    ("", None, ["is not a threshold"]),
    (True, None, ["is not a threshold"]),
    (float("inf"), None, ["is not a threshold"]),
])
def test_bad_words_name_the_option_and_what_is_accepted(value, seats, needles):
    with pytest.raises(DataError) as err:
        parse_threshold(value, "--threshold", seats=seats)
    assert str(err.value).startswith("--threshold: ")
    for needle in needles:
        assert needle in str(err.value)


def test_quotas_need_the_seats():
    assert parse_threshold("2 quotas", "x").percent is None  # read (a check before the seats are known)
    with pytest.raises(DataError, match="needs the number of seats"):
        Threshold.of("1 quota")
    assert Threshold.of("1 quota", 150).percent == Fraction(2, 3)


def test_just_under_one_hundred_percent_is_a_threshold_and_one_hundred_is_not():
    assert parse_threshold("99.9999999999").percent < 100
    assert parse_threshold("9999/10000").percent == Fraction(9999, 100)
    for whole in ("100", "1/1", "7/7", "10 quotas"):
        with pytest.raises(DataError):
            parse_threshold(whole, seats=10)


@settings(max_examples=200, deadline=None)
@given(b=st.integers(1, 10**12), data=st.data(), votes=st.integers(0, 10**15), rest=st.integers(0, 10**15))
def test_a_fraction_agrees_with_its_percent_and_is_compared_exactly(b, data, votes, rest):
    a = data.draw(st.integers(0, b - 1))
    read = parse_threshold(f"{a}/{b}")
    assert read.percent == Fraction(100 * a, b) == parse_threshold(Fraction(100 * a, b)).percent
    total = votes + rest
    if total:  # a list passes when votes / total >= a / b, compared with whole numbers here
        assert Threshold(read.percent).passes(votes, total) == (votes > 0 and votes * b >= a * total)


@settings(max_examples=200, deadline=None)
@given(seats=st.integers(1, 10_000), data=st.data())
def test_n_quotas_agree_with_n_over_seats(seats, data):
    n = data.draw(st.integers(0, seats + 3))
    if n >= seats:
        with pytest.raises(DataError, match="quotas of"):
            parse_threshold(f"{n} quotas", seats=seats)
        return
    quota = parse_threshold(f"{n} quota{'s' if n != 1 else ''}", seats=seats)
    assert quota.percent == Fraction(100 * n, seats) == parse_threshold(f"{n}/{seats}", seats=seats).percent
    assert quota.text == parse_threshold(f"{n}/{seats}", seats=seats).text or n == 0


@pytest.mark.parametrize("threshold", ["1/150", "1 quota", Fraction(2, 3)])
def test_the_batch_allocator_compares_one_quota_exactly(threshold):
    # 15,000 votes and 150 seats: one quota is 100 votes exactly; 2/3 % as a float (0.6666666666666666) is a
    # hair under it, which is why the batch allocator must be given the exact fraction
    votes = [[100, 7451, 7449], [99, 7451, 7450]]
    got = allocate_batch(votes, seats=150, threshold=threshold, method="dhondt")
    assert got.tolist() == [[1, 75, 74], [0, 75, 75]]
    assert [list(allocate(list(zip("abc", v, strict=True)), 150, threshold).seats) for v in votes] == got.tolist()


# ------------------------------------------------------------------------------------------- ballotbook seats
def test_seats_one_full_quota_passes_exactly_at_the_quota_and_not_one_vote_below(tmp_path):
    """By hand: 15,000 valid votes, 150 seats, one quota = 100 votes. At: a = 100 passes; b and c's quotients
    stay above 100 up to 74 seats each (7451/74 = 100.7, 7449/74 = 100.66), a's first seat (100) comes next,
    and the last seat goes to b (7451/75 = 99.35 > 7449/75 = 99.32): a 1, b 75, c 74. Below: a = 99 misses
    the quota and b, c (7451, 7450) share the 150 seats 75 each."""
    at = tmp_path / "at.csv"
    at.write_text("list,votes\na,100\nb,7451\nc,7449\n", encoding="utf-8")
    below = tmp_path / "below.csv"
    below.write_text("list,votes\na,99\nb,7451\nc,7450\n", encoding="utf-8")
    for words in ("1/150", "1 quota"):
        got = run_cli("seats", at, "--seats", "150", "--threshold", words, "--method", "dhondt")
        assert got.returncode == 0, got.stderr
        assert [(r["list"], r["seats"]) for r in rows(got.stdout)] == [("a", "1"), ("b", "75"), ("c", "74")]
        got = run_cli("seats", below, "--seats", "150", "--threshold", words, "--method", "dhondt")
        assert [(r["list"], r["seats"]) for r in rows(got.stdout)] == [("a", "0"), ("b", "75"), ("c", "75")]
    # the rounded percent is not the quota: 0.67% of 15,000 is 100.5 votes, so a's 100 votes miss it
    rounded = run_cli("seats", at, "--seats", "150", "--threshold", "0.67", "--method", "dhondt")
    assert rows(rounded.stdout)[0]["seats"] == "0"
    audit = json.loads(run_cli("seats", at, "--seats", "150", "--threshold", "1/150", "--audit", "--format",
                               "json").stdout)
    assert audit[0]["note"] == "threshold 1/150 of the 15,000 valid votes (one full quota) = 100 votes"


@pytest.mark.parametrize("words, needles", [
    ("1/1", ["--threshold", "'1/1'"]),
    ("150 quotas", ["--threshold", "150 quotas of 150 seats"]),
    ("a lot", ["--threshold", "1/150"]),
])
def test_seats_bad_threshold_words_exit_2(tmp_path, words, needles):
    votes = tmp_path / "v.csv"
    votes.write_text("list,votes\na,100\nb,200\n", encoding="utf-8")
    assert_clean_error(run_cli("seats", votes, "--seats", "150", "--threshold", words), *needles)


# ---------------------------------------------------------------------------------------- ballotbook simulate
def test_simulate_fifty_seats_sainte_lague_and_dhondt_differ_where_they_should():
    """tests/data/polls-fifty-seats.csv: one poll of a million, big 52% and five lists of 9.6%; 50 seats, 5%.
    By hand: Sainte-Laguë (divisor about 2.05) gives big round(25.4) = 25 and each small list round(4.7) = 5;
    D'Hondt gives big 27 (its 27th quotient 52/27 = 1.926 beats a small list's 5th, 9.6/5 = 1.92), and the
    small lists share the other 23 (three 5s and two 4s), since a 28th for big (52/28 = 1.857) would come after
    every small list's 5th seat and make 53."""
    common = ("--draws", "2000", "--seats", "50", "--threshold", "5", "--error-model", "sampling")
    sl = run_cli("simulate", FIFTY, *common, "--method", "sainte-lague", "--format", "json")
    dh = run_cli("simulate", FIFTY, *common, "--method", "dhondt", "--format", "json")
    assert sl.returncode == 0 and dh.returncode == 0, (sl.stderr, dh.stderr)
    sl, dh = json.loads(sl.stdout), json.loads(dh.stdout)
    assert (sl["method"], dh["method"], sl["threshold"], sl["seats"]) == ("sainte-lague", "dhondt", 5.0, 50)
    sl_parties = {p["party"]: p for p in sl["parties"]}
    dh_parties = {p["party"]: p for p in dh["parties"]}
    assert (sl_parties["big"]["seats_p05"], sl_parties["big"]["seats_p95"]) == (25, 25)
    assert (dh_parties["big"]["seats_p05"], dh_parties["big"]["seats_p95"]) == (27, 27)
    small = [p for p in sl_parties if p != "big"]
    assert all((sl_parties[p]["seats_p05"], sl_parties[p]["seats_p95"]) == (5, 5) for p in small)
    assert all(4 <= dh_parties[p]["seats_p05"] <= dh_parties[p]["seats_p95"] <= 5 for p in small)
    assert sum(dh_parties[p]["seats_mean"] for p in dh_parties) == pytest.approx(50)
    # the default method without --agreements is D'Hondt, as for `seats`
    default = json.loads(run_cli("simulate", FIFTY, *common, "--format", "json").stdout)
    assert default["method"] == "dhondt" and default["parties"] == dh["parties"]


def test_simulate_one_quota_is_exact_and_said_as_given():
    common = ("--draws", "500", "--seats", "50", "--error-model", "sampling", "--format", "json")
    quota = json.loads(run_cli("simulate", FIFTY, *common, "--threshold", "1/50").stdout)
    words = json.loads(run_cli("simulate", FIFTY, *common, "--threshold", "1 quota").stdout)
    percent = json.loads(run_cli("simulate", FIFTY, *common, "--threshold", "2").stdout)
    assert quota["threshold"] == "1/50" and words["threshold"] == "1 quota" and percent["threshold"] == 2.0
    assert quota["parties"] == words["parties"] == percent["parties"]  # 1/50 of the votes is 2%, exactly


@pytest.mark.parametrize("args, needles", [
    (["--threshold", "1/1"], ["--threshold", "'1/1'"]),
    (["--threshold", "120 quotas"], ["--threshold", "120 quotas of 120 seats"]),
    (["--method", "plurality"], ["--method"]),
])
def test_simulate_bad_threshold_or_method_exit_2(args, needles):
    assert_clean_error(run_cli("simulate", FIFTY, "--draws", "20", *args), *needles)


# ----------------------------------------------------------------------------- a notebook parameter of the kind
WORDS = ["0", "3.25", "3.25%", "1/150", "1 quota", "2 quotas", "99.9", "100", "100%", "1/1", "-1", "nan", "abc",
         "1/0", "2/3/4", "5 %"]


def test_a_notebook_threshold_parameter_is_checked_exactly_as_the_option(tmp_path):
    """The kind "threshold" of a notebook parameter and --threshold of seats and simulate: a value is refused by
    one exactly when it is refused by the others (quotas are checked against the seats once they are known)."""
    nb = tmp_path / "n.ipynb"
    nb.write_text(json.dumps(notebook_json(parameters='threshold: "threshold" = "3.25%"  # the line')))
    votes = tmp_path / "v.csv"
    votes.write_text("list,votes\nA,999\nB,1\n", encoding="utf-8")  # A clears any threshold up to 99.9%
    kind = parse("threshold")
    for value in WORDS:
        try:
            validate(nb, {"threshold": value}, from_text=True)
            notebook_ok = True
        except DataError as exc:
            notebook_ok = False
            assert "parameter 'threshold'" in str(exc) or "threshold" in str(exc), exc
        seats = run_cli("seats", votes, "--seats", "150", "--threshold", value, "--format", "json")
        simulate = run_cli("simulate", ROOT / "tests/data/polls-one-poll.csv", "--draws", "20", "--threshold", value,
                           "--format", "json")
        assert (seats.returncode != 2) == notebook_ok, (value, seats.stderr)
        assert (simulate.returncode != 2) == notebook_ok, (value, simulate.stderr)
        if not notebook_ok:
            assert "--threshold" in seats.stderr and "--threshold" in simulate.stderr
        # what the notebook gets is what the option gets: a number as a float, words as their text
        if notebook_ok:
            assert validate(nb, {"threshold": value}, from_text=True)["threshold"] == \
                kind.validate(value, "--threshold", from_text=True)
    assert validate(nb, {"threshold": "1/150"})["threshold"] == "1/150"  # reports.yml values are plain data
    assert validate(nb, {"threshold": 5})["threshold"] == 5.0
    with pytest.raises(DataError, match="'threshold'"):
        validate(nb, {"threshold": [1, 150]})


def test_the_simulation_keeps_the_exact_threshold_and_clears_compares_with_it():
    import numpy as np

    from helpers.models.simulate import clears, projection, simulate

    counts = np.array([[100, 7451, 7449], [99, 7451, 7450]])
    assert clears(counts, Fraction(2, 3)).tolist() == [[True, True, True], [False, True, True]]
    assert clears(counts, "1/150").tolist() == [[True, True, True], [False, True, True]]
    sim = simulate({"a": 52.0, "b": 48.0}, 1000, draws=50, seats=150, threshold="1 quota", error_model="sampling")
    assert sim.threshold_exact == Fraction(2, 3) and sim.threshold == pytest.approx(2 / 3)
    assert int(projection(sim).sum()) == 150
