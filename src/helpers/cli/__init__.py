"""The ``ballotbook`` command line (contract: ../DESIGN.md, "Command line").

Exit codes: 0 success; 1 a report or computation failed; 2 bad input, parameters or config, detected before
any notebook ran. Errors are one or two sentences on stderr, never a traceback (``--debug`` shows one).

Only the standard library is imported here; each verb's module is imported when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from helpers.core import paths

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


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


def _option(p: argparse.ArgumentParser, *flags: str, kind: str, **kw) -> None:
    """An option whose value is of a declared `kind`, in the words a notebook's parameters cell uses
    (``"count 1..MAX_SEATS"``, ``"percent (0, 100]"``; helpers.pipeline.declarations): :func:`check_options`
    checks it with that kind's validator, the one a notebook parameter of that kind gets."""
    from helpers.pipeline.declarations import parse

    whole = parse(kind).type == "int"
    action = p.add_argument(*flags, type=_whole if whole else float, **kw)
    p.set_defaults(option_kinds={**(p.get_default("option_kinds") or {}), action.dest: (flags[-1], kind)})


def check_options(args) -> None:
    """Every option of the command that declares a kind, checked (and converted) by that kind's validator before
    any file is read: DataError (exit 2) naming the option otherwise."""
    from helpers.pipeline.declarations import parse

    for dest, (flag, kind) in (getattr(args, "option_kinds", None) or {}).items():
        value = getattr(args, dest, None)
        if value is not None:
            setattr(args, dest, parse(kind).validate(value, flag))


#: The kinds of the options that mean the same in several commands (and in the notebooks' parameters cells).
SEATS, DRAWS, SEED = "count 1..MAX_SEATS", "count 1..MAX_DRAWS", "seed"
KNESSET_THRESHOLD, FIRST_ROUND_THRESHOLD = "percent [0, 100)", "percent (0, 100]"
TIMEOUT = "count of seconds 1..MAX_TIMEOUT"


def _fmt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["csv", "json"], default="csv", help="output format (default csv)")


def _pdf_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pdf", action="store_true",
                   help="also print each report to a PDF beside its HTML (needs Debian's chromium)")
    p.add_argument("--paper", choices=["a4", "letter"], default=None, help="the PDF's paper (default a4)")


def pdf_paper(args) -> str | None:
    """The paper to print on ("a4", "letter"), None without --pdf; --paper alone is bad input."""
    from helpers.core.errors import DataError

    if args.paper and not args.pdf:
        raise DataError("--paper is only used with --pdf.")
    return (args.paper or "a4") if args.pdf else None


