"""The wheel carries the project templates of ``ballotbook init``: besides the package, it copies the checkout's
report notebooks and sample data (notebooks/, data/) into helpers/pipeline/project/, so they are written once in
git. Everything else about the package is in pyproject.toml. An editable install copies nothing: the kit reads
them from the checkout (helpers.pipeline.scaffold)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: The checkout's folders copied into the package (helpers.pipeline.scaffold.SHIPPED names the same ones).
SHIPPED = ("notebooks", "data")
TARGET = ("helpers", "pipeline", "project")


def _skipped(relative: Path) -> bool:
    """As helpers.pipeline.scaffold: hidden files and folders (checkpoints, caches) and bytecode stay out."""
    return any(part.startswith(".") or part == "__pycache__" or part.endswith(".pyc") for part in relative.parts)


class BuildPyWithTemplates(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib, *TARGET)
        for folder in SHIPPED:
            source = HERE / folder
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing; the wheel needs the project templates from it.")
            shutil.rmtree(target / folder, ignore_errors=True)  # no file left from an earlier build in build/
            for f in sorted(source.rglob("*")):
                rel = f.relative_to(HERE)
                if f.is_file() and not _skipped(rel):
                    self.mkpath(str((target / rel).parent))
                    self.copy_file(str(f), str(target / rel))


setup(cmdclass={"build_py": BuildPyWithTemplates})
