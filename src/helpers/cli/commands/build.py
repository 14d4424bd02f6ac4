"""build every report of reports.yml into reports/ (only what changed)

Runs each report's notebook with its parameters in a fresh kernel and publishes one self-contained
HTML page per report, a manifest beside it and an index page. A report whose notebook, parameters,
data files and kit are unchanged since its last good build is not rebuilt. Every parameter and data
file is checked before any kernel starts (exit 2). A failed report keeps its last good page; the
others are still published and the exit code is 1.

Off a terminal (cron, CI) the log has one timestamped line per report and a summary line; on a
terminal, a live progress bar.
"""

from __future__ import annotations

#: Its stderr is a log: off a terminal every line starts with the time.
LOG = True

EXAMPLES = """\
ballotbook build
ballotbook build --only timeline --force
ballotbook build --dry-run                  # what would be rebuilt, and why
ballotbook build --jobs 4 --out /srv/www/reports --pdf
"""


def configure(p) -> None:
    from helpers.cli import TIMEOUT, option, path, pdf_options

    path(p, "--config", default="reports.yml", metavar="FILE",
         help="the report batch (default: %(default)s at the project root)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="build only this report; repeat for more (default: every report)")
    from helpers.core.cpus import usable_cpus

    option(p, "--jobs", kind="count 1..MAX_JOBS", default=None, metavar="N",
           help=f"reports built at once (default: the CPUs this process may use ({usable_cpus()} here), its "
                "container's CPU limit included)")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed (default: only what "
                                                        "changed)")
    p.add_argument("--dry-run", action="store_true",
                   help="list what would be rebuilt and why, run nothing and write nothing (default: build)")
    path(p, "--out", default=None, metavar="DIR", help="output folder (default: reports/ at the project root)")
    option(p, "--timeout", kind=TIMEOUT, default=600, metavar="S",
           help="seconds a notebook cell may run (default: %(default)s)")
    p.add_argument("--executor", choices=["local", "dask"], default="local",
                   help="where reports run: worker processes on this machine, or a dask cluster "
                        "(default: %(default)s)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a dask scheduler's address, with --executor dask (default: a local dask cluster)")
    pdf_options(p)


def run(args) -> int:
    from helpers.cli import pdf_paper
    from helpers.core.errors import DataError
    from helpers.pipeline.build import build
    from helpers.pipeline.config import load_config

    paper = pdf_paper(args)
    if paper and not args.dry_run:
        from helpers.pipeline.pdf import require_chromium

        require_chromium()  # before a cluster or a kernel starts
    if args.scheduler and args.executor != "dask":
        raise DataError("--scheduler is only used with --executor dask.")
    if args.scheduler is not None:
        from helpers.pipeline.executors import check_scheduler_address

        check_scheduler_address(args.scheduler)
    executor = None
    if args.executor == "dask" and not args.dry_run:
        from helpers.core import paths
        from helpers.pipeline.executors import dask_executor

        load_config(args.config)  # the batch file and every parameter are checked before a cluster starts
        executor = dask_executor(args.scheduler, args.jobs, root=str(paths.project_root()))
    try:
        return build(args.config, only=args.only, jobs=args.jobs, force=args.force, out=args.out,
                     timeout=args.timeout, executor=executor, pdf=paper, dry_run=args.dry_run)
    finally:
        if executor is not None:
            executor.shutdown(wait=True)
