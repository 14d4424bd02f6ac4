"""Faults: killed kernels, timeouts, write errors, SIGKILL mid-publish, concurrent builds. In every case the last
good report and its manifest survive, the index tells the truth, and the next build recovers by itself."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, make_project, notebook_json, run_cli_process

pytestmark = pytest.mark.slow

REPORT = notebook_json(
    ("code", "from helpers import data, notebook\nfrom helpers.views import tables\n"
             "notebook.start()\nev = data.load_events(events)\n"
             "notebook.record(as_of='2022-11-01', sources=['test'], seed=1, outputs={'n': len(ev)})"),
    ("code", "import os, signal, time\n"
             "if fault == 'kill':\n    os.kill(os.getpid(), signal.SIGKILL)\n"
             "if fault == 'sleep':\n    time.sleep(30)"),
    ("code", "tables.show(ev[['date', 'description']])"),
    parameters="events = 'data/events.csv'  # events file\nfault = ''  # kill, sleep or nothing",
)


def yml(fault: str = "", extra: str = "") -> str:
    return (f"reports:\n  - name: good\n    notebook: notebooks/r.ipynb\n    parameters: {{fault: '{fault}'}}\n"
            f"  - name: other\n    notebook: notebooks/r.ipynb\n{extra}")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small project with both reports built once; each test gets its own copy."""
    p = make_project(tmp_path_factory.mktemp("built"), yml(), {"r.ipynb": REPORT},
                     {"data/events.csv": ROOT / "data/events.csv"})
    first = run_cli_process("build", cwd=p)
    assert first.returncode == 0, first.stderr
    return p


@pytest.fixture
def project(built, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(built, copy)
    return copy


def snapshot(project: Path) -> dict:
    out = project / "reports"
    return {"html": (out / "good.html").read_bytes(),
            "manifest": json.loads((out / "good.json").read_text()),
            "other": (out / "other.html").read_bytes()}


def assert_last_good_kept(project: Path, before: dict, error_part: str) -> None:
    out = project / "reports"
    assert (out / "good.html").read_bytes() == before["html"], "the last good report was replaced"
    m = json.loads((out / "good.json").read_text())
    assert m["status"] == "failed" and error_part in m["error"], m
    assert m["last_good"] == before["manifest"]["last_good"]
    index = (out / "index.html").read_text()
    assert 'href="good.html"' in index and "failed" in index
    assert not list(out.glob(".*.tmp-*")), "a temporary file was left behind"


def recovers(project: Path) -> None:
    (project / "reports.yml").write_text(yml())
    proc = run_cli_process("build", cwd=project)
    assert proc.returncode == 0, proc.stderr
    m = json.loads((project / "reports/good.json").read_text())
    assert m["status"] == "ok" and m["outputs"] == {"n": 56}
    assert not list((project / "reports").glob(".*.tmp-*"))


def test_kernel_killed_mid_report(project):
    before = snapshot(project)
    (project / "reports.yml").write_text(yml("kill"))
    proc = run_cli_process("build", cwd=project)
    assert proc.returncode == 1
    assert_last_good_kept(project, before, "kernel died")
    assert (project / "reports/other.html").read_bytes() == before["other"]
    recovers(project)


def test_cell_over_its_timeout(project):
    before = snapshot(project)
    (project / "reports.yml").write_text(yml("sleep"))
    proc = run_cli_process("build", "--timeout", "3", cwd=project)
    assert proc.returncode == 1  # the cell sleeps 30 s: had it not been stopped the report would be ok
    assert_last_good_kept(project, before, "timeout")
    recovers(project)


def test_write_error_on_publish(project):
    """The file system refuses the report (file size limit): a real OSError inside the real pipeline."""
    before = snapshot(project)
    (project / "reports.yml").write_text(yml("", "    parameters: {fault: x}\n"))  # both rebuild
    wrapper = ("import resource, signal, sys\n"
               "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
               "resource.setrlimit(resource.RLIMIT_FSIZE, (12000, 12000))\n"
               "from helpers.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    env = {k: v for k, v in os.environ.items() if k != "BALLOTBOOK_ROOT"}
    proc = subprocess.run([sys.executable, "-c", wrapper, "build", "--force"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert_last_good_kept(project, before, "rror")  # OSError: [Errno 27] File too large
    recovers(project)


#: Imported at start-up by every Python process of the build (the build, its spawned workers, their kernels)
#: through PYTHONPATH: the process that renames a finished file onto good.html is killed just before the rename.
KILL_BEFORE_RENAME = """\
import os, signal

_replace = os.replace


def _replace_or_die(src, dst, *args, **kwargs):
    if os.path.basename(os.fspath(dst)) == "good.html":
        os.kill(os.getpid(), signal.SIGKILL)
    return _replace(src, dst, *args, **kwargs)


os.replace = _replace_or_die
"""


def test_sigkill_between_writing_and_renaming(project, tmp_path):
    """The fault comes from outside the kit: a sitecustomize module wraps os.replace in every process."""
    before = snapshot(project)
    (project / "reports.yml").write_text(yml("", "    parameters: {fault: y}\n"))
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(KILL_BEFORE_RENAME)
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH")) if p)
    proc = run_cli_process("build", "--force", cwd=project, env={"PYTHONPATH": path})
    assert proc.returncode == 1
    assert_last_good_kept(project, before, "killed")
    # The other report, in the same pool, was still published.
    assert json.loads((project / "reports/other.json").read_text())["status"] == "ok"
    recovers(project)


@pytest.mark.parametrize("delay", [1.0, 3.5])
def test_build_killed_at_any_moment_never_half_publishes(project, delay):
    env = {k: v for k, v in os.environ.items() if k != "BALLOTBOOK_ROOT"}
    proc = subprocess.Popen([sys.executable, "-m", "helpers.cli", "build", "--force"], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)  # the build and everything it started
    proc.wait()
    out = project / "reports"
    for name in ("good", "other"):
        # Whole: the old report or a complete new one (header, the events table, the sources at the foot).
        html = (out / f"{name}.html").read_text()
        assert html.rstrip().endswith("</html>") and "</header>" in html, name
        assert "Test report" in html and "Winograd" in html and "</footer>" in html, name
        manifest = json.loads((out / f"{name}.json").read_text())  # parses: never half-written
        assert manifest["status"] in ("ok", "failed") and manifest["last_good"]["html"] == f"{name}.html"
    assert (out / "index.html").read_text().rstrip().endswith("</html>")
    recovers(project)


def test_two_builds_at_once(project):
    """Two builds into one folder run side by side (only their publishing takes turns, under the folder's lock):
    both succeed, the last publish of each report wins, and every file is whole."""
    env = {k: v for k, v in os.environ.items() if k != "BALLOTBOOK_ROOT"}
    cmd = [sys.executable, "-m", "helpers.cli", "build", "--force"]
    a = subprocess.Popen(cmd, cwd=project, env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    b = subprocess.Popen(cmd, cwd=project, env=env, stderr=subprocess.PIPE, text=True)
    err_a, err_b = a.communicate(timeout=300)[1], b.communicate(timeout=300)[1]
    assert a.returncode == 0 and b.returncode == 0, (err_a, err_b)
    for name in ("good", "other"):
        assert json.loads((project / f"reports/{name}.json").read_text())["status"] == "ok"
        assert (project / f"reports/{name}.html").read_text().rstrip().endswith("</html>")
    assert not list((project / "reports").glob(".*.tmp-*"))
