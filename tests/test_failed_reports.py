"""Issue 16, what a build says about each report: a failed report keeps its executed notebook (outputs up to the
failing cell and the traceback) in ``<out>/failed/``, linked from the index, until the report next succeeds; and
``build --dry-run`` names each report that would be rebuilt and why, without writing, locking or starting anything."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from filelock import FileLock

from conftest import BALLOTBOOK, ROOT, copy_project, make_project, notebook_json, run_cli

pytestmark = pytest.mark.slow

REPORT = notebook_json(
    ("code", "from helpers import data, notebook\nnotebook.start()\nev = data.load_events(events)\n"
             "notebook.record(as_of='2022-11-01', sources=['test'], seed=1, outputs={'n': len(ev)})\n"
             "print('read', len(ev), 'events before the error')"),
    ("code", "if fail:\n    1 / 0"),
    ("md", "Done."),
    parameters="events = 'data/events.csv'  # events file\nfail = False  # make the report fail",
)


def yml(fail: bool) -> str:
    return ("reports:\n  - name: steady\n    notebook: notebooks/r.ipynb\n"
            f"  - name: flaky\n    notebook: notebooks/r.ipynb\n    parameters: {{fail: {str(fail).lower()}}}\n")


def kit_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("BALLOTBOOK_ROOT", "BALLOTBOOK_BUILD")}


def build(project, *args) -> subprocess.CompletedProcess:
    return subprocess.run([BALLOTBOOK, "build", "--jobs", "2", *args], cwd=project, env=kit_env(),
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """'steady' built, 'flaky' failed (a cell divides by zero)."""
    project = make_project(tmp_path_factory.mktemp("failed") / "project", yml(True), {"r.ipynb": REPORT},
                           {"data/events.csv": ROOT / "data/events.csv"})
    proc = build(project)
    assert proc.returncode == 1 and "flaky failed" in proc.stderr and "steady ok" in proc.stderr, proc.stderr
    return project


@pytest.fixture
def project(built, tmp_path):
    return copy_project(built, tmp_path)


def test_a_failed_report_keeps_its_executed_notebook_until_it_succeeds(project):
    out = project / "reports"
    m = json.loads((out / "flaky.json").read_text())
    assert m["status"] == "failed" and "ZeroDivisionError" in m["error"]
    assert m["failed_notebook"] == "failed/flaky.ipynb"
    nb = json.loads((out / "failed/flaky.ipynb").read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    # the outputs of the cells before the failing one, then the failing cell's error with its traceback
    assert any("events before the error" in "".join(o.get("text", "")) for o in outputs), outputs
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "ZeroDivisionError" and errors[0]["traceback"]
    # not a report: nothing of it among the published pages; the index links it beside the error
    assert sorted(p.name for p in out.glob("*.html")) == ["index.html", "steady.html"]
    index = (out / "index.html").read_text()
    assert 'href="failed/flaky.ipynb"' in index and "ZeroDivisionError" in index
    assert json.loads((out / "steady.json").read_text())["failed_notebook"] is None

    (project / "reports.yml").write_text(yml(False))
    again = build(project)
    assert again.returncode == 0 and "flaky ok" in again.stderr, again.stderr
    assert not (out / "failed/flaky.ipynb").exists()
    assert json.loads((out / "flaky.json").read_text())["failed_notebook"] is None
    assert "failed/flaky.ipynb" not in (out / "index.html").read_text()


def test_dry_run_names_the_report_and_the_input_that_changed_and_touches_nothing(project, kernel_starts):
    out = project / "reports"
    with open(project / "data/events.csv", "a", encoding="utf-8") as f:  # one more (valid) event
        f.write((ROOT / "data/events.csv").read_text(encoding="utf-8").splitlines()[-1] + "\n")
    state = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}

    proc = run_cli("build", "--dry-run", cwd=project)  # in this process: no kernel may start
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    steady = [line for line in lines if line.startswith("steady ")]
    flaky = [line for line in lines if line.startswith("flaky ")]
    assert len(steady) == 1 and "rebuild" in steady[0] and "input file data/events.csv changed" in steady[0], lines
    assert len(flaky) == 1 and "failed last time" in flaky[0], lines
    assert kernel_starts == []

    # Takes no lock: it answers while another process holds the folder's lock.
    lock = FileLock(str(out / ".build.lock"))
    lock.acquire(timeout=0)
    try:
        held = subprocess.run([BALLOTBOOK, "build", "--dry-run", "--only", "steady"], cwd=project, env=kit_env(),
                              capture_output=True, text=True, timeout=60)
    finally:
        lock.release()
    assert held.returncode == 0 and "input file data/events.csv changed" in held.stdout, held.stderr
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()} == state

    # With the input as it was, the steady report is up to date again.
    shutil.copy(ROOT / "data/events.csv", project / "data/events.csv")
    same = run_cli("build", "--dry-run", "--only", "steady", cwd=project)
    assert same.returncode == 0 and "steady  up to date" in same.stdout, same.stdout
    assert "0 of 1 report would be rebuilt" in same.stdout, same.stdout

    # The other reasons, each named.
    def why(*args) -> str:
        proc = run_cli("build", "--dry-run", "--only", "steady", *args, cwd=project)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()[0]

    assert "forced (--force)" in why("--force")
    config = (project / "reports.yml").read_text()
    (project / "reports.yml").write_text(config.replace("notebook: notebooks/r.ipynb\n  - name: flaky",
                                                        "notebook: notebooks/r.ipynb\n    parameters: {fail: true}\n"
                                                        "  - name: flaky"))
    assert "parameters changed" in why()
    (project / "reports.yml").write_text(config)
    nb = json.loads((project / "notebooks/r.ipynb").read_text())
    nb["cells"][-1]["source"] = "Done, with a sentence more."
    (project / "notebooks/r.ipynb").write_text(json.dumps(nb))
    assert why().endswith("rebuild: notebook changed")
    (out / "steady.html").unlink()
    assert "its page steady.html is missing" in why()
    assert kernel_starts == []
