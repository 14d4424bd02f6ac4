"""Building reports: ``ballotbook build`` (every report of the batch, in parallel, only what changed) and
``ballotbook run`` (one notebook into one page).

Guarantees:
- every parameter and every data file a report names is checked before anything is written or any kernel
  starts: exit 2 otherwise;
- a report is rendered into a temporary file in the output folder and renamed into place, so a failed or killed
  run never replaces the last good report; its error goes in its manifest and on the index;
- one build at a time per output folder (:class:`~helpers.pipeline.processes.BuildLock`); a second build waits;
- a report whose notebook, parameters, input files and ``helpers`` source are unchanged is not rebuilt.

Reports run through any ``concurrent.futures.Executor`` (:mod:`helpers.pipeline.executors`); the default is a
local pool of spawned worker processes. Heavy imports (papermill, nbconvert, pandas) happen only in the process
that runs a report.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

from helpers.core import paths
from helpers.core.cpus import usable_cpus
from helpers.core.errors import DataError
from helpers.pipeline import processes
from helpers.pipeline.cache import cache_key, helpers_digest
from helpers.pipeline.config import Job, load_config
from helpers.pipeline.execute import ReportTask, execute, record_failure
from helpers.pipeline.index import write_index
from helpers.pipeline.kernels import warm_worker
from helpers.pipeline.parameters import check_files, read_parameters, validate
from helpers.pipeline.processes import BuildLock
from helpers.pipeline.progress import Progress
from helpers.pipeline.publish import clean_temporaries, make_output_folder, read_manifest, set_aside_bad_manifests


def git_commit() -> str | None:
    """The project's short git commit (recorded in each manifest), or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.project_root(),
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def build(config: str = "reports.yml", only: list[str] | None = None, jobs: int | None = None,
          force: bool = False, out: str | None = None, timeout: int = 600, executor=None,
          stream=None, pdf: str | None = None) -> int:
    """Build the report set. Returns the exit code: 0 all built or up to date, 1 a report failed (the others
    were still published), 2 bad config or parameters (nothing ran). `pdf` ("a4", "letter") also prints each
    report to ``<name>.pdf``; an up-to-date report without that PDF is rebuilt."""
    if pdf:
        from helpers.pipeline.pdf import require_chromium

        require_chromium()  # before anything is read, written or started
    root = paths.project_root()
    all_jobs = load_config(config)
    if only:
        known = {j.name for j in all_jobs}
        missing = [n for n in only if n not in known]
        if missing:
            from difflib import get_close_matches

            near = get_close_matches(missing[0], sorted(known), n=1)
            raise DataError(f"--only {missing[0]}: no such report in {config}" +
                            (f"; did you mean '{near[0]}'?" if near else "."))
        selected = [j for j in all_jobs if j.name in set(only)]
    else:
        selected = all_jobs
    out_dir = paths.resolve(out or paths.REPORTS)
    progress = Progress(len(selected), stream)
    kit = helpers_digest()

    def plan() -> tuple[list[Job], dict[str, str]]:
        todo, keys = [], {}
        for job in selected:
            previous = read_manifest(out_dir, job.name)
            keys[job.name] = key = cache_key(job, kit, previous)
            fresh = (previous and previous.get("status") == "ok" and previous.get("cache_key") == key
                     and (out_dir / previous.get("html", "")).is_file()
                     and (not pdf or (previous.get("pdf_paper") == pdf and previous.get("pdf") == f"{job.name}.pdf"
                                      and (out_dir / previous["pdf"]).is_file())))
            if force or not fresh:
                todo.append(job)
        return todo, keys

    def check(todo: list[Job]) -> None:
        for job in todo:
            try:
                check_files(job.declared, job.parameters)
            except DataError as exc:
                raise DataError(f"report '{job.name}': {exc}") from None

    # Every data file a report will read is checked before anything is written or any kernel starts.
    todo, _ = plan()
    check(todo)
    make_output_folder(out_dir, f"--out {paths.display(out_dir)}")
    with BuildLock(out_dir, progress.say), processes.marked():
        clean_temporaries(out_dir)
        processes.clean_stale_kernel_folders()
        set_aside_bad_manifests(out_dir, [j.name for j in all_jobs], progress.say)
        checked = {j.name for j in todo}
        todo, keys = plan()  # again under the lock: another build may have finished meanwhile
        check([j for j in todo if j.name not in checked])
        for job in selected:
            if job not in todo:
                progress.finished(job.name, "up to date", 0.0)
        failed = 0
        if todo:
            commit = git_commit()
            workers = max(1, min(jobs or usable_cpus(), len(todo)))
            # Start kernels ahead only where another report will follow on the same worker.
            tasks = [ReportTask(name=j.name, notebook=j.notebook, parameters=j.parameters, out=str(out_dir),
                                html=f"{j.name}.html", root=str(root), title=j.title, timeout=timeout,
                                key=keys[j.name], kit=kit, commit=commit, prestart=i < len(todo) - workers,
                                pdf=pdf)
                     for i, j in enumerate(todo)]
            failed = _run_all(tasks, jobs, executor, progress, str(root))
            clean_temporaries(out_dir)  # what a killed worker left; no other build runs (we hold the lock)
        write_index(out_dir, [j.name for j in all_jobs])
    progress.summary()
    return 1 if failed else 0


