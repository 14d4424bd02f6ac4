"""render a notebook executed elsewhere (papermill, Airflow) into the kit's HTML page

Gives a notebook that ran outside the kit the page a built report gets: the header (its title and,
when it called helpers.notebook.record, the data's as-of date; else "not stated"), outputs through
the kit's sanitiser under its Content-Security-Policy, no code, and a footer saying what is known of
how it was made (papermill's parameters and run time). It runs nothing. A notebook that stopped with
an error is still rendered, showing the error, and the exit code is 1. The page is written in one
step: on any problem the output file is left as it was.
"""

from __future__ import annotations

EXAMPLES = """\
papermill notebooks/04_timeline.ipynb run/timeline.ipynb && ballotbook render run/timeline.ipynb
ballotbook render /airflow/out/thresholds-2022-10-28.ipynb -o reports/thresholds.html
"""


def configure(p) -> None:
    from helpers.cli import path

    path(p, "notebook", metavar="EXECUTED.ipynb", help="the executed notebook (with its outputs)")
    path(p, "-o", "--output", default=None, metavar="OUT.html",
         help="the page to write (default: the notebook's name with .html, beside it)")
    p.add_argument("--title", default=None,
                   help="the page's title (default: the notebook's first '# ' heading)")


def run(args) -> int:
    import sys
    from pathlib import Path

    from helpers.core import paths
    from helpers.core.errors import DataError
    from helpers.pipeline.publish import atomic_write, make_output_folder
    from helpers.pipeline.render import render_executed

    source = Path(args.notebook)
    target = Path(args.output) if args.output else source.with_suffix(".html")
    flag = f"-o {args.output}" if args.output else f"the page beside {paths.display(source)}"
    if target.suffix.lower() != ".html":
        raise DataError(f"{flag}: the output must be an .html file.")
    if target.is_dir():
        raise DataError(f"{flag}: {paths.display(target)} is a folder; name the .html file to write.")
    page, failure = render_executed(source, title=args.title)
    make_output_folder(target.parent, flag)
    atomic_write(target, page.encode("utf-8"))
    if failure:
        sys.stderr.write(f"ballotbook render: {paths.display(source)} stopped with an error ({failure}); "
                         f"the page shows it: {paths.display(target)}\n")
        return 1
    sys.stderr.write(f"ballotbook render: wrote {paths.display(target)}\n")
    return 0
