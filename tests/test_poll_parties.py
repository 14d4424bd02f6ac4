"""Polls files matched against the party registry (issue 16): a party the registry does not know is exit 2
before any kernel starts, with the row a user sees in an editor and a "did you mean"; every spelling the
registry knows (key, name, alias, any letter case) is the registry key everywhere; a file declares a party
``new``; a file of other parties (candidates, another country) and ``simulate`` without a registry still work,
with letter case folded."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from conftest import ROOT, assert_clean_error, run_cli, run_cli_process
from helpers.core.errors import DataError
from helpers.data.polls import load_parties, load_polls
from helpers.models import polls as model

POLLS_2022 = ROOT / "data" / "polls" / "knesset-2022.csv"
NB = "notebooks/01_poll_thresholds.ipynb"


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def with_party(path: Path, changes: dict[int, tuple[str, str]], out: Path) -> Path:
    """A copy of a polls file with the party cell of some editor lines (1 = the header) replaced:
    {line: (old cell, new cell)}."""
    lines = lines_of(path)
    for line, (old, new) in changes.items():
        assert f",{old}," in lines[line - 1], (line, lines[line - 1])
        lines[line - 1] = lines[line - 1].replace(f",{old},", f",{new},", 1)
    out.write_text("".join(lines), encoding="utf-8")
    return out


def likud_lines(path: Path) -> list[int]:
    """The editor lines (1 = header) whose party cell is 'likud', read with the csv module."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return [reader.line_num for r in reader if r["party"] == "likud"]


REGISTRY = load_parties(ROOT / "data" / "parties.csv")
LIKUD_KEY = REGISTRY.loc[REGISTRY["name"] == "Likud", "key"].iloc[0]


# ---------------------------------------------------------------------------------------------- the loader


def test_a_typo_is_an_error_naming_row_column_and_the_party_meant(tmp_path):
    line = likud_lines(POLLS_2022)[3]
    bad = with_party(POLLS_2022, {line: (LIKUD_KEY, "likkud")}, tmp_path / "x.csv")
    with pytest.raises(DataError) as err:
        load_polls(bad)
    msg = str(err.value)
    assert f"x.csv, row {line}, column 'party'" in msg, msg
    assert "'likkud' is not a party" in msg and f"did you mean '{LIKUD_KEY}'" in msg, msg


def test_every_spelling_the_registry_knows_is_its_key(tmp_path):
    """Key, display name, alias and letter case: one party, the registry's key, in every poll."""
    lines = likud_lines(POLLS_2022)
    spellings = ["Likud", "LIKUD", "Likud–Ahi", "likud"]
    changes = {line: (LIKUD_KEY, spellings[i % len(spellings)]) for i, line in enumerate(lines)}
    mixed = load_polls(with_party(POLLS_2022, changes, tmp_path / "mixed.csv"))
    shipped = load_polls(POLLS_2022)
    assert set(mixed["party"]) == set(shipped["party"])
    assert mixed["party"].tolist() == shipped["party"].tolist()
    pooled_mixed = model.poll_of_polls(mixed, threshold=3.25)
    pooled = model.poll_of_polls(shipped, threshold=3.25)
    assert pooled_mixed.shares.to_dict() == pooled.shares.to_dict()


def test_a_party_twice_under_two_names_in_one_poll(tmp_path):
    text = ("poll_id,date,pollster,sample_size,party,seats\n"
            "p,2022-10-01,P,,likud,60\np,2022-10-01,P,,yesh_atid,30\np,2022-10-01,P,,Likud–Ahi,30\n")
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"row 4, column 'party': 'Likud–Ahi' \(as 'likud'\) appears twice"):
        load_polls(path)


def test_a_file_declares_a_new_party_once(tmp_path):
    """new=yes on the first row of a party the registry lacks; its later rows (any letter case) are that party,
    written as first spelled. A row without the declaration is still an error."""
    head = "poll_id,date,pollster,sample_size,party,seats,new\n"
    rows = ("a,2022-10-01,P,,likud,60,\na,2022-10-01,P,,Bennett 2026,30,yes\na,2022-10-01,P,,yesh_atid,30,\n"
            "b,2022-10-02,P,,LIKUD,58,\nb,2022-10-02,P,,bennett 2026,32,\nb,2022-10-02,P,,yesh_atid,30,\n")
    path = tmp_path / "p.csv"
    path.write_text(head + rows, encoding="utf-8")
    df = load_polls(path)
    assert df["party"].tolist() == ["likud", "Bennett 2026", "yesh_atid"] * 2
    undeclared = tmp_path / "q.csv"
    undeclared.write_text(head + rows.replace(",yes\n", ",\n"), encoding="utf-8")
    with pytest.raises(DataError, match=r"q.csv, row 3, column 'party': 'Bennett 2026' is not a party"):
        load_polls(undeclared)
    with pytest.raises(DataError, match=r"row 2, column 'new': 'maybe' is not yes or no"):
        bad = tmp_path / "r.csv"
        bad.write_text(head + rows.replace("60,\n", "60,maybe\n"), encoding="utf-8")
        load_polls(bad)


