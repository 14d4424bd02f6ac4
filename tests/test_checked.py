"""Checks that passed are not made again (``pipeline/checked.py``): a build checks every data file a report
will read before any kernel starts; with the kit, notebook, parameters, libraries and every file the check read
unchanged, the result is the same, so the project's record of passed checks stands for it. Anything changed,
down to one byte of a file read only through another (a scenario's polls file), is checked again."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import ROOT, make_project
from helpers.core.errors import DataError
from helpers.pipeline import checked, parameters
from helpers.pipeline.config import load_config

REPORTS = """reports:
  - {name: coalitions, notebook: notebooks/02_coalition_scenarios.ipynb}
  - {name: timeline, notebook: notebooks/04_timeline.ipynb}
  - {name: timeline-2007, notebook: notebooks/04_timeline.ipynb, parameters: {start: "2007"}}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    project = make_project(tmp_path / "project", REPORTS, {
        "02_coalition_scenarios.ipynb": ROOT / "notebooks/02_coalition_scenarios.ipynb",
        "04_timeline.ipynb": ROOT / "notebooks/04_timeline.ipynb"})
    shutil.rmtree(project / "data")
    shutil.copytree(ROOT / "data", project / "data")
    monkeypatch.chdir(project)
    monkeypatch.delenv("BALLOTBOOK_ROOT", raising=False)
    return project


@pytest.fixture
def checks(monkeypatch):
    """The names of the reports whose files were really checked (each call of check_files)."""
    seen = []
    real = parameters.check_files

    def counting(declared, given):
        seen.append(json.dumps(given, sort_keys=True, default=str))
        return real(declared, given)

    monkeypatch.setattr(parameters, "check_files", counting)
    return seen


def _check(project, kit="kit"):
    checked.check_jobs(load_config("reports.yml"), kit, project)


def test_a_second_check_of_unchanged_reports_reads_nothing(project, checks):
    _check(project)
    assert len(checks) == 3
    _check(project)
    assert len(checks) == 3  # all three passed before, with everything the same
    record = json.loads((project / ".ballotbook-cache" / checked.RECORD).read_text())["passed"]
    assert len(record) == 3
    # every file each check read, a file two reports share included (the process lists a file once)
    timeline = [files for files in record.values() if list(files) == ["data/events.csv"]]
    assert len(timeline) == 2


def test_a_changed_file_is_checked_again_and_a_bad_one_still_fails(project, checks):
    _check(project)
    events = project / "data/events.csv"
    lines = events.read_bytes().splitlines(keepends=True)
    events.write_bytes(b"".join(lines) + lines[-1].replace(b"Knesset election 2022", b"Knesset election 2022 again"))
    _check(project)
    assert len(checks) == 5  # the two timelines again, not the coalition report
    events.write_text("date,this is not an events file\n", encoding="utf-8")
    with pytest.raises(DataError, match="events.csv"):
        _check(project)


def test_a_file_read_only_through_another_is_in_the_record(project, checks):
    """The coalition report names a scenario file, and the scenario names its polls file: a bad polls file is
    caught although no parameter names it."""
    _check(project)
    polls = project / "data/polls/knesset-2022.csv"
    polls.write_text(polls.read_text(encoding="utf-8") + "not,a,poll\n", encoding="utf-8")
    with pytest.raises(DataError, match="knesset-2022.csv"):
        _check(project)


def test_another_kit_or_other_parameters_are_checked_again(project, checks):
    _check(project)
    _check(project, kit="another kit")
    assert len(checks) == 6
    (project / "reports.yml").write_text(REPORTS.replace('"2007"', '"2008"'), encoding="utf-8")
    _check(project, kit="another kit")
    assert len(checks) == 7  # only the report whose parameters changed


def test_a_spoiled_record_means_everything_is_checked(project, checks):
    _check(project)
    (project / ".ballotbook-cache" / checked.RECORD).write_text("{not json", encoding="utf-8")
    _check(project)
    assert len(checks) == 6
    record = json.loads((project / ".ballotbook-cache" / checked.RECORD).read_text())["passed"]
    assert len(record) == 3  # written anew


def test_a_failed_check_is_not_recorded(project, checks):
    (project / "data/events.csv").write_text("date,this is not an events file\n", encoding="utf-8")
    with pytest.raises(DataError):
        _check(project)
    with pytest.raises(DataError):
        _check(project)
    record = project / ".ballotbook-cache" / checked.RECORD
    passed = json.loads(record.read_text())["passed"] if record.exists() else {}
    assert all("data/events.csv" not in files for files in passed.values())
