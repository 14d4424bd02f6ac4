"""Running one report end to end: its parameters written into the notebook, papermill in a fresh kernel, the
page rendered and published, the manifest written. :func:`execute` is the unit of work of every executor: it
takes a :class:`ReportTask` and returns the manifest, both plain picklable values.

Publishing is the only step that holds the output folder's lock (:class:`~helpers.pipeline.processes.BuildLock`):
under it, and with SIGTERM and SIGINT held back for those few renames, the worker checks that its build was not
stopped, then renames the page (and PDF) into place and writes the manifest. A failed report publishes its
manifest and keeps its executed notebook, with the outputs up to the failing cell and the traceback, in
``<out>/failed/<name>.ipynb`` (replaced by the next failure, removed when the report next succeeds).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from helpers import __version__
from helpers.core import paths
from helpers.core.errors import Cancelled, ReportError
from helpers.pipeline import kernels, processes
from helpers.pipeline.cache import key_of, key_parts, sha256_file
from helpers.pipeline.config import Job
from helpers.pipeline.index import answer_line
from helpers.pipeline.parameters import read_parameters
from helpers.pipeline.publish import FAILED, MANIFEST_VERSION, atomic_write, now, read_manifest, write_manifest
from helpers.pipeline.render import INPUTS_TAG, render_html


@dataclass(frozen=True)
class ReportTask:
    """One report for a worker to run and publish: everything it needs, as plain values (it is pickled to a
    pool worker or a dask worker, which share the project folder at the same path).

    The page is ``<out>/<html>`` and the manifest ``<out>/<name>.json``."""

    name: str                  #: the report's name (names its manifest)
    notebook: str              #: the notebook, as written in reports.yml (relative to `root`) or absolute
    parameters: dict           #: the given values, already validated and typed
    out: str                   #: the output folder, absolute
    html: str                  #: the page's file name in `out`
    root: str                  #: the project root (``BALLOTBOOK_ROOT`` of the worker)
    title: str | None = None   #: from reports.yml; else the notebook's first heading
    timeout: int = 600         #: seconds a cell may run
    key: str | None = None     #: the cache key the build computed (None for ``ballotbook run``)
    kit: str | None = None     #: the ``helpers`` digest; when set, the manifest's key is recomputed from the
    #:                            files the report really read
    commit: str | None = None  #: the project's git commit, recorded in the manifest
    prestart: bool = False     #: start the next report's kernel while this one runs (another report follows)
    pdf: str | None = None     #: also print ``<out>/<name of html>.pdf`` on this paper ("a4", "letter"; --pdf)
    build: str | None = None   #: the build's mark ("<pid>.<start>"): a worker publishes nothing once it is stopped
    host: str | None = None    #: the build's machine (its process is looked up only there)
    print_only: bool = False   #: the published page is up to date and only its PDF on this paper is missing: print
    #:                            that page again instead of running the notebook (a full run if the page changed)


def inject_parameters(nb, values: dict) -> None:
    """Put a run's parameters into `nb` as papermill would, but written by the kit: a code cell tagged
    ``injected-parameters`` right after the cell tagged ``parameters`` (replacing an injected cell left from an
    earlier run; at the top when there is no parameters cell), whose source is one ``name = <Python literal>``
    line per value (:func:`helpers.pipeline.parameters.injected_source`: checked plain data, each literal read back with
    ``ast.literal_eval``). ``nb.metadata.papermill.parameters`` records the values, as papermill does."""
    if not values:
        return
    import nbformat
    import papermill

    from helpers.pipeline.parameters import injected_source, plain

    cell = nbformat.v4.new_code_cell(injected_source(values))
    cell.metadata["tags"] = ["injected-parameters"]

    def tagged(tag: str) -> list[int]:
        return [i for i, c in enumerate(nb.cells) if tag in c.get("metadata", {}).get("tags", [])]

    if tagged("injected-parameters"):
        nb.cells[tagged("injected-parameters")[0]] = cell
    elif tagged("parameters"):
        nb.cells.insert(tagged("parameters")[0] + 1, cell)
    else:
        nb.cells.insert(0, cell)
    meta = nb.metadata.setdefault("papermill", {"default_parameters": {}, "environment_variables": {},
                                                "version": papermill.__version__})
    meta["parameters"] = {k: plain(v, f"parameter '{k}'") for k, v in values.items()}


#: The notebook being run in this process, as papermill fills it in: when the run fails (a cell raised, a timeout,
#: the kernel died), it holds the outputs up to the failing cell, kept in ``<out>/failed/``.
_RUNNING: dict = {}
_ENGINE = "ballotbook"


def _register_engine() -> None:
    """papermill's nbclient engine, noting the notebook it runs (papermill hands it back only on success)."""
    from papermill.engines import NBClientEngine, papermill_engines

    if _ENGINE in papermill_engines._engines:
        return

    class KeepingEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            _RUNNING["nb"] = nb_man.nb
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(_ENGINE, KeepingEngine)


