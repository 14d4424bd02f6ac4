"""Packaging: the wheel alone makes a working project (`ballotbook init` then `ballotbook build` in a fresh venv),
environment.yml lists pyproject.toml's packages, and requirements.lock pins them."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

LOCK = ROOT / "requirements.lock"
#: A requirement's extras that are packages of their own (conda installs them by those names).
EXTRA_PACKAGES = {("dask", "distributed"): "distributed"}


def pyproject_requirements() -> list[Requirement]:
    """Every requirement of pyproject.toml: the dependencies and every extra's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += extra
    return [Requirement(line) for line in lines]


def packages_of(req: Requirement) -> list[str]:
    """The packages a requirement installs by name: dask[distributed] -> dask and distributed."""
    extra = [EXTRA_PACKAGES[(canonicalize_name(req.name), e)] for e in sorted(req.extras)
             if (canonicalize_name(req.name), e) in EXTRA_PACKAGES]
    return [canonicalize_name(req.name), *extra]


def wanted() -> dict[str, str]:
    """Package -> version specifier, from pyproject.toml (an extra package takes its parent's specifier)."""
    out: dict[str, str] = {}
    for req in pyproject_requirements():
        for name in packages_of(req):
            assert out.get(name, str(req.specifier)) == str(req.specifier), f"{name} is required twice, differently"
            out[name] = str(req.specifier)
    return out


def pins() -> dict[str, str]:
    out: dict[str, str] = {}
    for n, line in enumerate(LOCK.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s=;#]+)", line.strip())
        assert m, f"requirements.lock, line {n}: '{line}' is not NAME==VERSION"
        name = canonicalize_name(m.group(1))
        assert name not in out, f"requirements.lock, line {n}: {name} is pinned twice"
        out[name] = m.group(2)
    return out


# -- environment.yml ------------------------------------------------------------------------------------------


def test_environment_yml_lists_pyproject_s_packages_with_the_same_versions():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    listed: dict[str, str] = {}
    pip_entries: list[str] = []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip_entries += entry["pip"]
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)", entry.strip())
        listed[canonicalize_name(m.group(1))] = m.group(2).replace(" ", "")
    for entry in pip_entries:
        if entry.strip().startswith("-e"):
            continue
        req = Requirement(entry)
        for name in packages_of(req):
            listed[name] = str(req.specifier)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert listed.pop("python") == project["requires-python"]
    assert listed.pop("pip") == ""
    assert "-e ." in [e.strip() for e in pip_entries]  # the kit itself
    want = wanted()
    assert set(listed) == set(want), (sorted(set(want) - set(listed)), sorted(set(listed) - set(want)))
    for name, spec in want.items():
        assert listed[name] == spec, (name, listed[name], spec)


# -- requirements.lock ----------------------------------------------------------------------------------------


def test_every_pyproject_requirement_is_pinned_in_the_lock_at_a_version_it_allows():
    pinned = pins()
    for req in pyproject_requirements():
        for name in packages_of(req):
            assert name in pinned, f"{name} ({req}) is not pinned in requirements.lock; run `make lock`"
            assert req.specifier.contains(pinned[name], prereleases=True), (
                f"requirements.lock pins {name}=={pinned[name]}, which {req} does not allow; run `make lock`")


def test_the_lock_is_closed_and_is_what_this_venv_has():
    """Every requirement of a pinned package (on this platform) is pinned too, and the venv running the tests
    holds exactly the pinned versions (`make venv` installs from the lock; after upgrading a package by hand,
    `make lock`)."""
    pinned = pins()
    env = default_environment()
    for name, version in pinned.items():
        dist = metadata.distribution(name)
        assert dist.version == version, f"this venv has {name} {dist.version}, the lock pins {version}"
        extras = {e for (parent, e) in EXTRA_PACKAGES if parent == name}  # dask[distributed]
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker and not any(req.marker.evaluate({**env, "extra": e}) for e in ("", *extras)):
                continue
            assert canonicalize_name(req.name) in pinned, f"{name} needs {req}, which requirements.lock lacks"
    assert "ballotbook" not in pinned


