"""Cache keys: a report is rebuilt only when something it depends on changed (the kit's source, its notebook, its
parameters, or a data file it read or names)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from helpers.core import paths
from helpers.pipeline.config import Job


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
    return hashlib.sha256(json.dumps(key_parts(job, kit, previous), sort_keys=True,
                                     default=str).encode()).hexdigest()


def key_parts(job: Job, kit: str, previous: dict | None) -> dict:
    """The parts of :func:`cache_key` ("kit", "notebook", "parameters", "inputs": {path: SHA-256}), kept in the
    manifest so that ``build --dry-run`` can say which one changed."""
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
    return json.loads(json.dumps(payload, sort_keys=True, default=str))  # as the manifest will read it back
