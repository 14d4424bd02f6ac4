"""Hostile and careless files (issue 12, part C): YAML alias bombs, repeated keys, files that are not regular
files (a named pipe without a writer, /dev/zero, a folder), files over their size limit, absurdly wide CSV
headers, report-name templates that reach into values, and the memory a large CSV file takes.

Every case ends with exit 2 and a short sentence naming the file, and none may hang: cases that hung before the
fix run under a time guard (a thread with a join timeout, or a child process with a timeout), so a regression
fails instead of stopping the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest

from conftest import ROOT, assert_clean_error, run_cli, run_cli_process
from helpers.core.errors import DataError
from helpers.data._table import (
    MAX_COLUMNS,
    MAX_CSV_BYTES,
    MAX_NOTEBOOK_BYTES,
    MAX_YAML_BYTES,
    read_file,
    read_table,
    read_yaml,
)
from helpers.pipeline.parameters import read_parameters

NB = "notebooks/01_poll_thresholds.ipynb"       # parameters polls, threshold, as_of, draws, ...
NB2 = "notebooks/02_coalition_scenarios.ipynb"  # parameter scenario
TL = "notebooks/04_timeline.ipynb"              # parameter events
SCENARIO = "title: t\npolls: data/polls/knesset-2022.csv\nas_of: 2022-10-28\nmajority: 61\n"
GUARD = 60  # seconds: every case here takes well under a second when it works


def guarded(fn, timeout: float = GUARD):
    """fn() in a daemon thread; fails the test (instead of hanging the suite) when it does not return."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout} s: it hangs"
    if "error" in result:
        raise result["error"]
    return result["value"]


def cli(*args):
    return guarded(lambda: run_cli(*map(str, args)))


def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    """The 'billion laughs' in YAML: each level a list of `fan` aliases to the level before (9^9 leaves)."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fan) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan) + "]")
    return "\n".join(lines) + "\n"


def loader_in_child(code: str, timeout: float = GUARD) -> subprocess.CompletedProcess:
    """Run `code` (which calls a loader) in a fresh interpreter with a timeout: a loader that hangs or eats
    memory fails the test with TimeoutExpired, and cannot take the test process with it."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------------------------------------ YAML alias bombs
def test_alias_bomb_in_reports_yml_is_refused_at_its_first_anchor(tmp_path):
    config = tmp_path / "r.yml"
    config.write_text(alias_bomb() + f"reports:\n  - {{name: a, notebook: {NB}, parameters: {{draws: *l8}}}}\n")
    proc = run_cli_process("build", "--config", config, "--out", tmp_path / "out", timeout=GUARD)
    assert_clean_error(proc, "r.yml", "line 1, column 5", "anchors and aliases", "&l0")
    assert not (tmp_path / "out").exists()


def test_alias_bomb_in_a_scenario_file_is_refused(tmp_path, kernel_starts):
    bomb = tmp_path / "s.yml"
    bomb.write_text(SCENARIO + alias_bomb() + "blocs: {a: *l8}\n")
    # the loader itself, in a child process under a timeout
    child = loader_in_child("from helpers.data.scenarios import load_scenario\n"
                            "from helpers.core.errors import DataError\n"
                            f"try:\n    load_scenario({str(bomb)!r})\n"
                            "except DataError as exc:\n    print(exc)\n")
    assert child.returncode == 0, child.stderr
    assert "s.yml, line 5, column 5: YAML anchors and aliases (&l0) are not accepted" in child.stdout
    # and through the command line, before any kernel
    proc = cli("run", NB2, "-p", "scenario", bomb, "-o", tmp_path / "x.html")
    assert_clean_error(proc, "s.yml", "line 5", "anchors and aliases")
    assert kernel_starts == [] and not (tmp_path / "x.html").exists()