def _execute_notebook(job: Job, timeout: int, prestart: bool = False, previous: dict | None = None):
    """Run the notebook with papermill in a fresh kernel (started ahead when this process keeps a supply);
    retry when a kernel fails to start. `previous`: the last good build's facts, handed to the kernel in a
    hidden first cell (:mod:`helpers.core.series`) so that the report can say what changed since."""
    import nbformat
    import papermill as pm

    nb = nbformat.read(str(job.notebook_path), as_version=4)
    cell = nbformat.v4.new_code_cell("import helpers.notebook as _bb\n_bb.record_inputs()")
    cell.metadata["tags"] = [INPUTS_TAG]
    nb.cells.append(cell)
    if previous:
        # the facts as a JSON text in a Python string literal (repr): data, never code
        first = nbformat.v4.new_code_cell("import json as _bb_json\nimport helpers.core.series as _bb_series\n"
                                          f"_bb_series.set_previous(_bb_json.loads({json.dumps(previous)!r}))")
        first.metadata["tags"] = [INPUTS_TAG]
        nb.cells.insert(0, first)
    nb.metadata.setdefault("kernelspec", {"name": kernels.KERNEL_NAME, "display_name": "Python 3",
                                          "language": "python"})
    inject_parameters(nb, job.parameters)
    _register_engine()
    _RUNNING.clear()
    last: BaseException | None = None
    supply = kernels.worker_supply()
    for attempt in range(kernels.START_RETRIES):
        km = supply.take() if supply is not None else None
        if prestart and supply is not None:
            supply.prepare()  # the next report's kernel starts while this one runs
        try:
            extra = {"km": km} if km is not None else {"kernel_manager_class": kernels.kernel_manager_class()}
            # No parameters for papermill: the kit wrote them above (papermill would build the cell by
            # string concatenation, and writes anything it does not know as '"' + str(value) + '"').
            return pm.execute_notebook(nb, None, parameters=None, kernel_name=kernels.KERNEL_NAME, engine_name=_ENGINE,
                                       progress_bar=False, log_output=False, cwd=str(paths.project_root()),
                                       execution_timeout=timeout, request_save_on_cell_execute=False,
                                       start_timeout=60, **extra)
        except Exception as exc:  # noqa: BLE001 - classify, then retry or re-raise
            if not kernels.start_failed(exc) or "PapermillExecutionError" in type(exc).__name__:
                raise
            last = exc
            time.sleep(0.5 * (attempt + 1))
        finally:
            if km is not None:
                supply.retire(km)  # km came from the supply
    raise RuntimeError(f"the kernel failed to start {kernels.START_RETRIES} times ({last})")


def _describe_failure(exc: BaseException) -> str:
    name = type(exc).__name__
    if isinstance(exc, ReportError):
        return str(exc)[:600]
    if name == "PapermillExecutionError":
        return f"cell {exc.exec_count or '?'} raised {exc.ename}: {exc.evalue}"[:600]
    if "Timeout" in name or "timed out" in str(exc).lower():
        return f"a cell ran longer than its timeout ({str(exc).splitlines()[0][:300]})"
    if name == "DeadKernelError":
        return "the kernel died while running the notebook"
    return f"{name}: {str(exc).splitlines()[0][:500] if str(exc) else ''}"


