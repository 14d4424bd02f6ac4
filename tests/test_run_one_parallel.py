"""Issue 16: ``run-one`` pods of a Kubernetes indexed job write into one output folder at the same time. The
folder's lock is held only to publish, so the two builds run side by side (each report waits inside its kernel
until the other report's kernel is running too) and both publish; the index lists both."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import BALLOTBOOK, make_project, notebook_json

pytestmark = pytest.mark.slow

# Each report marks that it is running, then waits (at most 30 s) for the other's mark: both meet only when
# their kernels run at the same moment.
MEETING = notebook_json(
    ("code", "import os, time\nfrom helpers import notebook\nnotebook.start()\n"
             "os.makedirs('meet', exist_ok=True)\nopen(os.path.join('meet', me), 'w').close()\n"
             "deadline = time.time() + 30\n"
             "while not os.path.exists(os.path.join('meet', other)) and time.time() < deadline:\n"
             "    time.sleep(0.1)\n"
             "met = os.path.exists(os.path.join('meet', other))\n"
             "notebook.record(as_of='2022-11-01', sources=['test'], seed=1, outputs={'met': met})"),
    ("md", "Done."),
    parameters="me = 'a'  # this report's mark\nother = 'b'  # the mark it waits for",
)
PAIR = ("reports:\n  - name: pod-a\n    notebook: notebooks/m.ipynb\n    parameters: {me: a, other: b}\n"
        "  - name: pod-b\n    notebook: notebooks/m.ipynb\n    parameters: {me: b, other: a}\n")


def test_two_run_one_into_one_folder_overlap_and_both_publish(tmp_path):
    project = make_project(tmp_path / "project", PAIR, {"m.ipynb": MEETING})
    out = tmp_path / "shared-reports"
    env = {k: v for k, v in os.environ.items() if k not in ("BALLOTBOOK_ROOT", "BALLOTBOOK_BUILD")}
    # One pod is told its index by --index, the other as Kubernetes tells it: $JOB_COMPLETION_INDEX.
    pods = [subprocess.Popen([BALLOTBOOK, "run-one", "--index", "0", "--out", str(out)], cwd=project, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
            subprocess.Popen([BALLOTBOOK, "run-one", "--out", str(out)], cwd=project,
                             env={**env, "JOB_COMPLETION_INDEX": "1"}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)]
    results = [pod.communicate(timeout=180) for pod in pods]
    for pod, (_, err) in zip(pods, results, strict=True):
        assert pod.returncode == 0, err
        assert "waiting" not in err, err  # neither waited for the other's build
    a, b = (json.loads((out / f"pod-{x}.json").read_text()) for x in "ab")
    # Both kernels ran at the same moment: each saw the other's mark while it waited.
    assert a["status"] == b["status"] == "ok"
    assert a["outputs"] == {"met": True} and b["outputs"] == {"met": True}, (a["outputs"], b["outputs"])
    assert a["started"] <= b["finished"] and b["started"] <= a["finished"]  # the runs overlap in time
    index = (out / "index.html").read_text()
    assert 'href="pod-a.html"' in index and 'href="pod-b.html"' in index
    assert "not built" not in index
    assert (out / "pod-a.html").read_text().rstrip().endswith("</html>")
    assert (out / "pod-b.html").read_text().rstrip().endswith("</html>")
    assert not list(out.glob(".*.tmp-*")) and not list(out.glob(".cancel-*"))
    # A pod started again with nothing changed finds its report up to date.
    again = subprocess.run([BALLOTBOOK, "run-one", "--out", str(out)], cwd=project,
                           env={**env, "JOB_COMPLETION_INDEX": "1"}, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "pod-b up to date" in again.stderr, again.stderr
