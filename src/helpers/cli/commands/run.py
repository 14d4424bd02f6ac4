"""run one notebook with parameters into one HTML report

Checks the parameters against the notebook's parameters cell (ballotbook params NOTEBOOK lists
them) and every data file they name, then runs the notebook in a fresh kernel and writes one
self-contained HTML page, with its manifest beside it. Values are given as text and read by each
parameter's declared kind.
"""

from __future__ import annotations

#: Its stderr is a log: off a terminal every line starts with the time.
LOG = True

EXAMPLES = """\
ballotbook run notebooks/04_timeline.ipynb
ballotbook run notebooks/01_poll_thresholds.ipynb -p as_of 2022-10-28 -o thresholds.html
"""


def configure(p) -> None:
    from helpers.cli import TIMEOUT, option, path, pdf_options

    path(p, "notebook", metavar="NOTEBOOK", help="the notebook (.ipynb) to run")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="set a parameter; repeat for more (default: the notebook's own values)")
    path(p, "-o", "--output", default=None, metavar="OUT.html",
         help="the page to write (default: reports/<notebook name>.html at the project root)")
    option(p, "--timeout", kind=TIMEOUT, default=600, metavar="S",
           help="seconds a notebook cell may run (default: %(default)s)")
    pdf_options(p)


def run(args) -> int:
    from helpers.cli import pdf_paper
    from helpers.core.errors import DataError
    from helpers.pipeline.build import run_notebook

    given: dict = {}
    for name, value in args.parameter:
        if name in given:
            raise DataError(f"parameter '{name}' is given twice.")
        given[name] = value
    return run_notebook(args.notebook, given, args.output, timeout=args.timeout, pdf=pdf_paper(args))
