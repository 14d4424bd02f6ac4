"""Issue 12, the build pipeline: a build killed on its own (not its process group) leaves no lock, no workers, no
kernels and no socket files behind; JSON that is not a notebook, a manifest of the wrong shape, a malformed dask
scheduler address and a reserved report name are sentences (exit 2), and a bad manifest is set aside by itself."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from conftest import BALLOTBOOK, SLEEPY, assert_clean_error, is_kernel, make_project, run_cli, run_cli_process

TWO_REPORTS = ("reports:\n  - name: first\n    notebook: notebooks/r.ipynb\n    parameters: {n: 1}\n"
               "  - name: second\n    notebook: notebooks/r.ipynb\n    parameters: {n: 2}\n")


def sleepy_project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project", TWO_REPORTS, {"r.ipynb": SLEEPY})


@pytest.fixture
def short_tmpdir():
    """A TMPDIR of the test's own, short enough for Unix socket paths (at most 107 bytes), so the kit really puts
    the kernels' sockets there."""
    folder = tempfile.mkdtemp(prefix="bbt-", dir="/tmp")
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


def kit_env(tmpdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("BALLOTBOOK_ROOT", "BALLOTBOOK_BUILD")}
    env["TMPDIR"] = str(tmpdir)
    return env


def alive(p: psutil.Process) -> bool:
    """Running and the same process (psutil compares start times, so a reused process id does not count)."""
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def parent(p: psutil.Process) -> int | None:
    """The parent's process id, or None for a process that has already ended (short-lived helpers do)."""
    try:
        return p.ppid()
    except psutil.Error:
        return None


