"""build the I-th report of reports.yml (Kubernetes indexed jobs, CI matrices)

Builds one report, chosen by its place in reports.yml counting from 0 after parameter lists are
expanded (--list shows the numbering). Reports built by several run-one processes into one folder
at once are all published and all listed on the index. The index defaults to
$JOB_COMPLETION_INDEX, which a Kubernetes indexed Job sets in each pod.
"""

from __future__ import annotations

import os

#: Its stderr is a log: off a terminal every line starts with the time.
LOG = True

EXAMPLES = """\
ballotbook run-one --list
ballotbook run-one --index 3
JOB_COMPLETION_INDEX=3 ballotbook run-one --out /shared/reports
"""


def configure(p) -> None:
    from helpers.cli import TIMEOUT, option, path

    path(p, "--config", default="reports.yml", metavar="FILE",
         help="the report batch (default: %(default)s at the project root)")
    option(p, "--index", kind="count 0..MAX_SEED", default=None, metavar="I",
           help="which report, counting from 0 (default: $JOB_COMPLETION_INDEX)")
    p.add_argument("--list", action="store_true",
                   help="print each report's index and name and build nothing (default: build)")
    p.add_argument("--force", action="store_true",
                   help="rebuild even when nothing changed (default: only when something changed)")
    p.add_argument("--dry-run", action="store_true",
                   help="say whether the report would be rebuilt and why, run nothing (default: build)")
    path(p, "--out", default=None, metavar="DIR", help="output folder (default: reports/ at the project root)")
    option(p, "--timeout", kind=TIMEOUT, default=600, metavar="S",
           help="seconds a notebook cell may run (default: %(default)s)")


def run(args) -> int:
    from helpers.core.errors import DataError
    from helpers.pipeline.build import build
    from helpers.pipeline.config import load_config

    jobs = load_config(args.config)
    if args.list:
        for i, job in enumerate(jobs):
            print(f"{i}\t{job.name}")
        return 0
    index = args.index
    if index is None:
        raw = os.environ.get("JOB_COMPLETION_INDEX", "")
        if not raw.strip().isdigit():
            raise DataError("run-one needs --index I (or $JOB_COMPLETION_INDEX set to a whole number).")
        index = int(raw)
    if not 0 <= index < len(jobs):
        raise DataError(f"--index {index}: {args.config} has {len(jobs)} reports, numbered 0 to {len(jobs) - 1}.")
    return build(args.config, only=[jobs[index].name], jobs=1, force=args.force, out=args.out,
                 timeout=args.timeout, dry_run=args.dry_run)
