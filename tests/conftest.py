"""Shared fixtures: the project root, a way to run the real command line, and one real build of the shipped
report set (reused by the smoke and browser tests, so the kernels start once per test run)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"


def golden_rows(name: str) -> list[dict]:
    """The rows of a golden reference file (tests/golden/, verbatim copies; see its SOURCES.md). A missing file
    is an error, never a skip: the golden tests must always run."""
    with open(GOLDEN / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@contextmanager
def at_root():
    """Run a block with the project root as the working directory (section functions read project paths)."""
    saved = os.getcwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(saved)


def rows(path: str) -> list[dict]:
    """A CSV file of the project (path relative to the root) as dicts, read with the csv module only."""
    with open(ROOT / path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def run_cli(*args, cwd: Path | str = ROOT, env: dict | None = None, timeout: float = 600):
    """Run `ballotbook ARGS` in this process: the command's entry function with argv in, stdout, stderr and the
    exit code captured, in the working directory and environment a user's shell would give it. Returns a
    CompletedProcess like `run_cli_process`. Commands that start kernels (a real build or run) go through
    `run_cli_process` instead; a handful of those per command prove the installed script end to end."""
    import contextlib
    import io
    import traceback

    from helpers import cli

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.pop("BALLOTBOOK_ROOT", None)
    os.environ.update(env or {})
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse errors, --help
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # what the interpreter would print for an uncaught exception
                traceback.print_exc()
                code = 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["ballotbook", *argv], code, out.getvalue(), err.getvalue())


def run_cli_process(*args, cwd: Path | str = ROOT, env: dict | None = None, timeout: float = 600):
    """Run `ballotbook ARGS` as a user would: the installed console script in a new process."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("BALLOTBOOK_ROOT", None)
    command = [BALLOTBOOK] if Path(BALLOTBOOK).exists() else [sys.executable, "-m", "helpers.cli"]
    return subprocess.run([*command, *map(str, args)], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


#: The installed console script (what `pip install` put next to this Python), so the end-to-end tests prove
#: the entry point a user types, not only the module.
BALLOTBOOK = str(Path(sys.executable).with_name("ballotbook"))


def is_kernel(p) -> bool:
    """Whether psutil process `p` is a report kernel: started the usual way (``-m ipykernel_launcher``) or forked
    by a worker's fork server (named ``bb-kernel``; its command line is the server's)."""
    import psutil

    from helpers.pipeline.forkserver import KERNEL_NAME

    try:
        return p.name() == KERNEL_NAME or "ipykernel" in " ".join(p.cmdline())
    except psutil.Error:
        return False


@pytest.fixture
def kernel_starts(monkeypatch):
    """Watch for kernels: every attempt to start one in this process is recorded and refused. A test that runs
    a command in-process and expects it to stop before any kernel asserts this list stays empty."""
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    started: list[str] = []

    def refuse(self, *args, **kwargs):
        started.append(getattr(self, "kernel_name", "?"))
        raise RuntimeError("a kernel was started")

    monkeypatch.setattr(AsyncKernelManager, "start_kernel", refuse)
    monkeypatch.setattr(KernelManager, "start_kernel", refuse)
    return started


def gone(pid: int) -> bool:
    """Whether process `pid` has ended (no such process, or a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] in ("Z", "X")
    except OSError:
        return True


def all_gone(pids, seconds: float = 5.0) -> bool:
    """Whether every process of `pids` has ended within `seconds`."""
    import time

    end = time.monotonic() + seconds
    while not all(gone(p) for p in pids) and time.monotonic() < end:
        time.sleep(0.05)
    return all(gone(p) for p in pids)


def assert_clean_error(proc, *needles: str) -> None:
    """Exit 2, one or two sentences on stderr naming what is wrong, no traceback, nothing on stdout."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    assert err and len(err.splitlines()) <= 2, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.fixture
def cli():
    return run_cli


def identical(a, b) -> bool:
    """Equal and of the same types all the way down (1 == 1.0 == True in Python, not in data), -0.0 kept apart
    from 0.0, mappings in the same order."""
    import math

    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def make_project(tmp: Path, reports: str, notebooks: dict[str, Path | dict] = (), data: dict = ()) -> Path:
    """A throwaway project: reports.yml, notebooks (copied from paths or written from nbformat dicts) and
    data files, so build tests never touch the real reports/ folder."""
    (tmp / "notebooks").mkdir(parents=True, exist_ok=True)
    (tmp / "data").mkdir(exist_ok=True)
    (tmp / "reports.yml").write_text(reports, encoding="utf-8")
    for name, src in dict(notebooks).items():
        target = tmp / "notebooks" / name
        if isinstance(src, Path):
            shutil.copy(src, target)
        else:
            target.write_text(json.dumps(src), encoding="utf-8")
    for name, content in dict(data).items():
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copy(content, target)
        else:
            target.write_text(content, encoding="utf-8")
    return tmp


def notebook_json(*cells: tuple[str, str], parameters: str = "") -> dict:
    """A minimal notebook: a title cell, a parameters cell, then (kind, source) cells."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell("# Test report\n\nA question."))
    p = nbformat.v4.new_code_cell(parameters)
    p.metadata["tags"] = ["parameters"]
    nb.cells.append(p)
    for kind, source in cells:
        nb.cells.append(nbformat.v4.new_markdown_cell(source) if kind == "md" else
                        nbformat.v4.new_code_cell(source))
    return json.loads(nbformat.writes(nb))


# A report that sleeps while the file 'slow' exists in its project (at most 60 s), so a test can stop or kill a
# build mid-report.
SLEEPY = notebook_json(
    ("code", "import os, time\nfrom helpers import notebook\nnotebook.start()\n"
             "deadline = time.time() + 60\n"
             "while os.path.exists('slow') and time.time() < deadline:\n    time.sleep(0.2)\n"
             "notebook.record(as_of='2022-11-01', sources=['test'], seed=1, outputs={'n': n})"),
    ("md", "Done."),
    parameters="n = 1  # a number recorded in the manifest",
)


def copy_project(project: Path, tmp_path: Path) -> Path:
    """A copy of a built project (its last good reports included), for a test that may spoil it."""
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    return copy


@pytest.fixture(scope="session")
def shipped_build(tmp_path_factory):
    """`ballotbook build` of the shipped reports.yml into a temporary folder: (process, out folder).

    Built once per test run: with pytest-xdist (`make test` runs two workers) the first worker that needs it
    builds it under the run's shared temporary folder, holding a lock, and the other reads the same result."""
    import subprocess

    from filelock import FileLock

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        out = tmp_path_factory.mktemp("reports")
        return run_cli_process("build", "--out", out, "--jobs", "2", timeout=900), out
    shared = tmp_path_factory.getbasetemp().parent  # one folder for every worker of this run
    out, record = shared / "shipped-reports", shared / "shipped-reports.json"
    with FileLock(str(shared / "shipped-reports.lock")):
        if not record.exists():
            proc = run_cli_process("build", "--out", out, "--jobs", "2", timeout=900)
            record.write_text(json.dumps({"args": [str(a) for a in proc.args], "returncode": proc.returncode,
                                          "stdout": proc.stdout, "stderr": proc.stderr}), encoding="utf-8")
    done = json.loads(record.read_text(encoding="utf-8"))
    return subprocess.CompletedProcess(done["args"], done["returncode"], done["stdout"], done["stderr"]), out


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    """One headless Chromium for the session (Debian's package, driven by Playwright). Skipped with the reason
    where Chromium is not installed; in CI (CI set) that is a failure instead, since CI must run these."""
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install Debian's chromium (see .ci/run)")
        pytest.skip("Debian's chromium is not installed here (apt-get install chromium); browser checks skipped")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            "--disable-default-apps", "--disable-extensions"]
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=chromium_path(), args=args,
                                                       headless=True, viewport={"width": 1280, "height": 900})
        yield context
        context.close()


