"""Building reports: ``ballotbook build`` (every report of the batch, in parallel, only what changed) and
``ballotbook run`` (one notebook into one page).

Guarantees:
- every parameter and every data file a report names is checked before anything is written or any kernel
  starts: exit 2 otherwise;
- a report is rendered into a temporary file in the output folder and renamed into place, so a failed or killed
  run never replaces the last good report; its error goes in its manifest and on the index;
- builds into one output folder (``run-one`` pods of an indexed job) run side by side; only publishing (a
  report's renames and manifest, the index) takes the folder's lock (:class:`~helpers.pipeline.processes.BuildLock`),
  a few milliseconds each. Two builds of the same report may both run it; each publish is whole, the last wins;
- a report whose notebook, parameters, input files and ``helpers`` source are unchanged is not rebuilt;
  ``dry_run`` says which reports would be rebuilt and why, and touches nothing;
- SIGTERM or SIGINT stops a build: queued reports are dropped, workers and their kernels stopped, nothing is
  published after the signal, and :class:`~helpers.core.errors.Cancelled` carries exit code 143 or 130;
- a failed report keeps its executed notebook in ``<out>/failed/<name>.ipynb``, linked from the index.

Reports run through any ``concurrent.futures.Executor`` (:mod:`helpers.pipeline.executors`); the default is a
local pool of spawned worker processes. Heavy imports (papermill, nbconvert, pandas) happen only in the process
that runs a report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.core import paths
from helpers.core.cpus import usable_cpus
from helpers.core.errors import Cancelled, DataError
from helpers.pipeline import durations, processes
from helpers.pipeline.cache import helpers_digest, key_of, key_parts
from helpers.pipeline.checked import check_jobs
from helpers.pipeline.config import Job, load_config
from helpers.pipeline.parameters import check_files, read_parameters, validate
from helpers.pipeline.processes import BuildLock
from helpers.pipeline.progress import Progress
from helpers.pipeline.publish import (
    clean_temporaries,
    make_output_folder,
    manifest_path,
    read_manifest,
    set_aside_bad_manifests,
)

if TYPE_CHECKING:
    from helpers.pipeline.execute import ReportTask

#: Seconds a build waits for the folder's lock before it says so: builds overlap, and each holds the lock only for
#: a few renames, so a short wait is routine and not worth a line in the log.
LOCK_NOTICE = 5.0


def git_commit() -> str | None:
    """The project's short git commit (recorded in each manifest), or None outside a git checkout."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.project_root(),
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def build(config: str = "reports.yml", only: list[str] | None = None, jobs: int | None = None,
          force: bool = False, out: str | None = None, timeout: int = 600, executor=None,
          stream=None, pdf: str | None = None, dry_run: bool = False) -> int:
    """Build the report set. Returns the exit code: 0 all built or up to date, 1 a report failed (the others
    were still published), 2 bad config or parameters (nothing ran). `pdf` ("a4", "letter") also prints each
    report to ``<name>.pdf``; an up-to-date report without that PDF is rebuilt. `dry_run`: print (stdout) each
    report that would be rebuilt and why, and those up to date; nothing is written, locked or started.
    SIGTERM or SIGINT raises :class:`~helpers.core.errors.Cancelled` once the build's processes are stopped."""
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

    last_seconds: dict[str, float] = {}  # what each report took when it was last published here

    def plan() -> tuple[list[Job], dict[str, str], dict[str, str]]:
        """The reports to run, every report's cache key, and why each one to run is run."""
        todo, keys, reasons = [], {}, {}
        for job in selected:
            previous = read_manifest(out_dir, job.name)
            if previous and previous.get("status") == "ok" and isinstance(previous.get("duration_s"), (int, float)):
                last_seconds[job.name] = float(previous["duration_s"])
            parts = key_parts(job, kit, previous)  # every input hashed once
            keys[job.name] = key = key_of(parts)
            why = rebuild_reason(job, previous, key, parts, out_dir, pdf, force)
            if why:
                todo.append(job)
                reasons[job.name] = why
        return todo, keys, reasons

    def check(todo: list[Job]) -> None:
        check_jobs(todo, kit, root)  # what passed before, with nothing changed, is not checked again

    # Every data file a report will read is checked before anything is written or any kernel starts.
    todo, _, reasons = plan()
    # The kernels' fork server and the one the pool's workers are forked from start now (they start no kernel
    # and no worker): their imports run while the data files are checked. Stopped if the check fails. A no-op
    # (nothing to run) starts neither, nor the resource tracker a pool needs (~0.1 s).
    server = None
    from helpers.pipeline.kernels import worker_server_running

    had_worker_server = worker_server_running()  # this process's own, if any, is left as it is
    if not dry_run and executor is None and todo:
        from multiprocessing import resource_tracker

        from helpers.pipeline.kernels import shared_fork_server, start_worker_server

        with processes.marked():  # a cancelled build stops it with the rest
            if len(todo) > _workers(jobs, len(todo)):
                server = shared_fork_server(str(root))
        resource_tracker.ensure_running()  # not marked: stopping a cancelled build's processes must spare it
        with processes.marked():  # its workers inherit its environment, the mark with it
            start_worker_server()
    try:
        check(todo)
        if dry_run:
            _print_plan(selected, reasons)
            return 0
        make_output_folder(out_dir, f"--out {paths.display(out_dir)}")
        with processes.marked(), processes.Cancellation(out_dir) as cancel:
            try:
                # tidying what dead processes left: one at a time
                with BuildLock(out_dir, progress.say, notice_after=LOCK_NOTICE):
                    clean_temporaries(out_dir)
                    processes.clean_cancel_files(out_dir)
                    set_aside_bad_manifests(out_dir, [j.name for j in all_jobs], progress.say)
                processes.clean_stale_kernel_folders()
                cancel.check()
                checked = {j.name for j in todo}
                todo, keys, reasons = plan()  # again: a bad manifest set aside, or another build published meanwhile
                check([j for j in todo if j.name not in checked])
                for job in selected:
                    if job not in todo:
                        progress.finished(job.name, "up to date", 0.0)
                failed = 0
                if todo:
                    from helpers.pipeline.execute import ReportTask  # what runs reports: not for a no-op

                    commit = git_commit()
                    workers = _workers(jobs, len(todo))
                    todo, timed = durations.plan(todo, root, last_seconds)  # longest first
                    # Start kernels ahead only where another report will follow on the same worker.
                    tasks = [ReportTask(name=j.name, notebook=j.notebook, parameters=j.parameters, out=str(out_dir),
                                        html=f"{j.name}.html", root=str(root), title=j.title, timeout=timeout,
                                        key=keys[j.name], kit=kit, commit=commit, prestart=i < len(todo) - workers,
                                        pdf=pdf, build=cancel.mark, host=socket.gethostname(),
                                        print_only=bool(pdf) and reasons.get(j.name) == PRINT_ONLY.format(paper=pdf))
                             for i, j in enumerate(todo)]
                    took: dict[str, float] = {}
                    failed = _run_all(tasks, jobs, executor, progress, str(root), cancel, took, server)
                    durations.write(root, {timed[name]: seconds for name, seconds in took.items()})
                with BuildLock(out_dir, progress.say, notice_after=LOCK_NOTICE):
                    cancel.check()
                    clean_temporaries(out_dir)  # what a killed worker left (temporaries of live processes stay)
                    names = [j.name for j in all_jobs]
                    if todo or not index_current(out_dir, names, config):
                        from helpers.pipeline.index import write_index

                        write_index(out_dir, names)
            except Cancelled:
                processes.stop_processes(cancel.mark)  # workers, kernels, printers: whole trees, then gone
                cancel.finish(workers_stopped=executor is None)
                progress.close()
                raise
        progress.summary()
        return 1 if failed else 0
    finally:
        if server is not None:
            server.close()
        if executor is None and not had_worker_server:  # (a dask cluster's is stopped with the cluster)
            from helpers.pipeline.kernels import stop_worker_server

            stop_worker_server()