@pytest.mark.parametrize("text, needles", [
    ("a: &x 1\nb: 2\n", ["line 1, column 4", "(&x)"]),            # an anchor alone: refused where written
    ("a: [1, 2]\nb: *x\n", ["line 2, column 4", "(*x)"]),         # an alias (to nothing)
    ("base: &b {x: 1}\nother:\n  <<: *b\n", ["line 1", "(&b)"]),  # a merge key needs an alias: refused too
])
def test_anchors_and_aliases_are_refused_with_line_and_column(tmp_path, text, needles):
    f = tmp_path / "a.yml"
    f.write_text(text)
    with pytest.raises(DataError) as err:
        read_yaml(f, "a test file")
    message = str(err.value)
    assert message.startswith(str(f)) and "anchors and aliases" in message
    for needle in needles:
        assert needle in message, message


# -------------------------------------------------------------------------------------------- repeated keys
def test_a_key_twice_in_reports_yml_is_refused(tmp_path):
    config = tmp_path / "r.yml"
    config.write_text(f"reports:\n  - name: a\n    notebook: {NB}\n    name: b\n")
    proc = cli("build", "--config", config, "--out", tmp_path / "out")
    assert_clean_error(proc, "r.yml", "line 4", "'name' appears twice", "first on line 2")
    assert not (tmp_path / "out").exists()


def test_a_top_level_key_twice_in_reports_yml_is_refused(tmp_path):
    config = tmp_path / "r.yml"
    config.write_text(f"reports:\n  - {{name: a, notebook: {NB}}}\nreports:\n  - {{name: b, notebook: {NB}}}\n")
    assert_clean_error(cli("build", "--config", config, "--out", tmp_path / "out"), "r.yml", "line 3",
                       "'reports' appears twice")


def test_a_key_twice_in_a_parameters_mapping_is_refused(tmp_path):
    config = tmp_path / "r.yml"
    config.write_text(f"reports:\n  - name: a\n    notebook: {NB}\n    parameters: {{draws: 100, draws: 200}}\n")
    assert_clean_error(cli("build", "--config", config, "--out", tmp_path / "out"), "r.yml", "line 4",
                       "'draws' appears twice")


def test_a_key_twice_deep_in_a_scenario_file_is_refused(tmp_path, kernel_starts):
    f = tmp_path / "s.yml"
    f.write_text(SCENARIO + "what_if:\n  - name: w\n    steps:\n      - drop: labor\n        drop: meretz\n")
    proc = cli("run", NB2, "-p", "scenario", f, "-o", tmp_path / "x.html")
    assert_clean_error(proc, "s.yml", "line 9", "'drop' appears twice", "first on line 8")
    assert kernel_starts == []


def test_keys_equal_as_values_are_one_key(tmp_path):
    """YAML reads 1 and true as keys Python holds as one: the second would silently replace the first."""
    f = tmp_path / "a.yml"
    f.write_text("m: {1: a, true: b}\n")
    with pytest.raises(DataError, match=r"line 1, column 11: key 'true' appears twice .*as '1'"):
        read_yaml(f, "a test file")


# ------------------------------------------------------------------------------ other YAML that used to crash
@pytest.mark.parametrize("text, needles", [
    ("a: 2022-13-01\n", ["line 1, column 4", "'2022-13-01' is not a valid value", "month"]),
    ("a: " + "7" * 5000 + "\n", ["line 1, column 4", "is not a valid value"]),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", ["nested more than 50 levels"]),
    ("a: \x00\n", ["not valid YAML", "#x0000"]),
    ("? [1, 2]\n: 3\n", ["line 1, column 3", "unhashable key"]),
])
def test_yaml_that_raised_python_exceptions_is_a_clean_error(tmp_path, text, needles):
    config = tmp_path / "r.yml"
    config.write_text(text)
    proc = cli("build", "--config", config, "--out", tmp_path / "out")
    assert_clean_error(proc, "r.yml", *needles)
    assert len(proc.stderr) < 400, proc.stderr


