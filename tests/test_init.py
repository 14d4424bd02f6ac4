"""`ballotbook init DIR` (a new project from the kit's templates) and finding the project root (BALLOTBOOK_ROOT,
reports.yml up from the working directory): outside any project, a command that needs one says so in one
sentence. The build of a new project from a wheel in a fresh venv is in test_packaging.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, assert_clean_error, run_cli
from helpers.core import paths

NO_PROJECT = "no ballotbook project here (no reports.yml in"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """One project made by `ballotbook init` (read-only for the tests that share it)."""
    target = tmp_path_factory.mktemp("init") / "demo"
    proc = run_cli("init", target, cwd=target.parent)
    assert proc.returncode == 0, proc.stderr
    return target


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_init_writes_the_notebooks_the_sample_data_and_a_batch(project):
    made = files_under(project)
    # Every report notebook and every sample data file of the kit, byte for byte (read from the checkout here).
    for folder in ("notebooks", "data"):
        for f in (ROOT / folder).rglob("*"):
            if f.is_file() and ".ipynb_checkpoints" not in f.parts and "__pycache__" not in f.parts:
                rel = f.relative_to(ROOT).as_posix()
                assert rel in made, rel
                assert (project / rel).read_bytes() == f.read_bytes(), rel
    assert {"reports.yml", "README.md", ".gitignore"} <= made
    assert "/reports/" in (project / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_init_prints_the_next_steps(tmp_path):
    proc = run_cli("init", "elections", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "cd elections" in proc.stdout and "ballotbook build" in proc.stdout
    assert (tmp_path / "elections" / "reports.yml").is_file()
    # Into the working directory itself (empty): no `cd` step.
    here = tmp_path / "here"
    here.mkdir()
    proc = run_cli("init", ".", cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert "cd " not in proc.stdout and "ballotbook build" in proc.stdout


def test_the_new_batch_uses_the_real_notebooks_and_a_few_reports(project):
    from helpers.pipeline.config import load_config

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        mp.delenv("BALLOTBOOK_ROOT", raising=False)
        jobs = load_config("reports.yml")
    assert 2 <= len(jobs) <= 4  # small: test_packaging builds it
    for job in jobs:
        assert (ROOT / job.notebook).is_file(), job.notebook  # one of the kit's own notebooks
        assert (project / job.notebook).read_bytes() == (ROOT / job.notebook).read_bytes()


def test_every_file_the_new_reports_read_is_in_the_new_project(project):
    """From the reports' parameters and the notebooks' defaults: every data file is in the project and loads
    (the same check `build` makes before any kernel), and so is the party registry the polls are matched
    against. What the kernels really read is checked against the project after a real build in
    test_packaging.py."""
    from helpers.data.polls import PARTIES_FILE
    from helpers.pipeline.config import load_config
    from helpers.pipeline.parameters import check_files, file_parameters

    made = files_under(project)
    assert PARTIES_FILE in made
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        mp.delenv("BALLOTBOOK_ROOT", raising=False)
        paths.FILES_READ.clear()
        for job in load_config("reports.yml"):
            wanted = [f for group in file_parameters(job.declared, job.all_parameters()).values() for f in group]
            assert wanted, job.name
            for f in wanted:
                assert Path(f).as_posix() in made, (job.name, f)
            check_files(job.declared, job.all_parameters())
        read = list(paths.FILES_READ)
    assert read
    for f in read:
        assert Path(f).is_relative_to(project) and Path(f).is_file(), f


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, kernel_starts):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    proc = run_cli("init", tmp_path, cwd=tmp_path)
    assert_clean_error(proc, str(tmp_path), "not empty", "--force")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_force_adds_what_is_missing_and_overwrites_nothing(tmp_path):
    (tmp_path / "reports.yml").write_text("reports: []  # mine\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "events.csv").write_text("my own events\n", encoding="utf-8")
    proc = run_cli("init", tmp_path, "--force", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "reports.yml").read_text(encoding="utf-8") == "reports: []  # mine\n"
    assert (tmp_path / "data" / "events.csv").read_text(encoding="utf-8") == "my own events\n"
    assert (tmp_path / "notebooks" / "04_timeline.ipynb").is_file()
    assert (tmp_path / "data" / "parties.csv").is_file()
    assert "Kept 2 files" in proc.stdout and "data/events.csv" in proc.stdout and "reports.yml" in proc.stdout


def test_init_into_a_file_or_a_git_folder(tmp_path):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    assert_clean_error(run_cli("init", "afile", cwd=tmp_path), "afile", "is a file")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)  # `git init repo && ballotbook init repo`
    proc = run_cli("init", repo, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "reports.yml").is_file()


# -- the project root -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["build"], ["run-one", "--list"], ["run-one", "--index", "0"], ["calibrate"]])
def test_outside_any_project_a_command_that_needs_one_says_so(tmp_path, kernel_starts, args):
    proc = run_cli(*args, cwd=tmp_path)
    assert_clean_error(proc, NO_PROJECT, str(tmp_path), "ballotbook init DIR", "BALLOTBOOK_ROOT")
    assert "does not exist" not in proc.stderr
    assert kernel_starts == []
    assert list(tmp_path.iterdir()) == []


def test_run_with_default_data_outside_any_project_says_so(tmp_path, kernel_starts):
    """The notebook alone, outside any project: its default data path is relative to a project root there is
    not."""
    shutil.copy(ROOT / "notebooks/04_timeline.ipynb", tmp_path / "t.ipynb")
    proc = run_cli("run", "t.ipynb", "-o", "t.html", cwd=tmp_path)
    assert_clean_error(proc, "parameter 'events'", NO_PROJECT, "ballotbook init DIR")
    assert "does not exist" not in proc.stderr
    assert kernel_starts == []


def test_run_from_another_folder_uses_the_notebook_s_project(project, tmp_path, kernel_starts):
    """`ballotbook run PROJECT/notebooks/X.ipynb` from a folder outside any project reads the data of the
    notebook's own project: here a question that is not in its polls file is found wrong in that file (before
    any kernel), not reported as a missing project."""
    proc = run_cli("run", project / "notebooks/06_first_round.ipynb", "-p", "question", "nosuch", "-o",
                   tmp_path / "x.html", cwd=tmp_path)
    assert_clean_error(proc, "nosuch", "data/polls/labor-leadership.csv")
    assert kernel_starts == []


def test_a_bare_calculation_needs_no_project(tmp_path):
    votes = tmp_path / "votes.csv"
    votes.write_text("list,votes\nA,600\nB,400\n", encoding="utf-8")
    proc = run_cli("seats", votes, "--seats", "10", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1:] == ["A,600,6,false", "B,400,4,false"]


def test_ballotbook_root_names_the_project_from_anywhere(project, tmp_path):
    proc = run_cli("run-one", "--list", cwd=tmp_path, env={"BALLOTBOOK_ROOT": str(project)})
    assert proc.returncode == 0, proc.stderr
    from helpers.pipeline.config import load_config

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BALLOTBOOK_ROOT", str(project))
        names = [job.name for job in load_config("reports.yml")]
    assert [line.split("\t")[1] for line in proc.stdout.splitlines()] == names


def test_a_ballotbook_root_that_is_not_a_project_is_one_sentence(tmp_path, kernel_starts):
    missing = tmp_path / "nosuch"
    proc = run_cli("build", cwd=tmp_path, env={"BALLOTBOOK_ROOT": str(missing)})
    assert_clean_error(proc, "BALLOTBOOK_ROOT", str(missing), "not a folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli("run-one", "--list", cwd=tmp_path, env={"BALLOTBOOK_ROOT": str(empty)})
    assert_clean_error(proc, "BALLOTBOOK_ROOT", str(empty), "has no reports.yml", "ballotbook init DIR")
    assert kernel_starts == []


def test_the_root_is_the_nearest_folder_up_holding_reports_yml(project, monkeypatch):
    monkeypatch.delenv("BALLOTBOOK_ROOT", raising=False)
    monkeypatch.chdir(project / "data" / "knesset")
    assert paths.find_root() == project.resolve()
    assert paths.resolve("data/events.csv") == project.resolve() / "data/events.csv"
    monkeypatch.chdir(project.parent)
    assert paths.find_root() is None
    assert paths.project_root() == Path(os.getcwd()).resolve()  # for messages only: the working directory
    with pytest.raises(paths.DataError, match="no ballotbook project here"):
        paths.resolve("data/events.csv")
    assert paths.resolve(project / "data/events.csv") == project / "data/events.csv"  # absolute: as it is
