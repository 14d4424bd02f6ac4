"""Checks that passed: a build checks every data file a report will read before any kernel starts
(:func:`~helpers.pipeline.parameters.check_files`: each file through its loader, every reference looked up),
and does not check again what it already found good.

Whether a report's files pass depends only on the kit's code, the notebook (its parameters' kinds and
defaults), the parameters it runs with, the libraries that read the files, and the contents of the files the
check read. The project keeps, for each check that passed, those files and their SHA-256
(``.ballotbook-cache/checked.json``, git-ignored). A report whose kit, notebook, parameters and libraries are
the same, and whose recorded files all still have the same contents, has passed already; a report with anything
changed, or never checked, is checked in full. The check of a report left unchanged costs a hash of its files
instead of loading them (and a build that checks nothing does not import pandas).

Nothing here can fail a build or hide a bad file: an unreadable record means everything is checked, and a file
that changed in any byte is checked again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from helpers.core import paths
from helpers.core.paths import CACHE

#: The record, in the project's cache folder.
RECORD = "checked.json"
#: How many passed checks the record keeps (the newest).
KEEP = 500
#: The libraries whose versions a check's outcome depends on (they read the files).
LIBRARIES = ("pandas", "numpy", "PyYAML", "jsonschema")


@functools.cache
def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in LIBRARIES:
        try:
            out.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            out.append(f"{name}=none")
    return " ".join(out)


def key(job, kit: str) -> str:
    """What a check is known by: the kit's digest, the notebook's sources, the parameters the report runs with,
    and the versions of :data:`LIBRARIES`."""
    from helpers.pipeline.cache import notebook_digest

    given = json.dumps(job.all_parameters(), sort_keys=True, ensure_ascii=False, default=str)
    text = "\n".join([kit, str(notebook_digest(job.notebook_path)), given, _versions()])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _path(root: Path) -> Path:
    return root / CACHE / RECORD


def _read(root: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(_path(root).read_text(encoding="utf-8"))
        passed = data.get("passed", {})
        return {str(k): {str(f): str(d) for f, d in v.items()} for k, v in passed.items() if isinstance(v, dict)}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def passed_before(root: Path, files: dict[str, str] | None) -> bool:
    """Whether a check that passed with `files` (its record: each file it read and that file's SHA-256, or None
    for a check never recorded) would read the same contents now."""
    from helpers.pipeline.cache import sha256_file

    if not files:
        return False
    return all(sha256_file(paths.resolve(f, root)) == digest for f, digest in files.items())


def record(root: Path, passed: dict[str, list[str]]) -> None:
    """Add checks that passed (`passed`: :func:`key` to the files the check read) to the record, newest last,
    keeping :data:`KEEP`. Written whole (a temporary file renamed into place); never raises."""
    if not passed:
        return
    from helpers.pipeline.cache import sha256_file
    from helpers.pipeline.publish import atomic_write

    path = _path(root)
    try:
        entries = _read(root)
        for check_key, files in passed.items():
            digests = {paths.display(f, root): sha256_file(f) for f in files}
            if any(d is None for d in digests.values()):
                continue  # a file gone or unreadable meanwhile: nothing to vouch for
            entries.pop(check_key, None)
            entries[check_key] = digests
        entries = dict(list(entries.items())[-KEEP:])
        path.parent.mkdir(exist_ok=True)
        atomic_write(path, (json.dumps({"passed": entries}, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    except (OSError, ValueError, TypeError):
        pass


def check_jobs(jobs: list, kit: str, root: Path) -> None:
    """Check the data files of every report in `jobs` (:class:`~helpers.pipeline.config.Job`) that has not
    passed before with everything the same (:func:`passed_before`); record those that pass. A bad file raises
    DataError naming the report, as :func:`~helpers.pipeline.parameters.check_files` does."""
    recorded = _read(root) if jobs else {}
    passed: dict[str, list[str]] = {}
    try:
        for job in jobs:
            check_key = key(job, kit)
            if passed_before(root, recorded.get(check_key)):
                continue
            read = _reads_of(job)
            if read or not _names_files(job):
                passed[check_key] = read
    finally:
        record(root, passed)


def _reads_of(job) -> list[str]:
    """Check the report's files (DataError naming the report); return every file the check read. The
    process's record of files read (``paths.FILES_READ``, which lists a file once) is emptied for the check and
    then holds what it held, plus what the check read."""
    from helpers.core.errors import DataError
    from helpers.pipeline.parameters import check_files

    kept = list(paths.FILES_READ)
    paths.FILES_READ.clear()
    try:
        check_files(job.declared, job.parameters)
        return list(paths.FILES_READ)
    except DataError as exc:
        raise DataError(f"report '{job.name}': {exc}") from None
    finally:
        read = list(paths.FILES_READ)
        paths.FILES_READ[:] = kept + [f for f in read if f not in kept]


def _names_files(job) -> bool:
    """Whether the report names any data file through its parameters."""
    from helpers.pipeline.parameters import file_parameters

    return bool(file_parameters(job.declared, job.parameters))
