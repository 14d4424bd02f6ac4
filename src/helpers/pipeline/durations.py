"""Longest first: the order a build starts its reports in, from how long each took the last time.

A pool of two workers given five reports in the batch's order can leave one worker idle for the whole of the
last report; started longest first, the last to run is the shortest, and the build ends sooner (the classic
longest-processing-time rule). How long a report takes is what it took last time: the project keeps the
seconds of every report it built in ``.ballotbook-cache/durations.json`` (git-ignored), keyed by notebook and
parameters (the same notebook with the same parameters costs the same, whatever the report is called and
wherever it is published), with the report's manifest in the output folder as the second source.

Reports the kit has never timed go first, in the batch's order: they may be the long ones. Nothing here can
fail a build: an unreadable or unwritable record is ignored (a read-only checkout builds in the batch's order).
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.core.paths import CACHE

#: The record, in the project's cache folder.
RECORD = "durations.json"


def key(notebook: str, parameters: dict) -> str:
    """What a report's cost is known by: its notebook (relative to the project) and the parameters it runs
    with (a digest of them)."""
    import hashlib

    given = json.dumps(parameters, sort_keys=True, ensure_ascii=False, default=str)
    return f"{notebook} {hashlib.sha256(given.encode('utf-8')).hexdigest()[:16]}"


def _record_path(root: Path) -> Path:
    return root / CACHE / RECORD


def read(root: Path) -> dict[str, float]:
    """The recorded seconds per :func:`key` (empty when there is no usable record)."""
    try:
        data = json.loads(_record_path(root).read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in data.get("seconds", {}).items() if float(v) >= 0}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def longest_first(jobs: list, expected: dict[str, float | None]) -> list:
    """`jobs` (each with ``name``) in the order to start them: those without an expected time first, in their
    own order, then the others by expected seconds (`expected`, by job name), longest first; ties keep their
    order."""
    unknown = [j for j in jobs if expected.get(j.name) is None]
    known = [j for j in jobs if expected.get(j.name) is not None]
    return unknown + sorted(known, key=lambda j: -float(expected[j.name]))


def plan(jobs: list, root: Path, last: dict[str, float]) -> tuple[list, dict[str, str]]:
    """`jobs` (:class:`~helpers.pipeline.config.Job`) in the order to start them (:func:`longest_first`), each
    expected to take what the project's record says, else what `last` (seconds by report name: the output
    folder's manifests) says; and each job's :func:`key` by name."""
    from helpers.core import paths

    keys = {j.name: key(paths.display(j.notebook_path), j.all_parameters()) for j in jobs}
    record = read(root)
    return longest_first(jobs, {j.name: record.get(keys[j.name], last.get(j.name)) for j in jobs}), keys


def write(root: Path, seconds: dict[str, float]) -> None:
    """Add `seconds` (by :func:`key`) to the record, replacing what it said of those reports. Written whole
    (a temporary file renamed into place), so a reader never sees half a record; never raises."""
    if not seconds:
        return
    from helpers.pipeline.publish import atomic_write

    path = _record_path(root)
    try:
        merged = {**read(root), **{k: round(float(v), 3) for k, v in seconds.items()}}
        path.parent.mkdir(exist_ok=True)
        atomic_write(path, (json.dumps({"seconds": merged}, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
                     .encode("utf-8"))
    except (OSError, ValueError, TypeError):
        pass
