"""The report pipeline: the batch file, typed parameters, the cache, execution, HTML, manifests, the index and a
safe publish.

One way to run a report: :func:`execute` (papermill -> HTML -> atomic publish -> manifest), called in-process by
``ballotbook run`` and in worker processes by :func:`build`. The executor is any
``concurrent.futures.Executor``, so a cluster's executor can stand in for the local process pool.

Guarantees:
- every parameter is checked (name, type, range, data file) before any kernel starts: exit 2 otherwise;
- a report is rendered into a temporary file in the output folder and renamed into place, so a failed or killed
  run never replaces the last good report; its error goes in its manifest and on the index;
- one build at a time per output folder (a lock); a second build waits;
- a report whose notebook, parameters, input files and ``helpers`` source are unchanged is not rebuilt.

Heavy imports (papermill, nbconvert, pandas) happen only when a report really runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import subprocess
import sys
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from helpers import __version__
from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data._table import excerpt, read_yaml
from helpers.pipeline import processes
from helpers.pipeline.parameters import Parameter, check_files, read_parameters, validate
from helpers.pipeline.processes import BuildLock

# jsonschema imports the optional grammar package rfc3987-syntax when it is installed (jupyterlab pulls it in
# through jupyter-events); it costs ~1.3 s at every nbformat import and checks only "iri" formats, which
# notebooks never use. Marking it absent makes jsonschema skip it (its import is guarded by ImportError).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

MANIFEST_VERSION = 1
KERNEL_NAME = "python3"
START_RETRIES = 3
INPUTS_TAG = "ballotbook-inputs"


# --------------------------------------------------------------------------------------------- the batch file
@dataclass
class Job:
    """One report to build: where it comes from and what it runs with."""

    name: str
    notebook: str                      # as written (relative to the project root, or absolute)
    title: str | None = None
    parameters: dict = field(default_factory=dict)   # given values, validated and typed
    declared: dict[str, Parameter] = field(default_factory=dict, repr=False)

    @property
    def notebook_path(self) -> Path:
        return paths.resolve(self.notebook)

    def all_parameters(self) -> dict:
        """Defaults overlaid with the given values: what the notebook runs with."""
        out = {k: p.default for k, p in self.declared.items()}
        out.update(self.parameters)
        return out


def load_config(path: str | Path = "reports.yml") -> list[Job]:
    """Read the report batch: every entry checked (keys, notebook, parameter names and types, unique names).

    An entry whose ``parameters`` is a list produces one report per parameter set; its name is formatted with
    the set's values (``thresholds-{as_of}``)."""
    p = paths.resolve(path)
    name = paths.display(p)
    doc = read_yaml(p, "a report batch file (reports.yml)")
    if not isinstance(doc, dict) or not isinstance(doc.get("reports"), list):
        raise DataError(f"{name}: expected a mapping with a 'reports' list at the top.")
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(doc["reports"], start=1):
        here = f"{name}, report {i}"
        if not isinstance(entry, dict):
            raise DataError(f"{here}: expected a mapping with 'name' and 'notebook'.")
        unknown = set(entry) - {"name", "notebook", "title", "parameters"}
        if unknown:
            raise DataError(f"{here}: unknown key '{sorted(unknown)[0]}'; expected name, notebook, title, "
                            "parameters.")
        for key in ("name", "notebook"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise DataError(f"{here}: '{key}' is missing or not text.")
        here = f"{name}, report '{excerpt(entry['name'], 40)}'"
        nb_path = paths.resolve(entry["notebook"])
        if not nb_path.is_file():
            what = "is not a regular file" if nb_path.exists() else "does not exist"
            raise DataError(f"{here}: notebook {entry['notebook']} {what}.")
        title = entry.get("title")
        if title is not None and not isinstance(title, str):
            raise DataError(f"{here}: 'title' must be text.")
        sets = entry.get("parameters") or {}
        if isinstance(sets, dict):
            sets = [sets]
        if not isinstance(sets, list) or not all(isinstance(s, dict) for s in sets):
            raise DataError(f"{here}: 'parameters' must be a mapping or a list of mappings.")
        declared = read_parameters(nb_path)
        for given in sets or [{}]:
            try:
                values = validate(nb_path, given, declared=declared)
            except DataError as exc:
                raise DataError(f"{here}: {exc}") from None
            fields = _name_fields(entry["name"], here, declared)
            report_name = entry["name"].format_map({f: values.get(f, declared[f].default) for f in fields})
            if len(report_name) > MAX_NAME:
                raise DataError(f"{here}: report name '{excerpt(report_name)}' has {len(report_name):,} "
                                f"characters; at most {MAX_NAME} are allowed (it names files).")
            if not _safe_name(report_name):
                raise DataError(f"{here}: report name '{excerpt(report_name)}' may hold only letters, digits, "
                                "'.', '_' and '-'.")
            if _reserved(report_name):
                raise DataError(f"{here}: report name '{report_name}' is reserved (index.html is the index page; "
                                "CON, NUL and the like are device names); choose another name.")
            if report_name in seen:
                raise DataError(f"{name}: report name '{report_name}' is used twice (reports {seen[report_name]} "
                                f"and {i}); names must be unique.")
            seen[report_name] = i
            jobs.append(Job(report_name, entry["notebook"], title, values, declared))
    return jobs


#: Most characters in a report name (it names reports/<name>.html and .json; file names hold 255 bytes).
MAX_NAME = 120


def _name_fields(template: str, here: str, declared: dict[str, Parameter]) -> set[str]:
    """The parameters a report name template substitutes (``thresholds-{as_of}``). Only plain fields are
    allowed: ``{name}`` of a parameter of the notebook, with no attribute or index (``{as_of.year}``,
    ``{x[0]}``), position (``{0}``, ``{}``), conversion (``{x!r}``) or format spec (``{x:>9}``); DataError
    otherwise, so a template can neither reach into a value nor build a huge name."""
    import string

    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise DataError(f"{here}: the name is not a valid template ({exc}); write a parameter as {{name}} and "
                        "a brace as {{ or }}.") from None
    fields = set()
    for _, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if not field_name.isidentifier() or conversion is not None or spec:
            shown = "{" + field_name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise DataError(f"{here}: the name's field '{excerpt(shown, 40)}' is not a plain parameter name; a "
                            "name may only substitute parameters as {name} (no '.', '[', '!' or ':').")
        if field_name not in declared:
            raise DataError(f"{here}: the name refers to '{excerpt(field_name, 40)}', which is not a parameter "
                            "of the notebook.")
        fields.add(field_name)
    return fields


def _safe_name(name: str) -> bool:
    return bool(name) and name[0] not in ".-" and all(c.isalnum() or c in "._-" for c in name)


#: Report names the kit keeps for itself: ``index`` (the index page) and the device names that Windows and SMB
#: shares cannot hold as files; compared without case, for case-insensitive file systems.
RESERVED_NAMES = frozenset({"index", "con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                            *(f"lpt{i}" for i in range(10))})


def _reserved(name: str) -> bool:
    return name.lower() in RESERVED_NAMES or name.split(".")[0].lower() in RESERVED_NAMES - {"index"}


# --------------------------------------------------------------------------------------------- cache keys
def sha256_file(path: str | Path) -> str | None:
    """The file's SHA-256, or None when it is missing, unreadable, not a regular file or over every size limit
    of the kit: a named pipe or /dev/zero named by a parameter is then refused by its loader (exit 2), instead of
    blocking or streaming forever here, before the check."""
    import stat

    from helpers.data._table import MAX_CSV_BYTES, MAX_NOTEBOOK_BYTES, MAX_YAML_BYTES

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max(MAX_CSV_BYTES, MAX_NOTEBOOK_BYTES, MAX_YAML_BYTES):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return hashlib.file_digest(f, "sha256").hexdigest() if hasattr(hashlib, "file_digest") else \
                hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def helpers_digest() -> str:
    """One hash of the ``helpers`` package's source and templates: a change to the kit rebuilds every report."""
    root = Path(__file__).resolve().parents[1]  # the whole helpers package
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in {".py", ".j2", ".json", ".css"} and "__pycache__" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def cache_key(job: Job, kit: str, previous: dict | None) -> str:
    """What a report's content depends on: kit source, notebook, parameters, and every data file it read last
    time (from its previous manifest) or names through a parameter."""
    from helpers.pipeline.parameters import file_parameters

    files = {str(paths.resolve(p)) for group in file_parameters(job.declared, job.parameters).values()
             for p in group}
    if previous:
        files |= {str(paths.resolve(i["path"])) for i in previous.get("inputs", [])}
    payload = {
        "kit": kit,
        "notebook": sha256_file(job.notebook_path),
        "parameters": job.all_parameters(),
        "inputs": {paths.display(f): sha256_file(f) for f in sorted(files)},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------------------------- manifests
def manifest_path(out: Path, name: str) -> Path:
    return out / f"{name}.json"


#: A manifest is a few KB; anything much larger was not written by the kit.
MANIFEST_MAX_BYTES = 16 * 1024 * 1024


def read_manifest(out: Path, name: str) -> dict | None:
    """The manifest of report `name`, or None when there is none or it is not a manifest the kit wrote (see
    :func:`manifest_problem`): such a report is simply rebuilt."""
    manifest, problem = _load_manifest(manifest_path(out, name))
    return None if problem else manifest


def _load_manifest(path: Path) -> tuple[dict | None, str | None]:
    """(manifest, None), (None, None) when there is no file, or (None, what is wrong with it)."""
    import stat

    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            return None, "it is not a regular file"
        if st.st_size > MANIFEST_MAX_BYTES:
            return None, f"it is {st.st_size:,} bytes, far more than a manifest"
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except UnicodeDecodeError:
        return None, "it is not UTF-8 text"
    except OSError as exc:
        return None, f"it cannot be read ({exc.strerror or exc})"
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        return None, f"it is not valid JSON (line {getattr(exc, 'lineno', '?')})"
    problem = manifest_problem(manifest)
    return (None, problem) if problem else (manifest, None)


def manifest_problem(m) -> str | None:
    """What makes `m` not a manifest the pipeline can read (None when it is fine): every field the pipeline
    reads back must have the type the kit writes."""
    if not isinstance(m, dict):
        return f"it holds {type(m).__name__ if m is not None else 'null'}, not a JSON object"
    text_or_none = ("name", "title", "status", "error", "html", "cache_key", "notebook", "started", "finished",
                    "built")
    for key in text_or_none:
        if m.get(key) is not None and not isinstance(m[key], str):
            return f"its field '{key}' is not text"
    if not isinstance(m.get("inputs", []), list) or not all(
            isinstance(i, dict) and isinstance(i.get("path"), str) for i in m.get("inputs", [])):
        return "its field 'inputs' is not a list of {\"path\": ...} entries"
    if not isinstance(m.get("outputs", {}), dict):
        return "its field 'outputs' is not a mapping"
    if not isinstance(m.get("sources", []), list):
        return "its field 'sources' is not a list"
    good = m.get("last_good")
    if good is not None and not (isinstance(good, dict) and all(isinstance(good.get(k), str) for k in
                                                                ("built", "html"))):
        return "its field 'last_good' is not {\"built\": ..., \"html\": ...}"
    for html_name in (m.get("html"), (good or {}).get("html")):
        if html_name is not None and not _safe_name(html_name):  # linked from the index: a file name only
            return f"it names {html_name[:80]!r}, which is not a report file name"
    if m.get("status") == "failed" and not isinstance(m.get("error"), str):
        return "it says 'failed' without an error"
    return None


def set_aside_bad_manifests(out: Path, names: list[str], say: Callable[[str], None]) -> None:
    """Rename every manifest of `names` that the kit cannot read to ``<name>.json.bad-<time>`` (kept for a
    look, never read again) with a note: the report is rebuilt, and no later build trips over the file."""
    for name in names:
        path = manifest_path(out, name)
        _, problem = _load_manifest(path)
        if problem is None:
            continue
        aside = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%dT%H%M%S')}")
        try:
            os.replace(path, aside)
        except OSError as exc:
            say(f"{paths.display(path)} is not a manifest the kit can read ({problem}) and cannot be set aside "
                f"({exc.strerror or exc}); report '{name}' is rebuilt over it")
            continue
        say(f"{paths.display(path)} is not a manifest the kit can read ({problem}); set it aside as "
            f"{aside.name}, and report '{name}' is rebuilt")


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename: readers see the old
    file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if os.environ.get("BALLOTBOOK_FAULT") == f"kill-before-rename:{path.name}":  # for the kill tests
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.project_root(),
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------- execution
def _report_title(nb, job_title: str | None) -> tuple[str, int | None]:
    """The report title (from reports.yml, else the notebook's first '# ' heading) and the index of the
    markdown cell holding that heading."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return (job_title or line[2:].strip()), i
            break
    return (job_title or "Report"), None


def _sanitise_outputs(nb) -> None:
    """Make outputs safe to share: data-derived HTML and Markdown go through an allowlist sanitiser (no script,
    no event handlers, images only from data: URIs), script and SVG outputs are dropped, warnings on stderr are
    not shown, and the kit's own record outputs are removed."""
    import nh3
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from helpers.notebook import INPUTS_MIME, RECORD_MIME

    tags = set(nh3.ALLOWED_TAGS) | {"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "img",
                                    "h1", "h2", "h3", "h4", "h5", "h6", "p", "span", "div", "br", "hr",
                                    "code", "pre", "sup", "sub", "figure", "figcaption", "colgroup", "col"}
    attributes = {"*": {"class", "title", "colspan", "rowspan", "align"}, "img": {"src", "alt", "width",
                                                                                   "height"},
                  "a": {"href"}}

    def keep_attr(tag, attr, value):
        if tag == "img" and attr == "src" and not value.startswith("data:image/"):
            return None  # nothing in a report may load from a network or a local file
        return value

    def clean(markup: str) -> str:
        return nh3.clean(markup, tags=tags, attributes=attributes, attribute_filter=keep_attr,
                         url_schemes={"http", "https", "mailto", "data"}, link_rel="noopener noreferrer")

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                if out.get("name") == "stdout":
                    kept.append(out)
                continue
            if out.get("output_type") == "error":
                continue
            data = out.get("data")
            if data is None:
                kept.append(out)
                continue
            if RECORD_MIME in data or INPUTS_MIME in data:
                continue
            for mime in list(data):
                if mime in ("application/javascript", "text/javascript", "image/svg+xml", "text/latex") or \
                        mime.startswith("application/vnd.jupyter.widget") or mime.endswith("+json"):
                    del data[mime]
            if "text/markdown" in data:
                data["text/html"] = clean(markdown2html_mistune(data.pop("text/markdown")))
            elif "text/html" in data:
                value = data["text/html"]
                data["text/html"] = clean("".join(value) if isinstance(value, list) else value)
            if any(k in data for k in ("text/html", "image/png", "image/jpeg")):
                data.pop("text/plain", None)  # shown instead of nothing only
            if data:
                kept.append(out)
        cell.outputs = kept


def render_html(nb, meta: dict) -> str:
    """The executed notebook as one self-contained HTML page: no code, no network, escaped header."""
    from nbconvert import HTMLExporter

    _sanitise_outputs(nb)
    title, heading_cell = _report_title(nb, meta.get("title"))
    meta = {**meta, "title": title}
    if heading_cell is not None:  # the header shows the title; the question stays as the first paragraph
        cell = nb.cells[heading_cell]
        lines = cell.source.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("# "))
        cell.source = "\n".join(lines[:first] + lines[first + 1:]).strip()
    nb.cells = [c for c in nb.cells if not ({"injected-parameters", INPUTS_TAG, "remove"} &
                                            set(c.metadata.get("tags", [])))]
    nb.metadata["title"] = title
    nb.metadata["ballotbook"] = meta
    exporter = HTMLExporter(template_name="ballotbook",
                            extra_template_basedirs=[str(Path(__file__).resolve().parent / "templates")],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=False, sanitize_html=False)
    body, _ = exporter.from_notebook_node(nb)
    return body


def _start_failed(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    # Only failures to *start* a kernel are retried; a kernel that dies while running a report fails it.
    return any(s in text for s in ("Address already in use", "Kernel died before replying",
                                   "Kernel didn't respond", "kernel_info", "TimeoutError: Kernel"))


_KM_CLASS = None


def kernel_manager_class():
    """Kernels talk over Unix sockets in a private temporary path (IPC transport), not TCP: no port
    collisions when many kernels start at once, and nothing listens on the network. The sockets live in this
    process's own folder (``processes.kernel_folder``), removed when the process ends, or by the next build
    when it was killed."""
    global _KM_CLASS
    if _KM_CLASS is None:
        from jupyter_client.manager import AsyncKernelManager

        from helpers.pipeline.processes import kernel_folder

        # nbclient notices a kernel that dies mid-report only with an async manager (a blocking one hangs).
        class IPCKernelManager(AsyncKernelManager):
            def __init__(self, **kwargs):
                import uuid

                base = os.path.join(kernel_folder(), f"kernel-{uuid.uuid4().hex[:12]}")
                kwargs["transport"] = "ipc"
                kwargs["ip"] = base
                kwargs.setdefault("connection_file", f"{base}.json")  # else a tmp*.json in $TMPDIR
                super().__init__(**kwargs)
                _LIVE_KERNELS.add(self)

        _KM_CLASS = IPCKernelManager
    return _KM_CLASS


_LIVE_KERNELS: weakref.WeakSet = weakref.WeakSet()


def _kill_kernels() -> None:
    """Stop at once every kernel this process started (its parent died: nobody will read the report)."""
    import signal

    for km in list(_LIVE_KERNELS):
        pid = getattr(getattr(km, "provisioner", None), "pid", None)
        if not pid:
            continue
        try:
            if os.getpgid(pid) == pid:  # a kernel is the leader of its own session: take its children too
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


#: Imported in a kernel before it is handed to a report: what every report notebook imports anyway.
WARM_UP = ("import helpers.notebook, helpers.views.charts, helpers.views.tables, helpers.data, pandas, numpy, "
           "matplotlib.pyplot")


class KernelSupply:
    """Fresh kernels for reports, started ahead: while one report runs, the next report's kernel starts and
    imports the kit in a background thread. Every report still gets a kernel of its own (nothing is shared
    between reports); only the waiting is overlapped."""

    def __init__(self, root: str):
        self.root = root
        self._next = None  # (thread, holder dict)

    def _start(self):
        import asyncio

        return asyncio.run(self._start_async())

    async def _start_async(self):
        km = kernel_manager_class()(kernel_name=KERNEL_NAME)
        await km.start_kernel(cwd=self.root)
        try:
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=60)
                reply = await kc.execute_interactive(WARM_UP, timeout=120, store_history=False)
                if reply.get("content", {}).get("status") != "ok":
                    raise RuntimeError("the warm-up imports failed in the kernel")
            finally:
                kc.stop_channels()
        except BaseException:
            await self._stop_async(km)
            raise
        return km

    def _start_in_background(self):
        import threading

        holder: dict = {}

        def target():
            for attempt in range(START_RETRIES):
                try:
                    holder["km"] = self._start()
                    return
                except Exception as exc:  # noqa: BLE001 - retried, then reported by take()
                    holder["error"] = exc
                    time.sleep(0.3 * (attempt + 1))

        thread = threading.Thread(target=target, name="ballotbook-next-kernel", daemon=True)
        thread.start()
        self._next = (thread, holder)

    def prepare(self) -> None:
        if self._next is None:
            self._start_in_background()

    def take(self):
        """A started, warmed kernel manager for one report; the caller shuts it down. None when no kernel
        could be started ahead (papermill then starts one itself)."""
        km = None
        if self._next is not None:
            thread, holder = self._next
            self._next = None
            thread.join()
            km = holder.get("km")
        if km is not None:
            import asyncio

            if not asyncio.run(km.is_alive()):
                self._stop(km)
                km = None
        return km

    @staticmethod
    async def _stop_async(km) -> None:
        try:
            await km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - already gone
            pass
        try:
            await km.cleanup_resources()
        except Exception:  # noqa: BLE001
            pass

    @staticmethod
    def _stop(km) -> None:
        import asyncio

        asyncio.run(KernelSupply._stop_async(km))

    def close(self) -> None:
        if self._next is not None:
            thread, holder = self._next
            self._next = None
            thread.join()
            if holder.get("km") is not None:
                self._stop(holder["km"])


_SUPPLY: KernelSupply | None = None


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


def _execute_notebook(job: Job, timeout: int, prestart: bool = False):
    """Run the notebook with papermill in a fresh kernel (started ahead when this process keeps a supply);
    retry when a kernel fails to start."""
    import nbformat
    import papermill as pm

    nb = nbformat.read(str(job.notebook_path), as_version=4)
    cell = nbformat.v4.new_code_cell("import helpers.notebook as _bb\n_bb.record_inputs()")
    cell.metadata["tags"] = [INPUTS_TAG]
    nb.cells.append(cell)
    nb.metadata.setdefault("kernelspec", {"name": KERNEL_NAME, "display_name": "Python 3",
                                          "language": "python"})
    inject_parameters(nb, job.parameters)
    last: BaseException | None = None
    for attempt in range(START_RETRIES):
        km = _SUPPLY.take() if _SUPPLY is not None else None
        if prestart and _SUPPLY is not None:
            _SUPPLY.prepare()  # the next report's kernel starts while this one runs
        try:
            extra = {"km": km} if km is not None else {"kernel_manager_class": kernel_manager_class()}
            # No parameters for papermill: the kit wrote them above (papermill would build the cell by
            # string concatenation, and writes anything it does not know as '"' + str(value) + '"').
            return pm.execute_notebook(nb, None, parameters=None, kernel_name=KERNEL_NAME,
                                       progress_bar=False, log_output=False, cwd=str(paths.project_root()),
                                       execution_timeout=timeout, request_save_on_cell_execute=False,
                                       start_timeout=60, **extra)
        except Exception as exc:  # noqa: BLE001 - classify, then retry or re-raise
            if not _start_failed(exc) or "PapermillExecutionError" in type(exc).__name__:
                raise
            last = exc
            time.sleep(0.5 * (attempt + 1))
        finally:
            if km is not None:
                KernelSupply._stop(km)
    raise RuntimeError(f"the kernel failed to start {START_RETRIES} times ({last})")


def _describe_failure(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        return f"cell {exc.exec_count or '?'} raised {exc.ename}: {exc.evalue}"[:600]
    if "Timeout" in name or "timed out" in str(exc).lower():
        return f"a cell ran longer than its timeout ({str(exc).splitlines()[0][:300]})"
    if name == "DeadKernelError":
        return "the kernel died while running the notebook"
    return f"{name}: {str(exc).splitlines()[0][:500] if str(exc) else ''}"


def execute(spec: dict) -> dict:
    """Run one report end to end and publish it: the unit of work of every executor (picklable in and out).

    `spec` holds the job fields, ``out`` (folder), ``html`` (file name), ``timeout`` (s), ``key`` (cache key),
    ``kit`` (helpers digest), ``commit``. Returns the manifest written. Never raises for a report failure: the
    failure is in the manifest, and the last good HTML is left in place."""
    os.environ.setdefault("BALLOTBOOK_ROOT", spec["root"])
    job = Job(spec["name"], spec["notebook"], spec.get("title"), spec["parameters"],
              read_parameters(paths.resolve(spec["notebook"])))
    out = Path(spec["out"])
    html_path = out / spec["html"]
    previous = read_manifest(out, spec["name"]) or {}
    started = time.time()
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "name": job.name,
        "title": job.title,
        "notebook": paths.display(job.notebook_path),
        "parameters": job.all_parameters(),
        "given_parameters": job.parameters,
        "version": __version__,
        "commit": spec.get("commit"),
        "cache_key": spec.get("key"),
        "started": _now(),
        "html": html_path.name,
        "last_good": previous.get("last_good"),
    }
    try:
        nb = _execute_notebook(job, spec.get("timeout", 600), spec.get("prestart", False))
        from helpers.notebook import read_inputs, read_record

        record = read_record(nb)
        inputs = [{"path": paths.display(p), "sha256": sha256_file(p)} for p in read_inputs(nb)]
        built = _now()
        shown = {k: json.dumps(v, ensure_ascii=False) for k, v in job.all_parameters().items()}
        meta = {"title": job.title, "as_of": record.get("as_of"), "parameters": shown,
                "seed": record.get("seed"), "sources": record.get("sources", []), "built": built,
                "version": __version__, "commit": spec.get("commit"), "notebook": manifest["notebook"],
                "inputs": inputs}
        body = render_html(nb, meta).encode("utf-8")
        atomic_write(html_path, body)
        manifest.update({
            "title": nb.metadata.get("title", job.title), "status": "ok", "error": None,
            "as_of": record.get("as_of"), "seed": record.get("seed"), "sources": record.get("sources", []),
            "outputs": record.get("outputs", {}), "inputs": inputs, "html_bytes": len(body),
            "html_sha256": hashlib.sha256(body).hexdigest(),
            "last_good": {"built": built, "html": html_path.name},
        })
        if spec.get("kit"):  # the key of what this build really read, so the next build can compare
            manifest["cache_key"] = cache_key(job, spec["kit"], {"inputs": inputs})
    except Exception as exc:  # noqa: BLE001 - a report failure is data, not a crash of the build
        manifest.update({"status": "failed", "error": _describe_failure(exc),
                         "inputs": previous.get("inputs", []), "outputs": previous.get("outputs", {})})
        if not html_path.exists():
            manifest["last_good"] = None
    finished = time.time()
    manifest["finished"] = _now()
    manifest["duration_s"] = round(finished - started, 3)
    atomic_write(manifest_path(out, job.name), json.dumps(manifest, indent=2, ensure_ascii=False,
                                                          default=str).encode("utf-8"))
    return manifest


def record_failure(spec: dict, error: str) -> None:
    """A failure manifest for a report whose process died: the last good report stays as it was."""
    out = Path(spec["out"])
    previous = read_manifest(out, spec["name"]) or {}
    manifest = {**previous, "name": spec["name"], "status": "failed", "error": error, "finished": _now(),
                "cache_key": spec.get("key")}
    if not (out / spec["html"]).exists():
        manifest["last_good"] = None
    atomic_write(manifest_path(out, spec["name"]), json.dumps(manifest, indent=2, ensure_ascii=False,
                                                              default=str).encode("utf-8"))


def _warm(root: str, parent: int | None = None) -> None:
    """Worker start-up: exit with the build (when `parent`, the build's process, is gone, the worker stops its
    kernels and exits), import the heavy libraries once per worker, not once per report, and start the first
    report's kernel ahead."""
    global _SUPPLY
    if parent is not None:
        from helpers.pipeline.processes import remove_kernel_folder, watch_parent

        def on_death():
            _kill_kernels()
            remove_kernel_folder()

        watch_parent(parent, on_death)
    os.environ.setdefault("BALLOTBOOK_ROOT", root)
    from multiprocessing.util import Finalize

    _SUPPLY = KernelSupply(root)
    _SUPPLY.prepare()
    Finalize(_SUPPLY, _SUPPLY.close, exitpriority=10)  # workers exit without atexit
    import nbconvert  # noqa: F401
    import nbformat  # noqa: F401
    import nh3  # noqa: F401
    import papermill  # noqa: F401
    from nbconvert import HTMLExporter  # noqa: F401


# --------------------------------------------------------------------------------------------- the index
def write_index(out: Path, names: list[str]) -> None:
    """reports/index.html: every report with title, status, last good build and a link; a failed report shows
    its error while its last good HTML stays linked. Self-contained, escaped."""
    rows = []
    for name in names:
        m = read_manifest(out, name) or {}
        esc = html.escape
        status = m.get("status", "not built")
        good = m.get("last_good") or {}
        link = (f'<a href="{esc(good.get("html", name + ".html"))}">{esc(m.get("title") or name)}</a>'
                if good and (out / good.get("html", "")).exists() else esc(m.get("title") or name))
        error = f'<div class="err">{esc(m["error"])}</div>' if m.get("status") == "failed" else ""
        rows.append(
            f'<tr class="{esc(status)}"><td>{link}{error}</td><td><code>{esc(name)}</code></td>'
            f'<td><span class="st">{esc(status)}</span></td><td>{esc(str(m.get("as_of") or ""))}</td>'
            f'<td>{esc(good.get("built", "never"))}</td></tr>')
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>ballotbook reports</title>
<style>
body {{ font: 16px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; color: #222; margin: 0; }}
main {{ max-width: 1000px; margin: 0 auto; padding: 1.5rem; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: left; padding: .45rem .6rem;
border-bottom: 1px solid #ddd; vertical-align: top; }} th {{ border-bottom: 2px solid #999; }}
.st {{ font-weight: 600; }} tr.ok .st {{ color: #1b5e20; }} tr.failed .st {{ color: #b71c1c; }}
.err {{ color: #b71c1c; font-size: .85rem; margin-top: .2rem; overflow-wrap: anywhere; }}
</style></head><body><main>
<h1>ballotbook reports</h1>
<p>Updated {html.escape(_now())} by ballotbook {html.escape(__version__)}. A failed report keeps its last good
version linked; its error is shown under its title.</p>
<table><thead><tr><th>Report</th><th>Name</th><th>Status</th><th>Data as of</th><th>Last good build</th></tr>
</thead><tbody>
{chr(10).join(rows)}
</tbody></table></main></body></html>
"""
    atomic_write(out / "index.html", page.encode("utf-8"))


# --------------------------------------------------------------------------------------------- build and run
# BuildLock (one build per output folder; a killed build's lock is taken over) is in helpers.pipeline.processes.


def _clean_temporaries(out: Path) -> None:
    """Remove what a killed run left: temporary files never replace a report, so they can simply go."""
    for p in out.glob(".*.tmp-*"):
        try:
            p.unlink()
        except OSError:
            pass


class Progress:
    """A line per report: live on a terminal, plain one-line-per-report for logs (cron)."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()

    def say(self, text: str) -> None:
        print(f"ballotbook: {text}", file=self.stream, flush=True)

    def started(self, name: str) -> None:
        if self.tty:
            print(f"  … {name}", file=self.stream, flush=True)

    def finished(self, name: str, status: str, seconds: float, error: str | None = None) -> None:
        self.done += 1
        tail = f": {error}" if error else ""
        print(f"[{self.done}/{self.total}] {name} {status} ({seconds:.1f} s){tail}", file=self.stream,
              flush=True)


def build(config: str = "reports.yml", only: list[str] | None = None, jobs: int | None = None,
          force: bool = False, out: str | None = None, timeout: int = 600, executor=None,
          stream=None) -> int:
    """Build the report set. Returns the exit code: 0 all built or up to date, 1 a report failed (the others
    were still published), 2 bad config or parameters (nothing ran)."""
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
                     and (out_dir / previous.get("html", "")).is_file())
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
        _clean_temporaries(out_dir)
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
            workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
            # Start kernels ahead only where another report will follow on the same worker.
            specs = [{"name": j.name, "notebook": j.notebook, "title": j.title, "parameters": j.parameters,
                      "out": str(out_dir), "html": f"{j.name}.html", "timeout": timeout, "key": keys[j.name],
                      "commit": commit, "root": str(root), "prestart": i < len(todo) - workers, "kit": kit}
                     for i, j in enumerate(todo)]
            failed = _run_all(specs, jobs, executor, progress, str(root))
            _clean_temporaries(out_dir)  # what a killed worker left; no other build runs (we hold the lock)
        write_index(out_dir, [j.name for j in all_jobs])
    return 1 if failed else 0


def _run_all(specs: list[dict], jobs: int | None, executor, progress: Progress, root: str) -> int:
    """Run every spec; return how many failed. With the local pool, a worker process that dies (killed, out
    of memory) breaks the whole pool: the reports it took down with it are run once more, each in a pool of
    its own, so one bad report cannot fail the others."""
    own = executor is None
    workers = max(1, min(jobs or os.cpu_count() or 1, len(specs)))
    failed, broken = _run_round(specs, executor, workers, progress, root, retry=own)
    for spec in broken:  # one at a time: whichever report kills its worker fails alone
        more, _ = _run_round([{**spec, "prestart": False}], None, 1, progress, root, retry=False)
        failed += more
    return failed


def _run_round(specs, executor, workers, progress, root, retry: bool) -> tuple[int, list[dict]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    own = executor is None
    # Spawned workers, not forked: a worker shares nothing of the build process it did not ask for (no open
    # descriptor, no lock, no thread state), and it exits by itself when the build process is gone.
    pool = executor or ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_warm, initargs=(root, os.getpid()))
    failed, broken = 0, []
    try:
        futures = {}
        for spec in specs:
            progress.started(spec["name"])
            futures[pool.submit(execute, spec)] = spec
        for fut in as_completed(futures):
            spec = futures[fut]
            try:
                m = fut.result()
            except BrokenProcessPool:
                if retry:
                    broken.append(spec)
                    continue
                m, error = None, "the process building it was killed"
            except Exception as exc:  # noqa: BLE001 - a worker that died: the report failed, others go on
                m, error = None, f"the process building it stopped ({type(exc).__name__}: {exc})"
            if m is None:
                failed += 1
                record_failure(spec, error)
                progress.finished(spec["name"], "failed", 0.0, error)
                continue
            if m["status"] != "ok":
                failed += 1
            progress.finished(spec["name"], m["status"], m["duration_s"], m.get("error"))
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return failed, broken


def make_output_folder(folder: Path, flag: str) -> None:
    """Create the output folder (and its parents), or say in one sentence why it cannot be: a file stands
    there, or the file system refuses (no permission, read-only, no such device)."""
    shown = paths.display(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{flag}: {shown} is a file, not a folder; name a folder for the reports.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{flag}: the folder {shown} cannot be created ({exc.strerror or exc}).") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(f"{flag}: the folder {shown} is not writable.")


def run_notebook(notebook: str, given: dict, output: str | None = None, timeout: int = 600,
                 stream=None) -> int:
    """``ballotbook run``: one notebook with parameters from the command line into one HTML file (and its
    manifest beside it). Parameters and data files are checked before the kernel starts."""
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
    spec = {"name": target.stem, "notebook": str(nb_path), "title": None, "parameters": values,
            "out": str(target.parent), "html": target.name, "timeout": timeout, "key": None,
            "commit": git_commit(), "root": str(paths.project_root())}
    with BuildLock(target.parent, progress.say), processes.marked():
        processes.clean_stale_kernel_folders()
        set_aside_bad_manifests(target.parent, [target.stem], progress.say)
        m = execute(spec)
    progress.finished(target.name, m["status"], m["duration_s"], m.get("error"))
    return 0 if m["status"] == "ok" else 1