def rebuild_reason(job: Job, previous: dict | None, key: str, parts: dict, out_dir: Path, pdf: str | None,
                   force: bool) -> str | None:
    """Why report `job` must be built (None when it is up to date): forced, no previous build, failed last
    time, its page (or PDF) missing, or what changed since its last build (the kit, the notebook, the
    parameters, an input file), from the key parts its manifest keeps."""
    if force:
        return "forced (--force)"
    if not previous:
        return "no previous build"
    if previous.get("status") != "ok":
        return "failed last time"
    if not (out_dir / str(previous.get("html") or "")).is_file():
        return f"its page {previous.get('html') or job.name + '.html'} is missing"
    if previous.get("cache_key") != key:
        return _changed(previous.get("key_parts"), parts)
    if pdf and not (previous.get("pdf_paper") == pdf and previous.get("pdf") == f"{job.name}.pdf"
                    and (out_dir / previous["pdf"]).is_file()):
        return PRINT_ONLY.format(paper=pdf)
    return None


def index_current(out_dir: Path, names: list[str], config: str) -> bool:
    """Whether ``<out>/index.html`` already shows what a no-op build would write: it is at least as new as the
    batch file (which reports, in which order) and as every report's manifest (status, title, answer, dates),
    everything it is made of. A no-op build then leaves it as it is (its "Updated" date is that of its last
    change) instead of writing it again, which would read the rules file of every report run under another
    subject's rules (and so import pandas)."""
    try:
        built = (out_dir / "index.html").stat().st_mtime_ns
        newest = max([paths.resolve(config).stat().st_mtime_ns] +
                     [manifest_path(out_dir, n).stat().st_mtime_ns for n in names])
    except (OSError, ValueError):
        return False
    return built >= newest


