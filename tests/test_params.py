"""Typed parameters: read from the notebook, checked (names, types, ranges, data files) before any kernel."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import ROOT, assert_clean_error, make_project, notebook_json, run_cli
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


# --------------------------------------------------------------------------------------------- declared kinds
import ast  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402

from helpers.pipeline import kinds as K  # noqa: E402
from helpers.pipeline.declarations import parse  # noqa: E402
from helpers.pipeline.parameters import parameters_cell  # noqa: E402
from helpers.pipeline.values import INT_MAX, INT_MIN  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _number_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def outside(kind: K.Kind) -> list[str]:
    """Command-line values that are not of `kind`, worked out here from the kind's own declaration (its class and
    its bounds), never from a parameter's name."""
    if isinstance(kind, K.Either):
        special = kind.special

        def is_special(text: str) -> bool:
            if special == "":
                return text in ("", "[]")
            try:
                return float(text) == special
            except ValueError:
                return False

        return [v for v in outside(kind.inner) if not is_special(v)]
    if isinstance(kind, K.Whole):
        return [str(kind.low - 1), str(kind.high + 1), "1.5", "many"]  # past 64 bits too: INT_MAX + 1
    if isinstance(kind, K.Number):
        values = ["many", "nan"]
        if math.isfinite(kind.low):
            values.append(_number_text(kind.low if kind.low_open else kind.low - 0.5))
        if math.isfinite(kind.high):
            values.append(_number_text(kind.high if kind.high_open else kind.high + 0.5))
        return values
    if isinstance(kind, K.Bool):
        return ["maybe"]
    if isinstance(kind, K.ThresholdWords):  # the words of helpers.core.threshold
        return ["many", "nan", "-0.5", "100", "100%", "1/1", "3/2", "1/0", "1.5/150", "-1 quota"]
    if isinstance(kind, K.Date):
        return ["2022-02-30", "2022-13", "22-10-01", " "] + ([] if kind.partial else ["2022-10", "2022"])
    if isinstance(kind, K.Choice):
        return ["none of those"]
    if isinstance(kind, K.DataFile):
        return ["", " ", "no/such/file.csv"]
    if isinstance(kind, K.Reference):
        return ["", "No such name in any file"]
    if isinstance(kind, K.ListOf):
        values = ["{a: 1}"]
        if isinstance(kind.item, K.Text):
            values.append("[1, 2]")
        if isinstance(kind.item, K.DataFile):
            values += ["[]", "[no/such/file.csv]"]
        return values
    if isinstance(kind, K.Text):
        return ["\udcff", "x" * 10_001]
    return []


CASES = [(nb.stem, name, value) for nb in NOTEBOOKS for name, p in read_parameters(nb).items()
         for value in outside(p.kind)]


def test_every_parameter_of_every_notebook_declares_its_kind_and_gets_out_of_kind_values():
    for nb in NOTEBOOKS:
        source = parameters_cell(json.loads(nb.read_text(encoding="utf-8")))
        assigned = [n for n in ast.parse(source).body if isinstance(n, ast.Assign | ast.AnnAssign)]
        assert assigned, nb
        for node in assigned:
            assert isinstance(node, ast.AnnAssign) and isinstance(node.annotation, ast.Constant) and \
                isinstance(node.annotation.value, str), (nb.name, ast.unparse(node))
        for name, p in read_parameters(nb).items():
            assert outside(p.kind), (nb.name, name, p.declaration)  # a new kind needs its out-of-kind values here


@pytest.mark.parametrize("notebook, name, value", CASES, ids=[f"{c[0][:2]}-{c[1]}={c[2][:12]!r}" for c in CASES])
def test_a_value_outside_its_declared_kind_exits_2_before_any_kernel(notebook, name, value, tmp_path,
                                                                      kernel_starts):
    out = tmp_path / "out.html"
    proc = run_cli("run", ROOT / f"notebooks/{notebook}.ipynb", "-p", name, value, "-o", out, cwd=ROOT)
    assert_clean_error(proc, f"parameter '{name}'")
    assert kernel_starts == []
    assert list(tmp_path.iterdir()) == []


