"""The events loader: real data loads; each kind of bad file is a clear DataError naming file, row, column."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import ROOT, golden_rows
from helpers import data
from helpers.core.errors import DataError

HEADER = "date,actors,category,description\n"


def write(tmp_path, text, name="events.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_events_load_with_every_precision():
    ev = data.load_events(ROOT / "data/events.csv")
    assert len(ev) == 56
    assert set(ev["precision"]) == {"day", "month", "year"}
    # A month-precision date covers its whole month; a year-precision date its whole year.
    month = ev[ev["date"] == "2005-12"].iloc[0]
    assert (month["start"], month["end"]) == (pd.Timestamp("2005-12-01"), pd.Timestamp("2005-12-31"))
    year = ev[ev["date"] == "2014"].iloc[0]
    assert (year["start"], year["end"]) == (pd.Timestamp("2014-01-01"), pd.Timestamp("2014-12-31"))
    assert ev["actors"].map(len).min() >= 1


def test_descriptions_and_dates_are_kept_exactly_as_in_the_reference():
    reference = golden_rows("timeline_events.csv")
    ours = data.load_events(ROOT / "data/events.csv")
    assert ours["description"].tolist() == [r["description"] for r in reference]
    assert ours["date"].tolist() == [r["date"] for r in reference]


@pytest.mark.parametrize("date", ["2007-02-30", "2007-13", "2007-13-01", "07-05-28", "2007/05/28", "May 2007"])
def test_impossible_date_names_file_row_and_column(tmp_path, date):
    p = write(tmp_path, HEADER + "2007-05-28,Ehud Barak,primary,ok\n" + f"{date},Ami Ayalon,primary,bad\n")
    with pytest.raises(DataError) as err:
        data.load_events(p)
    msg = str(err.value)
    assert "events.csv" in msg and "row 3" in msg and "column 'date'" in msg and date in msg


def test_precision_must_match_the_date(tmp_path):
    p = write(tmp_path, "date,date_precision,actors,category,description\n2007-05,day,A,primary,x\n")
    with pytest.raises(DataError, match=r"row 2, column 'date_precision'.*month"):
        data.load_events(p)


def test_end_date_before_start(tmp_path):
    p = write(tmp_path, "date,end_date,actors,category,description\n2007-05-28,2007-05-01,A,war,x\n")
    with pytest.raises(DataError, match=r"row 2, column 'end_date'"):
        data.load_events(p)


def test_end_date_extends_the_interval(tmp_path):
    p = write(tmp_path, "date,end_date,actors,category,description\n2006-07-12,2006-08,A,war,x\n")
    ev = data.load_events(p)
    assert ev.loc[0, "end"] == pd.Timestamp("2006-08-31")


@pytest.mark.parametrize("text, needle", [
    ("", "is empty"),
    (HEADER, "no data rows"),
    ("date,actors,category\n2007,A,x\n", "missing column 'description'"),
    (HEADER + "2007,,primary,x\n", "row 2, column 'actors'"),
    (HEADER + "2007,A,,x\n", "row 2, column 'category'"),
    (HEADER + "2007,A,war,x,extra\n", "row 2"),
    (HEADER + '2007,A,war,"unclosed\n', "events.csv"),
])
def test_bad_files(tmp_path, text, needle):
    with pytest.raises(DataError) as err:
        data.load_events(write(tmp_path, text))
    assert needle in str(err.value)


def test_binary_and_missing_files(tmp_path):
    p = tmp_path / "events.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(DataError, match="binary"):
        data.load_events(p)
    with pytest.raises(DataError, match="does not exist"):
        data.load_events(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="not UTF-8"):
        (tmp_path / "latin.csv").write_bytes(HEADER.encode() + "2007,Peré\xe9,war,x\n".encode("latin-1"))
        data.load_events(tmp_path / "latin.csv")


@pytest.mark.parametrize("text", ["2007", "2007-05", "2007-05-28", " 2007-05-28 ", "2007-13", "2007-00", "2007-02-30",
                                  "0000", "2007-5", "07-05-28", "2007/05/28", "2022-W43-5", "20070528", "May 2007"])
def test_every_loader_reads_a_written_date_the_same_way(text):
    """Events, polls and primaries files accept and refuse exactly the same dates (one parser)."""
    from helpers.data._table import parse_partial_date
    from helpers.data.polls import _parse_period
    from helpers.data.primaries import _partial_date

    def outcome(parse):
        try:
            parse(text)
        except ValueError:
            return "refused"
        return "read"

    got = {outcome(parse_partial_date), outcome(_parse_period), outcome(_partial_date)}
    assert len(got) == 1, (text, got)
    if outcome(parse_partial_date) == "read":
        first, _, precision = parse_partial_date(text)
        assert _parse_period(text) == (first, precision)