# ---------------------------------------------------------------------------- only regular files are read
@pytest.fixture
def fifo(tmp_path):
    """A named pipe nobody writes to: opening it for reading blocks forever."""
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    yield path
    # unblock a reader that would still be waiting (a regression), so the daemon thread can end
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


def _targets(tmp_path, path):
    """Each way a file reaches a loader: votes, polls, agreements, a round, events through a notebook
    parameter, a scenario file, a notebook, reports.yml."""
    return [
        ["seats", path],
        ["seats", ROOT / "data/knesset/results/2022-11-01.csv", "--agreements", path],
        ["simulate", path],
        ["primary", path],
        ["run", TL, "-p", "events", path, "-o", tmp_path / "x.html"],
        ["run", NB2, "-p", "scenario", path, "-o", tmp_path / "x.html"],
        ["params", path],
        ["build", "--config", path, "--out", tmp_path / "out"],
    ]


@pytest.mark.parametrize("i", range(8), ids=["votes", "agreements", "polls", "round", "events", "scenario",
                                             "notebook", "config"])
def test_a_named_pipe_is_refused_without_blocking(tmp_path, fifo, kernel_starts, i):
    proc = cli(*_targets(tmp_path, fifo)[i])
    assert_clean_error(proc, "pipe.csv", "named pipe (FIFO), not a regular file")
    assert kernel_starts == [] and not (tmp_path / "x.html").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("i", range(8), ids=["votes", "agreements", "polls", "round", "events", "scenario",
                                             "notebook", "config"])
def test_dev_zero_is_refused_without_reading_it(tmp_path, kernel_starts, i):
    proc = cli(*_targets(tmp_path, "/dev/zero")[i])
    assert_clean_error(proc, "/dev/zero", "is a device, not a regular file")
    assert kernel_starts == []


@pytest.mark.parametrize("special", ["pipe", "/dev/zero"])
def test_a_build_whose_parameter_names_a_pipe_or_dev_zero_is_refused(tmp_path, fifo, kernel_starts, special):
    """The build hashes every data file for its cache key before checking it: that hash must not open a pipe
    (it blocked forever) or stream /dev/zero."""
    target = fifo if special == "pipe" else special
    config = tmp_path / "r.yml"
    config.write_text(f"reports:\n  - {{name: a, notebook: {TL}, parameters: {{events: '{target}'}}}}\n")
    proc = cli("build", "--config", config, "--out", tmp_path / "out")
    assert_clean_error(proc, "report 'a'", "events", Path(target).name, "not a regular file")
    assert kernel_starts == [] and not (tmp_path / "out").exists()


def test_a_symlink_to_dev_zero_is_refused(tmp_path):
    link = tmp_path / "votes.csv"
    link.symlink_to("/dev/zero")
    assert_clean_error(cli("seats", link), "votes.csv", "is a device")


@pytest.mark.parametrize("i", range(8), ids=["votes", "agreements", "polls", "round", "events", "scenario",
                                             "notebook", "config"])
def test_a_folder_is_refused(tmp_path, i):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert_clean_error(cli(*_targets(tmp_path, folder)[i]), "folder.csv", "is a folder")


def test_a_socket_is_refused(tmp_path):
    import socket

    path = tmp_path / "s.csv"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        assert_clean_error(cli("seats", path), "s.csv", "is a socket")