def visit(context, path):
    """Open a local file; return (page, console errors, non-local requests, dialogs)."""
    page = context.new_page()
    errors, remote, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    return page, errors, remote, dialogs


HOSTILE_EVENT = '<img src=x onerror=alert(1)> <script>alert(2)</script> **bold** [link](javascript:alert(3))'


@pytest.fixture(scope="session")
def hostile_timeline(tmp_path_factory):
    """The timeline report run on the shipped events plus one whose label and description are hostile
    markup: (process, HTML path)."""
    folder = tmp_path_factory.mktemp("hostile-timeline")
    events = folder / "events.csv"
    shutil.copy(ROOT / "data/events.csv", events)
    with open(events, "a", encoding="utf-8") as f:
        # columns: date,date_precision,date_note,actors,category,label,description,source
        f.write(f'2007-06-20,day,,"Ehud Barak",primary,"{HOSTILE_EVENT}","{HOSTILE_EVENT}",src\n')
    out = folder / "t.html"
    proc = run_cli_process("run", ROOT / "notebooks/04_timeline.ipynb", "-p", "events", events, "-o", out)
    return proc, out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI set) a skipped test is a failure: CI installs every optional component (Chromium, dask), so
    a skip there can only mean a test that silently stopped running. On a developer's machine the one
    documented skip is the browser checks where Debian's chromium is not installed."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be skipped: {reason}"