def build_parser() -> argparse.ArgumentParser:
    from helpers.core.limits import MAX_DRAWS, MAX_POLL_ERROR, MAX_SEATS

    parser = _Parser(prog="ballotbook", description=__doc__.split("\n")[0])
    parser.add_argument("--debug", action="store_true", help="show a traceback when something fails")
    parser.add_argument("--version", action="store_true", help="print the kit version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("build", help="build the report set of reports.yml into reports/")
    p.add_argument("--config", default="reports.yml", help="report batch file (default reports.yml)")
    p.add_argument("--only", action="append", default=[], metavar="NAME", help="build only this report")
    _option(p, "--jobs", kind="count 1..MAX_JOBS", default=None, metavar="N",
            help="reports built at once (default: CPUs)")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default reports/)")
    _option(p, "--timeout", kind=TIMEOUT, default=600, metavar="S", help="per-cell timeout in seconds")
    p.add_argument("--executor", choices=["local", "dask"], default="local", help="where reports run")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="dask scheduler address")
    _pdf_options(p)

    p = sub.add_parser("run-one", help="build the I-th report of reports.yml (Kubernetes indexed jobs, CI)")
    p.add_argument("--config", default="reports.yml", help="report batch file (default reports.yml)")
    _option(p, "--index", kind="count 0..MAX_SEED", default=None, metavar="I",
            help="which report, from 0 (default: $JOB_COMPLETION_INDEX)")
    p.add_argument("--list", action="store_true", help="print each report's index and name, build nothing")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default reports/)")
    _option(p, "--timeout", kind=TIMEOUT, default=600, metavar="S", help="per-cell timeout in seconds")

    p = sub.add_parser("run", help="run one notebook with parameters into one HTML report")
    p.add_argument("notebook")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    p.add_argument("-o", "--output", default=None, metavar="OUT.html")
    _option(p, "--timeout", kind=TIMEOUT, default=600, metavar="S", help="per-cell timeout in seconds")
    _pdf_options(p)

    p = sub.add_parser("params", help="list a notebook's parameters: name, kind, default, help")
    p.add_argument("notebook")

    p = sub.add_parser("seats", help="allocate seats from a votes file")
    p.add_argument("votes", metavar="VOTES.csv")
    _option(p, "--seats", kind=SEATS, default=120, help=f"seats to allocate, 1 to {MAX_SEATS:,} (default 120)")
    _option(p, "--threshold", kind=KNESSET_THRESHOLD, default=0.0, help="percent of valid votes, 0 <= t < 100")
    p.add_argument("--method", default=None,
                   choices=["bader-ofer", "dhondt", "sainte-lague", "modified-sainte-lague", "hare", "droop"])
    p.add_argument("--agreements", default=None, metavar="PAIRS.csv")
    p.add_argument("--audit", action="store_true", help="print the allocation audit instead of seats")
    _fmt(p)

    p = sub.add_parser("coalitions", help="winning coalitions from a seats file")
    p.add_argument("seats", metavar="SEATS.csv")
    _option(p, "--majority", kind=SEATS, default=None,
            help="seats needed, from 1 to the seats in the file (default: half of them + 1)")
    p.add_argument("--veto", action="append", default=[], metavar="A,B")
    p.add_argument("--require", action="append", default=[], metavar="A")
    p.add_argument("--all", action="store_true", help="every winning coalition, not only minimal ones")
    p.add_argument("--power", action="store_true", help="print Banzhaf and Shapley-Shubik power instead")
    _fmt(p)

    p = sub.add_parser("primary", help="outcome of a two-round primary's first round")
    p.add_argument("round", metavar="ROUND.csv")
    _option(p, "--threshold", kind=FIRST_ROUND_THRESHOLD, default=40.0,
            help="first-round share that wins (percent, 0 < t <= 100)")
    p.add_argument("--inclusive", action="store_true", help="exactly the threshold is enough")
    _fmt(p)

    p = sub.add_parser("simulate", help="seeded Monte Carlo of seats from polls")
    p.add_argument("polls", metavar="POLLS.csv")
    _option(p, "--draws", kind=DRAWS, default=100_000,
            help=f"simulated elections, 1 to {MAX_DRAWS:,} (default 100,000)")
    _option(p, "--seed", kind=SEED, default=0, help="random seed, a whole number >= 0 (default 0)")
    _option(p, "--seats", kind=SEATS, default=120, help=f"seats in the house, 1 to {MAX_SEATS:,} (default 120)")
    _option(p, "--threshold", kind=KNESSET_THRESHOLD, default=3.25, help="percent of valid votes, 0 <= t < 100")
    p.add_argument("--error-model", choices=["historical", "sampling"], default="historical",
                   help="election-day error: 'historical' (fitted on past elections, the default) or "
                        "'sampling' (the polls' sampling error only)")
    _option(p, "--poll-error", kind="number of points [0, MAX_POLL_ERROR]", default=0.0,
            help=f"a fixed extra election-day error in points on top of the error model, 0 to {MAX_POLL_ERROR} "
                 "(default 0)")
    p.add_argument("--agreements", default=None, metavar="PAIRS.csv")
    _fmt(p)

    p = sub.add_parser("calibrate", help="fit the historical error model on past elections and score it")
    p.add_argument("--history", default=paths.HISTORY, metavar="ELECTIONS.csv",
                   help="past elections: polls, results, and whether to fit on them (default data/model/elections.csv)")
    _option(p, "--draws", kind=DRAWS, default=20_000, help="simulated elections per forecast (default 20,000)")
    p.add_argument("--write", action="store_true",
                   help="write the fit into the kit (src/helpers/models/fitted.json) and docs/model-fit.md")
    _fmt(p)
    return parser


#: File arguments per command. On the command line a relative path means what the shell means: relative to the
#: working directory (paths *inside* reports.yml, scenario files and notebook parameters are relative to the
#: project root instead).
_PATH_ARGUMENTS = {
    "seats": ("votes", "agreements"), "coalitions": ("seats",), "primary": ("round",),
    "simulate": ("polls", "agreements"), "run": ("notebook", "output"), "params": ("notebook",),
    "build": ("config", "out"), "run-one": ("config", "out"), "calibrate": ("history",),
}


#: How each path argument is written on the command line (for messages).
_PATH_FLAGS = {"out": "--out", "config": "--config", "output": "-o", "agreements": "--agreements"}


def _absolute_paths(args) -> None:
    """Make every file argument absolute. A blank one is bad input: it would otherwise mean the working
    directory (so `-o ''` or `--out ''` would write into the current folder or reports/)."""
    import os

    from helpers.core.errors import DataError

    for name in _PATH_ARGUMENTS.get(args.command, ()):
        value = getattr(args, name, None)
        if (name, value) in (("config", "reports.yml"), ("history", paths.HISTORY)):
            continue  # a default: the project's own file, found from any folder inside the project
        if isinstance(value, str) and not value.strip():
            flag = _PATH_FLAGS.get(name, name.upper())
            raise DataError(f"{flag} '{value}': expected a path, got blank text"
                            + (f" (leave {flag} out for the default)." if name in _PATH_FLAGS else "."))
        if isinstance(value, str):
            setattr(args, name, os.path.abspath(os.path.expanduser(value)))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from helpers import __version__

        print(f"ballotbook {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    module = importlib.import_module(f"helpers.cli.commands.{args.command.replace('-', '_')}")
    try:
        _absolute_paths(args)
        check_options(args)
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write("ballotbook: interrupted.\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # one sentence, never a traceback, unless --debug
        if args.debug:
            raise
        from helpers.core.errors import DataError

        if isinstance(exc, DataError):
            sys.stderr.write(f"ballotbook {args.command}: {exc}\n")
            return EXIT_BAD_INPUT
        sys.stderr.write(f"ballotbook {args.command}: failed: {type(exc).__name__}: {exc} "
                         "(run with --debug for details).\n")
        return EXIT_FAILED


def entry() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    entry()