def test_a_typo_of_a_declared_new_party_is_suggested(tmp_path):
    text = ("poll_id,date,pollster,sample_size,party,seats,new\n"
            "a,2022-10-01,P,,likud,60,\na,2022-10-01,P,,Bennett 2026,60,yes\n"
            "b,2022-10-02,P,,likud,60,\nb,2022-10-02,P,,Benett 2026,60,\n")
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"row 5, column 'party': 'Benett 2026' .* did you mean 'Bennett 2026'"):
        load_polls(path)


def test_merged_columns_are_matched_part_by_part(tmp_path):
    text = "poll_id,date,pollster,sample_size,party,seats\np,2022-10-01,P,,Likud+SHAS,70\np,2022-10-01,P,,labor,50\n"
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    assert load_polls(path)["party"].tolist() == ["likud+shas", "labor"]
    path.write_text(text.replace("Likud+SHAS", "Likud+Shass"), encoding="utf-8")
    with pytest.raises(DataError, match=r"row 2, column 'party': 'Shass' is not a party.*did you mean 'shas'"):
        load_polls(path)


def test_other_parties_are_read_without_the_registry_with_case_folded(tmp_path):
    """A file none of whose parties the registry knows (candidates, another country): read as it is, every
    letter-case variant being the first spelling, with or without a registry."""
    text = ("poll_id,date,pollster,sample_size,party,share\n"
            "a,2022-10-01,P,600,Amir Peretz,55\na,2022-10-01,P,600,Ehud Barak,45\n"
            "b,2022-10-05,Q,600,AMIR PERETZ,50\nb,2022-10-05,Q,600,ehud barak,50\n")
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    for parties in (REGISTRY, None):
        df = load_polls(path, parties=parties)
        assert df["party"].tolist() == ["Amir Peretz", "Ehud Barak"] * 2
        pp = model.poll_of_polls(df, threshold=0)
        assert sorted(pp.parties) == ["Amir Peretz", "Ehud Barak"]
    labor = load_polls(ROOT / "data" / "polls" / "labor-leadership.csv")
    assert "Amir Peretz" in set(labor["party"])


