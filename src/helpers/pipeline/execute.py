"""Running one report end to end: its parameters written into the notebook, papermill in a fresh kernel, the
page rendered and published, the manifest written. :func:`execute` is the unit of work of every executor: it
takes a :class:`ReportTask` and returns the manifest, both plain picklable values.
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
from helpers.core.errors import ReportError
from helpers.pipeline import kernels
from helpers.pipeline.cache import cache_key, sha256_file
from helpers.pipeline.config import Job
from helpers.pipeline.index import answer_line
from helpers.pipeline.parameters import read_parameters
from helpers.pipeline.publish import MANIFEST_VERSION, atomic_write, now, read_manifest, write_manifest
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
            return pm.execute_notebook(nb, None, parameters=None, kernel_name=kernels.KERNEL_NAME,
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
                kernels.KernelSupply.stop(km)
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

    Returns the manifest written. Never raises for a report failure: the failure is in the manifest, and the
    last good HTML is left in place."""
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
    pdf_tmp = None
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
        pdf_path = pdf_tmp = None
        if task.pdf:  # printed before anything is published: a failed print leaves the last good report
            from helpers.pipeline.pdf import print_pdf

            pdf_path = html_path.with_suffix(".pdf")
            pdf_tmp = out / f".{pdf_path.name}.tmp-{os.getpid()}"
            try:
                pdf_bytes = print_pdf(body, pdf_tmp, task.pdf)
            except ReportError as exc:
                raise ReportError(f"the PDF could not be printed: {exc}") from None
        atomic_write(html_path, body)
        if pdf_path is not None:
            os.replace(pdf_tmp, pdf_path)
            manifest.update({"pdf": pdf_path.name, "pdf_paper": task.pdf, "pdf_bytes": pdf_bytes})
        else:
            _remove_stale_pdf(out, html_path, previous)
            manifest["pdf"] = None
        manifest.update({
            "title": nb.metadata.get("title", job.title), "status": "ok", "error": None,
            "as_of": record.get("as_of"), "seed": record.get("seed"), "sources": record.get("sources", []),
            "outputs": record.get("outputs", {}), "inputs": inputs, "html_bytes": len(body),
            "answer": answer_line(body.decode("utf-8")),
            "html_sha256": hashlib.sha256(body).hexdigest(),
            "last_good": {"built": built, "html": html_path.name},
        })
        if task.kit:  # the key of what this build really read, so the next build can compare
            manifest["cache_key"] = cache_key(job, task.kit, {"inputs": inputs})
    except Exception as exc:  # noqa: BLE001 - a report failure is data, not a crash of the build
        if pdf_tmp is not None:
            with contextlib.suppress(OSError):
                pdf_tmp.unlink()
        manifest.update({"status": "failed", "error": _describe_failure(exc), "pdf": previous.get("pdf"),
                         "inputs": previous.get("inputs", []), "outputs": previous.get("outputs", {})})
        if not html_path.exists():
            manifest["last_good"] = None
    finished = time.time()
    manifest["finished"] = now()
    manifest["duration_s"] = round(finished - started, 3)
    write_manifest(out, job.name, manifest)
    return manifest


def _remove_stale_pdf(out: Path, html_path: Path, previous: dict) -> None:
    """A report published without --pdf: the PDF an earlier build printed beside it (named in its manifest)
    shows the old numbers, so it goes."""
    if previous.get("pdf") == html_path.with_suffix(".pdf").name:
        with contextlib.suppress(OSError):
            (out / previous["pdf"]).unlink()


def record_failure(task: ReportTask, error: str) -> None:
    """A failure manifest for a report whose process died: the last good report stays as it was."""
    out = Path(task.out)
    previous = read_manifest(out, task.name) or {}
    manifest = {**previous, "name": task.name, "status": "failed", "error": error, "finished": now(),
                "cache_key": task.key}
    if not (out / task.html).exists():
        manifest["last_good"] = None
    write_manifest(out, task.name, manifest)
