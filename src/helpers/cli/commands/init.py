"""make a new project: reports.yml, the report notebooks and their sample data

Writes into DIR (made when missing) a project that `ballotbook build` builds as it is: reports.yml with
a few reports, the kit's report notebooks in notebooks/ and the sample data they read in data/, with
data/SOURCES.md. DIR must be new or empty; with --force the kit's files are added beside what is
there, and no file already there is overwritten.
"""

from __future__ import annotations

EXAMPLES = """\
ballotbook init elections                   # then: cd elections && ballotbook build
ballotbook init . --force                   # into the current folder, keeping its files
"""


def configure(p) -> None:
    from helpers.cli import path

    path(p, "dir", metavar="DIR", help="the project folder to make (new or empty)")
    p.add_argument("--force", action="store_true",
                   help="write into a folder that is not empty: add the kit's files that are missing and keep "
                        "every file already there (default: refuse a folder that is not empty)")


def run(args) -> int:
    import os
    from pathlib import Path

    from helpers.pipeline.scaffold import write_project

    target = Path(args.dir)
    written, kept = write_project(target, keep_existing=args.force)
    shown = os.path.relpath(target) if not os.path.relpath(target).startswith("..") else str(target)
    notebooks = sum(n.startswith("notebooks/") for n in written)
    data = sum(n.startswith("data/") for n in written)
    parts = (["reports.yml"] if "reports.yml" in written else []) + [f"{notebooks} notebooks", f"{data} data files"]
    if written:
        print(f"Made a ballotbook project in {shown}: {', '.join(parts)}.")
    else:
        print(f"{shown} already holds every file of a new project; nothing was written.")
    if kept:
        listed = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
        print(f"Kept {len(kept)} files already there, unchanged: {listed}.")
    step = "" if os.path.abspath(target) == os.getcwd() else f"  cd {shown}\n"
    print("Next:\n"
          f"{step}"
          "  ballotbook build        # the reports of reports.yml into reports/ (then open reports/index.html)\n"
          "  ballotbook params notebooks/01_poll_thresholds.ipynb   # what a report can be given\n"
          "  jupyter lab             # the notebooks, with data/ and reports.yml beside them\n"
          "From another folder, set BALLOTBOOK_ROOT to the project folder. README.md there says more.")
    return 0
