"""One kernel fork server for all of a build's workers (``ForkServer(listen=...)`` owned by the build, each
worker a ``ForkClient``): one set of imports instead of one per worker; kernels still a fresh process each, and
the server and its kernels gone with the build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import BALLOTBOOK, ROOT, all_gone, gone, make_project, notebook_json
from helpers.pipeline import kernels
from helpers.pipeline.forkserver import ForkClient, ForkServer


def _wait_for(path, seconds=30):
    end = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < end:
        time.sleep(0.05)
    return path.exists()


def test_workers_share_one_server_each_kernel_its_own_process(tmp_path):
    server = ForkServer(str(ROOT), listen=str(tmp_path / "s.sock"))
    clients = [ForkClient(server.address, server.pid) for _ in range(2)]
    try:
        assert all(c.ready() for c in clients)

        def spawn(i):
            return clients[i % 2].spawn(["-f", str(tmp_path / f"k{i}.json")], env=dict(os.environ),
                                        cwd=str(tmp_path), log=str(tmp_path / f"k{i}.log"))

        with ThreadPoolExecutor(4) as pool:  # both workers asking at once
            kernels = list(pool.map(spawn, range(4)))
        assert len({k.pid for k in kernels}) == 4
        for k in kernels:
            with open(f"/proc/{k.pid}/stat") as f:
                assert int(f.read().split(") ")[-1].split()[1]) == server.pid  # forked by the one server
            assert k.poll() is None
        for i, k in enumerate(kernels):
            assert _wait_for(tmp_path / f"k{i}.json")
            k.kill()
            assert k.wait(timeout=10) == 0
    finally:
        for c in clients:
            c.close()
        server.close()
    assert gone(server.pid)


def test_a_client_of_a_server_that_died_is_told_so(tmp_path):
    server = ForkServer(str(ROOT), listen=str(tmp_path / "s.sock"))
    os.kill(server.pid, signal.SIGKILL)
    server._proc.wait()
    client = ForkClient(server.address, server.pid)
    assert client.ready() is False
    with pytest.raises(RuntimeError, match="not running"):
        client.spawn(["-f", str(tmp_path / "k.json")], env=dict(os.environ), cwd=str(tmp_path),
                     log=str(tmp_path / "k.log"))
    server.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_shared_server_and_its_kernels_die_with_the_build(tmp_path):
    """A stand-in build owns a shared server whose kernel a client started, then is killed with SIGKILL (no
    clean-up runs): the server and the kernel must go too."""
    owner = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, time
        from helpers.pipeline.forkserver import ForkClient, ForkServer
        s = ForkServer({str(ROOT)!r}, listen={str(tmp_path / "s.sock")!r})
        k = ForkClient(s.address, s.pid).spawn(["-f", {str(tmp_path / "k.json")!r}], env=dict(os.environ),
                                               cwd={str(tmp_path)!r}, log={str(tmp_path / "k.log")!r})
        print(s.pid, k.pid, flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True, env={**os.environ, "BALLOTBOOK_ROOT": str(ROOT)})
    server_pid, kernel_pid = map(int, owner.stdout.readline().split())
    assert _wait_for(tmp_path / "k.json")
    assert not gone(server_pid) and not gone(kernel_pid)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert all_gone([server_pid, kernel_pid])


PARENT = notebook_json(
    ("code", "import os\nfrom helpers import notebook\nnotebook.start()\n"
             "parent = open(f'/proc/{os.getppid()}/cmdline').read().replace(chr(0), ' ')\n"
             "notebook.record(as_of='2022-11-01', sources=['test'], seed=1,\n"
             "                outputs={'n': n, 'server': os.getppid(), 'shared': '--listen' in parent})"),
    parameters="n = 1  # a number",
)


def test_a_build_of_more_reports_than_workers_forks_every_kernel_from_one_server(tmp_path):
    project = make_project(tmp_path / "project", "reports:\n" + "".join(
        f"  - name: r{i}\n    notebook: notebooks/p.ipynb\n    parameters: {{n: {i}}}\n" for i in range(4)),
        {"p.ipynb": PARENT})
    env = {k: v for k, v in os.environ.items() if k not in ("BALLOTBOOK_ROOT", "BALLOTBOOK_BUILD")}
    proc = subprocess.run([BALLOTBOOK, "build", "--jobs", "2"], cwd=project, timeout=180, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    outputs = [json.loads((project / "reports" / f"r{i}.json").read_text())["outputs"] for i in range(4)]
    assert [o["n"] for o in outputs] == [0, 1, 2, 3]
    assert all(o["shared"] for o in outputs)
    assert len({o["server"] for o in outputs}) == 1  # one server for both workers
    assert gone(outputs[0]["server"])  # and gone with the build


def _children_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if comm == name and int(rest[1]) == os.getpid() and rest[0] not in ("Z", "X"):
            found.append(int(entry))
    return found


def test_a_build_with_a_bad_data_file_stops_the_server_it_started(tmp_path, monkeypatch):
    """The servers start before the data files are checked (their imports overlap the check); a check that
    fails stops them before the error is raised (exit 2, nothing else left running)."""
    from helpers.core.errors import DataError
    from helpers.pipeline.build import build

    project = make_project(tmp_path / "project", "reports:\n" + "".join(
        f"  - name: r{i}\n    notebook: notebooks/e.ipynb\n    parameters: {{events: data/e{i}.csv}}\n"
        for i in range(3)), {"e.ipynb": notebook_json(
            ("code", "from helpers import notebook\nnotebook.start()"),
            parameters='events: "events file" = "data/e0.csv"  # the events')},
        {"data/e0.csv": ROOT / "data" / "events.csv", "data/e1.csv": ROOT / "data" / "events.csv",
         "data/e2.csv": "date,this is not an events file\n"})
    monkeypatch.chdir(project)
    monkeypatch.delenv("BALLOTBOOK_ROOT", raising=False)
    with pytest.raises(DataError, match="e2.csv"):
        build("reports.yml", jobs=1)
    assert _children_named("bb-forkserver") == []
    assert not kernels.worker_server_running()  # nor the one for the pool's workers
    assert not (project / "reports").exists()
