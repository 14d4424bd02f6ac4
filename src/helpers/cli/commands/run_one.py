"""ballotbook run-one [--index I]: build the I-th report of reports.yml (counting from 0, after parameter lists
are expanded), for Kubernetes indexed jobs and CI matrices. The index defaults to $JOB_COMPLETION_INDEX."""

from __future__ import annotations

import os

from helpers.core.errors import DataError


def run(args) -> int:
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
                 timeout=args.timeout)
