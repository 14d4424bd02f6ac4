"""`ballotbook seats` and `ballotbook coalitions` as a user runs them: the contract's columns and formats,
every official Knesset result from the shipped files, and exit 2 with one clear sentence for bad input."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import ROOT, assert_clean_error, run_cli

ELECTIONS = ["2003-01-28", "2006-03-28", "2009-02-10", "2013-01-22", "2022-11-01"]


def election_rows():
    with open(ROOT / "data/knesset/elections.csv", encoding="utf-8", newline="") as f:
        return {r["date"]: r for r in csv.DictReader(f)}


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("date", ELECTIONS)
def test_seats_cli_reproduces_every_official_result(date):
    election = election_rows()[date]
    results = f"data/knesset/results/{date}.csv"
    proc = run_cli("seats", results, "--threshold", election["threshold_percent"], "--seats",
                   election["seats"], "--agreements", f"data/knesset/agreements/{date}.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "list,votes,seats,tie"
    got = read_csv(proc.stdout)
    with open(ROOT / results, encoding="utf-8", newline="") as f:
        official = list(csv.DictReader(f))
    assert [r["list"] for r in got] == [r["list"] for r in official]  # input order, every list kept
    assert [r["votes"] for r in got] == [r["votes"] for r in official]
    assert [r["seats"] for r in got] == [r["seats"] for r in official]
    assert {r["tie"] for r in got} == {"false"}


def test_seats_cli_json_and_default_method(tmp_path):
    votes = write(tmp_path, "v.csv", "list,votes,name\na,4160,A\nb,3380,B\nc,2460,C\n")
    proc = run_cli("seats", votes, "--seats", "10", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [
        {"list": "a", "votes": 4160, "seats": 4, "tie": False},
        {"list": "b", "votes": 3380, "seats": 4, "tie": False},
        {"list": "c", "votes": 2460, "seats": 2, "tie": False},
    ]
    sl = run_cli("seats", votes, "--seats", "10", "--method", "sainte-lague")
    assert [r["seats"] for r in read_csv(sl.stdout)] == ["4", "3", "3"]


def test_seats_cli_reports_a_tie(tmp_path):
    votes = write(tmp_path, "v.csv", "list,votes\na,360\nb,280\n")
    proc = run_cli("seats", votes, "--seats", "15")
    assert proc.returncode == 0
    assert read_csv(proc.stdout) == [{"list": "a", "votes": "360", "seats": "9", "tie": "true"},
                                     {"list": "b", "votes": "280", "seats": "6", "tie": "true"}]
    assert "tie" in proc.stderr and "Traceback" not in proc.stderr


def test_seats_cli_audit():
    proc = run_cli("seats", "data/knesset/results/2022-11-01.csv", "--threshold", "3.25", "--agreements",
                   "data/knesset/agreements/2022-11-01.csv", "--audit")
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(proc.stdout)
    assert list(rows[0]) == ["step", "seat", "list", "votes", "quotient", "quotient_exact", "seats", "note"]
    gauge = next(r for r in rows if r["step"] == "gauge")
    assert gauge["quotient"] == "36227" and gauge["votes"] == "4347342"
    seats = [r for r in rows if r["step"] == "seat"]
    assert [r["seat"] for r in seats] == [str(n) for n in range(114, 121)]
    assert seats[-1]["list"] == "likud+religious_zionism" and seats[-1]["quotient_exact"] == "815903/23"
    as_json = json.loads(run_cli("seats", "data/knesset/results/2022-11-01.csv", "--threshold", "3.25",
                                 "--audit", "--format", "json").stdout)
    assert as_json[0]["step"] == "threshold"


def test_threshold_applies_to_the_whole_file(tmp_path):
    # 154,855 of 4,764,742 clears 3.25% (154,854.115 needed); 154,854 does not
    passes = write(tmp_path, "p.csv", f"list,votes\nsmall,154855\nbig,{4764742 - 154855}\n")
    fails = write(tmp_path, "f.csv", f"list,votes\nsmall,154854\nbig,{4764742 - 154854}\n")
    assert int(read_csv(run_cli("seats", passes, "--threshold", "3.25").stdout)[0]["seats"]) > 0
    assert read_csv(run_cli("seats", fails, "--threshold", "3.25").stdout)[0]["seats"] == "0"


@pytest.mark.parametrize("args,files,needles", [
    (["--method", "plurality"], {}, ["--method"]),
    (["--threshold", "100"], {}, ["--threshold", "100"]),
    (["--seats", "0"], {}, ["--seats"]),
    (["--agreements", "{pairs}"], {"pairs": "list_a,list_b\na,b\na,c\n"}, ["row 3", "'a'"]),
    (["--agreements", "{pairs}"], {"pairs": "list_a,list_b\na,zz\n"}, ["'zz'"]),
])
def test_seats_cli_bad_options_exit_2(tmp_path, args, files, needles):
    votes = write(tmp_path, "v.csv", "list,votes\na,100\nb,200\nc,300\n")
    paths = {k: write(tmp_path, f"{k}.csv", v) for k, v in files.items()}
    args = [str(a).format(**paths) for a in args]
    assert_clean_error(run_cli("seats", votes, *args), *needles)


@pytest.mark.parametrize("content,needles", [
    ("list,votes\na,0\nb,0\n", ["votes", "0 votes"]),
    ("list,count\na,1\n", ["missing column", "'votes'"]),
])
def test_seats_cli_bad_votes_files_exit_2(tmp_path, content, needles):
    """More bad files are covered in-process in test_seats_data.py."""
    assert_clean_error(run_cli("seats", write(tmp_path, "v.csv", content)), *needles)


# ------------------------------------------------------------------------------------------ coalitions

SEATS_2022 = ("party,seats\nLikud,32\nYesh Atid,24\nReligious Zionism,14\nNational Unity,12\nShas,11\n"
              "UTJ,7\nYisrael Beiteinu,6\nRaam,5\nHadash-Taal,5\nLabor,4\n")


def test_coalitions_cli_minimal_winning_2022(tmp_path):
    proc = run_cli("coalitions", write(tmp_path, "s.csv", SEATS_2022))
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(proc.stdout)
    assert list(rows[0]) == ["members", "seats", "surplus"]
    assert len(rows) == 70
    assert rows[0] == {"members": "Likud+Yesh Atid+Religious Zionism", "seats": "70", "surplus": "9"}
    assert {"members": "Likud+Religious Zionism+Shas+UTJ", "seats": "64", "surplus": "3"} in rows
    assert all(int(r["surplus"]) == int(r["seats"]) - 61 >= 0 for r in rows)


def test_coalitions_cli_all_veto_require_json(tmp_path):
    seats = write(tmp_path, "s.csv", SEATS_2022)
    every = read_csv(run_cli("coalitions", seats, "--all").stdout)
    assert len(every) > 70 and all(int(r["seats"]) >= 61 for r in every)
    proc = run_cli("coalitions", seats, "--veto", "likud,yesh atid", "--require", "SHAS", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found and all("Shas" in c["parties"] for c in found)
    assert not any({"Likud", "Yesh Atid"} <= set(c["parties"]) for c in found)
    assert set(found[0]) == {"members", "seats", "surplus", "parties"}


def test_coalitions_cli_reference_vetoes_case(tmp_path):
    seats = write(tmp_path, "s.csv", "party,seats\nA,72\nB,71\nC,37\nD,20\n")
    proc = run_cli("coalitions", seats, "--majority", "101", "--veto", "A,C", "--veto", "B,D",
                   "--veto", "C,D")
    assert read_csv(proc.stdout) == [{"members": "A+B", "seats": "143", "surplus": "42"},
                                     {"members": "B+C", "seats": "108", "surplus": "7"}]


def test_coalitions_cli_power(tmp_path):
    proc = run_cli("coalitions", write(tmp_path, "s.csv", SEATS_2022), "--power")
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(proc.stdout)
    assert list(rows[0]) == ["party", "seats", "banzhaf_swings", "banzhaf", "shapley_shubik"]
    swings = [int(r["banzhaf_swings"]) for r in rows]
    assert swings == [315, 191, 123, 99, 89, 57, 49, 39, 39, 27]


@pytest.mark.parametrize("args,needles", [
    (["--veto", "Likd,Shas"], ["'Likd'", "did you mean 'Likud'"]),
    (["--veto", "Likud"], ["--veto", "two parties"]),
    (["--require", "Nobody"], ["'Nobody'"]),
    (["--majority", "121"], ["--majority", "120"]),
])
def test_coalitions_cli_bad_options_exit_2(tmp_path, args, needles):
    assert_clean_error(run_cli("coalitions", write(tmp_path, "s.csv", SEATS_2022), *args), *needles)


def test_coalitions_cli_bad_file_exit_2(tmp_path):
    assert_clean_error(run_cli("coalitions", write(tmp_path, "s.csv", "party,seats\na,0\nb,0\n")), "0 seats")