def test_a_scenario_base_with_a_typo_names_the_polls_file(tmp_path):
    from helpers.data.scenarios import load_scenario

    line = likud_lines(POLLS_2022)[0]
    bad = with_party(POLLS_2022, {line: (LIKUD_KEY, "Likkud")}, tmp_path / "x.csv")
    scenario = tmp_path / "s.yml"
    scenario.write_text(f"title: t\npolls: {bad}\nas_of: 2022-10-28\nmajority: 61\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_scenario(scenario)
    msg = str(err.value)
    assert "s.yml" in msg and "x.csv" in msg and f"row {line}" in msg and f"did you mean '{LIKUD_KEY}'" in msg


# ---------------------------------------------------------------------------------------- the command line


def test_run_with_a_typo_stops_before_any_kernel(tmp_path, kernel_starts):
    """The issue's case: exit 2 naming the file, the row and the party meant; no kernel, nothing written."""
    line = likud_lines(POLLS_2022)[5]
    bad = with_party(POLLS_2022, {line: (LIKUD_KEY, "likkud")}, tmp_path / "X.csv")
    out = tmp_path / "x.html"
    proc = run_cli_process("run", NB, "-p", "polls", bad, "-o", out, timeout=60)
    assert_clean_error(proc, "X.csv", f"row {line}", f"did you mean '{LIKUD_KEY}'")
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    inproc = run_cli("run", NB, "-p", "polls", bad, "-o", out)
    assert_clean_error(inproc, "X.csv", f"row {line}", f"did you mean '{LIKUD_KEY}'")
    assert kernel_starts == [] and not out.exists()


TWO_HOUSES = ("date,pollster,sample_size,party,share\n"
              "2022-10-27,A,600,{likud},31\n2022-10-27,A,600,{yesh},24\n"
              "2022-10-28,B,600,{likud2},29\n2022-10-28,B,600,{yesh2},26\n")


@pytest.mark.parametrize("where", ["project without a registry", "bare folder"])
def test_simulate_folds_case_without_a_registry(tmp_path, where):
    """No registry: 'Likud' and 'LIKUD' are one party, shown as first written, with the numbers of the file
    written one way."""
    env = {}
    if where == "project without a registry":
        (tmp_path / "reports.yml").write_text("reports: []\n", encoding="utf-8")
        env = {"BALLOTBOOK_ROOT": str(tmp_path)}
    same = tmp_path / "same.csv"
    same.write_text(TWO_HOUSES.format(likud="Likud", yesh="Yesh Atid", likud2="Likud", yesh2="Yesh Atid"),
                    encoding="utf-8")
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(TWO_HOUSES.format(likud="Likud", yesh="Yesh Atid", likud2="LIKUD", yesh2="yesh atid"),
                     encoding="utf-8")
    got = [run_cli("simulate", f.name, "--draws", 2000, cwd=tmp_path, env=env) for f in (same, mixed)]
    assert all(p.returncode == 0 for p in got), [p.stderr for p in got]
    parties = [r["party"] for r in csv.DictReader(io.StringIO(got[1].stdout))]
    assert len(parties) == 2
    if where == "project without a registry":  # a bare folder may still see an installed checkout's registry
        assert sorted(parties) == ["Likud", "Yesh Atid"]
    assert got[1].stdout == got[0].stdout


def test_simulate_of_another_countrys_parties_inside_the_project(tmp_path):
    text = ("date,pollster,sample_size,party,share\n2024-06-01,Ifop,1000,RN,33\n2024-06-01,Ifop,1000,NFP,28\n"
            "2024-06-01,Ifop,1000,Ensemble,21\n2024-06-01,Ifop,1000,LR,10\n2024-06-01,Ifop,1000,rn,0\n")
    path = tmp_path / "fr.csv"
    path.write_text(text.replace("2024-06-01,Ifop,1000,rn,0\n", ""), encoding="utf-8")
    proc = run_cli("simulate", path, "--draws", 500, "--threshold", "5")
    assert proc.returncode == 0, proc.stderr
    assert sorted(r["party"] for r in csv.DictReader(io.StringIO(proc.stdout))) == ["Ensemble", "LR", "NFP", "RN"]
    path.write_text(text, encoding="utf-8")   # 'rn' again in the same poll: the same party twice
    assert_clean_error(run_cli("simulate", path), "row 6", "'rn'", "appears twice")


def test_one_party_in_the_report_tables_and_charts(tmp_path):
    """The threshold report's own computation on a file that writes Likud four ways: the same simulation, the
    same table and the same chart data as on the shipped file."""
    import matplotlib.pyplot as plt

    from conftest import at_root
    from helpers.sections import thresholds

    lines = likud_lines(POLLS_2022)
    spellings = ["Likud", "LIKUD", "Likud–Ahi", "likud"]
    mixed = with_party(POLLS_2022, {ln: (LIKUD_KEY, spellings[i % 4]) for i, ln in enumerate(lines)},
                       tmp_path / "mixed.csv")
    with at_root():
        runs = [thresholds.prepare(str(p), threshold=3.25, draws=1000) for p in (POLLS_2022, mixed)]
        tables = [thresholds.numbers(r).items for r in runs]
        charts = [thresholds.seats(r).items[0][1] for r in runs]
    assert runs[0].summary.equals(runs[1].summary)
    assert list(runs[1].summary["party"]).count(LIKUD_KEY) == 1
    assert str(tables[0]) == str(tables[1])
    labels = [[t.get_text() for t in c.axes[0].get_yticklabels()] for c in charts]
    assert labels[0] == labels[1] and labels[1].count("Likud") == 1
    plt.close("all")


def test_the_row_named_is_the_line_an_editor_shows(tmp_path):
    """A record whose quoted note spans three lines is named by the line it starts on; the next by its own."""
    text = ('poll_id,date,pollster,sample_size,party,seats,notes\n'
            'p,2022-10-01,P,,likkud,60,"a note\nover three\nlines"\n'
            'p,2022-10-01,P,,yesh_atid,60,\n')
    lines = text.splitlines()
    assert lines[1].startswith("p,2022-10-01,P,,likkud") and lines[4].startswith("p,2022-10-01,P,,yesh_atid")
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"p.csv, row 2, column 'party': 'likkud' is not a party"):
        load_polls(path)
    path.write_text(text.replace("likkud", "likud"), encoding="utf-8")
    assert load_polls(path)["row"].tolist() == [2, 5]
