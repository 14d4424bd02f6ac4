"""The ``ballotbook`` command line: the shared machinery; each command is a module of
:mod:`helpers.cli.commands`.

A command module carries its own setup: a docstring whose first line is the command's one-line help and whose
body is its description, ``EXAMPLES`` (a few command lines, shown under "examples:" in its ``--help``),
``configure(p)`` (adds its arguments, each help stating its default) and ``run(args) -> int``; ``LOG = True``
when its stderr is a log (off a terminal, its last line then carries the time as its other lines do). Adding a command
is a module and one name in :data:`COMMANDS`. A command module imports only the standard library and
``helpers.core`` at its top, so building the parser (every ``ballotbook`` call) stays fast.

Exit codes: 0 success; 1 a report or computation failed; 2 bad input, parameters or config, detected before
any notebook ran. Errors are one or two sentences on stderr, never a traceback (``--debug`` shows one).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap

from helpers.core import errors

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

#: The commands, in the order ``ballotbook --help`` lists them; each is ``helpers.cli.commands.<name>`` with
#: ``-`` read as ``_``.
COMMANDS = ("init", "build", "run-one", "run", "render", "params", "add-poll", "seats", "coalitions", "primary",
            "simulate", "calibrate")

DESCRIPTION = """\
Election reports from Jupyter notebooks, and the calculations behind them.

ballotbook builds the report set listed in reports.yml: it runs each notebook with its parameters
in a fresh kernel and publishes one self-contained HTML page per report, with an index page.
Only reports whose notebook, parameters or data changed are rebuilt. 'ballotbook init DIR' makes
a project to start from. It also computes Knesset seats, coalitions, primaries and poll
simulations straight from CSV files."""

EXAMPLES = """\
ballotbook init demo && cd demo && ballotbook build   # a new project, built into reports/
ballotbook build --dry-run                            # what would be rebuilt, and why
ballotbook seats votes.csv --threshold 3.25"""

#: The kinds of the options that mean the same in several commands (and in the notebooks' parameters cells).
SEATS, DRAWS, SEED = "count 1..MAX_SEATS", "count 1..MAX_DRAWS", "seed"
KNESSET_THRESHOLD, FIRST_ROUND_THRESHOLD = "percent [0, 100)", "percent (0, 100]"
#: A parliament's threshold in the kit's words (helpers.core.threshold): 3.25, 3.25%, 1/150 or 1 quota.
THRESHOLD = "threshold"
TIMEOUT = "count of seconds 1..MAX_TIMEOUT"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one sentence and exit 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        sys.stderr.write(f"{self.prog}: {message}. See '{self.prog} --help'.\n")
        raise SystemExit(EXIT_BAD_INPUT)


def _whole(text: str) -> int:
    """A whole number option value; anything else is a usage error quoting at most 30 characters."""
    text = text.strip()
    if len(text) <= 30:
        try:
            return int(text)
        except ValueError:
            pass
    shown = text if len(text) <= 30 else text[:30] + "…"
    if len(text) > 30 and text.lstrip("+-").isdigit():
        raise argparse.ArgumentTypeError(f"'{shown}' is far too large a number")
    raise argparse.ArgumentTypeError(f"'{shown}' is not a whole number")


def option(p: argparse.ArgumentParser, *flags: str, kind: str, **kw) -> None:
    """An option whose value is of a declared `kind`, in the words a notebook's parameters cell uses
    (``"count 1..MAX_SEATS"``, ``"percent (0, 100]"``; helpers.pipeline.declarations): :func:`check_options`
    checks it with that kind's validator, the one a notebook parameter of that kind gets."""
    from helpers.pipeline.declarations import parse

    plain = parse(kind).type
    action = p.add_argument(*flags, type=_whole if plain == "int" else float if plain == "float" else str, **kw)
    p.set_defaults(option_kinds={**(p.get_default("option_kinds") or {}), action.dest: (flags[-1], kind)})


def check_options(args) -> None:
    """Every option of the command that declares a kind, checked (and converted) by that kind's validator before
    any file is read: DataError (exit 2) naming the option otherwise."""
    from helpers.pipeline.declarations import parse

    for dest, (flag, kind) in (getattr(args, "option_kinds", None) or {}).items():
        value = getattr(args, dest, None)
        if value is not None:
            # a kind that is neither whole nor a number (a threshold's words) comes as text and reads it itself
            setattr(args, dest, parse(kind).validate(value, flag, from_text=isinstance(value, str)))