def test_the_issues_example_threshold_0_of_the_leadership_race(tmp_path, kernel_starts):
    proc = run_cli("run", ROOT / "notebooks/03_leadership_race.ipynb", "-p", "threshold", "0", "-o",
                   tmp_path / "x.html")
    assert_clean_error(proc, "parameter 'threshold'", "above 0")
    assert kernel_starts == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_each_notebooks_defaults_pass_and_the_params_listing_shows_each_kind(notebook, kernel_starts):
    from helpers.pipeline.parameters import check_files

    declared = read_parameters(notebook)
    defaults = {k: p.default for k, p in declared.items()}
    assert validate(notebook, defaults) == defaults
    check_files(declared, defaults)
    proc = run_cli("params", notebook)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(declared)
    for line, p in zip(lines, declared.values(), strict=True):
        assert line.split(None, 1)[1].startswith(p.declaration[:36].rstrip()), line
    assert kernel_starts == []


# The command-line options and the notebooks' parameters of the same meaning, declared with the same words: a
# value is refused by one exactly when it is refused by the other.
ROUND = "candidate,votes\nA,50\nB,30\nC,20\n"
VOTES = "list,votes\nA,999\nB,1\n"  # A clears any threshold up to 99.9%
SAME = [
    (["primary", "{round}", "--threshold"], "03_leadership_race", "threshold",
     ["0", "0.001", "40", "100", "100.5", "-5", "nan", "inf"]),
    (["seats", "{votes}", "--threshold"], "01_poll_thresholds", "threshold", ["0", "3.25", "99.9", "100", "-1", "nan"]),
    (["simulate", "{polls}", "--draws", "20", "--threshold"], "05_backtest", "threshold", ["0", "99.5", "100", "-0.1"]),
    (["simulate", "{polls}", "--draws"], "01_poll_thresholds", "draws", ["0", "1", "1000000", "1000001"]),
    (["simulate", "{polls}", "--draws", "20", "--seed"], "03_leadership_race", "seed",
     ["-1", "0", str(2**63 - 1), str(2**63)]),
    # 0 is the notebooks' "the rules' seats", what the command line says by leaving --seats out
    (["simulate", "{polls}", "--draws", "20", "--seats"], "05_backtest", "seats", ["1", "10000", "10001"]),
    (["simulate", "{polls}", "--draws", "20", "--poll-error"], "01_poll_thresholds", "poll_error",
     ["-0.5", "0", "50", "50.5"]),
]


@pytest.mark.parametrize("args, notebook, name, values", SAME, ids=[f"{s[0][0]}-{s[2]}" for s in SAME])
def test_the_command_line_and_the_notebooks_check_the_same_kind_identically(args, notebook, name, values, tmp_path):
    (tmp_path / "r.csv").write_text(ROUND, encoding="utf-8")
    (tmp_path / "v.csv").write_text(VOTES, encoding="utf-8")
    files = {"round": tmp_path / "r.csv", "votes": tmp_path / "v.csv",
             "polls": ROOT / "tests/data/polls-one-poll.csv"}
    nb = ROOT / f"notebooks/{notebook}.ipynb"
    for value in values:
        proc = run_cli(*[a.format(**files) for a in args], value, "--format", "json")
        try:
            validate(nb, {name: value}, from_text=True)
            notebook_ok = True
        except DataError:
            notebook_ok = False
        assert (proc.returncode != 2) == notebook_ok, (value, proc.returncode, proc.stderr)
        assert notebook_ok or (args[-1] in proc.stderr and proc.stderr.count("\n") == 1), proc.stderr