def command(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:  # gone, or a zombie
        return ""


def kernel_sockets(tmpdir: Path) -> list[Path]:
    return [p for p in tmpdir.rglob("*") if p.is_socket()]


def start_build_and_wait_for_kernels(project: Path, tmpdir: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """Start `ballotbook build` (its own session, like a service manager would) and wait until its reports are
    running in kernels whose sockets are in `tmpdir`. Returns the process and every process it started."""
    (project / "slow").write_text("")
    proc = subprocess.Popen([BALLOTBOOK, "build", "--jobs", "2"], cwd=project, env=kit_env(tmpdir),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    main = psutil.Process(proc.pid)
    deadline = time.monotonic() + 90
    seen: dict[int, psutil.Process] = {}
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        for child in main.children(recursive=True):
            seen.setdefault(child.pid, child)
        kernels = [p for p in seen.values() if alive(p) and is_kernel(p)]
        if len(kernels) >= 2 and len(kernel_sockets(tmpdir)) >= 2 * 5:  # five sockets per kernel
            break
        time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("the build did not start two kernels with their sockets in TMPDIR within 90 s")
    time.sleep(1.0)  # into the sleeping cell
    for child in main.children(recursive=True):
        seen.setdefault(child.pid, child)
    return proc, list(seen.values())


def second_build(project: Path, tmpdir: Path) -> subprocess.CompletedProcess:
    (project / "slow").unlink(missing_ok=True)
    return subprocess.run([BALLOTBOOK, "build", "--jobs", "2"], cwd=project, env=kit_env(tmpdir),
                          capture_output=True, text=True, timeout=120)


def assert_built(project: Path, proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stderr
    for name, n in (("first", 1), ("second", 2)):
        m = json.loads((project / f"reports/{name}.json").read_text())
        assert m["status"] == "ok" and m["outputs"] == {"n": n}, m
        assert f"{name} ok" in proc.stderr


# --------------------------------------------------------------------------------------------- killed builds
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL], ids=["SIGKILL"])
def test_killing_only_the_main_build_process_leaves_nothing_behind(tmp_path, short_tmpdir, sig):
    """An OOM kill stops the build's main process only: its workers and kernels go with it at once (the
    workers get SIGTERM from the kernel), before any next build looks; the next build publishes (the lock is
    held only to publish, so there is none to take over), and no socket file stays in TMPDIR. (SIGTERM, which
    the build handles, is tests/test_cancel.py's.)"""
    project = sleepy_project(tmp_path)
    proc, started = start_build_and_wait_for_kernels(project, short_tmpdir)
    workers = [p for p in started if parent(p) == proc.pid and "ipykernel" not in command(p)]
    assert workers, [command(p) for p in started]
    os.kill(proc.pid, sig)  # the main process only, not its group
    proc.wait(timeout=30)
    assert proc.returncode == (143 if sig == signal.SIGTERM else -signal.SIGKILL), proc.stderr.read().decode()
    deadline = time.monotonic() + 5
    while any(alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [command(p) for p in started if alive(p)] == []
    second = second_build(project, short_tmpdir)
    assert_built(project, second)
    assert "took over" not in second.stderr and "waiting" not in second.stderr, second.stderr
    assert kernel_sockets(short_tmpdir) == []
    assert [p.name for p in short_tmpdir.iterdir()] == []


@pytest.mark.slow
def test_kernel_folders_of_a_build_killed_with_its_workers_are_removed_by_the_next_build(tmp_path, short_tmpdir):
    """SIGKILL to the whole process group gives nobody a chance to clean up: the socket folders stay until the
    next build, which removes those of processes that no longer exist and leaves others' alone."""
    project = sleepy_project(tmp_path)
    proc, started = start_build_and_wait_for_kernels(project, short_tmpdir)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for p in started:
        if alive(p) and is_kernel(p):
            p.kill()  # kernels run in sessions of their own; stop them as the kernel's parent poller would
    left = [p for p in short_tmpdir.iterdir() if p.name.startswith("ballotbook-")]
    assert left, "the killed workers could not have removed their socket folders"
    # A folder of a live process (this test's) is not touched.
    live = short_tmpdir / f"ballotbook-{os.getpid()}-keepme"
    live.mkdir()
    second = second_build(project, short_tmpdir)
    assert_built(project, second)
    assert sorted(p.name for p in short_tmpdir.iterdir()) == [live.name]


def test_stale_kernel_files_are_removed_and_live_ones_kept(short_tmpdir, monkeypatch):
    """At a build's start: socket folders of processes that no longer exist go, and so do loose socket files of
    older versions that nothing listens on; a live process's folder and a socket someone listens on stay."""
    import socket

    from helpers.pipeline import processes

    monkeypatch.setattr(tempfile, "tempdir", str(short_tmpdir))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_folder = short_tmpdir / f"ballotbook-{int(gone.stdout)}-abcdefgh"
    live_folder = short_tmpdir / f"ballotbook-{os.getpid()}-abcdefgh"
    for folder in (dead_folder, live_folder):
        folder.mkdir()
        (folder / "kernel-1-shell").write_text("")
    dead, live = socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)
    dead.bind(str(short_tmpdir / "ballotbook-kernel-dead-1"))
    dead.close()  # the file stays, nobody listens
    live.bind(str(short_tmpdir / "ballotbook-kernel-live-1"))
    live.listen()
    other = short_tmpdir / "ballotbook-notes"
    other.write_text("")
    try:
        processes.clean_stale_kernel_folders()
        assert sorted(p.name for p in short_tmpdir.iterdir()) == sorted(
            [live_folder.name, "ballotbook-kernel-live-1", other.name])
    finally:
        live.close()


def test_the_lock_is_not_held_by_a_child_of_the_build_that_outlives_it(tmp_path):
    """A worker spawned while the build holds the lock (as the pool's workers are) does not keep the lock once
    the build is gone, and the next taker notes the dead holder."""
    script = textwrap.dedent(f"""
        import multiprocessing, os, time
        from pathlib import Path
        from helpers.pipeline.processes import BuildLock
        if __name__ == "__main__":
            lock = BuildLock(Path({str(tmp_path)!r}), print)
            lock.__enter__()
            child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(60,))
            child.start()
            print(os.getpid(), child.pid, flush=True)
            os._exit(0)  # the holder ends without letting go; its child lives on
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    holder_pid, child_pid = map(int, holder.stdout.readline().split())
    holder.wait(timeout=60)
    child = psutil.Process(child_pid)
    try:
        assert alive(child)
        notes: list[str] = []
        from helpers.pipeline.processes import BuildLock

        with BuildLock(tmp_path, notes.append):
            assert alive(child)  # taken while the child (which lives 60 s) still runs
            record = json.loads((tmp_path / ".build.holder").read_text())
            assert record["pid"] == os.getpid()
        assert not any("waiting" in n for n in notes), notes
        assert f"took over the lock of build {holder_pid}, which is no longer running" in notes, notes
        assert not (tmp_path / ".build.holder").exists()  # a normal end leaves no holder recorded
    finally:
        child.kill()
        holder.stdout.close()


def test_a_recorded_holder_that_is_alive_is_not_reported_as_taken_over(tmp_path):
    (tmp_path / ".build.holder").write_text(json.dumps({"pid": os.getppid(), "start": ""}))
    notes: list[str] = []
    from helpers.pipeline.processes import BuildLock

    with BuildLock(tmp_path, notes.append):
        pass
    assert notes == []


def test_a_report_task_travels_to_a_spawned_worker_whole():
    """What a worker gets: a frozen ReportTask, unpickled in a new interpreter (as spawn and dask do) equal to the
    one sent, with execute and the pool's initializer found again by their module paths."""
    import ast
    import dataclasses
    import pickle

    from helpers.pipeline.execute import ReportTask, execute
    from helpers.pipeline.kernels import warm_worker

    task = ReportTask(name="r", notebook="notebooks/r.ipynb", parameters={"n": 2, "parties": ["A", "B"]},
                      out="/srv/reports", html="r.html", root="/srv", title="R", timeout=30, key="k", kit="d",
                      commit="abc", prestart=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.prestart = False  # type: ignore[misc]
    sent = pickle.dumps((task, execute, warm_worker)).hex()
    check = ("import pickle, sys, dataclasses\n"
             f"task, execute, warm = pickle.loads(bytes.fromhex({sent!r}))\n"
             "print(execute.__module__, warm.__module__, type(task).__module__, repr(dataclasses.asdict(task)))")
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    modules, fields = proc.stdout.split(" {", 1)
    assert modules.split() == ["helpers.pipeline.execute", "helpers.pipeline.kernels", "helpers.pipeline.execute"]
    assert ast.literal_eval("{" + fields) == dataclasses.asdict(task)


def test_a_second_taker_waits_while_the_holder_lives(tmp_path):
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from helpers.pipeline.processes import BuildLock
        with BuildLock(Path({str(tmp_path)!r}), print):
            print("held", flush=True)
            time.sleep(3)
            Path({str(tmp_path / "leaving")!r}).write_text("")
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        notes: list[str] = []
        from helpers.pipeline.processes import BuildLock

        with BuildLock(tmp_path, notes.append):
            assert (tmp_path / "leaving").exists()  # we got the lock only after the holder let go
        assert any("waiting" in n and f"process {holder.pid}" in n for n in notes), notes
        assert not any("took over" in n for n in notes), notes
    finally:
        holder.kill()
        holder.wait()


# --------------------------------------------------------------------------------------------- notebooks
NOT_NOTEBOOKS = {
    "empty object": {},
    "a list": [1],
    "cells not a list": {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {"a": 1}},
    "a cell not a mapping": {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [1]},
    "a source that is a number": {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                  "cells": [{"cell_type": "code", "source": 5, "metadata": {}, "outputs": []}]},
    "tags not a list": {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                        "cells": [{"cell_type": "code", "source": "x = 1", "metadata": {"tags": 7},
                                   "outputs": []}]},
    "metadata a list": {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                        "cells": [{"cell_type": "code", "source": "x = 1", "metadata": [], "outputs": []}]},
}


@pytest.mark.parametrize("content", list(NOT_NOTEBOOKS.values()), ids=list(NOT_NOTEBOOKS))
def test_json_that_is_not_a_notebook_is_a_sentence_naming_it(tmp_path, kernel_starts, content):
    project = make_project(tmp_path, "reports:\n  - name: r\n    notebook: notebooks/bad.ipynb\n",
                           {"bad.ipynb": content})
    for args in (["build"], ["run", "notebooks/bad.ipynb", "-o", "out.html"], ["params", "notebooks/bad.ipynb"]):
        proc = run_cli(*args, cwd=project)
        assert_clean_error(proc, "notebooks/bad.ipynb", "not a Jupyter notebook")
    assert kernel_starts == []
    assert not (project / "reports").exists() and not (project / "out.html").exists()


def test_the_shipped_notebooks_are_notebooks():
    from helpers.pipeline.parameters import read_parameters

    for nb in sorted(Path(__file__).resolve().parents[1].glob("notebooks/*.ipynb")):
        assert read_parameters(nb), nb


# --------------------------------------------------------------------------------------------- manifests
BAD_MANIFESTS = {
    "not JSON": "{not json",
    "a list": "[1]",
    "null": "null",
    "inputs a number": json.dumps({"name": "r", "status": "ok", "inputs": 5}),
    "input path a number": json.dumps({"name": "r", "status": "ok", "inputs": [{"path": 3}]}),
    "last_good text": json.dumps({"name": "r", "status": "ok", "last_good": "yes"}),
    "title a list": json.dumps({"name": "r", "status": "failed", "error": "x", "title": ["a"]}),
    "failed without error": json.dumps({"name": "r", "status": "failed", "error": None}),
    "html a script link": json.dumps({"name": "r", "status": "ok", "html": "r.html",
                                      "last_good": {"built": "now", "html": "javascript:alert(1)"}}),
    "not UTF-8": b"\xff\xfe{}",
}


@pytest.mark.parametrize("content", list(BAD_MANIFESTS.values()), ids=list(BAD_MANIFESTS))
def test_a_bad_manifest_is_read_as_none_set_aside_and_the_index_still_written(tmp_path, content):
    from helpers.pipeline.index import write_index
    from helpers.pipeline.publish import read_manifest, set_aside_bad_manifests

    out = tmp_path / "reports"
    out.mkdir()
    path = out / "r.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    good = {"name": "g", "status": "ok", "title": "G", "html": "g.html", "inputs": [{"path": "x", "sha256": None}],
            "last_good": {"built": "2026-01-01", "html": "g.html"}, "outputs": {}}
    (out / "g.json").write_text(json.dumps(good))
    assert read_manifest(out, "r") is None
    assert read_manifest(out, "g") == good
    write_index(out, ["r", "g"])
    index = (out / "index.html").read_text()
    assert "not built" in index and "javascript:" not in index
    notes: list[str] = []
    set_aside_bad_manifests(out, ["r", "g"], notes.append)
    assert not path.exists() and (out / "g.json").exists()
    aside = list(out.glob("r.json.bad-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == (content if isinstance(content, bytes) else content.encode())
    assert len(notes) == 1 and "r.json" in notes[0] and aside[0].name in notes[0] and "rebuilt" in notes[0]


@pytest.mark.slow
def test_a_bad_manifest_does_not_stop_the_next_builds(tmp_path, short_tmpdir):
    project = sleepy_project(tmp_path)
    assert_built(project, second_build(project, short_tmpdir))
    for content in ("[1]", json.dumps({"name": "first", "status": "ok", "inputs": 5, "last_good": "x"})):
        (project / "reports/first.json").write_text(content)
        proc = run_cli_process("build", cwd=project, env={"TMPDIR": str(short_tmpdir)}, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "reports/first.json is not a manifest the kit can read" in proc.stderr
        assert "first ok" in proc.stderr and "second up to date" in proc.stderr
        assert json.loads((project / "reports/first.json").read_text())["status"] == "ok"
        again = run_cli("build", cwd=project)  # recovered: nothing to rebuild, nothing to say
        assert again.returncode == 0 and "not a manifest" not in again.stderr, again.stderr
    assert len(list((project / "reports").glob("first.json.bad-*"))) >= 1


# --------------------------------------------------------------------------------------------- scheduler addresses
@pytest.mark.parametrize("address", ["not an address", "tcp://", "tcp://host:notaport", "tcp://host:0",
                                     "tcp://host:70000", "inproc://x", "", "tcp://:8786"])
def test_a_malformed_scheduler_address_is_a_sentence(tmp_path, kernel_starts, address):
    project = make_project(tmp_path, "reports:\n  - name: r\n    notebook: notebooks/r.ipynb\n",
                           {"r.ipynb": SLEEPY})
    proc = run_cli("build", "--executor", "dask", "--scheduler", address, cwd=project)
    assert_clean_error(proc, "--scheduler", "tcp://host:8786")
    assert kernel_starts == [] and not (project / "reports").exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "scheduler.example.org:8786", "tls://[::1]:8786",
                                     "tcp://dask-scheduler"])
def test_well_formed_scheduler_addresses_pass_the_check(address):
    from helpers.pipeline.executors import check_scheduler_address

    check_scheduler_address(address)


# --------------------------------------------------------------------------------------------- reserved names
@pytest.mark.parametrize("name", ["index", "INDEX", "Index", "nul", "con.2022", "com1"])
def test_reserved_report_names_are_refused(tmp_path, kernel_starts, name):
    project = make_project(tmp_path, f"reports:\n  - name: {name}\n    notebook: notebooks/r.ipynb\n",
                           {"r.ipynb": SLEEPY})
    proc = run_cli("build", cwd=project)
    assert_clean_error(proc, f"'{name}'", "reserved")
    assert kernel_starts == [] and not (project / "reports").exists()


def test_names_like_the_reserved_ones_are_accepted(tmp_path, kernel_starts):
    project = make_project(tmp_path, "reports:\n  - name: index-2022\n    notebook: notebooks/r.ipynb\n"
                           "  - name: console\n    notebook: notebooks/r.ipynb\n", {"r.ipynb": SLEEPY})
    proc = run_cli("run-one", "--list", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "index-2022", "1", "console"]


# ------------------------------------------------------------------------------------- bad output folders
@pytest.mark.parametrize("args, needles", [
    (["build", "--out", "{d}/file"], ["file", "is a file, not a folder"]),
    (["build", "--out", "{d}/file/sub"], ["file/sub", "cannot be created"]),
    (["build", "--out", "/dev/null"], ["/dev/null", "is a file, not a folder"]),
    (["build", "--out", "/proc/ballotbook-reports"], ["/proc/ballotbook-reports", "cannot be created"]),
    (["run", "notebooks/04_timeline.ipynb", "-o", "{d}/file/x.html"], ["file", "is a file, not a folder"]),
    (["run", "notebooks/04_timeline.ipynb", "-o", "/proc/x.html"], ["/proc", "cannot be written to"]),
], ids=["out-is-a-file", "out-under-a-file", "out-dev-null", "out-in-proc", "run-under-a-file", "run-in-proc"])
def test_an_output_folder_that_cannot_be_one_is_exit_2(tmp_path, kernel_starts, args, needles):
    (tmp_path / "file").write_text("not a folder\n", encoding="utf-8")
    proc = run_cli(*[a.replace("{d}", str(tmp_path)) for a in args])
    assert_clean_error(proc, *needles)
    assert kernel_starts == []
    assert (tmp_path / "file").read_text(encoding="utf-8") == "not a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
