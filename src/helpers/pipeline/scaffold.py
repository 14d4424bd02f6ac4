"""A new project from the kit's templates (``ballotbook init DIR``): reports.yml, the report notebooks and their
sample data.

The templates are ``helpers/pipeline/project/``: the project's reports.yml, README.md and .gitignore (stored as
``gitignore``) live there in the source; the notebooks and the sample data are the checkout's own
``notebooks/`` and ``data/``, which the wheel build copies in beside them (setup.py), so they are written once in
git and an editable install reads them from the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers.core.errors import DataError, KitError

#: Where the templates are, inside the package.
TEMPLATES = Path(__file__).resolve().with_name("project")
#: The checkout's folders that a wheel carries into TEMPLATES (setup.py copies the same ones).
SHIPPED = ("notebooks", "data")
#: Template names that are written under another name (a dot file is easy to lose in packaging).
RENAMED = {"gitignore": ".gitignore"}


def _skipped(relative: Path) -> bool:
    """Hidden files and folders (checkpoints, caches) and bytecode are never part of a project."""
    return any(part.startswith(".") or part == "__pycache__" or part.endswith(".pyc") for part in relative.parts)


def _files_under(folder: Path) -> dict[str, Path]:
    return {rel.as_posix(): f for f in sorted(folder.rglob("*"))
            if f.is_file() and not _skipped(rel := f.relative_to(folder))}


def checkout() -> Path | None:
    """The source checkout this package runs from (an editable install), or None (an installed wheel)."""
    root = TEMPLATES.parents[3]  # src/helpers/pipeline/project -> the checkout
    return root if (root / "pyproject.toml").is_file() and all((root / d).is_dir() for d in SHIPPED) else None


def template_files() -> dict[str, Path]:
    """Every file of a new project: its path in the project (POSIX, relative) -> the file it is copied from."""
    files = _files_under(TEMPLATES)
    if not any(name.startswith(f"{SHIPPED[0]}/") for name in files):  # a checkout: its own notebooks and data
        source = checkout()
        if source is None:
            raise KitError(f"the kit's project templates ({', '.join(SHIPPED)}) are missing from {TEMPLATES}; "
                           "reinstall ballotbook.")
        for folder in SHIPPED:
            files.update({f"{folder}/{name}": f for name, f in _files_under(source / folder).items()})
    return {RENAMED.get(name, name): f for name, f in sorted(files.items())}


def write_project(target: Path, *, keep_existing: bool = False) -> tuple[list[str], list[str]]:
    """Write a new project into the folder `target` (made when missing). Returns (written, kept): the project
    paths written, and those already there and left untouched.

    A `target` that is not empty (a ``.git`` folder alone does not count) is a DataError unless `keep_existing`;
    even then no file already there is overwritten (it is listed as kept)."""
    files = template_files()
    if target.exists() and not target.is_dir():
        raise DataError(f"{target} is a file; give ballotbook init a new or empty folder.")
    present = sorted(p.name for p in target.iterdir() if p.name != ".git") if target.is_dir() else []
    if present and not keep_existing:
        shown = ", ".join(present[:3]) + (", …" if len(present) > 3 else "")
        raise DataError(f"{target} is not empty (it holds {shown}); give a new or empty folder, or add --force "
                        "to add the kit's files beside them (no file already there is overwritten).")
    written, kept = [], []
    for name, source in files.items():
        dest = target / name
        if dest.exists() or dest.is_symlink():
            kept.append(name)
            continue
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
        except OSError as exc:
            raise DataError(f"cannot write {dest} ({exc.strerror or exc}); {len(written)} of the project's "
                            f"{len(files)} files were written.") from None
        written.append(name)
    return written, kept