#: The one reason a report is printed again from its published page instead of being run (rebuild_reason).
PRINT_ONLY = "no {paper} PDF of it yet (its page is up to date: printed again, not run)"


def _changed(before, now: dict) -> str:
    """What differs between the key parts of the last build (`before`) and now."""
    if not isinstance(before, dict):
        return "its cache key changed (its manifest predates the record of what changed)"
    said = []
    if before.get("kit") != now.get("kit"):
        said.append("the kit (helpers) changed")
    if before.get("notebook") != now.get("notebook"):
        said.append("notebook changed")
    if before.get("parameters") != now.get("parameters"):
        said.append("parameters changed")
    old, new = before.get("inputs") or {}, now.get("inputs") or {}
    old = old if isinstance(old, dict) else {}
    for path in sorted(set(old) | set(new)):
        if path not in old:
            said.append(f"input file {path} is new")
        elif new.get(path) is None and old[path] is not None:
            said.append(f"input file {path} is missing")
        elif old[path] != new.get(path):
            said.append(f"input file {path} changed")
    return "; ".join(said) or "its cache key changed"


def _print_plan(selected: list[Job], reasons: dict[str, str]) -> None:
    """The dry run's answer, on stdout: one line per report, then a count."""
    width = max((len(j.name) for j in selected), default=0)
    for job in selected:
        why = reasons.get(job.name)
        print(f"{job.name:<{width}}  {'rebuild: ' + why if why else 'up to date'}", flush=True)
    n = len(reasons)
    print(f"dry run: {n} of {len(selected)} report{'s' if len(selected) != 1 else ''} would be rebuilt; "
          "nothing was written.", flush=True)


def _workers(jobs: int | None, reports: int) -> int:
    """How many workers a build of `reports` reports gets: --jobs (default: the usable CPUs), no more than
    there are reports, at least one."""
    return max(1, min(jobs or usable_cpus(), reports))


def _run_all(tasks: list[ReportTask], jobs: int | None, executor, progress: Progress, root: str,
             cancel: processes.Cancellation, took: dict[str, float], server=None) -> int:
    """Run every task; return how many failed, and put the seconds of each report built in `took` (by name).
    With the local pool, a worker process that dies (killed, out of memory) breaks the whole pool: the reports
    it took down with it are run once more, each in a pool of its own, so one bad report cannot fail the
    others. `server`: the kernels' fork server the workers share (:func:`helpers.pipeline.kernels.
    shared_fork_server`), if the build started one."""
    own = executor is None
    workers = _workers(jobs, len(tasks))
    failed, broken = _run_round(tasks, executor, workers, progress, root, retry=own, cancel=cancel, took=took,
                                server=server)
    for task in broken:  # one at a time: whichever report kills its worker fails alone
        more, _ = _run_round([dataclasses.replace(task, prestart=False)], None, 1, progress, root, retry=False,
                             cancel=cancel, took=took)
        failed += more
    return failed


