"""Issue 18: report kernels forked from a warm server (helpers.pipeline.forkserver). A forked kernel must be what
jupyter_client would have started (same backend, path, working folder, session, environment), a fresh process
for every report (nothing of one report reaches the next, seeds drawn anew), gone with its worker, and give the
same numbers as a kernel started the usual way."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BALLOTBOOK, ROOT, all_gone, gone, make_project, notebook_json
from helpers.pipeline import kernels
from helpers.pipeline.forkserver import ForkedKernel, ForkServer, kernel_argv

PROBE = textwrap.dedent("""
    import gc, json, os, sys, random, matplotlib, pandas
    _state = {"frozen": gc.get_freeze_count(),
              "backend": matplotlib.get_backend(), "mplbackend": os.environ.get("MPLBACKEND"),
              "path": sys.path, "cwd": os.getcwd(), "leader": os.getpgid(0) == os.getpid(),
              "root": os.environ.get("BALLOTBOOK_ROOT"), "max_rows": pandas.get_option("display.max_rows"),
              "leak": getattr(pandas, "_ballotbook_leak", None), "random": random.random(),
              "parent": open(f"/proc/{os.getppid()}/cmdline").read().replace(chr(0), " ")}
    pandas.set_option("display.max_rows", 3)   # what a report might leave behind in its process
    pandas._ballotbook_leak = 1
    print(json.dumps(_state))
""")


async def _probe(km) -> dict:
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        out: list[str] = []
        reply = await kc.execute_interactive(PROBE, timeout=60, output_hook=lambda m: out.append(
            m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok"
        return json.loads("".join(out))
    finally:
        kc.stop_channels()


def _kernel_state(server) -> tuple[dict, object]:
    km = kernels.kernel_manager_class()(kernel_name=kernels.KERNEL_NAME)

    async def go():
        await km.start_kernel(cwd=str(ROOT))
        try:
            return await _probe(km), km.provisioner.process
        finally:
            await km.shutdown_kernel(now=True)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def server():
    s = ForkServer(str(ROOT))
    assert s.ready()
    yield s
    s.close()


def test_a_forked_kernel_is_what_jupyter_client_starts_and_each_is_fresh(server, monkeypatch):
    monkeypatch.setenv("BALLOTBOOK_ROOT", str(ROOT))
    monkeypatch.setattr(kernels, "_FORK_SERVER", None)
    usual, usual_process = _kernel_state(None)
    monkeypatch.setattr(kernels, "_FORK_SERVER", server)
    first, first_process = _kernel_state(server)
    second, _ = _kernel_state(server)
    assert isinstance(first_process, ForkedKernel) and not isinstance(usual_process, ForkedKernel)
    server_command = "-m helpers.pipeline.forkserver"
    assert server_command in first["parent"] and server_command not in usual["parent"]
    for key in ("backend", "mplbackend", "path", "cwd", "leader", "root", "max_rows", "leak"):
        assert first[key] == usual[key], key
    # what the server imported is frozen (its collections skip it, and it stays shared): a kernel of its own has
    # nothing frozen
    assert first["frozen"] > 10_000 and usual["frozen"] == 0
    # nothing of the first report reaches the second, and each draws its own seeds, as fresh processes do
    assert second["max_rows"] == usual["max_rows"] != 3 and second["leak"] is None
    assert len({usual["random"], first["random"], second["random"]}) == 3


def test_only_this_interpreters_ipykernel_is_forked():
    assert kernel_argv([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"]) == ["-f", "k.json"]
    assert kernel_argv(["/usr/bin/python3-other", "-m", "ipykernel_launcher", "-f", "k.json"]) is None
    assert kernel_argv([sys.executable, "-m", "other_kernel", "-f", "k.json"]) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_server_and_its_kernels_die_with_the_worker(tmp_path):
    """A stand-in worker starts a server and a kernel, then is killed with SIGKILL (no clean-up runs): the
    server and the kernel must go too."""
    worker = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, sys, time
        from helpers.pipeline.forkserver import ForkServer
        s = ForkServer({str(ROOT)!r})
        k = s.spawn(["-f", {str(tmp_path / "k.json")!r}], env=dict(os.environ), cwd={str(tmp_path)!r},
                    log={str(tmp_path / "k.log")!r})
        print(s.pid, k.pid, flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True, env={**os.environ, "BALLOTBOOK_ROOT": str(ROOT)})
    server_pid, kernel_pid = map(int, worker.stdout.readline().split())
    end = time.monotonic() + 30
    while not (tmp_path / "k.json").exists() and time.monotonic() < end:  # the kernel is up
        time.sleep(0.05)
    assert not gone(server_pid) and not gone(kernel_pid)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert all_gone([server_pid, kernel_pid])


def test_a_forked_kernel_that_ends_is_seen_to_end(server, tmp_path):
    k = server.spawn(["-f", str(tmp_path / "k.json")], env=dict(os.environ), cwd=str(tmp_path),
                     log=str(tmp_path / "k.log"))
    assert k.poll() is None
    k.terminate()
    assert k.wait(timeout=10) == 0 and k.poll() == 0
    k.kill()  # no error, and no signal to a reused process id


REPORT = notebook_json(
    ("code", "import os\nimport numpy as np\nfrom helpers import notebook\nnotebook.start()\n"
             "rng = np.random.default_rng(seed)\n"
             "parent = open(f'/proc/{os.getppid()}/cmdline').read().replace(chr(0), ' ')\n"
             "notebook.record(as_of='2022-11-01', sources=['test'], seed=seed,\n"
             "                outputs={'draws': rng.normal(size=3).tolist(),\n"
             "                         'forked': '-m helpers.pipeline.forkserver' in parent})"),
    parameters="seed = 7  # random seed",
)


@pytest.mark.slow
def test_a_build_runs_reports_in_forked_kernels_with_the_same_numbers(tmp_path):
    """Through the real CLI: a worker with more than one report forks their kernels (the report sees the server
    as its parent); a worker with one report starts its kernel the usual way (a server would not pay for its
    imports); the seeded numbers are the same either way."""
    project = make_project(tmp_path / "project", "reports:\n  - name: a\n    notebook: notebooks/r.ipynb\n"
                           "  - name: b\n    notebook: notebooks/r.ipynb\n    parameters: {seed: 8}\n",
                           {"r.ipynb": REPORT})
    env = {k: v for k, v in os.environ.items() if k not in ("BALLOTBOOK_ROOT", "BALLOTBOOK_BUILD")}
    outputs = {}
    for jobs in ("1", "2"):
        proc = subprocess.run([BALLOTBOOK, "build", "--force", "--jobs", jobs], cwd=project, timeout=180, env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        outputs[jobs] = {n: json.loads((project / "reports" / f"{n}.json").read_text())["outputs"]
                         for n in ("a", "b")}
    assert all(o["forked"] for o in outputs["1"].values())
    assert not any(o["forked"] for o in outputs["2"].values())
    assert [o["draws"] for o in outputs["1"].values()] == [o["draws"] for o in outputs["2"].values()]
    assert outputs["1"]["a"]["draws"] != outputs["1"]["b"]["draws"]


def test_ballotbook_fork_0_turns_the_server_off():
    probe = ("import os; from helpers.pipeline import kernels; kernels.warm_worker(os.getcwd()); "
             "print(kernels.fork_server() is None); kernels.worker_supply().close(); os._exit(0)")
    for value, none in (("0", "True"), ("1", "False")):
        proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "BALLOTBOOK_FORK": value, "BALLOTBOOK_ROOT": str(ROOT)})
        assert proc.stdout.strip() == none, proc.stderr


def _warmed() -> list:
    from helpers.pipeline import kernels as worker_kernels

    server = worker_kernels.fork_server()
    return [server is not None, worker_kernels.worker_supply() is not None, getattr(server, "pid", None)]


def _forked_from() -> list:
    """In a dask worker: its parent's command line, and whether papermill was there before any report ran."""
    import sys

    with open(f"/proc/{os.getppid()}/cmdline") as f:
        return [f.read().replace(chr(0), " "), "papermill" in sys.modules, os.getpid()]


