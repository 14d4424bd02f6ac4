"""Where things are: the project root and paths relative to it.

The project root is the folder holding reports.yml (``ballotbook init DIR`` makes one): $BALLOTBOOK_ROOT when
it is set, else the nearest such folder up from the working directory. Every relative path a user gives
(parameters, reports.yml, scenario files) is relative to the project root, wherever the file that names it lives
and whatever the working directory of a notebook kernel is; outside any project such a path is an error that
says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers.core.errors import DataError

#: The environment variable naming the project root (the kit sets it for the kernels it starts).
ROOT_VARIABLE = "BALLOTBOOK_ROOT"
#: The file that marks a folder as a ballotbook project: its report batch.
CONFIG = "reports.yml"


def find_root(start: str | os.PathLike | None = None) -> Path | None:
    """The project root, or None outside any project: $BALLOTBOOK_ROOT when it is set (a folder holding
    reports.yml, else None), else the nearest folder up from `start` (default: the working directory) holding
    reports.yml."""
    env = os.environ.get(ROOT_VARIABLE, "")
    if env.strip():
        root = Path(env).expanduser().resolve()
        return root if (root / CONFIG).is_file() else None
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG).is_file():
            return folder
    return None


def require_root() -> Path:
    """The project root, for whatever needs one (a path relative to it, the report batch). Outside any project,
    or with a BALLOTBOOK_ROOT that is not one, a DataError (exit 2) in one sentence saying so, instead of a file
    that "does not exist" later."""
    root = find_root()
    if root is not None:
        return root
    env = os.environ.get(ROOT_VARIABLE, "")
    if env.strip():
        if not Path(env).expanduser().is_dir():
            raise DataError(f"{ROOT_VARIABLE} is '{env}', which is not a folder; set it to a ballotbook project "
                            f"(a folder with {CONFIG}) or unset it.")
        raise DataError(f"{ROOT_VARIABLE} is '{env}', which has no {CONFIG}, so it is not a ballotbook project; "
                        f"run `ballotbook init DIR` to make one, or set it to a folder with {CONFIG}.")
    raise DataError(f"no ballotbook project here (no {CONFIG} in {Path.cwd()} or its parents); run "
                    f"`ballotbook init DIR` or set {ROOT_VARIABLE}.")


def adopt_root_of(path: str | os.PathLike) -> None:
    """Outside any project, take the project holding `path` (a notebook run from another folder) as this
    process's root, and its kernels': sets $BALLOTBOOK_ROOT. Inside a project, or when `path` is in none,
    nothing changes."""
    if os.environ.get(ROOT_VARIABLE, "").strip() or find_root() is not None:
        return
    root = find_root(Path(path).expanduser().resolve().parent)
    if root is not None:
        os.environ[ROOT_VARIABLE] = str(root)


def project_root() -> Path:
    """The project root where one is needed only for context (messages, a kernel's working directory, the git
    commit): $BALLOTBOOK_ROOT as it is, else the nearest folder up from the working directory holding
    reports.yml, else the working directory. A path relative to the project goes through :func:`resolve`,
    which insists on a project."""
    env = os.environ.get(ROOT_VARIABLE, "")
    if env.strip():
        return Path(env).expanduser().resolve()
    return find_root() or Path.cwd().resolve()


def resolve(path: str | os.PathLike, root: Path | None = None) -> Path:
    """An absolute path for `path`; a relative one is taken from the project root (`root`, else the one
    :func:`require_root` finds: DataError outside any project)."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    return (root or require_root()) / p


def display(path: str | os.PathLike, root: Path | None = None) -> str:
    """How to name a file in a message: relative to the project root when it is inside it."""
    p = Path(path)
    try:
        return Path(os.path.abspath(p)).relative_to(root or project_root()).as_posix()
    except ValueError:
        return str(path)


REPORTS = "reports"  # the default output folder, under the project root
CACHE = ".ballotbook-cache"  # what the kit keeps between builds (git-ignored), under the project root
HISTORY = "data/model/elections.csv"  # the past elections the error model is fitted on, under the project root
RULES = "data/knesset/rules.yml"  # the project's default subject's rules file, under the project root


#: Every data file read through the kit in this process (absolute paths, in order). The pipeline records
#: them in each report's manifest, so the cache knows which files a report depends on.
FILES_READ: list[str] = []


def note_read(path: str | os.PathLike) -> None:
    """Record that a data file was read (loaders call this; see FILES_READ)."""
    p = os.path.abspath(path)
    if p not in FILES_READ:
        FILES_READ.append(p)
