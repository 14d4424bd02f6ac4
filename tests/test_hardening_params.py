"""Issue 12, part A: parameters are plain data, checked in full before any kernel, and written into the notebook
by the kit as Python literals, so no parameter value can run code."""

from __future__ import annotations

import ast
import base64
import html
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import BALLOTBOOK, ROOT, assert_clean_error, identical, notebook_json, run_cli, run_cli_process
from helpers.core.errors import DataError
from helpers.pipeline.parameters import (
    MAX_ITEMS,
    MAX_TEXT,
    Parameter,
    coerce,
    injected_source,
    read_parameters,
    validate,
)

TIMELINE = ROOT / "notebooks/04_timeline.ipynb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# The exploit, and the same payload in the other YAML forms that PyYAML's safe loader turns into
# values that are not text (bytes, a set, pairs). Each would run `touch pwned.txt` if it reached a kernel
# through a parameters cell built by string concatenation.
CODE = '", __import__("os").system("touch pwned.txt"), "'
HOSTILE_YAML = {
    "binary": "!!binary " + base64.b64encode(CODE.encode()).decode(),
    "set": "!!set {'" + CODE + "': null}",
    "omap": "!!omap [{'" + CODE + "': 1}]",
    "pairs": "!!pairs [{'" + CODE + "': 1}]",
}


def _no_pwned(*folders: Path) -> None:
    for folder in (ROOT, Path.cwd(), *folders):
        for name in ("pwned.txt", "pwned"):
            assert not (folder / name).exists(), folder / name


@pytest.fixture(autouse=True)
def _nothing_pwned_before():
    _no_pwned()  # a file left from elsewhere would make the "no file created" checks meaningless
    yield


# --------------------------------------------------------------------------------------------- the injection
@pytest.mark.parametrize("form", sorted(HOSTILE_YAML))
def test_hostile_yaml_tags_on_the_command_line_exit_2_before_any_kernel(form, tmp_path, kernel_starts):
    out = tmp_path / "out.html"
    proc = run_cli("run", TIMELINE, "-o", out, "-p", "actors", HOSTILE_YAML[form], cwd=tmp_path)
    assert_clean_error(proc, "parameter 'actors'", "not plain data")
    assert kernel_starts == []
    assert list(tmp_path.iterdir()) == []
    _no_pwned(tmp_path)


@pytest.mark.parametrize("form", sorted(HOSTILE_YAML))
def test_hostile_yaml_tags_in_reports_yml_exit_2_before_any_kernel(form, tmp_path, kernel_starts):
    config = tmp_path / "reports.yml"
    config.write_text("reports:\n  - name: t\n    notebook: notebooks/04_timeline.ipynb\n    parameters:\n"
                      f"      actors: {HOSTILE_YAML[form]}\n", encoding="utf-8")
    out = tmp_path / "reports"
    proc = run_cli("build", "--config", config, "--out", out, cwd=ROOT)  # the project: this checkout
    assert_clean_error(proc, "parameter 'actors'", "not plain data")
    assert kernel_starts == []
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports.yml"]
    _no_pwned(tmp_path)


def test_hostile_tags_nested_in_a_mapping_value_are_refused(tmp_path):
    nb = tmp_path / "n.ipynb"
    nb.write_text(json.dumps(notebook_json(parameters="options = {}  # a mapping")))
    for form in HOSTILE_YAML.values():
        with pytest.raises(DataError, match="not plain data"):
            validate(nb, {"options": f"{{a: [1, {{b: {form}}}]}}"}, from_text=True)
        with pytest.raises(DataError, match="not plain data"):
            validate(nb, yaml.safe_load(f"options: {{a: [1, {{b: {form}}}]}}"))


@pytest.mark.parametrize("value, needle", [
    (b"bytes", "binary data"), ({1, 2}, "a set"), (("a", 1), "a pair"), (object(), "object"),
    (float("nan"), "not a finite number"), (float("inf"), "not a finite number"), ({1: "a"}, "keys must be text"),
    (2**64, "too large"), ("a\x00b", "NUL"), ("\udcff", "UTF-8"),
])
def test_anything_but_plain_data_is_refused_by_the_injected_cell_writer(value, needle):
    with pytest.raises(DataError, match=needle):
        injected_source({"p": value})
    with pytest.raises(DataError, match=needle):
        injected_source({"p": [1, {"k": value}]})


