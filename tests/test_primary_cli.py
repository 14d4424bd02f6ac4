"""`ballotbook primary` run as a user runs it: the real outcome of every Labor leadership round in the golden
reference data (from the kit's round files), the exact-40% rule both ways, the stated corner cases, and clean
exit-2 errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import ROOT, assert_clean_error, golden_rows, run_cli

ROUNDS = ROOT / "data" / "primaries"


def published_rounds() -> dict[tuple[str, str], list[dict]]:
    """The golden reference file grouped by (year, round), without ballot options ('none of the above')."""
    out: dict[tuple[str, str], list[dict]] = {}
    for r in golden_rows("labor_leadership.csv"):
        if r["candidate"].startswith("("):
            continue
        out.setdefault((r["election_date"][:4], r["round"]), []).append(r)
    return out


PUBLISHED = published_rounds()


def primary(*args):
    return run_cli("primary", *args)


def rows(stdout: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(stdout)))


def write(tmp_path: Path, text: str, name: str = "round.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("key", sorted(PUBLISHED), ids=lambda k: f"{k[0]}-round{k[1]}")
def test_every_labor_round_gets_its_real_outcome(key):
    year, rnd = key
    published = PUBLISHED[key]
    path = ROUNDS / f"labor-{year}-round{rnd}.csv"
    proc = primary(path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    winners = [r["candidate"] for r in published if r["winner"] == "yes"]
    advanced = {r["candidate"] for r in published if r["winner"] == "advanced"}
    if winners:
        assert out["outcome"] == "winner" and out["winner"] == winners[0] and out["runoff"] == []
    else:
        assert out["outcome"] == "runoff" and out["winner"] is None and set(out["runoff"]) == advanced
    # The round file holds the published counts, in the published order.
    assert [(c["candidate"], c["votes"]) for c in out["candidates"]] == [
        (r["candidate"], int(r["votes"])) for r in published]
    total = sum(int(r["votes"]) for r in published)
    for c in out["candidates"]:
        assert c["share"] == pytest.approx(100 * c["votes"] / total, abs=1e-9)
    # The CSV form says the same thing.
    proc = primary(path)
    assert proc.returncode == 0, proc.stderr
    table = rows(proc.stdout)
    assert list(table[0]) == ["candidate", "votes", "share", "result"]
    expected = {r["candidate"]: {"yes": "winner", "advanced": "runoff", "no": "out"}[r["winner"]]
                for r in published}
    assert {r["candidate"]: r["result"] for r in table} == expected


def test_exactly_forty_percent_both_ways(tmp_path):
    path = write(tmp_path, "candidate,votes\nA,40\nB,35\nC,25\n")
    out = json.loads(primary(path, "--format", "json").stdout)
    assert out["outcome"] == "runoff" and out["winner"] is None and out["runoff"] == ["A", "B"]
    assert out["candidates"][0] == {"candidate": "A", "votes": 40, "share": 40.0}
    assert set(out) == {"outcome", "winner", "runoff", "candidates"}
    out = json.loads(primary(path, "--inclusive", "--format", "json").stdout)
    assert out["outcome"] == "winner" and out["winner"] == "A" and out["runoff"] == []
    table = rows(primary(path, "--inclusive").stdout)
    assert [r["result"] for r in table] == ["winner", "out", "out"]
    table = rows(primary(path).stdout)
    assert [r["result"] for r in table] == ["runoff", "runoff", "out"]


def test_threshold_is_compared_exactly(tmp_path):
    # 401 of 1000 is exactly 40.1 percent: a float comparison could go either way, the rule must not.
    path = write(tmp_path, "candidate,votes\nA,401\nB,300\nC,299\n")
    assert json.loads(primary(path, "--threshold", "40.1", "--format", "json").stdout)["outcome"] == "runoff"
    assert json.loads(primary(path, "--threshold", "40.1", "--inclusive", "--format", "json").stdout)[
        "winner"] == "A"


def test_two_candidates_over_the_threshold(tmp_path):
    path = write(tmp_path, "candidate,votes\nA,45\nB,42\nC,13\n")
    out = json.loads(primary(path, "--format", "json").stdout)
    assert out["outcome"] == "winner" and out["winner"] == "A"


def test_tie_for_second_is_reported_not_broken(tmp_path):
    path = write(tmp_path, "candidate,votes\nA,40\nB,30\nC,30\n")
    proc = primary(path, "--format", "json")
    assert proc.returncode == 0
    out = json.loads(proc.stdout)
    assert out["outcome"] == "runoff" and out["runoff"] == ["A", "B", "C"] and out["tie"] == ["B", "C"]
    assert "tied" in proc.stderr and "Traceback" not in proc.stderr
    table = rows(primary(path).stdout)
    assert [r["result"] for r in table] == ["runoff", "runoff", "runoff"]


def test_single_candidate_and_candidate_without_votes(tmp_path):
    out = json.loads(primary(write(tmp_path, "candidate,votes\nSolo,12\n"), "--threshold", "100",
                             "--format", "json").stdout)
    assert out == {"outcome": "winner", "winner": "Solo", "runoff": [],
                   "candidates": [{"candidate": "Solo", "votes": 12, "share": 100.0}]}
    table = rows(primary(write(tmp_path, "candidate,votes,party\nA,30,x\nB,20,y\nC,0,z\n", "z.csv")).stdout)
    assert table == [{"candidate": "A", "votes": "30", "share": "60.0", "result": "winner"},
                     {"candidate": "B", "votes": "20", "share": "40.0", "result": "out"},
                     {"candidate": "C", "votes": "0", "share": "0.0", "result": "out"}]


def test_share_is_unrounded(tmp_path):
    table = rows(primary(write(tmp_path, "candidate,votes\nA,1\nB,1\nC,1\n")).stdout)
    assert float(table[0]["share"]) == pytest.approx(100 / 3, abs=1e-12)
    assert len(table[0]["share"].split(".")[1]) >= 4


@pytest.mark.parametrize("text, needles", [
    ("candidate,count\nA,1\n", ["'votes'"]),
    ("candidate,votes\nA,-3\nB,4\n", ["row 2", "'votes'", "-3"]),
    ("candidate,votes\nA,1.5\nB,4\n", ["row 2", "1.5"]),
    ("candidate,votes\nA,0\nB,0\n", ["0 votes"]),
    ("candidate,votes\nA,3\na,4\n", ["row 3", "already appears in row 2"]),
    ("candidate,votes\n,3\n", ["row 2", "'candidate'"]),
    ("candidate,votes\n", ["no data rows"]),
    ("", ["empty"]),
])
def test_bad_round_files_exit_2(tmp_path, text, needles):
    assert_clean_error(primary(write(tmp_path, text)), *needles)


@pytest.mark.parametrize("threshold", ["0", "-5", "100.5", "nan", "inf"])
def test_bad_threshold_exits_2(tmp_path, threshold):
    path = write(tmp_path, "candidate,votes\nA,40\nB,35\n")
    assert_clean_error(primary(path, f"--threshold={threshold}"), "--threshold")


def test_missing_file_exits_2(tmp_path):
    assert_clean_error(primary(tmp_path / "nope.csv"), "nope.csv", "does not exist")


def test_threshold_of_100_is_allowed(tmp_path):
    path = write(tmp_path, "candidate,votes\nA,40\nB,0\n")
    out = json.loads(primary(path, "--threshold", "100", "--inclusive", "--format", "json").stdout)
    assert out["winner"] == "A"