def execute(task: ReportTask) -> dict:
    """Run one report end to end and publish it: the unit of work of every executor (picklable in and out).

    Returns the manifest written. Never raises for a report failure: the failure is in the manifest, the
    executed notebook in ``failed/``, and the last good HTML is left in place. Raises
    :class:`~helpers.core.errors.Cancelled` (publishing nothing) when the build was stopped."""
    os.environ.setdefault("BALLOTBOOK_ROOT", task.root)
    job = Job(task.name, task.notebook, task.title, task.parameters, read_parameters(paths.resolve(task.notebook)))
    out = Path(task.out)
    html_path = out / task.html
    previous = read_manifest(out, task.name) or {}
    started = time.time()
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "name": job.name,
        "title": job.title,
        "notebook": paths.display(job.notebook_path),
        "parameters": job.all_parameters(),
        "given_parameters": job.parameters,
        "version": __version__,
        "commit": task.commit,
        "cache_key": task.key,
        "started": now(),
        "html": html_path.name,
        "last_good": previous.get("last_good"),
    }
    if task.print_only and task.pdf:
        again = _print_again(task, previous)
        if again is not None:
            return again
    body = pdf_path = pdf_tmp = failed_nb = None
    _RUNNING.clear()  # nothing of this worker's previous report
    try:
        good = previous.get("last_good") or {}
        facts = ({"as_of": previous.get("as_of"), "built": good.get("built"), "outputs": previous.get("outputs")}
                 if previous.get("status") == "ok" and isinstance(previous.get("outputs"), dict) else None)
        nb = _execute_notebook(job, task.timeout, task.prestart, previous=facts)
        from helpers.notebook import read_inputs, read_record

        record = read_record(nb)
        inputs = [{"path": paths.display(p), "sha256": sha256_file(p)} for p in read_inputs(nb)]
        built = now()
        given = job.all_parameters()
        used = {k: v for k, v in (record.get("used") or {}).items() if k in given}  # a placeholder's real value
        shown = {k: json.dumps(used.get(k, v), ensure_ascii=False) for k, v in given.items()}
        meta = {"title": job.title, "as_of": record.get("as_of"), "parameters": shown,
                "seed": record.get("seed"), "sources": record.get("sources", []), "built": built,
                "version": __version__, "commit": task.commit, "notebook": manifest["notebook"],
                "inputs": inputs}
        body = render_html(nb, meta).encode("utf-8")
        if task.pdf:  # printed before anything is published: a failed print leaves the last good report
            from helpers.pipeline.pdf import print_pdf

            pdf_path = html_path.with_suffix(".pdf")
            pdf_tmp = out / f".{pdf_path.name}.tmp-{os.getpid()}"
            try:
                pdf_bytes = print_pdf(body, pdf_tmp, task.pdf)
            except ReportError as exc:
                raise ReportError(f"the PDF could not be printed: {exc}") from None
            manifest.update({"pdf": pdf_path.name, "pdf_paper": task.pdf, "pdf_bytes": pdf_bytes})
        else:
            manifest["pdf"] = None
        manifest.update({
            "title": nb.metadata.get("title", job.title), "status": "ok", "error": None,
            "as_of": record.get("as_of"), "seed": record.get("seed"), "sources": record.get("sources", []),
            "outputs": record.get("outputs", {}), "inputs": inputs, "html_bytes": len(body),
            "answer": answer_line(body.decode("utf-8")),
            "html_sha256": hashlib.sha256(body).hexdigest(),
            "last_good": {"built": built, "html": html_path.name},
            "failed_notebook": None,
        })
        if task.kit:  # the key of what this build really read, so the next build can compare (and say why)
            parts = key_parts(job, task.kit, {"inputs": inputs})
            manifest["cache_key"] = key_of(parts)
            manifest["key_parts"] = parts
    except Cancelled:
        _discard(pdf_tmp)
        raise
    except Exception as exc:  # noqa: BLE001 - a report failure is data, not a crash of the build
        _discard(pdf_tmp)
        body = pdf_path = None
        failed_nb = _executed_notebook()
        manifest.update({"status": "failed", "error": _describe_failure(exc), "pdf": previous.get("pdf"),
                         "inputs": previous.get("inputs", []), "outputs": previous.get("outputs", {}),
                         "failed_notebook": f"{FAILED}/{job.name}.ipynb" if failed_nb is not None else None})
        if previous.get("key_parts") is not None:
            manifest["key_parts"] = previous["key_parts"]
    _RUNNING.clear()
    finished = time.time()
    manifest["finished"] = now()
    manifest["duration_s"] = round(finished - started, 3)
    try:
        _publish(task, manifest, previous, body, pdf_tmp, pdf_path, failed_nb)
    finally:
        _discard(pdf_tmp)
    return manifest


