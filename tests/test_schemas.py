"""The JSON Schemas of reports.yml and scenario files (src/helpers/data/schemas): valid schemas, the shipped files
pass them, and a malformed shape is exit 2 before any kernel, naming the YAML path, its line and what was
expected."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator

from conftest import ROOT, assert_clean_error, make_project, notebook_json, run_cli
from helpers.core.errors import DataError
from helpers.data import schema
from helpers.data._table import read_yaml
from helpers.data.scenarios import STEP_KEYS, TOP_KEYS

SCHEMAS = ROOT / "src" / "helpers" / "data" / "schemas"
NB2 = "notebooks/02_coalition_scenarios.ipynb"
BASE = "title: t\npolls: data/polls/knesset-2022.csv\nas_of: 2022-10-28\n"   # a scenario's lines 1-3


@pytest.mark.parametrize("name", ["reports", "scenario"])
def test_each_schema_is_a_valid_draft_2020_12_schema(name):
    document = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)


@pytest.mark.parametrize("path", [ROOT / "reports.yml", *sorted((ROOT / "data" / "scenarios").glob("*.yml"))],
                         ids=lambda p: p.name)
def test_the_shipped_files_have_the_right_shape(path):
    data = read_yaml(path, "a YAML file")
    name = "reports" if path.name == "reports.yml" else "scenario"
    assert list(schema.validator(name).iter_errors(data)) == []


def test_the_scenario_schema_knows_the_same_keys_as_the_loader():
    document = json.loads((SCHEMAS / "scenario.schema.json").read_text(encoding="utf-8"))
    assert tuple(document["properties"]) == TOP_KEYS
    step = document["$defs"]["step"]
    assert [alt["required"][0] for alt in step["oneOf"]] == list(STEP_KEYS)
    for rule in step["allOf"]:
        kind = rule["if"]["required"][0]
        assert set(rule["then"]["properties"]) == {kind, *STEP_KEYS[kind]}, kind


def _problem(tmp_path, text) -> str:
    f = tmp_path / "s.yml"
    f.write_text(text, encoding="utf-8")
    data, root = read_yaml(f, "a scenario file", tree=True)
    with pytest.raises(DataError) as exc:
        schema.check(data, "scenario", "s.yml", root)
    return str(exc.value)


def test_of_several_problems_the_first_in_the_file_is_named(tmp_path):
    rest = "seats: many\nmajority: [61]\n"
    assert _problem(tmp_path, BASE + rest).startswith("s.yml, seats (line 4, column 8): 'many' is not a whole")
    rest = "majority: [61]\nseats: many\n"
    assert _problem(tmp_path, BASE + rest).startswith("s.yml, majority (line 4, column 11): a list is not")


def test_a_mappings_own_keys_come_before_what_is_inside_its_values(tmp_path):
    """As the loader did by hand: an unknown or missing key of a mapping is named before a wrong value in it."""
    msg = _problem(tmp_path, BASE + "seats: many\ncolour: red\n")
    assert msg.startswith("s.yml, colour (line 5, column 9): unknown key 'colour' in a scenario file"), msg
    msg = _problem(tmp_path, BASE + "what_if:\n  - {steps: [{threshold: many}]}\n")
    assert msg.startswith("s.yml, what_if[0] (line 5, column 5): 'name' is missing"), msg
    msg = _problem(tmp_path, BASE + "what_if:\n  - {name: 7, steps: [{threshold: 2}], colour: red}\n")
    assert "what_if[0].colour (line 5, column 48): unknown key 'colour' in a what-if" in msg, msg


def test_a_long_value_is_quoted_short(tmp_path):
    msg = _problem(tmp_path, BASE + "seats: '" + "9" * 5000 + "'\n")
    assert "…" in msg and "9" * 81 not in msg and len(msg) < 200, msg


def test_reading_the_schema_modules_does_not_import_jsonschema():
    """jsonschema is imported when a file is checked, not when the kit starts."""
    code = ("import sys, helpers.data.schema, helpers.data.scenarios, helpers.cli; "
            "print('jsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --------------------------------------------------------------------------------------------- reports.yml
ENTRY = "  - name: a\n    notebook: notebooks/t.ipynb\n"

# (reports.yml, the YAML path and line the message names, what it says)
REPORTS = [
    ("- a\n- b\n", "line 1, column 1", "expected a mapping with a 'reports' list at the top; found a list"),
    ("report:\n" + ENTRY, "line 1, column 1", "'reports' is missing"),
    ("reports: {}\n", "reports (line 1, column 10)", "a mapping is not a list of reports"),
    ("reports:\n" + ENTRY + "  - name: b\n", "reports[1] (line 4, column 5)", "'notebook' is missing"),
    ("reports:\n" + ENTRY + "  - name: b\n    notebook: notebooks/t.ipynb\n    parameters: 5\n",
     "reports[1].parameters (line 6, column 17)", "'5' is not a mapping of parameters, or a list of such"),
    ("reports:\n" + ENTRY + "    parameters:\n      - {n: 1}\n      - 3\n",
     "reports[0].parameters[1] (line 6, column 9)", "'3' is not a mapping of parameters"),
    ("reports:\n" + ENTRY + "    colour: red\n", "reports[0].colour (line 4, column 13)",
     "unknown key 'colour' in a report; expected name, notebook, title or parameters"),
    ("reports:\n" + ENTRY + "    titel: x\n", "reports[0].titel (line 4, column 12)", "did you mean 'title'?"),
    ("reports:\n" + ENTRY + "    title: [a, b]\n", "reports[0].title (line 4, column 12)", "a list is not a title"),
    ("reports:\n  - name: '  '\n    notebook: notebooks/t.ipynb\n", "reports[0].name (line 2, column 11)",
     "'  ' is not a report name"),
    ("reports:\n  - {name: a, notebook: 7}\n", "reports[0].notebook (line 2, column 25)",
     "'7' is not a notebook path"),
    ("reports:\n" + ENTRY + "  - 12\n", "reports[1] (line 4, column 5)", "'12' is not a report"),
]


@pytest.mark.parametrize("yml, at, says", REPORTS, ids=[c[2][:30] for c in REPORTS])
def test_a_malformed_batch_file_is_exit_2_naming_path_and_line(tmp_path, kernel_starts, yml, at, says):
    project = make_project(tmp_path, yml, {"t.ipynb": notebook_json(parameters="n = 1  # a number")})
    proc = run_cli("build", cwd=project)
    assert_clean_error(proc, f"reports.yml, {at}: ", says)
    assert kernel_starts == []
    assert not (project / "reports").exists()


# --------------------------------------------------------------------------------------------- scenario files

# (the rest of the scenario from line 4, the YAML path and line the message names, what it says)
SCENARIOS = [
    ("seats: 120\nmajority: [61]\n", "majority (line 5, column 11)", "a list is not a whole number of seats"),
    ("vetoes:\n  - [likud, labor]\n  - [likud, {a: 1}]\n", "vetoes[1][1] (line 6, column 13)",
     "a mapping is not a party or a list of one party or more"),
    ("vetoes:\n  - [likud, labor, shas]\n", "vetoes[0] (line 5, column 5)", "has 3 items; expected a pair"),
    ("coalitions:\n  Right: [likud]\n  Left: []\n", "coalitions.Left (line 6, column 9)",
     "is empty; expected a list of one party or more"),
    ("coalitions:\n  Right wing: likud\n", "coalitions['Right wing'] (line 5, column 15)",
     "'likud' is not a list of one party or more"),
    ("what_if:\n  - name: X\n    steps: []\n", "what_if[0] ('X').steps (line 6, column 12)",
     "is empty; expected a list of at least one step"),
    ("what_if:\n  - name: X\n", "what_if[0] ('X') (line 5, column 5)", "'steps' is missing"),
    ("what_if:\n  - name: X\n    steps: [{threshold: 2}]\n    colour: red\n",
     "what_if[0] ('X').colour (line 7, column 13)", "unknown key 'colour' in a what-if"),
    ("what_if:\n  - name: X\n    steps:\n      - {drop: balad}\n      - {threshold: 2, veto_add: [a, b]}\n",
     "what_if[0] ('X').steps[1] (line 8, column 9)", "does one thing", ),
    ("what_if:\n  - name: X\n    steps:\n      - {drop: balad, from: {labor: 5}}\n",
     "what_if[0] ('X').steps[0].from (line 7, column 29)", "unknown key 'from' in a drop step"),
    ("what_if:\n  - name: X\n    steps:\n      - {split: labor, into: [a, b]}\n",
     "what_if[0] ('X').steps[0].into (line 7, column 30)", "a list is not a mapping of lists to percentages"),
    ("what_if:\n  - name: X\n    steps:\n      - {veto_add: likud}\n",
     "what_if[0] ('X').steps[0].veto_add (line 7, column 20)", "'likud' is not a pair of parties"),
    ("what_if:\n  - name: X\n    steps:\n      - {move: 1, unit: votes, from: likud, to: labor}\n",
     "what_if[0] ('X').steps[0].unit (line 7, column 25)", "'votes' is not a unit: points or seats"),
    ("polls_file: x.csv\n", "polls_file (line 4, column 13)", "did you mean 'polls'?"),
]


@pytest.mark.parametrize("rest, at, says", SCENARIOS, ids=[c[2][:30] for c in SCENARIOS])
def test_a_malformed_scenario_is_exit_2_naming_path_and_line(tmp_path, kernel_starts, rest, at, says):
    (tmp_path / "s.yml").write_text(BASE + rest, encoding="utf-8")
    proc = run_cli("run", NB2, "-p", "scenario", tmp_path / "s.yml", "-o", tmp_path / "x.html")
    assert_clean_error(proc, f"s.yml, {at}: ", says)
    assert kernel_starts == []
    assert not (tmp_path / "x.html").exists()


def test_every_shipped_schema_is_listed_for_the_warm_up():
    """The fork server builds a validator for each name in schema.SCHEMAS before any kernel starts: a schema
    file added without its name there would be built again by every report that reads such a file."""
    from helpers.data import schema

    shipped = sorted(p.name.removesuffix(".schema.json") for p in schema._FOLDER.glob("*.schema.json"))
    assert sorted(schema.SCHEMAS) == shipped