def _profiled() -> bool:
    import dask

    return bool(dask.config.get("distributed.worker.profile.enabled"))


@pytest.mark.slow
def test_dask_workers_are_warmed_as_the_local_pools_are(monkeypatch):
    """The executor the build uses for --executor dask runs warm_worker on each worker: a fork server and a
    kernel started ahead, as in a local pool worker (tests/test_scaleout.py builds real reports on dask)."""
    from helpers.pipeline.executors import dask_executor

    monkeypatch.setenv("BALLOTBOOK_ROOT", str(ROOT))
    executor = dask_executor(None, 2, root=str(ROOT))
    try:
        # a local cluster's workers share the fork server the build started (one set of imports)
        assert executor._server is not None
        assert [executor.submit(_warmed).result(timeout=120) for _ in range(4)] == \
            [[True, True, executor._server.pid]] * 4
        # the kit's local cluster: a report goes to a worker only when it is free, and nothing samples it
        assert executor._client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION) == 1.0
        assert set(executor._client.run(_profiled).values()) == {False}
        # its workers are forked from one warm server that imported dask and what runs a report, as the local
        # pool's are; the cluster stops that server with itself
        forked = list(executor._client.run(_forked_from).values())
        if kernels.forking():
            assert all("multiprocessing.forkserver" in parent and preloaded for parent, preloaded, _ in forked)
            assert kernels.worker_server_running()
    finally:
        executor.shutdown(wait=True)
    assert not kernels.worker_server_running()
    bare = dask_executor(None, 1)  # without the project's root nothing is warmed
    try:
        assert bare.submit(_warmed).result(timeout=120) == [False, False, None]
    finally:
        bare.shutdown(wait=True)


def test_a_server_that_never_gets_ready_is_stopped_and_kernels_start_the_usual_way(monkeypatch):
    """A server hung in its imports must not hang the worker: after READY_TIMEOUT it is killed and ready() is
    False (the provisioner then launches the kernel the usual way)."""
    import threading

    from helpers.pipeline import forkserver

    monkeypatch.setattr(forkserver, "READY_TIMEOUT", 0.5)
    stuck = ForkServer.__new__(ForkServer)
    stuck._proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True, bufsize=1)
    stuck._lock, stuck._ready = threading.Lock(), None
    start = time.monotonic()
    assert stuck.ready() is False and time.monotonic() - start < 10
    assert stuck._proc.wait(timeout=5) != 0  # killed, not left behind
    stuck._proc.stdout.close()
    stuck._proc.stdin.close()
