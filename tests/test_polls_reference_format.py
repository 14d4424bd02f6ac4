"""Polls files in the reference collections' own format (no ``partial`` column, no ``poll_type``): the loader
marks a poll partial by the word PARTIAL in its notes, so a file copied as it is gives the same poll of polls
and the same simulation as the kit's reshaped copy."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import run_cli
from helpers.data.polls import load_parties, load_polls

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
YEARS = {"2003": "1.5", "2006": "2", "2013": "2"}


@pytest.mark.parametrize("year", sorted(YEARS))
def test_partial_token_marks_the_same_polls_as_the_partial_column(year):
    raw = load_polls(GOLDEN / f"polls_final_week_{year}.csv")
    shipped = load_polls(ROOT / "data" / "polls" / f"knesset-{year}.csv", load_parties(ROOT / "data" / "parties.csv"))
    flags = lambda df: dict(zip(df["poll_id"], df["partial"], strict=True))  # noqa: E731
    assert flags(raw) == flags(shipped)
    with open(GOLDEN / f"polls_final_week_{year}.csv", newline="", encoding="utf-8") as f:
        marked = {r["poll_id"] for r in csv.DictReader(f) if "PARTIAL" in r["notes"]}
    assert {p for p, v in flags(raw).items() if v} == marked != set()


def test_lower_case_partial_in_notes_is_not_the_token(tmp_path):
    p = tmp_path / "polls.csv"
    p.write_text("date,pollster,sample_size,party,seats,notes\n"
                 "2020-01-01,A,,x,60,a partial list of figures\n2020-01-01,A,,y,60,\n", encoding="utf-8")
    assert not load_polls(p)["partial"].any()


def test_reference_file_simulates_like_the_shipped_copy(capsys):
    """Same polls, same seed: the same bytes from the reference file and from the kit's copy (2013)."""
    got = []
    for path in (GOLDEN / "polls_final_week_2013.csv", ROOT / "data" / "polls" / "knesset-2013.csv"):
        code = run_cli("simulate", str(path), "--threshold", "2", "--draws", "3000")
        assert code.returncode == 0, code.stderr
        got.append(code.stdout)
    assert got[0] == got[1] and got[0].count("\n") > 10