def _literal_only(node: ast.AST) -> bool:
    """True when an expression is made of literals only: no name, call, attribute, operator but unary minus."""
    allowed = (ast.Constant, ast.List, ast.Dict, ast.UnaryOp, ast.USub, ast.Load)
    return all(isinstance(n, allowed) for n in ast.walk(node))


_TRICKY = st.sampled_from(['"', "'", "\\", "\n", "\r", '"""', "'''", "#", ")", "]", "}", ";", "\\x00", "\u2028",
                           "\u202e", "\ufeff", "{", "%s", "\\N{BULLET}", "\t", "\x0b", "\x0c", "é", "🗳️", "ש"])
_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")  # what plain() refuses
TEXT = st.lists(st.one_of(_TRICKY, st.text(_CHAR, max_size=8)), max_size=6).map("".join)
PLAIN = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
              st.floats(allow_nan=False, allow_infinity=False), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(TEXT, inner, max_size=5)),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(values=st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: n not in {"and", "as", "if", "in", "is", "or", "for", "def", "del", "not", "try", "else", "elif",
                        "from", "with", "while", "class", "async", "await", "break", "raise", "yield", "lambda",
                        "import", "pass", "return", "global", "assert", "except", "finally", "continue",
                        "nonlocal"}), PLAIN, min_size=1, max_size=4))
def test_any_plain_value_is_written_as_a_literal_that_reads_back_exactly(values):
    source = injected_source(values)
    tree = ast.parse(source)
    assert len(tree.body) == len(values)
    for stmt, (name, value) in zip(tree.body, values.items(), strict=True):
        assert isinstance(stmt, ast.Assign) and [t.id for t in stmt.targets] == [name]
        assert _literal_only(stmt.value), ast.dump(stmt.value)
        assert identical(ast.literal_eval(stmt.value), value)