# --------------------------------------------------------------------------------------------- the grammar
@pytest.mark.parametrize("words, good, bad", [
    ("text", ["", "anything"], []),
    ("bool", ["yes", "false"], ["maybe", "2"]),
    ("whole number", ["-3", str(INT_MAX)], ["1.5", str(INT_MAX + 1), str(INT_MIN - 1)]),
    ("count", ["1"], ["0"]),
    ("count 2..5", ["2", "5"], ["1", "6"]),
    ("count of seats 1..MAX_SEATS", ["10000"], ["10001"]),
    ("seed", ["0", str(INT_MAX)], ["-1"]),
    ("number", ["-1e300", "7"], ["nan", "inf"]),
    ("number (0, 1]", ["1", "0.001"], ["0", "1.001"]),
    ("number of days [1, 2)", ["1"], ["2", "0.99"]),
    ("percent", ["0", "100"], ["-0.1", "100.1"]),
    ("percent (0, 100]", ["100"], ["0"]),
    ("percent [0, 100)", ["0"], ["100"]),
    ("date", ["2024-02-29"], ["2023-02-29", "2024-02", ""]),
    ("date, or empty for today", ["", "2024-02-29"], [" ", "2024"]),
    ("partial date", ["2024", "2024-02", "2024-02-29"], ["2024-13", ""]),
    ("one of dhondt, 'sainte-lague'", ["dhondt", "sainte-lague"], ["hare", "Dhondt"]),
    ("one of 1, 2.5", ["2.5", "1"], ["3"]),
    ("number of points [0, 50], or -1 for the scenario's own", ["-1", "0", "50"], ["-2", "-0.5", "51"]),
    ("count 1..10, or 0 for the file's", ["0", "10"], ["-1", "11"]),
    ("polls file", ["any/path.csv"], ["", " "]),
    ("results file, or empty for none", ["", "x.csv"], [" "]),
    ("list of text", ["[a, b]", "a,b", "[]"], ["[1]", "{a: 1}"]),
    ("list of whole numbers", ["[1, 2]"], ["[1, x]", "[1.5]"]),
    ("list of poll files", ["[a.csv]"], ["[]", "[a.csv, '']"]),
    ("list of poll files, or empty for none", ["[]", ""], ["[a.csv, '']"]),
    ("mapping", ["{a: [1]}"], ["[1]"]),
    ("float", ["1"], ["x"]),
    ("list[int]", ["[1]"], ["[x]"]),
])
def test_each_declared_kind_accepts_and_refuses_what_its_words_say(words, good, bad):
    kind = parse(words)
    for text in good:
        kind.validate(text, "option", from_text=True)
    for text in bad:
        with pytest.raises(DataError, match="option"):
            kind.validate(text, "option", from_text=True)


@pytest.mark.parametrize("words, needle", [
    ("nonsense", "'nonsense' is not a kind"),
    ("count 1..MAX_NOTHING", "MAX_NOTHING"),
    ("count 5..1", "empty"),
    ("percent (0, 0]", "empty"),
    ("count 1.5..3", "not a whole number"),
    ("widget file", "no kind of data file 'widget'"),
    ("bool, or empty", "may be empty"),
    ("text, or -1", "only a number"),
    ("count, or 1.5 for half", "not a whole number"),
    ("date, or empty, or 0", "more than once"),
    ("one of 'a', 2", "among text values or among numbers"),
])
def test_a_declaration_that_cannot_be_read_says_why(words, needle):
    with pytest.raises(DataError, match=needle):
        parse(words)


@pytest.mark.parametrize("cell, needle", [
    ('n: "count 1..10" = 0  # a count', "its default 0"),
    ('n: "sometimes" = 1', "'sometimes' is not a kind"),
    ('who: "candidate of field" = "A"\nfield: "polls file" = "p.csv"', "'field' is not a parameter"),
    ('who: "candidate of nobody" = "A"', "'nobody' is not a parameter"),
])
def test_a_notebook_with_a_bad_declaration_is_refused_naming_notebook_and_parameter(tmp_path, cell, needle):
    nb = tmp_path / "n.ipynb"
    nb.write_text(json.dumps(notebook_json(parameters=cell)))
    with pytest.raises(DataError, match="n.ipynb") as err:
        read_parameters(nb)
    assert needle in str(err.value) and "parameter '" in str(err.value)


def test_a_reference_is_checked_in_the_file_its_declaration_names(tmp_path, kernel_starts):
    (tmp_path / "field.csv").write_text("candidate,share\nAnna,60\nBoaz,40\n", encoding="utf-8")
    cell = ('field: "candidates file" = "field.csv"  # the field\n'
            'lead: "candidate of field" = "anna"  # any letter case\n'
            'other: "text" = "Nobody"  # not a reference: free text')
    project = make_project(tmp_path, "reports:\n  - name: t\n    notebook: notebooks/t.ipynb\n",
                           {"t.ipynb": notebook_json(parameters=cell)})
    (project / "field.csv").write_text("candidate,share\nAnna,60\nBoaz,40\n", encoding="utf-8")
    from helpers.pipeline.parameters import check_files

    declared = read_parameters(project / "notebooks/t.ipynb")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        mp.setenv("BALLOTBOOK_ROOT", str(project))
        check_files(declared, {})
        with pytest.raises(DataError, match="'Carmel' is not a candidate in field.csv; the choices are 'Anna', "
                                            "'Boaz'"):
            check_files(declared, {"lead": "Carmel"})
    assert kernel_starts == []