# ------------------------------------------------------------------------------------------- size limits
def _sparse(path, size: int):
    """A file of `size` bytes that takes no disk space (truncate): reading it all would take `size` bytes."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


@pytest.mark.parametrize("name, limit, args, shown", [
    ("v.csv", MAX_CSV_BYTES, ["seats", "{f}"], "50 MB"),
    ("p.csv", MAX_CSV_BYTES, ["simulate", "{f}"], "50 MB"),
    ("r.yml", MAX_YAML_BYTES, ["build", "--config", "{f}", "--out", "{d}/out"], "1 MB"),
    ("s.yml", MAX_YAML_BYTES, ["run", NB2, "-p", "scenario", "{f}", "-o", "{d}/x.html"], "1 MB"),
    ("n.ipynb", MAX_NOTEBOOK_BYTES, ["params", "{f}"], "20 MB"),
])
def test_a_file_over_its_limit_is_refused(tmp_path, name, limit, args, shown):
    f = _sparse(tmp_path / name, limit + 1)
    proc = cli(*[a.replace("{f}", str(f)).replace("{d}", str(tmp_path)) for a in args])
    assert_clean_error(proc, name, f"is larger than {shown}", "README")


@pytest.mark.parametrize("load, limit", [
    (lambda f: read_table(f, ["list", "votes"]), MAX_CSV_BYTES),
    (lambda f: read_yaml(f, "a test file"), MAX_YAML_BYTES),
    (read_parameters, MAX_NOTEBOOK_BYTES),
], ids=["csv", "yaml", "notebook"])
def test_a_file_over_its_limit_is_refused_before_it_is_read(tmp_path, load, limit):
    f = _sparse(tmp_path / "big", limit + 1)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="is larger than"):
            load(f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit / 10, f"{peak:,} bytes allocated while refusing a {limit + 1:,}-byte file"


def test_a_file_at_its_limit_is_read(tmp_path):
    f = tmp_path / "r.yml"
    f.write_bytes(b"# padding\n" * (MAX_YAML_BYTES // 10 - 1) + b"a: 1\n" + b"#" * 4 + b"\n")
    assert f.stat().st_size == MAX_YAML_BYTES
    assert read_yaml(f, "a test file") == {"a": 1}


def test_reading_stops_at_the_limit_when_the_size_is_not_known_in_advance():
    """/proc files are regular files whose size reads as 0: the read itself must stop at limit + 1 bytes."""
    maps = "/proc/self/maps"
    assert os.stat(maps).st_size == 0 and len(open(maps, "rb").read()) > 100
    with pytest.raises(DataError, match="is larger than 100 bytes"):
        read_file(maps, "a test file", 100)
    assert len(read_file(maps, "a test file", 10_000_000)) > 100


# --------------------------------------------------------------------------------------------- wide headers
def test_a_200000_column_header_is_refused_in_a_short_message(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text(",".join(f"column_number_{i}" for i in range(200_000)) + "\n" + "1," * 199_999 + "1\n")
    proc = cli("seats", f)
    assert_clean_error(proc, "v.csv", "row 1", "200,000 columns", f"at most {MAX_COLUMNS:,}")
    assert len(proc.stderr) < 500, len(proc.stderr)


def test_a_wide_header_without_a_required_column_gives_a_short_message(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text(",".join(f"{i}_" + "x" * 2000 for i in range(MAX_COLUMNS)) + "\n" + "1," * 999 + "1\n")
    proc = cli("seats", f)
    assert_clean_error(proc, "v.csv", "missing column", "'list'")
    assert len(proc.stderr) < 500, len(proc.stderr)


def test_a_header_of_the_largest_allowed_width_is_read(tmp_path):
    f = tmp_path / "v.csv"
    extra = [f"c{i}" for i in range(MAX_COLUMNS - 2)]
    f.write_text(",".join(["list", "votes", *extra]) + "\n" + "a,10" + ",x" * len(extra) + "\n")
    t = read_table(f, ["list", "votes"])
    assert len(t.columns) == MAX_COLUMNS and t.text("list") == ["a"] and t.records[0]["c997"] == "x"


def test_long_values_are_cut_in_messages(tmp_path):
    huge = "x" * 100_000  # under the csv module's own limit on a cell (131,072 characters)
    votes = tmp_path / "v.csv"
    votes.write_text(f"list,votes\n{huge},{huge}\n")
    assert_clean_error(cli("seats", votes), "v.csv", "row 2", "'votes'", "…")
    assert len(cli("seats", votes).stderr) < 500
    scenario = tmp_path / "s.yml"
    scenario.write_text(SCENARIO.replace("majority: 61", f"majority: {huge}"))
    proc = cli("run", NB2, "-p", "scenario", scenario, "-o", tmp_path / "x.html")
    assert_clean_error(proc, "s.yml", "majority", "…")
    assert len(proc.stderr) < 500


# ------------------------------------------------------------------------------------------- name templates
def _config(tmp_path, name: str, parameters: str = "{as_of: '2022-10-01'}"):
    config = tmp_path / "r.yml"
    config.write_text(f"reports:\n  - name: \"{name}\"\n    notebook: {NB}\n    parameters: {parameters}\n")
    return config


@pytest.mark.parametrize("template, needles", [
    ("t-{as_of.year}", ["'{as_of.year}'", "not a plain parameter name"]),
    ("t-{draws:>3000000}", ["'{draws:>3000000}'", "not a plain parameter name"]),
    ("t-{0}", ["'{0}'", "not a plain parameter name"]),
    ("t-{}", ["'{}'", "not a plain parameter name"]),
    ("t-{as_of!r}", ["'{as_of!r}'", "not a plain parameter name"]),
    ("t-{polls[0]}", ["'{polls[0]}'", "not a plain parameter name"]),
    ("t-{draws:{seed}}", ["not a plain parameter name"]),
    ("t-{as_of", ["not a valid template"]),
    ("t-}", ["not a valid template"]),
    ("t-{nosuch}", ["'nosuch'", "not a parameter of the notebook"]),
])
def test_name_templates_are_plain_fields_only(tmp_path, template, needles):
    proc = cli("build", "--config", _config(tmp_path, template), "--out", tmp_path / "out")
    assert_clean_error(proc, "r.yml", *needles)
    assert len(proc.stderr) < 300, len(proc.stderr)
    assert not (tmp_path / "out").exists()


def test_a_plain_name_template_still_names_each_report(tmp_path):
    from helpers.pipeline.config import load_config

    config = _config(tmp_path, "thresholds-{as_of}",
                     "[{as_of: '2022-10-01'}, {as_of: '2022-10-15', threshold: 2.0}]")
    jobs = guarded(lambda: load_config(config))
    assert [j.name for j in jobs] == ["thresholds-2022-10-01", "thresholds-2022-10-15"]
    assert jobs[1].parameters["threshold"] == 2.0


def test_a_name_template_uses_the_notebook_default_when_no_value_is_given(tmp_path):
    from helpers.pipeline.config import load_config

    default = read_parameters(ROOT / NB)["draws"].default
    jobs = load_config(_config(tmp_path, "t-{draws}", "{}"))
    assert [j.name for j in jobs] == [f"t-{default}"]


def test_a_name_longer_than_a_file_name_can_be_is_refused(tmp_path):
    proc = cli("build", "--config", _config(tmp_path, "t-{polls}", "{polls: " + "p" * 5000 + ".csv}"),
               "--out", tmp_path / "out")
    assert_clean_error(proc, "r.yml", "5,006 characters; at most 120")
    assert len(proc.stderr) < 400, proc.stderr


# ------------------------------------------------------------------------------------------------- memory
def test_a_large_csv_file_takes_a_small_multiple_of_its_size(tmp_path):
    """Kept by column, a votes file takes about 9x its size in Python objects (a dict per row took 26x)."""
    f = tmp_path / "votes.csv"
    with open(f, "w") as out:
        out.write("list,votes\n")
        i = 0
        while out.tell() < 1_000_000:
            out.write(f"List {i},{(i * 7919) % 100_000}\n")
            i += 1
    tracemalloc.start()
    try:
        table = read_table(f, ["list", "votes"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(table) == i and table.text("list")[-1] == f"List {i - 1}"
    assert peak < 12 * f.stat().st_size, f"peak {peak / f.stat().st_size:.1f}x the file size"