def test_inject_parameters_puts_the_cell_after_the_parameters_cell_and_records_the_values():
    import nbformat

    from helpers.pipeline.execute import inject_parameters

    nb = nbformat.read(str(TIMELINE), as_version=4)
    before = [c.source for c in nb.cells]
    values = {"actors": ['"); import os; os.system("touch pwned")#'], "start": "2007"}
    inject_parameters(nb, values)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    where = tags.index(["parameters"])
    assert tags[where + 1] == ["injected-parameters"]
    assert [c.source for i, c in enumerate(nb.cells) if i != where + 1] == before
    namespace: dict = {}
    exec(compile(nb.cells[where + 1].source, "injected", "exec"), {"__builtins__": {}}, namespace)
    assert namespace == values
    assert nb.metadata["papermill"]["parameters"] == values
    inject_parameters(nb, {"start": "2008"})  # a second injection replaces the first, as papermill does
    assert sum("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1


@pytest.mark.slow
def test_a_hostile_but_valid_text_value_is_inert_end_to_end(tmp_path):
    payload = "\"); import os; os.system('touch pwned')#"
    out = tmp_path / "t.html"
    proc = run_cli_process("run", TIMELINE, "-o", out, "-p", "actors", json.dumps([payload]), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    _no_pwned(tmp_path)
    manifest = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    assert manifest["given_parameters"] == {"actors": [payload]}
    page = html.unescape(out.read_text(encoding="utf-8"))
    assert json.dumps([payload]) in page  # the header's parameters line: the value as it was given
    assert "No event matches these filters" in page  # the notebook really filtered on the literal text


# --------------------------------------------------------------------------------------------- checked in full
BAD = [
    ("01_poll_thresholds", "draws", "2000000", "1,000,000"),
    ("01_poll_thresholds", "draws", "0", "parameter 'draws'"),
    ("01_poll_thresholds", "seats", "200000", "10,000"),
    ("01_poll_thresholds", "seed", "-1", "parameter 'seed'"),
    ("01_poll_thresholds", "half_life_days", "0", "above 0"),
    ("01_poll_thresholds", "as_of", "2022", "YYYY-MM-DD"),
    ("01_poll_thresholds", "as_of", "2022-10", "YYYY-MM-DD"),
    ("01_poll_thresholds", "as_of", "20221031", "YYYY-MM-DD"),
    ("01_poll_thresholds", "as_of", " ", "YYYY-MM-DD"),
    ("01_poll_thresholds", "polls", "", "a data file is required"),
    ("01_poll_thresholds", "question", "who will win?", "parameter 'question'"),
    ("01_poll_thresholds", "threshold", "100", "parameter 'threshold'"),
    ("02_coalition_scenarios", "highlight", "No such coalition", "not a coalition or bloc"),
    ("02_coalition_scenarios", "poll_error", "-2", "-1 for the scenario's own"),
    ("02_coalition_scenarios", "poll_error", "-0.5", "parameter 'poll_error'"),
    ("02_coalition_scenarios", "scenario", "", "a data file is required"),
    ("02_coalition_scenarios", "paths_shown", "-3", "parameter 'paths_shown'"),
    ("03_leadership_race", "follow", "Nobody", "not a candidate"),
    ("03_leadership_race", "swept", "Nobody", "not a candidate"),
    ("03_leadership_race", "threshold", "0", "above 0"),
    ("03_leadership_race", "concentration", "0", "parameter 'concentration'"),
    ("03_leadership_race", "calibration_polls", "[]", "a data file is required"),
    ("03_leadership_race", "calibration_polls", "[data/primaries/candidates-2008.csv, '']", "required"),
    ("04_timeline", "actors", "[1, 2]", "item 1"),
    ("04_timeline", "categories", "[election, [primary]]", "item 2"),
    ("04_timeline", "focus_start", "2007-13", "parameter 'focus_start'"),
    ("04_timeline", "focus_end", "2008-02-30", "parameter 'focus_end'"),
    ("04_timeline", "start", " ", "parameter 'start'"),
    ("04_timeline", "events", "", "a data file is required"),
    ("04_timeline", "actors", "\udcff", "UTF-8"),  # what Python makes of the byte 0xff in argv
    ("04_timeline", "start", "\ud800", "UTF-8"),
    ("04_timeline", "actors", "x" * (MAX_TEXT + 1), f"at most {MAX_TEXT:,}"),
    ("05_backtest", "election", "2022-11", "YYYY-MM-DD"),
    ("05_backtest", "final_week_days", "0", "parameter 'final_week_days'"),
    ("05_backtest", "results", "", "a data file is required"),
]


@pytest.mark.parametrize("notebook, name, value, needle", BAD, ids=[f"{b[1]}={b[2][:20]!r}" for b in BAD])
def test_bad_parameter_exits_2_before_any_kernel(notebook, name, value, needle, tmp_path, kernel_starts):
    out = tmp_path / "out.html"
    proc = run_cli("run", ROOT / f"notebooks/{notebook}.ipynb", "-p", name, value, "-o", out, cwd=tmp_path)
    assert_clean_error(proc, needle)
    assert kernel_starts == []
    assert list(tmp_path.iterdir()) == []


def test_a_non_utf8_byte_on_the_real_command_line_exits_2(tmp_path):
    out = tmp_path / "out.html"
    proc = subprocess.run([BALLOTBOOK, "run", str(TIMELINE), "-p", "actors", b"Barak\xff", "-o", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "BALLOTBOOK_ROOT"})
    assert_clean_error(proc, "parameter 'actors'", "UTF-8")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("yml_value, needle", [
    ("2022", "parameter 'as_of'"),                     # YAML reads a bare year as a whole number
    ("'2022'", "YYYY-MM-DD"),
    ("2022-10-01 10:00:00", "YYYY-MM-DD"),            # a YAML timestamp is not a day
])
def test_bad_as_of_in_reports_yml_exits_2_before_any_kernel(yml_value, needle, tmp_path, kernel_starts):
    config = tmp_path / "reports.yml"
    config.write_text("reports:\n  - name: t\n    notebook: notebooks/01_poll_thresholds.ipynb\n"
                      f"    parameters: {{as_of: {yml_value}}}\n", encoding="utf-8")
    proc = run_cli("build", "--config", config, "--out", tmp_path / "reports", cwd=ROOT)
    assert_clean_error(proc, needle)
    assert kernel_starts == [] and not (tmp_path / "reports").exists()


def test_a_yaml_alias_bomb_in_a_list_parameter_is_refused_quickly():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    text = "{" + ", ".join(levels) + "}"
    bomb = yaml.safe_load(text)["a8"]  # 9^9 strings if expanded; a handful of shared lists in memory
    param = Parameter("actors", "list of text", [], "")
    with pytest.raises(DataError) as err:
        coerce(param, bomb, from_text=False)
    assert f"{MAX_ITEMS:,} elements" in str(err.value) or "nested more than" in str(err.value)
    assert len(str(err.value)) < 400


def test_list_element_types_come_from_the_annotation_or_the_default(tmp_path):
    nb = tmp_path / "n.ipynb"
    nb.write_text(json.dumps(notebook_json(parameters="a = []\nb: list[int] = []\nc = [1.5]\nd = ['x', 1]")))
    p = read_parameters(nb)
    assert (p["a"].items, p["b"].items, p["c"].items, p["d"].items) == ("str", "int", "float", "any")
    assert validate(nb, {"b": "[1, 2]", "c": "[1, 2.5]", "d": "[x, 1, {k: [true]}]"}, from_text=True) == \
        {"b": [1, 2], "c": [1.0, 2.5], "d": ["x", 1, {"k": [True]}]}
    with pytest.raises(DataError, match="item 2"):
        validate(nb, {"b": "[1, x]"}, from_text=True)


# --------------------------------------------------------------------------------------------- the defaults
def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_every_notebooks_defaults_pass_its_own_checks_from_text_and_from_yaml(notebook):
    from helpers.pipeline.parameters import check_files

    declared = read_parameters(notebook)
    defaults = {k: p.default for k, p in declared.items()}
    assert defaults
    from_text = validate(notebook, {k: _as_text(v) for k, v in defaults.items()}, from_text=True)
    assert from_text == defaults and all(type(from_text[k]) is type(v) for k, v in defaults.items())
    from_yaml = validate(notebook, yaml.safe_load(yaml.safe_dump(defaults, allow_unicode=True)))
    assert from_yaml == defaults
    check_files(declared, from_yaml)  # and the references into data files (follow, highlight, question)


def test_a_batch_giving_every_notebooks_defaults_explicitly_is_accepted(tmp_path, kernel_starts):
    entries = []
    for nb in NOTEBOOKS:
        defaults = {k: p.default for k, p in read_parameters(nb).items()}
        entries.append({"name": nb.stem, "notebook": f"notebooks/{nb.name}", "parameters": defaults})
    config = tmp_path / "reports.yml"
    config.write_text(yaml.safe_dump({"reports": entries}, allow_unicode=True), encoding="utf-8")
    proc = run_cli("run-one", "--config", config, "--list", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert [line.split("\t")[1] for line in proc.stdout.splitlines()] == [nb.stem for nb in NOTEBOOKS]
    assert kernel_starts == []


def test_the_coalition_notebooks_minus_one_poll_error_is_accepted_from_the_command_line(tmp_path, kernel_starts):
    nb = ROOT / "notebooks/02_coalition_scenarios.ipynb"
    assert validate(nb, {"poll_error": "-1"}, from_text=True) == {"poll_error": -1.0}
    assert validate(nb, {"poll_error": -1}) == {"poll_error": -1.0}
    with pytest.raises(DataError, match="poll_error"):  # -1 means "the scenario's own" only where documented
        validate(ROOT / "notebooks/01_poll_thresholds.ipynb", {"poll_error": "-1"}, from_text=True)


# ------------------------------------------------------------------------------- -o '' and other blank paths
@pytest.mark.parametrize("args, flag", [
    (["run", TIMELINE, "-o", ""], "-o ''"),
    (["run", TIMELINE, "-o", "  "], "-o '  '"),
    (["build", "--out", ""], "--out ''"),
    (["build", "--config", ""], "--config ''"),
    (["run-one", "--index", "0", "--out", ""], "--out ''"),
    (["seats", "data/knesset/results/2022-11-01.csv", "--agreements", ""], "--agreements ''"),
], ids=["run-o", "run-o-spaces", "build-out", "build-config", "run-one-out", "seats-agreements"])
def test_a_blank_path_is_refused(tmp_path, kernel_starts, args, flag):
    reports = ROOT / "reports"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in reports.iterdir()) if reports.exists() else None
    proc = run_cli(*[str(ROOT / a) if a == "data/knesset/results/2022-11-01.csv" else a for a in args],
                   cwd=tmp_path)
    assert_clean_error(proc, flag, "blank")
    assert kernel_starts == []
    after = sorted((p.name, p.stat().st_mtime_ns) for p in reports.iterdir()) if reports.exists() else None
    assert after == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value, needle", [
    ("&a [x, *a]", "anchors and aliases"),
    ("{a: 1, a: 2}", "appears twice"),
])
def test_command_line_yaml_goes_through_the_kits_loader(tmp_path, kernel_starts, value, needle):
    """A YAML value on the command line obeys the same rules as reports.yml: no aliases, no key twice."""
    proc = run_cli("run", TIMELINE, "-o", tmp_path / "x.html", "-p", "actors", value)
    assert_clean_error(proc, "parameter 'actors'", needle)
    assert kernel_starts == [] and list(tmp_path.iterdir()) == []
