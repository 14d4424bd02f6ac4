"""The command line's help, as a user reads it: what the kit is, each command with a one-line help, a
description, its options' defaults and examples, and nothing meant for the kit's developers."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli, run_cli_process
from helpers import cli

COMMANDS_DIR = Path(cli.__file__).parent / "commands"


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def examples(text: str) -> list[str]:
    """The command lines under "examples:" at the end of a help text (a line ending in a backslash goes on)."""
    assert "\nexamples:\n" in text, text
    joined = re.sub(r"\\\n\s*", " ", text.split("\nexamples:\n", 1)[1])
    return [line.strip() for line in joined.splitlines() if line.strip()]


def test_every_command_module_is_registered_and_every_registered_command_has_a_module():
    modules = sorted(p.stem.replace("_", "-") for p in COMMANDS_DIR.glob("*.py") if p.stem != "__init__")
    assert sorted(cli.COMMANDS) == modules
    assert len(set(cli.COMMANDS)) == len(cli.COMMANDS)


def test_the_kit_help_describes_the_kit_lists_every_command_in_order_and_gives_three_examples():
    proc = run_cli_process("--help")  # the installed script, a new process
    assert proc.returncode == 0 and proc.stderr == ""
    text = proc.stdout
    assert text.startswith("usage: ballotbook")
    description = text.split("\n\n", 2)[1]
    assert "reports" in description and "notebook" in description.lower(), description
    # no developer notes: no design contract, no paths outside the package, no reST markup
    for word in ("DESIGN", "contract", "../", "``", ":mod:", ":func:"):
        assert word not in text, word
    listed = re.findall(r"^    (\S+)", text, re.M)
    assert listed == list(cli.COMMANDS), listed
    lines = examples(text)
    assert len(lines) == 3 and all(line.startswith("ballotbook ") for line in lines), lines
    assert run_cli("--help").stdout == text


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_each_command_has_help_a_description_examples_and_every_option_states_its_default(name):
    parser = subparsers(cli.build_parser())[name]
    module = cli.command_module(name)
    summary = module.__doc__.strip().splitlines()[0]
    help_line = re.search(rf"^    {re.escape(name)}\s+(.+?)(?:\n    \S|\n\n)", cli.build_parser().format_help(),
                          re.M | re.S)
    assert help_line and " ".join(help_line.group(1).split()) == summary
    text = parser.format_help()
    body = text.split("\n\n")[1:]
    assert body[0].strip() == summary and len(body[1].split()) >= 12, text  # the summary, then a description
    lines = examples(text)
    assert 2 <= len(lines) <= 4 and all(f"ballotbook {name}" in line for line in lines), lines
    for word in ("DESIGN", "contract", "../", "``", ":mod:", ":func:"):
        assert word not in text, (word, text)
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, (name, action.dest)
        if action.option_strings:  # an option: its help says what happens without it (or that it is needed)
            assert "default" in action.help or "required" in action.help, (name, action.option_strings, action.help)
    proc = run_cli(name, "--help")
    assert proc.returncode == 0 and proc.stdout == text


def test_help_defaults_are_the_real_defaults():
    text = " ".join(run_cli("simulate", "--help").stdout.split())
    parser = subparsers(cli.build_parser())["simulate"]
    for dest in ("seed", "format"):
        assert f"(default: {parser.get_default(dest)})" in text, dest
    # left out, these come from the --rules file when there is one (tests/test_rules.py), else the Knesset's
    for dest, shown in (("seats", "120"), ("threshold", "3.25"), ("error_model", "historical")):
        assert parser.get_default(dest) is None and "(default: the --rules file's" in text, dest
        assert f"else {shown})" in text, dest


def test_building_the_parser_imports_no_heavy_library():
    # every `ballotbook` call builds the whole parser: a command module imports its work only when it runs
    code = ("import sys; from helpers import cli; cli.build_parser(); "
            "print(sorted(m for m in ('pandas', 'numpy', 'papermill', 'nbconvert', 'nbformat', 'scipy', "
            "'jupyter_client', 'yaml', 'tqdm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
