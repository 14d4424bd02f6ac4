"""The build's pool workers are forked from a warm server of their own (multiprocessing's fork server, which
imports what runs and renders a report once: ``kernels.WORKER_IMPORTS``), not spawned and importing it all
again each; every build gets a server with its own environment, and none outlives its build."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import BALLOTBOOK, gone, make_project, notebook_json
from helpers.pipeline import kernels

# A report that records who runs it: the worker that started its kernel (the kernel's connection file is in the
# private folder of that worker, named after its process id), that worker's parent and the parent's command
# line, and one variable of the environment.
WHO = notebook_json(
    ("code", "import os, re, psutil\nfrom ipykernel.connect import get_connection_file\n"
             "from helpers import notebook\nnotebook.start()\n"
             "worker = psutil.Process(int(re.search(r'ballotbook-(\\d+)-', get_connection_file()).group(1)))\n"
             "server = psutil.Process(worker.ppid())\n"
             "notebook.record(as_of='2022-11-01', sources=['test'], seed=1, outputs={\n"
             "    'n': n, 'worker': worker.pid, 'server': server.pid, 'server_parent': server.ppid(),\n"
             "    'server_command': ' '.join(server.cmdline()), 'mark': os.environ.get('BB_TEST_MARK', '')})"),
    parameters="n = 1  # a number",
)


def _project(tmp_path, reports: int):
    return make_project(tmp_path / "project", "reports:\n" + "".join(
        f"  - name: r{i}\n    notebook: notebooks/who.ipynb\n    parameters: {{n: {i}}}\n" for i in range(reports)),
        {"who.ipynb": WHO})


def _outputs(project, reports: int) -> list[dict]:
    return [json.loads((project / "reports" / f"r{i}.json").read_text())["outputs"] for i in range(reports)]


@pytest.mark.skipif(not kernels.forking(), reason="workers are forked only where kernels are")
def test_a_builds_workers_are_forked_from_one_warm_server_that_ends_with_the_build(tmp_path):
    project = _project(tmp_path, 3)
    env = {k: v for k, v in os.environ.items() if k not in ("BALLOTBOOK_ROOT", "BALLOTBOOK_BUILD")}
    proc = subprocess.Popen([BALLOTBOOK, "build", "--jobs", "2"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    outputs = _outputs(project, 3)
    assert [o["n"] for o in outputs] == [0, 1, 2]
    servers = {o["server"] for o in outputs}
    assert len(servers) == 1  # one server for the build's workers
    assert {o["server_parent"] for o in outputs} == {proc.pid}  # started by the build
    assert all("multiprocessing.forkserver" in o["server_command"] for o in outputs)
    assert all(o["worker"] not in servers and o["worker"] != proc.pid for o in outputs)
    assert gone(servers.pop())


@pytest.mark.skipif(not kernels.forking(), reason="workers are forked only where kernels are")
def test_each_build_in_one_process_forks_its_workers_from_a_server_with_its_environment(tmp_path, monkeypatch):
    """A process that builds twice (a scheduler, a notebook) gets a new server each time: the second build's
    workers see the second build's environment, and no server is left running between builds."""
    from helpers.pipeline.build import build

    project = _project(tmp_path, 1)
    monkeypatch.chdir(project)
    monkeypatch.delenv("BALLOTBOOK_ROOT", raising=False)
    seen = []
    for mark in ("first", "second"):
        monkeypatch.setenv("BB_TEST_MARK", mark)
        assert build("reports.yml", jobs=1, force=True) == 0
        assert not kernels.worker_server_running()
        outputs = _outputs(project, 1)[0]
        assert gone(outputs["server"])
        seen.append((outputs["mark"], outputs["server"]))
    assert [m for m, _ in seen] == ["first", "second"]
    assert seen[0][1] != seen[1][1]


def test_where_kernels_are_not_forked_workers_are_spawned(monkeypatch):
    monkeypatch.setenv("BALLOTBOOK_FORK", "0")
    assert kernels.worker_context().get_start_method() == "spawn"
    monkeypatch.setenv("BALLOTBOOK_FORK", "1")
    if kernels.forking():
        assert kernels.worker_context().get_start_method() == "forkserver"
