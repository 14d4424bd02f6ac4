"""Cache keys: a report is rebuilt only when something it depends on changed (the kit's source, its notebook's
sources, its parameters, or a data file it read or names).

A notebook counts by what it *says*, not by what running it left in it: running it in JupyterLab saves outputs,
execution counts, cell ids and timing metadata into the file, and none of that changes a report (papermill clears
outputs before it runs a notebook), so none of it rebuilds one."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from helpers.core import paths
from helpers.pipeline.config import Job

#: Digests computed in this process, by path and the file's stat signature (device, inode, size, modification
#: and change times): a build plans twice (before and after taking the folder's lock) and the second time reads
#: again only what changed in between.
_DIGESTS: dict = {}


def _signature(path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.fspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


def _remembered(kind: str, path, compute):
    sig = _signature(path)
    if sig is None:
        return compute(path)
    key = (kind, *sig)
    if key not in _DIGESTS:
        _DIGESTS[key] = compute(path)
    return _DIGESTS[key]


def sha256_file(path: str | Path) -> str | None:
    """:func:`file_sha256`, remembered for a file whose stat signature has not changed."""
    return _remembered("bytes", path, file_sha256)


def file_sha256(path: str | Path) -> str | None:
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


#: The cell metadata that changes what a report shows: the kit's and papermill's tags ("parameters", "remove",
#: "injected-parameters"). The rest (collapsed, scrolled, execution timing, jupyter.source_hidden) is how the
#: notebook looked in JupyterLab.
_CELL_METADATA_KEPT = ("tags",)


def notebook_sources(nb: dict) -> list:
    """What a notebook says, as plain JSON data: for each cell in order its type, source, tags and (Markdown
    and raw cells) attachments and raw format. Outputs, execution counts, cell ids, other cell metadata and the
    notebook's own metadata (kernelspec, language_info) are left out: the pipeline runs every report in its
    own kernel, and a cell's outputs are replaced when it runs."""
    cells = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        meta = cell.get("metadata") or {}
        entry = {"type": cell.get("cell_type"), "source": "".join(source) if isinstance(source, list) else source,
                 **{k: meta[k] for k in _CELL_METADATA_KEPT if k in meta}}
        if cell.get("cell_type") != "code":
            if cell.get("attachments"):
                entry["attachments"] = cell["attachments"]
            if meta.get("format") or meta.get("raw_mimetype"):
                entry["format"] = meta.get("format") or meta.get("raw_mimetype")
        cells.append(entry)
    return cells


def notebook_digest(path: str | Path) -> str | None:
    """:func:`notebook_sources_digest`, remembered for a file whose stat signature has not changed."""
    return _remembered("notebook", path, notebook_sources_digest)


def notebook_sources_digest(path: str | Path) -> str | None:
    """The SHA-256 of a notebook's sources (:func:`notebook_sources`), so that saving it from JupyterLab with
    its outputs does not rebuild its reports while a changed code or Markdown cell does. A file that cannot be
    read as a notebook counts by its bytes (:func:`sha256_file`): the build refuses it with its own message."""
    import stat

    from helpers.data._table import MAX_NOTEBOOK_BYTES

    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None  # as sha256_file: the build refuses it with its own message
    try:
        if st.st_size > MAX_NOTEBOOK_BYTES:
            return sha256_file(path)
        with open(path, "rb") as f:
            nb = json.loads(f.read().decode("utf-8"))
        sources = notebook_sources(nb) if isinstance(nb, dict) and isinstance(nb.get("cells"), list) else None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, AttributeError, TypeError):
        sources = None
    if sources is None:
        return sha256_file(path)
    text = json.dumps(sources, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return "sources:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def helpers_digest(package: Path | None = None) -> str:
    """One hash of the ``helpers`` package's source and templates (or those of the folder `package`): a change
    to the kit rebuilds every report."""
    root = package or Path(__file__).resolve().parents[1]  # the whole helpers package
    files = []  # (path inside the package as its parts, full path): sorted as the paths' parts
    for folder, folders, names in os.walk(root):
        folders[:] = [f for f in folders if f != "__pycache__"]
        inside = os.path.relpath(folder, root)
        parts = () if inside == os.curdir else tuple(inside.split(os.sep))
        files += [((*parts, n), os.path.join(folder, n)) for n in names
                  if os.path.splitext(n)[1] in {".py", ".j2", ".json", ".css"}]
    h = hashlib.sha256()
    for parts, full in sorted(files):
        h.update("/".join(parts).encode())
        with open(full, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def key_of(parts: dict) -> str:
    """A report's cache key: the hash of its :func:`key_parts`, what its content depends on (kit source, notebook
    sources (:func:`notebook_digest`), parameters, and every data file it read last time or names through a
    parameter)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def key_parts(job: Job, kit: str, previous: dict | None) -> dict:
    """The parts of a report's cache key (:func:`key_of`): "kit", "notebook", "parameters", "inputs" ({path:
    SHA-256}), kept in the manifest so that ``build --dry-run`` can say which one changed."""
    from helpers.pipeline.parameters import file_parameters

    root = paths.find_root()  # found once (a no-op build resolves every input of every report); None: as before
    files = {str(paths.resolve(p, root)) for group in file_parameters(job.declared, job.parameters).values()
             for p in group}
    if previous:
        files |= {str(paths.resolve(i["path"], root)) for i in previous.get("inputs", [])}
    payload = {
        "kit": kit,
        "notebook": notebook_digest(paths.resolve(job.notebook, root)),
        "parameters": job.all_parameters(),
        "inputs": {paths.display(f, root): sha256_file(f) for f in sorted(files)},
    }
    return json.loads(json.dumps(payload, sort_keys=True, default=str))  # as the manifest will read it back
