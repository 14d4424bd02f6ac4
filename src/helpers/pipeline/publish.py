"""Publishing safely: every file of the output folder is written through a temporary file and a rename, so a
reader (or a build killed half-way) sees the old file or the new one, never a part; manifests are read back
only when they are what the kit wrote, and set aside otherwise.

A report's manifest, ``<out>/<name>.json``, records its status, error, parameters, inputs, outputs, its last
good page and the parts of its cache key; the index and the next build read it back. A failed report's executed
notebook is kept in ``<out>/failed/<name>.ipynb`` (named by its manifest), outside the published pages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.pipeline.config import safe_name

MANIFEST_VERSION = 1
#: The folder (inside the output folder) that keeps each failed report's executed notebook, ``<name>.ipynb``:
#: not a published report, linked from the index beside the error.
FAILED = "failed"


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
    text_or_none = ("name", "title", "status", "error", "html", "pdf", "cache_key", "notebook", "started",
                    "finished", "built")
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
    for html_name in (m.get("html"), m.get("pdf"), (good or {}).get("html")):
        if html_name is not None and not safe_name(html_name):  # linked from the index: a file name only
            return f"it names {html_name[:80]!r}, which is not a report file name"
    kept = m.get("failed_notebook")
    if kept is not None and not (isinstance(kept, str) and kept.startswith(f"{FAILED}/") and kept.endswith(".ipynb")
                                 and safe_name(kept[len(FAILED) + 1:])):
        return "its field 'failed_notebook' is not failed/<name>.ipynb"
    if m.get("key_parts") is not None and not isinstance(m.get("key_parts"), dict):
        return "its field 'key_parts' is not a mapping"
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
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def write_manifest(out: Path, name: str, manifest: dict) -> None:
    """Publish report `name`'s manifest (indented UTF-8 JSON) in the folder `out`."""
    atomic_write(manifest_path(out, name), json.dumps(manifest, indent=2, ensure_ascii=False,
                                                      default=str).encode("utf-8"))


def now() -> str:
    """The local time with its offset, to the second: when a report started, finished, was built."""
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def clean_temporaries(out: Path) -> None:
    """Remove what killed runs left: temporary files (``.<name>.tmp-<pid>``, in the folder and in its ``failed/``)
    of processes that no longer run. Never a temporary of a live process: other builds publish into the same
    folder at the same time."""
    from helpers.pipeline.processes import is_running

    for p in [*out.glob(".*.tmp-*"), *(out / FAILED).glob(".*.tmp-*")]:
        pid = p.name.rpartition(".tmp-")[2]
        if pid.isdigit() and is_running(int(pid)):
            continue
        try:
            p.unlink()
        except OSError:
            pass


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
