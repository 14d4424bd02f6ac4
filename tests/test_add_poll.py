"""`ballotbook add-poll`: a poll from the command line or a wide CSV is appended to a polls file and reads back
with the numbers given; a party the registry does not know (did you mean), a bad date, a seat total off the
house, a duplicate poll: exit 2 and the file byte-identical, no temporary file left behind."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, assert_clean_error, run_cli
from helpers.data.polls import load_polls

POLLS_2022 = ROOT / "data" / "polls" / "knesset-2022.csv"

#: A poll as the analyst types it: names in any form the registry knows, and the key each must become.
TYPED = {"Likud": 31, "Yesh Atid": 24, "religious_zionism": 14, "NATIONAL UNITY": 11, "shas": 8, "UTJ": 7,
         "yisrael_beiteinu": 6, "hadash_taal": 4, "raam": 4, "labor": 5, "meretz": 6, "balad": 0,
         "jewish_home": 0}
KEYS = {"Likud": "likud", "Yesh Atid": "yesh_atid", "NATIONAL UNITY": "national_unity", "UTJ": "utj"}
OPTIONS = ["--published", "2022-10-29", "--pollster", "Maariv Test", "--media", "Maariv", "--sample-size", "700",
           "--fieldwork-end", "2022-10-28", "--source", "https://example.org/poll"]


def figures(typed: dict = TYPED, **below) -> list[str]:
    return [f"{k}={v}" + (f":{below[k]}" if k in below else "") for k, v in typed.items()]


@pytest.fixture
def project(tmp_path) -> Path:
    """A project of its own (reports.yml, the shipped registry) holding a copy of the 2022 polls."""
    (tmp_path / "reports.yml").write_text("reports: []\n", encoding="utf-8")
    (tmp_path / "data" / "polls").mkdir(parents=True)
    shutil.copy(ROOT / "data" / "parties.csv", tmp_path / "data" / "parties.csv")
    shutil.copy(POLLS_2022, tmp_path / "data" / "polls" / "k.csv")
    return tmp_path


def add(project: Path, *args, file: str = "data/polls/k.csv"):
    return run_cli("add-poll", file, *args, cwd=project)


def unchanged(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left


def test_a_poll_reads_back_with_the_numbers_given(project):
    path = project / "data" / "polls" / "k.csv"
    before = path.read_bytes()
    proc = add(project, *OPTIONS, *figures(balad="2.1"))
    assert proc.returncode == 0, proc.stderr
    assert "added to data/polls/k.csv, rows 639-651" in proc.stdout
    after = path.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + len(TYPED)
    df = load_polls(path)
    poll = df[df["pollster"] == "Maariv Test"]
    assert len(poll) == len(TYPED) and poll["poll_id"].nunique() == 1
    expected = {KEYS.get(k, k): v for k, v in TYPED.items()}
    assert dict(zip(poll["party"], poll["seats"].astype(int), strict=True)) == expected
    assert poll["row"].tolist() == list(range(639, 639 + len(TYPED)))
    assert set(poll["date"].dt.strftime("%Y-%m-%d")) == {"2022-10-29"}
    assert set(poll["media"]) == {"Maariv"} and set(poll["sample_size"]) == {700}
    assert poll.set_index("party").loc["balad", "share_if_below"] == 2.1
    # the 2022 file has no fieldwork or source column: both are kept in notes
    assert set(poll["notes"]) == {"fieldwork to: 2022-10-28; source: https://example.org/poll"}
    # the rows mirror the file's: same columns, display names from the registry, the usual poll type
    with open(path, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["pollster"] == "Maariv Test"]
    assert {r["party_name"] for r in rows if r["party"] == "utj"} == {"United Torah Judaism"}
    assert {r["poll_type"] for r in rows} == {"pre_election_poll"}
    # and a report's poll of polls now includes it
    assert df["poll_id"].nunique() == 50


def test_a_typo_is_exit_2_with_did_you_mean_and_the_file_byte_identical(project):
    path = project / "data" / "polls" / "k.csv"
    before = path.read_bytes()
    typo = {("likkud" if k == "Likud" else k): v for k, v in TYPED.items()}
    proc = add(project, *OPTIONS, *figures(typo))
    assert_clean_error(proc, "likkud=31", "'likkud' is not a party", "did you mean 'likud'")
    assert proc.stdout == ""
    unchanged(path, before)


def last_shipped_poll() -> tuple[dict, dict]:
    """The file's last poll, read with the csv module: its fields and {party: seats}."""
    with open(POLLS_2022, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    last = [r for r in rows if r["poll_id"] == rows[-1]["poll_id"]]
    return last[0], {r["party"]: r["seats"] for r in last}


def bad_cases():
    first, seats = last_shipped_poll()
    same = [f"{k}={v}" for k, v in seats.items()]
    fields = ["--published", first["date"], "--pollster", first["pollster"]]
    return [
        ("the same poll again", fields + ["--media", first["media"], *same], ["already has this poll"]),
        ("same pollster, media and day", fields + ["--media", first["media"], *figures()],
         ["already has a poll by", "--poll-id"]),
        ("a poll id the file has", OPTIONS + ["--poll-id", first["poll_id"], *figures()], ["already has a poll"]),
        ("seats off the house", OPTIONS + figures({**TYPED, "Likud": 30}), ["add up to 119, not 120"]),
        ("a party twice", OPTIONS + figures() + ["likud=0"], ["'likud=0'", "already given"]),
        ("a third of a seat", OPTIONS + figures({**TYPED, "shas": "8.3"}), ["'shas=8.3'", "not a number of seats"]),
        ("a percentage beside seats", OPTIONS + figures(Likud="1.2"), ["'Likud=31:1.2'", "only a party shown with 0"]),
        ("published in the future", ["--published", "2999-01-01", "--pollster", "X", *figures()], ["after today"]),
        ("not a day", ["--published", "2022-02-30", "--pollster", "X", *figures()], ["'2022-02-30' is not a date"]),
        ("fieldwork after publication", OPTIONS[:8] + ["--fieldwork-end", "2022-10-30", *figures()],
         ["fieldwork_end 2022-10-30 is after"]),
        ("no pollster", ["--published", "2022-10-29", *figures()], ["--pollster"]),
        ("a sample of none", OPTIONS[:6] + ["--sample-size", "0", *figures()], ["sample size '0'"]),
        ("a column the file lacks", OPTIONS + ["--set", "colour=red", *figures()], ["colour"]),
        ("a figure without a party", OPTIONS + ["31"], ["'31' is not written PARTY=FIGURE"]),
        ("declared new but known", OPTIONS + ["--new", "Likud", *figures()], ["declared new", "'likud'"]),
    ]


@pytest.mark.parametrize("case, args, needles", bad_cases(), ids=[c[0] for c in bad_cases()])
def test_bad_input_is_exit_2_and_nothing_written(project, case, args, needles):
    path = project / "data" / "polls" / "k.csv"
    before = path.read_bytes()
    proc = add(project, *args)
    assert_clean_error(proc, *needles)
    unchanged(path, before)


WIDE = """date,pollster,media,sample size,fieldwork end,Likud,Yesh Atid,religious_zionism,national_unity,shas,utj,\
yisrael_beiteinu,hadash_taal,raam,labor,meretz,balad,jewish_home
2022-10-30,Panels Test,Maariv,600,2022-10-29,31,25,14,11,8,7,6,4,4,5,5,0:2.0,0
2022-10-30,Direct Test,Channel 14,800,,33,23,15,10,8,7,5,4,4,5,6,0,
"""


def test_a_wide_file_adds_one_poll_per_row(project):
    path = project / "data" / "polls" / "k.csv"
    (project / "wide.csv").write_text(WIDE, encoding="utf-8")
    proc = add(project, "--from", "wide.csv")
    assert proc.returncode == 0, proc.stderr
    df = load_polls(path)
    panels = df[df["pollster"] == "Panels Test"].set_index("party")
    direct = df[df["pollster"] == "Direct Test"].set_index("party")
    assert panels.loc["likud", "seats"] == 31 and panels.loc["yesh_atid", "seats"] == 25
    assert panels.loc["balad", "share_if_below"] == 2.0 and len(panels) == 13
    assert direct.loc["likud", "seats"] == 33 and "jewish_home" not in direct.index and len(direct) == 12
    assert set(direct["sample_size"]) == {800} and set(panels["notes"]) == {"fieldwork to: 2022-10-29"}


def test_a_wide_file_with_a_typo_names_its_column(project):
    path = project / "data" / "polls" / "k.csv"
    before = path.read_bytes()
    (project / "wide.csv").write_text(WIDE.replace("Yesh Atid", "Yesh Atidd"), encoding="utf-8")
    proc = add(project, "--from", "wide.csv")
    assert_clean_error(proc, "wide.csv, row 1, column 'Yesh Atidd'", "did you mean 'yesh_atid'")
    unchanged(path, before)
    (project / "wide.csv").write_text(WIDE.replace("0:2.0", "two"), encoding="utf-8")
    assert_clean_error(add(project, "--from", "wide.csv"), "wide.csv, row 2, column 'balad'", "'two'")
    unchanged(path, before)
    (project / "wide.csv").unlink()


def test_a_new_party_is_declared_once(project):
    """--new adds a 'new' column to the header (the old rows stay as they were); later polls spell it any way."""
    path = project / "data" / "polls" / "k.csv"
    before = path.read_bytes().split(b"\n", 1)
    base = ["--published", "2022-10-29", "--pollster", "New One", "likud=30", "yesh_atid=80"]
    assert_clean_error(add(project, *base, "Bennett 2026=10"), "'Bennett 2026' is not a party", "--new")
    proc = add(project, *base, "--new", "Bennett 2026", "Bennett 2026=10")
    assert proc.returncode == 0, proc.stderr
    after = path.read_bytes().split(b"\n", 1)
    assert after[0] == before[0] + b",new" and after[1].startswith(before[1])
    proc = add(project, "--published", "2022-10-29", "--pollster", "New Two", "likud=31", "yesh_atid=78",
               "BENNETT 2026=11")
    assert proc.returncode == 0, proc.stderr
    df = load_polls(path)
    bennett = df[df["party"] == "Bennett 2026"]
    assert bennett["seats"].tolist() == [10, 11] and bennett["pollster"].tolist() == ["New One", "New Two"]


def test_a_share_file_of_candidates_keeps_its_spellings_and_line_endings(tmp_path):
    """Outside the registry's parties (candidates), in a file with Windows line endings and its own mode: the
    file's spelling of each name, a partial poll marked, CRLF kept, permissions kept."""
    path = tmp_path / "race.csv"
    text = ("date,pollster,sample_size,party,share,partial\r\n2024-01-05,A,500,Amir Peretz,40,no\r\n"
            "2024-01-05,A,500,Ehud Barak,35,no\r\n2024-01-05,A,500,Ami Ayalon,25,no\r\n")
    path.write_bytes(text.encode())
    os.chmod(path, 0o640)
    proc = run_cli("add-poll", path, "--published", "2024-01-12", "--pollster", "B", "--sample", "400",
                   "amir peretz=42", "EHUD BARAK=33", "Ami Ayalon=25", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("add-poll", path, "--published", "2024-01-13", "--pollster", "C", "--partial",
                   "Ehud Barak=30", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    raw = path.read_bytes()
    assert raw.startswith(text.encode()) and raw.count(b"\r\n") == raw.count(b"\n") == 8
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o640)
    df = load_polls(path)
    b = df[df["pollster"] == "B"]
    assert b["party"].tolist() == ["Amir Peretz", "Ehud Barak", "Ami Ayalon"]
    assert b["share"].tolist() == [42, 33, 25] and set(b["sample_size"]) == {400}
    c = df[df["pollster"] == "C"]
    assert c["partial"].tolist() == [True] and c["share"].tolist() == [30]
    before = path.read_bytes()
    assert_clean_error(run_cli("add-poll", path, "--published", "2024-01-14", "--pollster", "D", "Amir Perets=40",
                               "Ehud Barak=40", cwd=tmp_path),
                       "'Amir Perets' is not among the parties of", "did you mean 'Amir Peretz'")
    assert_clean_error(run_cli("add-poll", path, "--published", "2024-01-14", "--pollster", "D", "Amir Peretz=20",
                               "Ehud Barak=10", cwd=tmp_path), "add up to 30%", "below 50%")
    assert path.read_bytes() == before
    proc = run_cli("add-poll", path, "--published", "2024-01-14", "--pollster", "D", "--new", "Avishay Braverman",
                   "Avishay Braverman=10", "Amir Peretz=50", "Ehud Barak=40", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert load_polls(path)["party"].tolist()[-3:] == ["Avishay Braverman", "Amir Peretz", "Ehud Barak"]


def test_a_partial_poll_in_a_file_without_a_partial_column(project):
    """The 2022 file marks nothing partial by column: the reader's mark, PARTIAL in the notes, is written."""
    path = project / "data" / "polls" / "k.csv"
    proc = add(project, "--published", "2022-10-29", "--pollster", "Part", "--partial", "likud=32", "balad=0:1.5")
    assert proc.returncode == 0, proc.stderr
    part = load_polls(path).query("pollster == 'Part'")
    assert part["partial"].tolist() == [True, True] and part["seats"].tolist() == [32, 0]
    assert "PARTIAL" in part["notes"].iloc[0]


def test_a_wide_column_named_as_a_column_of_the_file_sets_it(project):
    """source_table_row is a column of the 2022 file, not a party: a wide file's column of that name fills it."""
    path = project / "data" / "polls" / "k.csv"
    (project / "wide.csv").write_text(WIDE.replace("fieldwork end,", "fieldwork end,source_table_row,")
                                      .replace("2022-10-29,", "2022-10-29,77,").replace(",800,,", ",800,,78,"),
                                      encoding="utf-8")
    proc = add(project, "--from", "wide.csv")
    assert proc.returncode == 0, proc.stderr
    df = load_polls(path)
    assert set(df[df["pollster"] == "Panels Test"]["source_table_row"]) == {"77"}
    assert set(df[df["pollster"] == "Direct Test"]["source_table_row"]) == {"78"}


def test_a_wide_file_declares_new_parties_and_partial_polls(project):
    path = project / "data" / "polls" / "k.csv"
    (project / "wide.csv").write_text(
        "date,pollster,new,partial,Likud,Yesh Atid,Bennett 2026\n"
        "2022-10-30,W1,Bennett 2026,no,30,80,10\n"
        "2022-10-30,W2,,yes,32,,\n", encoding="utf-8")
    proc = add(project, "--from", "wide.csv")
    assert proc.returncode == 0, proc.stderr
    df = load_polls(path)
    w1, w2 = (df[df["pollster"] == w].set_index("party") for w in ("W1", "W2"))
    assert w1["seats"].to_dict() == {"likud": 30, "yesh_atid": 80, "Bennett 2026": 10}
    assert not w1["partial"].any() and w2["partial"].all() and w2["seats"].to_dict() == {"likud": 32}
