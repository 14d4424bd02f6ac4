"""Where things are: the project root and paths relative to it.

Every relative path a user gives (parameters, reports.yml, scenario files) is relative to the project root,
wherever the file that names it lives and whatever the working directory of a notebook kernel is.
"""

from __future__ import annotations

import os
from pathlib import Path

_MARKERS = ("reports.yml", "pyproject.toml")


def project_root() -> Path:
    """The project root: $BALLOTBOOK_ROOT, else the nearest folder up from the working directory holding
    reports.yml, else the checkout this package is installed from (editable install), else the working
    directory."""
    env = os.environ.get("BALLOTBOOK_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "reports.yml").is_file():
            return folder
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "reports.yml").is_file():
        return checkout
    return here


def resolve(path: str | os.PathLike, root: Path | None = None) -> Path:
    """An absolute path for `path`; a relative one is taken from the project root."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    return (root or project_root()) / p


def display(path: str | os.PathLike, root: Path | None = None) -> str:
    """How to name a file in a message: relative to the project root when it is inside it."""
    p = Path(path)
    try:
        return Path(os.path.abspath(p)).relative_to(root or project_root()).as_posix()
    except ValueError:
        return str(path)


REPORTS = "reports"  # the default output folder, under the project root
HISTORY = "data/model/elections.csv"  # the past elections the error model is fitted on, under the project root


#: Every data file read through the kit in this process (absolute paths, in order). The pipeline records
#: them in each report's manifest, so the cache knows which files a report depends on.
FILES_READ: list[str] = []


def note_read(path: str | os.PathLike) -> None:
    """Record that a data file was read (loaders call this; see FILES_READ)."""
    p = os.path.abspath(path)
    if p not in FILES_READ:
        FILES_READ.append(p)
