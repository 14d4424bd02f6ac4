"""The final-fortnight polls of 2003, 2006 and 2013 (data/polls/knesset-2003.csv, -2006, -2013; issue 14).

Each shipped file is the kit's reshaping of a reference file kept byte for byte in tests/golden/
(polls_final_week_<year>.csv). These tests check that every figure survived the reshaping, that the polls the
reference marks PARTIAL are flagged partial, that every party key is a list of that election's official
results (or a declared merged column), and that the loader reads published half seats and refuses other
decimals."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from conftest import assert_clean_error, run_cli
from helpers.core.errors import DataError
from helpers.data.polls import load_parties, load_polls
from helpers.models import polls as model

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
ELECTIONS = {"2003": "2003-01-28", "2006": "2006-03-28", "2013": "2013-01-22"}
YEARS = sorted(ELECTIONS)


def golden_rows(year: str) -> list[dict[str, str]]:
    with open(GOLDEN / f"polls_final_week_{year}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def shipped(year: str) -> pd.DataFrame:
    return load_polls(ROOT / "data" / "polls" / f"knesset-{year}.csv", load_parties(ROOT / "data" / "parties.csv"))


def official_lists(year: str) -> set[str]:
    with open(ROOT / "data" / "knesset" / "results" / f"{ELECTIONS[year]}.csv", newline="",
              encoding="utf-8") as f:
        return {r["list"] for r in csv.DictReader(f)}


@pytest.mark.parametrize("year", YEARS)
def test_shipped_file_loads_as_seats_polls(year):
    df = shipped(year)
    assert len(df) == len(golden_rows(year)) > 0
    assert set(df["kind"]) == {"seats"}
    assert set(df["poll_type"]) == {"pre_election_poll"}


@pytest.mark.parametrize("year", YEARS)
def test_every_figure_equals_the_golden_copy(year):
    """Row by row, in order: poll id, date, pollster, media, sample size, party, seats (exactly, as decimals),
    notes and source."""
    df = shipped(year)
    gold = golden_rows(year)
    for rec, g in zip(df.itertuples(index=False), gold, strict=True):
        assert rec.poll_id == g["poll_id"]
        assert rec.date == pd.Timestamp(g["date"])
        assert rec.pollster == g["pollster"]
        assert rec.media == g["media"]
        assert (None if pd.isna(rec.sample_size) else int(rec.sample_size)) == (
            int(g["sample_size"]) if g["sample_size"] else None)
        assert rec.party == g["party"]
        assert Decimal(repr(float(rec.seats))) == Decimal(g["seats"]), (rec.poll_id, rec.party)
        assert rec.notes == g["notes"]
        assert rec.source == g["source"]


def _recorded_total(notes: str) -> Decimal | None:
    """The poll's total as the reference's notes record it ('total 120', 'SUMS TO 121')."""
    m = re.search(r"SUMS TO (\d+(?:\.5)?)", notes) or re.search(r"total (\d+(?:\.5)?)", notes)
    return Decimal(m.group(1)) if m else None


@pytest.mark.parametrize("year", YEARS)
def test_complete_polls_sum_to_their_total_and_partial_ones_are_flagged(year):
    df = shipped(year)
    notes = {g["poll_id"]: g["notes"] for g in golden_rows(year)}
    assert df.groupby("poll_id")["partial"].nunique().eq(1).all()
    polls = df.groupby("poll_id", sort=False).agg(partial=("partial", "first"), seats=("seats", "sum"),
                                                  poll_seats=("poll_seats", "first"))
    complete = 0
    for pid, rec in polls.iterrows():
        text = notes[pid]
        is_partial = "PARTIAL" in text
        assert "complete" not in text if is_partial else "complete" in text, pid
        assert bool(rec.partial) == is_partial, pid
        assert Decimal(repr(float(rec.poll_seats))) == Decimal(repr(float(rec.seats)))
        total = _recorded_total(text)
        if not is_partial:
            complete += 1
            assert total in (Decimal(120), Decimal(121)), (pid, text)
            assert Decimal(repr(float(rec.seats))) == total, pid
        elif total is not None:
            assert Decimal(repr(float(rec.seats))) == total, pid
    assert complete == 3  # the reference's README: three complete polls per election


def test_only_the_published_121_poll_is_off_120():
    """The 2006-03-23 Dahaf poll sums to 121 as printed; every other complete poll to 120."""
    off = []
    for year in YEARS:
        df = shipped(year)
        full = df[~df["partial"]]
        off += sorted(set(full.loc[full["flag_seats_total"], "poll_id"]))
    assert off == ["2006-03-23 Dahaf / Yedioth Ahronoth"]


@pytest.mark.parametrize("year", YEARS)
def test_party_keys_are_official_lists_or_declared_merged_columns(year):
    parties = load_parties(ROOT / "data" / "parties.csv")
    registry = set(parties["key"])
    merged = {k for k, m in zip(parties["key"], parties["members"], strict=True) if m}
    lists = official_lists(year)
    for key in set(shipped(year)["party"]):
        assert key in registry, key
        assert key in lists or key in merged, key
    # the merged column is flagged by the loader
    df = shipped(year)
    assert df.loc[df["party"] == "arab_joint", "flag_merged"].all()
    assert not df.loc[df["party"] != "arab_joint", "flag_merged"].any()


def test_half_seats_are_read_exactly_and_whole_seat_files_keep_integers():
    df = shipped("2003")
    labor = df[(df["poll_id"] == "2003-01-27 unnamed / Yedioth Ahronoth") & (df["party"] == "labor")]
    assert labor["seats"].tolist() == [18.5]
    assert str(df["seats"].dtype) == "Float64"
    assert str(load_polls(ROOT / "data" / "polls" / "knesset-2009.csv")["seats"].dtype) == "Int64"


def test_half_seats_become_shares_by_seats_plus_one_half(tmp_path):
    """The documented rule: share = (seats + 1/2) / (S + m/2) x 100 with S = 120 and m lists with seats."""
    p = tmp_path / "half.csv"
    p.write_text("date,pollster,sample_size,party,seats\n2020-01-01,A,,x,60.5\n2020-01-01,A,,y,59.5\n",
                 encoding="utf-8")
    shares = model.poll_shares(load_polls(p), threshold=2.0).set_index("party")["share"]
    assert shares["x"] == pytest.approx(61 / 121 * 100)
    assert shares["y"] == pytest.approx(60 / 121 * 100)


@pytest.mark.parametrize("value, needle", [
    ("3.3", "'3.3' is not a whole number of seats or a half seat"),
    ("2.25", "'2.25' is not a whole number of seats or a half seat"),
    ("-1", "'-1' is not a whole number of seats >= 0"),
    ("-0.5", "'-0.5' is not a whole number of seats >= 0"),
    ("1e2", "'1e2' is not a whole number of seats >= 0"),
    ("nan", "'nan' is not a whole number of seats >= 0"),
])
def test_other_seat_values_are_refused_with_file_row_and_column(tmp_path, value, needle):
    p = tmp_path / "bad.csv"
    p.write_text(f"date,pollster,sample_size,party,seats\n2020-01-01,A,,x,60\n2020-01-01,A,,y,{value}\n",
                 encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_polls(p)
    msg = str(err.value)
    assert "bad.csv, row 3, column 'seats'" in msg and needle in msg, msg


def test_cli_refuses_a_fractional_seat_cleanly(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("date,pollster,sample_size,party,seats\n2020-01-01,A,,x,60\n2020-01-01,A,,y,3.3\n",
                 encoding="utf-8")
    assert_clean_error(run_cli("simulate", p, "--draws", "100"), "row 3, column 'seats'", "'3.3'")


@pytest.mark.parametrize("year, threshold", [("2003", "1.5"), ("2006", "2"), ("2013", "2")])
def test_cli_simulates_from_a_shipped_file_with_half_seats(year, threshold):
    proc = run_cli("simulate", ROOT / "data" / "polls" / f"knesset-{year}.csv", "--threshold", threshold,
                   "--draws", "200", "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    assert rows and abs(sum(float(r["share_mean"]) for r in rows) - 100) < 5
