"""ballotbook build: every report of reports.yml into reports/ (see helpers.pipeline.build)."""

from __future__ import annotations

from helpers.core.errors import DataError


def run(args) -> int:
    from helpers.cli import pdf_paper
    from helpers.pipeline.build import build
    from helpers.pipeline.config import load_config

    paper = pdf_paper(args)
    if paper:
        from helpers.pipeline.pdf import require_chromium

        require_chromium()  # before a cluster or a kernel starts
    if args.scheduler and args.executor != "dask":
        raise DataError("--scheduler is only used with --executor dask.")
    if args.scheduler is not None:
        from helpers.pipeline.executors import check_scheduler_address

        check_scheduler_address(args.scheduler)
    executor = None
    if args.executor == "dask":
        from helpers.pipeline.executors import dask_executor

        load_config(args.config)  # the batch file and every parameter are checked before a cluster starts
        executor = dask_executor(args.scheduler, args.jobs)
    try:
        return build(args.config, only=args.only, jobs=args.jobs, force=args.force, out=args.out,
                     timeout=args.timeout, executor=executor, pdf=paper)
    finally:
        if executor is not None:
            executor.shutdown(wait=True)
