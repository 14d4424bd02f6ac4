"""The election-file loaders (helpers.data.knesset): the shipped files load with fixed dtypes; each kind of
bad file is a DataError naming file, row and column."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest

from conftest import ROOT
from helpers import data
from helpers.core.errors import DataError

DATES = ["2003-01-28", "2006-03-28", "2009-02-10", "2013-01-22", "2022-11-01"]
POLL_KEYS_2022 = {"likud", "yesh_atid", "religious_zionism", "national_unity", "shas", "utj",
                  "yisrael_beiteinu", "raam", "hadash_taal", "labor", "meretz", "balad", "jewish_home"}


def write(tmp_path, text, name="f.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("date", DATES)
def test_shipped_results_and_agreements_load(date):
    votes = data.load_votes(ROOT / f"data/knesset/results/{date}.csv")
    assert list(votes.columns) == ["list", "votes", "name", "name_hebrew", "letters", "seats"]
    assert votes["votes"].dtype == "int64" and votes["seats"].dtype == "int64"
    assert votes["seats"].sum() == 120
    assert votes["list"].str.fullmatch(r"[a-z0-9_]+").all()
    pairs = data.load_pairs(ROOT / f"data/knesset/agreements/{date}.csv")
    assert pairs and all(a in set(votes["list"]) and b in set(votes["list"]) for a, b in pairs)


def test_list_keys_match_the_poll_keys():
    keys_2022 = set(data.load_votes(ROOT / "data/knesset/results/2022-11-01.csv")["list"])
    assert POLL_KEYS_2022 <= keys_2022
    keys_2009 = set(data.load_votes(ROOT / "data/knesset/results/2009-02-10.csv")["list"])
    assert {"kadima", "likud", "yisrael_beiteinu", "labor", "shas", "utj", "raam_taal", "national_union",
            "hadash", "meretz", "jewish_home", "balad", "gil", "greens"} <= keys_2009


def test_elections_file():
    el = data.load_elections(ROOT / "data/knesset/elections.csv")
    assert list(el["date"]) == [pd.Timestamp(d) for d in DATES]
    assert list(el["threshold"]) == [Fraction(3, 2), 2, 2, 2, Fraction(13, 4)]
    assert el["threshold_percent"].tolist() == [1.5, 2.0, 2.0, 2.0, 3.25]
    assert (el["seats"] == 120).all() and (el["valid_votes"] <= el["ballots_cast"]).all()
    for date, valid in zip(el["date"], el["valid_votes"], strict=True):
        votes = data.load_votes(ROOT / f"data/knesset/results/{date:%Y-%m-%d}.csv")
        assert votes["votes"].sum() == valid


def test_seats_file(tmp_path):
    seats = data.load_seats(write(tmp_path, "party,seats,bloc\nLikud,32,right\nLabor,4,\n"))
    assert list(seats.columns) == ["party", "seats", "bloc"]
    assert seats["seats"].tolist() == [32, 4]


def test_empty_pairs_file_means_no_agreements(tmp_path):
    assert data.load_pairs(write(tmp_path, "list_a,list_b\n")) == []


@pytest.mark.parametrize("loader,text,needles", [
    (data.load_votes, "list,votes\na,12\nb,-3\n", ["row 3", "'votes'", "'-3'"]),
    (data.load_votes, "list,votes\na,12\nA,3\n", ["row 3", "already appears in row 2"]),
    (data.load_votes, "list,votes\na,1.5\n", ["row 2", "'1.5'"]),
    (data.load_votes, "list,votes\n,5\n", ["row 2", "'list'", "empty"]),
    (data.load_votes, "list,votes\na,0\n", ["0 votes"]),
    (data.load_votes, "list,votes,seats\na,5,x\n", ["row 2", "'seats'"]),
    (data.load_pairs, "list_a,list_b\na,b\nc,a\n", ["row 3", "'list_b'", "in the agreement of row 2"]),
    (data.load_pairs, "list_a,list_b\na,A\n", ["row 2", "same list"]),
    (data.load_pairs, "list_a,list_b\na,\n", ["row 2", "'list_b'"]),
    (data.load_seats, "party,seats\na,x\n", ["row 2", "'seats'"]),
    (data.load_seats, "party,seats\na,0\n", ["0 seats"]),
    (data.load_seats, "name,seats\na,1\n", ["missing column", "'party'"]),
    (data.load_elections, "date,knesset,valid_votes,ballots_cast,threshold_percent,seats\n"
                          "2022-11-01,25,10,5,3.25,120\n", ["row 2", "more than"]),
    (data.load_elections, "date,knesset,valid_votes,ballots_cast,threshold_percent,seats\n"
                          "2022-11-01,25,5,10,100,120\n", ["row 2", "'threshold_percent'"]),
])
def test_bad_files_name_row_and_column(tmp_path, loader, text, needles):
    with pytest.raises(DataError) as err:
        loader(write(tmp_path, text))
    message = str(err.value)
    assert "f.csv" in message
    for needle in needles:
        assert needle in message, (needle, message)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        data.load_votes(tmp_path / "nope.csv")


def test_file_loaders_are_registered():
    assert data.loader_for("results") is data.load_votes
    assert data.loader_for("agreements") is data.load_pairs