def path(p: argparse.ArgumentParser, *flags: str, **kw) -> None:
    """A file or folder argument. On the command line a relative path means what the shell means: relative to
    the working directory (paths *inside* reports.yml, scenario files and notebook parameters are relative to
    the project root instead), so :func:`main` makes it absolute before the command runs. Its default, when it
    has one, is the project's own file, found from any folder inside the project, and is left as it is."""
    action = p.add_argument(*flags, **kw)
    shown = action.option_strings[0] if action.option_strings else action.dest.upper()
    p.set_defaults(path_arguments={**(p.get_default("path_arguments") or {}),
                                   action.dest: (shown, bool(action.option_strings), action.default)})


def fmt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["csv", "json"], default="csv", help="output format (default: %(default)s)")


def pdf_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pdf", action="store_true",
                   help="also print each report to a PDF beside its HTML, with Debian's chromium (default: HTML "
                        "only)")
    p.add_argument("--paper", choices=["a4", "letter"], default=None, help="the PDF's paper (default: a4)")


def pdf_paper(args) -> str | None:
    """The paper to print on ("a4", "letter"), None without --pdf; --paper alone is bad input."""
    if args.paper and not args.pdf:
        raise errors.DataError("--paper is only used with --pdf.")
    return (args.paper or "a4") if args.pdf else None


def command_module(name: str):
    """The module of command `name` (``run-one`` is ``helpers.cli.commands.run_one``)."""
    return importlib.import_module(f"helpers.cli.commands.{name.replace('-', '_')}")


def _examples(text: str) -> str:
    return "examples:\n" + textwrap.indent(textwrap.dedent(text).strip("\n"), "  ")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only` (a command's name), only that command's module is imported and its
    arguments set up: the other commands stay valid choices but are left bare (what :func:`main` builds when the
    command line names a command and asks for no top-level help, so ``ballotbook build`` imports one command
    module, not all of them)."""
    parser = _Parser(prog="ballotbook", description=DESCRIPTION, epilog=_examples(EXAMPLES),
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true",
                        help="show a traceback when something fails (default: one sentence)")
    parser.add_argument("--version", action="store_true", help="print the kit version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                title="commands (ballotbook COMMAND --help for each)")
    for name in COMMANDS:
        if only is not None and name != only:
            sub.add_parser(name)
            continue
        module = command_module(name)
        summary, _, body = (module.__doc__ or "").strip().partition("\n")  # (inspect.cleandoc: 6 ms to import)
        body = textwrap.dedent(body)
        p = sub.add_parser(name, help=summary.strip(), description=(summary + "\n" + body).strip(),
                           epilog=_examples(module.EXAMPLES), formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure(p)
        p.set_defaults(command_run=module.run, command_log=getattr(module, "LOG", False))
    return parser


def _absolute_paths(args) -> None:
    """Make every file argument absolute. A blank one is bad input: it would otherwise mean the working
    directory (so `-o ''` or `--out ''` would write into the current folder or reports/)."""
    import os

    for name, (shown, is_option, default) in (getattr(args, "path_arguments", None) or {}).items():
        value = getattr(args, name, None)
        if value is not None and value == default:
            continue  # a default: the project's own file, found from any folder inside the project
        if isinstance(value, str) and not value.strip():
            raise errors.DataError(f"{shown} '{value}': expected a path, got blank text"
                                   + (f" (leave {shown} out for the default)." if is_option else "."))
        if isinstance(value, str):
            setattr(args, name, os.path.abspath(os.path.expanduser(value)))


def _say(args, text: str) -> None:
    """The command's last word on stderr. A command whose output is a log (``LOG = True`` in its module:
    build, run-one, run) starts it with the time off a terminal, as its other lines are."""
    if getattr(args, "command_log", False) and not sys.stderr.isatty():
        from helpers.pipeline.progress import timestamp

        text = f"{timestamp()} {text}"
    sys.stderr.write(text + "\n")


def _named_command(argv: list[str]) -> str | None:
    """The command `argv` names (its first word that is not an option, the top-level options taking no value),
    or None when there is none or a top-level ``-h``/``--help`` comes before it."""
    for word in argv:
        if word in ("-h", "--help", "--"):
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=_named_command(argv))
    args = parser.parse_args(argv)
    if args.version:
        from helpers import __version__

        print(f"ballotbook {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        _absolute_paths(args)
        check_options(args)
        return int(args.command_run(args) or 0)
    except errors.Cancelled as exc:  # stopped by SIGTERM or SIGINT: its own message and exit code (143, 130)
        _say(args, f"ballotbook {args.command}: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _say(args, "ballotbook: interrupted.")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # one sentence, never a traceback, unless --debug
        if args.debug:
            raise
        if isinstance(exc, errors.DataError):
            _say(args, f"ballotbook {args.command}: {exc}")
            return EXIT_BAD_INPUT
        _say(args, f"ballotbook {args.command}: failed: {type(exc).__name__}: {exc} (run with --debug for details).")
        return EXIT_FAILED


def entry() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    entry()
