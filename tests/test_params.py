"""Typed parameters: read from the notebook, checked (names, types, ranges, data files) before any kernel."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import ROOT, assert_clean_error, make_project, notebook_json
from helpers.core.errors import DataError
from helpers.pipeline.parameters import Parameter, coerce, read_parameters, validate

TIMELINE = ROOT / "notebooks/04_timeline.ipynb"


def test_reads_names_types_defaults_and_help():
    params = read_parameters(TIMELINE)
    assert list(params)[:3] == ["events", "start", "end"]
    assert params["events"] == Parameter("events", "events file", "data/events.csv", params["events"].help)
    assert params["events"].declaration == "events file" and params["events"].type == "str"
    assert "events file" in params["events"].help
    assert params["actors"].type == "list" and params["actors"].default == []
    assert params["actors"].declaration == "list of text"


def test_annotation_wins_over_default(tmp_path):
    nb = tmp_path / "n.ipynb"
    import json

    nb.write_text(json.dumps(notebook_json(parameters="x: float = 1  # a number\ny = 2\nz: str = ''")))
    p = read_parameters(nb)
    assert (p["x"].type, p["y"].type, p["z"].type) == ("float", "int", "str")
    assert p["x"].help == "a number"


@pytest.mark.parametrize("typ, text, expected", [
    ("int", "7", 7), ("float", "3.25", 3.25), ("float", "4", 4.0), ("bool", "yes", True),
    ("bool", "False", False), ("list", "[a, b]", ["a", "b"]), ("list", "a,b", ["a", "b"]), ("str", "7", "7"),
])
def test_command_line_text_is_converted(typ, text, expected):
    assert coerce(Parameter("p", typ, None, ""), text, from_text=True) == expected


@pytest.mark.parametrize("typ, value", [
    ("int", "seven"), ("int", "3.5"), ("float", "nan"), ("float", "1e999"), ("bool", "maybe"),
])
def test_bad_command_line_text(typ, value):
    with pytest.raises(DataError, match="parameter 'p'"):
        coerce(Parameter("p", typ, None, ""), value, from_text=True)


@pytest.mark.parametrize("typ, value", [("int", "3"), ("int", 2.5), ("float", "x"), ("str", 5), ("int", True),
                                        ("list", "a")])
def test_yaml_values_must_have_the_right_type(typ, value):
    with pytest.raises(DataError):
        coerce(Parameter("p", typ, None, ""), value, from_text=False)


def test_yaml_dates_become_text():
    assert coerce(Parameter("as_of", "str", "", ""), dt.date(2022, 10, 1), from_text=False) == "2022-10-01"


def test_unknown_name_suggests_the_closest():
    with pytest.raises(DataError, match="no parameter 'strat'.*Did you mean 'start'"):
        validate(TIMELINE, {"strat": "2007"})


@pytest.mark.parametrize("given, needle", [
    ({"start": "notadate"}, "parameter 'start'"),
    ({"end": "2007-02-30"}, "parameter 'end'"),
])
def test_range_and_format_checks(given, needle):
    with pytest.raises(DataError, match=needle):
        validate(TIMELINE, given, from_text=True)


def test_run_rejects_unknown_parameter_before_any_kernel(cli, tmp_path):
    out = tmp_path / "x.html"
    proc = cli("run", TIMELINE, "-p", "nosuch", "1", "-o", out)
    assert_clean_error(proc, "nosuch")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_run_rejects_a_bad_date_before_any_kernel(cli, tmp_path):
    proc = cli("run", TIMELINE, "-p", "start", "notadate", "-o", tmp_path / "x.html")
    assert_clean_error(proc, "start", "notadate")
    assert not list(tmp_path.iterdir())


def test_run_rejects_a_bad_events_file_with_the_loaders_message(cli, tmp_path):
    bad = tmp_path / "events.csv"
    bad.write_text("date,actors,category,description\n2007-05-28,A,primary,ok\n2007-02-30,B,war,bad\n")
    proc = cli("run", TIMELINE, "-p", "events", bad, "-o", tmp_path / "x.html")
    assert_clean_error(proc, "events.csv", "row 3", "column 'date'")
    assert not (tmp_path / "x.html").exists()


def test_params_command_lists_parameters(cli):
    proc = cli("params", TIMELINE)
    assert proc.returncode == 0
    first = proc.stdout.splitlines()[0]
    assert first.split()[:3] == ["events", "events", "file"]  # name, then its declared kind
    assert "'data/events.csv'" in first and "events file (CSV)" in first  # default, help


@pytest.mark.parametrize("yml, needle", [
    ("reports: [\n", "line"),
    ("reports: {}\n", "'reports' list"),
    ("reports:\n  - name: a\n", "'notebook' is missing"),
    ("reports:\n  - name: a\n    notebook: notebooks/missing.ipynb\n", "does not exist"),
    ("reports:\n  - name: a\n    notebook: notebooks/t.ipynb\n    parameters: {nosuch: 1}\n", "nosuch"),
    ("reports:\n  - name: a\n    notebook: notebooks/t.ipynb\n    parameters: {n: one}\n", "parameter 'n'"),
    ("reports:\n  - name: a\n    notebook: notebooks/t.ipynb\n  - name: a\n    notebook: notebooks/t.ipynb\n",
     "used twice"),
    ("reports:\n  - name: 'r-{n}'\n    notebook: notebooks/t.ipynb\n    parameters: [{n: 1}, {n: 1}]\n",
     "'r-1' is used twice"),
    ("reports:\n  - name: '../evil'\n    notebook: notebooks/t.ipynb\n", "may hold only"),
    ("reports:\n  - name: a\n    notebook: notebooks/t.ipynb\n    colour: red\n", "unknown key 'colour'"),
])
def test_bad_batch_files_exit_2_and_touch_nothing(cli, tmp_path, yml, needle):
    project = make_project(tmp_path, yml, {"t.ipynb": notebook_json(parameters="n = 1  # a number")})
    proc = cli("build", cwd=project)
    assert_clean_error(proc, needle)
    assert not (project / "reports").exists() or not any((project / "reports").glob("*.html"))