def _print_again(task: ReportTask, previous: dict) -> dict | None:
    """Print the published page of an up-to-date report on another paper (or again, its PDF gone) and publish
    the PDF with the manifest updated; the page stays as it is. None when the page on disk is not the one the
    manifest describes (then the report is run in full). A failed print leaves the report as it was, its
    manifest saying so."""
    from helpers.pipeline.pdf import print_pdf

    out = Path(task.out)
    html_path = out / task.html
    try:
        body = html_path.read_bytes()
    except OSError:
        return None
    if previous.get("status") != "ok" or hashlib.sha256(body).hexdigest() != previous.get("html_sha256"):
        return None
    started = time.time()
    pdf_path = html_path.with_suffix(".pdf")
    pdf_tmp = out / f".{pdf_path.name}.tmp-{os.getpid()}"
    manifest = {**previous, "started": now()}
    try:
        manifest.update({"pdf": pdf_path.name, "pdf_paper": task.pdf,
                         "pdf_bytes": print_pdf(body, pdf_tmp, task.pdf)})
        printed = True
    except ReportError as exc:
        manifest.update({"status": "failed", "error": f"the PDF could not be printed: {exc}"})
        printed = False
    manifest["finished"] = now()
    manifest["duration_s"] = round(time.time() - started, 3)
    try:
        with processes.signals_held(), processes.BuildLock(out, lambda _: None, quiet=True):
            if processes.build_stopped(out, task.build, task.host):
                raise Cancelled()
            if printed:
                os.replace(pdf_tmp, pdf_path)
            write_manifest(out, task.name, manifest)
    finally:
        _discard(pdf_tmp)
    return manifest


def _discard(tmp: Path | None) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _executed_notebook() -> bytes | None:
    """The notebook of the run that just failed, as far as it ran (None when it never started)."""
    nb = _RUNNING.pop("nb", None)
    if nb is None:
        return None
    try:
        import nbformat

        return nbformat.writes(nb).encode("utf-8")
    except Exception:  # noqa: BLE001 - the failure is reported all the same, without its notebook
        return None


def _publish(task: ReportTask, manifest: dict, previous: dict, body: bytes | None, pdf_tmp: Path | None,
             pdf_path: Path | None, failed_nb: bytes | None) -> None:
    """Publish one report under the output folder's lock, with SIGTERM and SIGINT held back: nothing at all
    when its build was stopped (Cancelled); otherwise the page and PDF renamed into place (a success) or the
    executed notebook kept in ``failed/`` (a failure), then the manifest. The last good page of a failure
    stays as it was."""
    out = Path(task.out)
    html_path = out / task.html
    kept = out / FAILED / f"{task.name}.ipynb"
    with processes.signals_held(), processes.BuildLock(out, lambda _: None, quiet=True):
        if processes.build_stopped(out, task.build, task.host):
            raise Cancelled()
        if body is not None:
            atomic_write(html_path, body)
            if pdf_path is not None:
                os.replace(pdf_tmp, pdf_path)
            else:
                _remove_stale_pdf(out, html_path, previous)
            with contextlib.suppress(OSError):
                kept.unlink()  # the failure it showed is over
        else:
            if not html_path.exists():
                manifest["last_good"] = None
            if failed_nb is not None:
                kept.parent.mkdir(exist_ok=True)
                atomic_write(kept, failed_nb)
            else:
                with contextlib.suppress(OSError):
                    kept.unlink()  # the notebook of an older failure would not show this one
        write_manifest(out, task.name, manifest)


def _remove_stale_pdf(out: Path, html_path: Path, previous: dict) -> None:
    """A report published without --pdf: the PDF an earlier build printed beside it (named in its manifest)
    shows the old numbers, so it goes."""
    if previous.get("pdf") == html_path.with_suffix(".pdf").name:
        with contextlib.suppress(OSError):
            (out / previous["pdf"]).unlink()


def record_failure(task: ReportTask, error: str) -> None:
    """A failure manifest for a report whose process died (written by the build, under the lock): the last good
    report stays as it was; no executed notebook survived the process, so an older failure's goes too."""
    out = Path(task.out)
    with processes.BuildLock(out, lambda _: None, quiet=True):
        previous = read_manifest(out, task.name) or {}
        manifest = {**previous, "name": task.name, "status": "failed", "error": error, "finished": now(),
                    "cache_key": task.key, "failed_notebook": None}
        if not (out / task.html).exists():
            manifest["last_good"] = None
        with contextlib.suppress(OSError):
            (out / FAILED / f"{task.name}.ipynb").unlink()
        write_manifest(out, task.name, manifest)
