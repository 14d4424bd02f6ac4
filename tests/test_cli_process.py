"""End to end through the installed `ballotbook` script, a new process per case: the entry point a user types,
its exit codes and the absence of tracebacks. The other command-line tests call the same entry function in
this process (`conftest.run_cli`); here each command is also run for real, and its output must be the same."""

from __future__ import annotations

import pytest

from conftest import BALLOTBOOK, ROOT, assert_clean_error, run_cli, run_cli_process

VOTES_2022 = "data/knesset/results/2022-11-01.csv"
AGREEMENTS_2022 = "data/knesset/agreements/2022-11-01.csv"
SEATS = "party,seats\nlikud,32\nyesh_atid,24\nrz,14\nnu,12\nshas,11\nutj,7\nyb,6\nraam,5\nhadash,5\nlabor,4\n"


def test_the_console_script_is_installed():
    from pathlib import Path

    assert Path(BALLOTBOOK).is_file(), "pip install -e . puts the ballotbook script next to Python"
    proc = run_cli_process("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("ballotbook ")


@pytest.mark.parametrize("args", [
    ["seats", VOTES_2022, "--threshold", "3.25", "--agreements", AGREEMENTS_2022],
    ["primary", "data/primaries/labor-2007-round1.csv", "--format", "json"],
    ["simulate", "tests/data/polls-one-poll.csv", "--draws", "2000", "--seed", "3"],
    ["coalitions", "{d}/seats.csv", "--power"],
    ["params", "notebooks/04_timeline.ipynb"],
    ["run-one", "--list"],
], ids=lambda a: a[0])
def test_each_command_in_a_process_prints_what_the_entry_function_prints(args, tmp_path):
    (tmp_path / "seats.csv").write_text(SEATS, encoding="utf-8")
    args = [a.replace("{d}", str(tmp_path)) for a in args]
    real = run_cli_process(*args)
    assert real.returncode == 0, real.stderr
    assert real.stdout.strip() and "Traceback" not in real.stderr
    assert run_cli(*args).stdout == real.stdout


@pytest.mark.parametrize("args, needles", [
    (["seats", "{d}/nope.csv"], ["nope.csv", "does not exist"]),
    (["seats", VOTES_2022, "--seats", "many"], ["--seats"]),
    (["primary", "{d}/bad.csv"], ["bad.csv"]),
    (["simulate", "{d}/bad.csv"], ["bad.csv"]),
    (["coalitions", "{d}/bad.csv"], ["bad.csv"]),
    (["params", "{d}/nope.ipynb"], ["nope.ipynb"]),
    (["run", "notebooks/04_timeline.ipynb", "-p", "nosuch", "1", "-o", "{d}/x.html"], ["nosuch"]),
    (["build", "--config", "{d}/r.yml", "--out", "{d}/out"], ["r.yml"]),
    (["run-one", "--index", "999", "--out", "{d}/out"], ["--index 999"]),
    (["nosuch-command"], ["nosuch-command"]),
], ids=lambda a: a[0] if isinstance(a, list) and a[0] != "--" else None)
def test_bad_input_in_a_process_is_exit_2_without_a_traceback(args, needles, tmp_path):
    (tmp_path / "bad.csv").write_text("nothing,useful\n1,2\n", encoding="utf-8")
    (tmp_path / "r.yml").write_text("reports: {}\n", encoding="utf-8")
    proc = run_cli_process(*[a.replace("{d}", str(tmp_path)) for a in args])
    assert_clean_error(proc, *needles)
    assert proc.stdout == ""
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "out").exists()


def test_no_command_prints_help_and_exits_2():
    proc = run_cli_process(cwd=ROOT)
    assert proc.returncode == 2 and "usage:" in proc.stderr and "Traceback" not in proc.stderr