def test_make_venv_installs_from_the_lock_then_the_kit_without_dependencies():
    if not shutil.which("make"):
        pytest.skip("no make")
    out = subprocess.run(["make", "-n", "-B", "venv", "VENV=/nonexistent/venv"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    steps = [line for line in out.stdout.splitlines() if " -m pip install" in line]
    assert [("-r requirements.lock" in s, "--no-deps" in s and "-e ." in s) for s in steps[-2:]] == [
        (True, False), (False, True)], steps
    # The venv is made again when the lock changes.
    rule = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("$(STAMP):"))
    assert "$(LOCK)" in rule and "LOCK   := requirements.lock" in (ROOT / "Makefile").read_text()


# -- the wheel, in a fresh venv ------------------------------------------------------------------------------


def _source_copy(target: Path) -> Path:
    """The checkout's buildable files (a build writes build/ and *.egg-info into the folder it builds)."""
    skip = shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", "build", "dist")
    target.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, target / name)
    for name in ("src", "notebooks", "data"):
        shutil.copytree(ROOT / name, target / name, ignore=skip)
    return target


def _latest(path: Path, column: str = "date") -> str:
    with open(path, encoding="utf-8", newline="") as f:
        return max(r[column] for r in csv.DictReader(f) if re.fullmatch(r"\d{4}-\d\d-\d\d", r[column]))


@pytest.mark.slow
def test_from_a_wheel_in_a_fresh_venv_init_then_build_makes_the_reports(tmp_path):
    # The wheel, built offline from a copy of the checkout.
    wheels = tmp_path / "wheels"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(wheels), str(_source_copy(tmp_path / "source"))],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = wheels.glob("ballotbook-*.whl")
    # It carries every notebook and data file of the checkout as templates.
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("notebooks", "data"):
        for f in (ROOT / folder).rglob("*"):
            if f.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in f.parts):
                assert f"helpers/pipeline/project/{f.relative_to(ROOT).as_posix()}" in names, f
    assert "helpers/pipeline/project/reports.yml" in names

    # A fresh venv with only the wheel installed; the test venv's packages are made visible by a .pth line,
    # which does not run that folder's own .pth files, so the editable install of the kit there stays unseen.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-index", "-q", str(wheel)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "test-venv-packages.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    # What those packages install beside them (nbconvert's templates, ipykernel's kernel spec) is under the
    # prefix: seen through a link, as if they were installed into the new venv.
    (venv / "share").mkdir()
    (venv / "share" / "jupyter").symlink_to(Path(sys.prefix) / "share" / "jupyter")
    env = {k: v for k, v in os.environ.items()
           if k not in ("BALLOTBOOK_ROOT", "PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    probe = ("import helpers; from jupyter_client.manager import KernelManager; "
             "print(helpers.__file__); print(KernelManager(kernel_name='python3').format_kernel_cmd()[0])")
    where, kernel = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path,
                                   check=True).stdout.split("\n")[:2]
    assert Path(where).is_relative_to(site), where  # the wheel's kit, not the checkout's src/
    assert Path(kernel) == python, kernel  # the reports' kernels run the new venv's Python, so that kit too

    # A user's folder outside the checkout: init, then build there.
    work = tmp_path / "work"
    work.mkdir()
    ballotbook = str(venv / "bin" / "ballotbook")
    proc = subprocess.run([ballotbook, "init", "demo"], cwd=work, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    demo = work / "demo"
    proc = subprocess.run([ballotbook, "build"], cwd=demo, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    names = [e["name"] for e in yaml.safe_load((demo / "reports.yml").read_text(encoding="utf-8"))["reports"]]
    assert len(names) >= 2
    for name in names:
        manifest = json.loads((demo / "reports" / f"{name}.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "ok", (name, manifest.get("error"))
        page = (demo / "reports" / f"{name}.html").read_text(encoding="utf-8")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", manifest["as_of"]), (name, manifest["as_of"])
        assert f"Data as of {manifest['as_of']}." in page, name
        # Every file the report's kernel read is the new project's own.
        for item in manifest["inputs"]:
            assert not Path(item["path"]).is_absolute() and (demo / item["path"]).is_file(), (name, item)
    assert (demo / "reports" / "index.html").is_file()
    # The as-of dates follow the data: the latest poll and the latest event.
    as_of = {n: json.loads((demo / "reports" / f"{n}.json").read_text(encoding="utf-8"))["as_of"] for n in names}
    assert as_of["thresholds"] == _latest(demo / "data/polls/knesset-2022.csv")
    assert as_of["timeline"] == _latest(demo / "data/events.csv")
