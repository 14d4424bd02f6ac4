"""ballotbook run NOTEBOOK [-p NAME VALUE]... [-o OUT.html]: one report from one notebook."""

from __future__ import annotations

from helpers.core.errors import DataError


def run(args) -> int:
    from helpers.cli import pdf_paper
    from helpers.pipeline.build import run_notebook

    given: dict = {}
    for name, value in args.parameter:
        if name in given:
            raise DataError(f"parameter '{name}' is given twice.")
        given[name] = value
    return run_notebook(args.notebook, given, args.output, timeout=args.timeout, pdf=pdf_paper(args))