def _run_round(tasks: list[ReportTask], executor, workers: int, progress: Progress, root: str,
               retry: bool, cancel: processes.Cancellation, took: dict[str, float],
               server=None) -> tuple[int, list[ReportTask]]:
    """Submit every task to `executor` (None: a new local pool of `workers` processes); return how many
    failed and, when `retry`, the tasks whose worker died under them. A signal (`cancel`) drops what is queued,
    stops the pool's workers (each stops its kernels) and raises Cancelled."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from helpers.pipeline.execute import execute, record_failure
    from helpers.pipeline.kernels import start_worker_server, warm_worker, worker_context

    own = executor is None
    server = server if own and len(tasks) > workers else None  # worth it from a worker's second report on
    if own:
        start_worker_server()  # (running already, unless a no-op became a build or this is a retry's pool)
    # Workers forked from a warm server of their own, or spawned, never forked from the build: a worker shares
    # nothing of the build process it did not ask for (no open descriptor, no lock, no thread state), and it
    # exits by itself when the build process is gone.
    pool = executor or ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(),
                                           initializer=warm_worker,
                                           initargs=(root, os.getpid(), False, True,
                                                     (server.address, server.pid) if server else None))
    failed, broken = 0, []
    futures = {}
    stopped = False
    try:
        for task in tasks:
            cancel.check()
            progress.started(task.name)
            futures[pool.submit(execute, task)] = task
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                cancel.check()  # nothing is recorded after the signal
                task = futures[fut]
                try:
                    m = fut.result()
                except BrokenProcessPool:
                    if retry:
                        broken.append(task)
                        continue
                    m, error = None, "the process building it was killed"
                except Cancelled:
                    cancel.check()
                    m, error = None, "its build was stopped"
                except Exception as exc:  # noqa: BLE001 - a worker that died: the report failed, others go on
                    m, error = None, f"the process building it stopped ({type(exc).__name__}: {exc})"
                if m is None:
                    failed += 1
                    record_failure(task, error)
                    progress.finished(task.name, "failed", 0.0, error)
                    continue
                if m["status"] != "ok":
                    failed += 1
                else:
                    took[task.name] = m["duration_s"]
                progress.finished(task.name, m["status"], m["duration_s"], m.get("error"))
            cancel.check()
    except Cancelled:
        if own:  # no future is cancelled by hand: the stopped workers break the pool, which fails every one
            _stop_workers(pool)  # (a cancelled one would trip Python 3.11's pool thread: InvalidStateError)
            stopped = True
        else:  # the caller's executor (dask): what is queued there is dropped, nothing waited for
            for fut in futures:
                fut.cancel()
            with contextlib.suppress(Exception):
                pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        if own:
            pool.shutdown(wait=not stopped, cancel_futures=True)
    return failed, broken


def _stop_workers(pool, patience: float = 3.0) -> None:
    """Stop a local pool's workers: SIGTERM (each stops its kernels and exits), SIGKILL for any still there."""
    import time

    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
    deadline = time.monotonic() + patience
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        with contextlib.suppress(Exception):
            if p.is_alive():
                p.kill()
                p.join(1.0)


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
    from helpers.pipeline.execute import ReportTask, execute

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
    with processes.marked(), processes.Cancellation(target.parent, raise_now=True) as cancel:
        try:
            with BuildLock(target.parent, progress.say, notice_after=LOCK_NOTICE):
                set_aside_bad_manifests(target.parent, [target.stem], progress.say)
            processes.clean_stale_kernel_folders()
            m = execute(dataclasses.replace(task, build=cancel.mark, host=socket.gethostname()))
        except Cancelled:
            processes.stop_processes(cancel.mark)  # the kernel, a printer
            cancel.finish(workers_stopped=True)
            raise
    progress.finished(target.name, m["status"], m["duration_s"], m.get("error"))
    return 0 if m["status"] == "ok" else 1