def _run_all(tasks: list[ReportTask], jobs: int | None, executor, progress: Progress, root: str) -> int:
    """Run every task; return how many failed. With the local pool, a worker process that dies (killed, out
    of memory) breaks the whole pool: the reports it took down with it are run once more, each in a pool of
    its own, so one bad report cannot fail the others."""
    own = executor is None
    workers = max(1, min(jobs or usable_cpus(), len(tasks)))
    failed, broken = _run_round(tasks, executor, workers, progress, root, retry=own)
    for task in broken:  # one at a time: whichever report kills its worker fails alone
        more, _ = _run_round([dataclasses.replace(task, prestart=False)], None, 1, progress, root, retry=False)
        failed += more
    return failed


def _run_round(tasks: list[ReportTask], executor, workers: int, progress: Progress, root: str,
               retry: bool) -> tuple[int, list[ReportTask]]:
    """Submit every task to `executor` (None: a new local pool of `workers` spawned processes); return how many
    failed and, when `retry`, the tasks whose worker died under them."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    own = executor is None
    # Spawned workers, not forked: a worker shares nothing of the build process it did not ask for (no open
    # descriptor, no lock, no thread state), and it exits by itself when the build process is gone.
    pool = executor or ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=warm_worker, initargs=(root, os.getpid()))
    failed, broken = 0, []
    try:
        futures = {}
        for task in tasks:
            progress.started(task.name)
            futures[pool.submit(execute, task)] = task
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                m = fut.result()
            except BrokenProcessPool:
                if retry:
                    broken.append(task)
                    continue
                m, error = None, "the process building it was killed"
            except Exception as exc:  # noqa: BLE001 - a worker that died: the report failed, others go on
                m, error = None, f"the process building it stopped ({type(exc).__name__}: {exc})"
            if m is None:
                failed += 1
                record_failure(task, error)
                progress.finished(task.name, "failed", 0.0, error)
                continue
            if m["status"] != "ok":
                failed += 1
            progress.finished(task.name, m["status"], m["duration_s"], m.get("error"))
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return failed, broken


def run_notebook(notebook: str, given: dict, output: str | None = None, timeout: int = 600,
                 stream=None, pdf: str | None = None) -> int:
    """``ballotbook run``: one notebook with parameters from the command line into one HTML file (and its
    manifest beside it; with `pdf`, "a4" or "letter", the page printed to a PDF of the same name too).
    Parameters and data files are checked before the kernel starts."""
    if pdf:
        from helpers.pipeline.pdf import require_chromium

        require_chromium()
    paths.adopt_root_of(notebook)  # run from outside any project: the project the notebook is in
    nb_path = paths.resolve(notebook)
    declared = read_parameters(nb_path)
    values = validate(nb_path, given, from_text=True, declared=declared)
    check_files(declared, values)
    target = Path(output) if output else paths.resolve(paths.REPORTS) / f"{nb_path.stem}.html"
    target = target if target.is_absolute() else Path.cwd() / target
    if target.suffix.lower() != ".html":
        raise DataError(f"-o {output}: the output must be an .html file.")
    make_output_folder(target.parent, f"-o {output}")
    progress = Progress(1, stream)
    task = ReportTask(name=target.stem, notebook=str(nb_path), parameters=values, out=str(target.parent),
                      html=target.name, root=str(paths.project_root()), timeout=timeout, commit=git_commit(),
                      pdf=pdf)
    with BuildLock(target.parent, progress.say), processes.marked():
        processes.clean_stale_kernel_folders()
        set_aside_bad_manifests(target.parent, [target.stem], progress.say)
        m = execute(task)
    progress.finished(target.name, m["status"], m["duration_s"], m.get("error"))
    return 0 if m["status"] == "ok" else 1
