"""Issue 16: SIGTERM (a scheduler, ``timeout``, systemd, Kubernetes) and SIGINT (Ctrl-C) stop a running build
cleanly: exit 143 / 130, no process of the build left alive, nothing published after the signal, the lock free,
the last good reports byte for byte as they were."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from filelock import FileLock

from conftest import BALLOTBOOK, SLEEPY, copy_project, is_kernel, make_project

pytestmark = pytest.mark.slow

# Three reports on two workers: two run when the signal comes, one is still queued.
THREE_REPORTS = ("reports:\n  - name: first\n    notebook: notebooks/r.ipynb\n    parameters: {n: 1}\n"
                 "  - name: second\n    notebook: notebooks/r.ipynb\n    parameters: {n: 2}\n"
                 "  - name: third\n    notebook: notebooks/r.ipynb\n    parameters: {n: 3}\n")


def kit_env(tmpdir: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("BALLOTBOOK_ROOT", "BALLOTBOOK_BUILD")}
    return {**env, "TMPDIR": str(tmpdir)} if tmpdir else env


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The three reports built once (the last good set); each test stops a forced rebuild of a copy."""
    project = make_project(tmp_path_factory.mktemp("cancel") / "project", THREE_REPORTS, {"r.ipynb": SLEEPY})
    proc = subprocess.run([BALLOTBOOK, "build", "--jobs", "2"], cwd=project, env=kit_env(), capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return project


@pytest.fixture
def short_tmpdir():
    """A TMPDIR of the test's own, short enough for Unix socket paths, so the kernels' sockets really go there."""
    folder = tempfile.mkdtemp(prefix="bbc-", dir="/tmp")
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def project(built, tmp_path):
    return copy_project(built, tmp_path)


def folder_state(out: Path) -> dict[str, bytes]:
    """Every file under the output folder (the empty lock file aside), with its bytes."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != ".build.lock"}


def alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def command(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


def marked_by(pid: int) -> list[psutil.Process]:
    """Live processes whose environment carries the build's mark (BALLOTBOOK_BUILD=<pid>.<start>): its workers and
    kernels, wherever they were re-parented."""
    found = []
    for p in psutil.process_iter():
        try:
            mark = p.environ().get("BALLOTBOOK_BUILD", "")
        except psutil.Error:
            continue
        if mark.split(".")[0] == str(pid) and alive(p):
            found.append(p)
    return found


def start_and_wait_for_kernels(project: Path, tmpdir: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    (project / "slow").write_text("")
    proc = subprocess.Popen([BALLOTBOOK, "build", "--force", "--jobs", "2"], cwd=project, env=kit_env(tmpdir),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    main = psutil.Process(proc.pid)
    seen: dict[int, psutil.Process] = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        for child in main.children(recursive=True):
            seen.setdefault(child.pid, child)
        if len([p for p in seen.values() if alive(p) and is_kernel(p)]) >= 2:
            break
        time.sleep(0.2)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("the build did not start two kernels within 90 s")
    time.sleep(1.5)  # both reports inside their sleeping cell
    for child in main.children(recursive=True):
        seen.setdefault(child.pid, child)
    return proc, list(seen.values())


@pytest.mark.parametrize("sig, code, to_group", [(signal.SIGTERM, 143, False), (signal.SIGINT, 130, True)],
                         ids=["SIGTERM-to-the-build", "SIGINT-to-its-group"])
def test_a_stopped_build_leaves_nothing_running_publishes_nothing_and_frees_the_lock(project, sig, code,
                                                                                   to_group, short_tmpdir):
    """SIGTERM to the build's process only (what a service manager sends), SIGINT to its process group (Ctrl-C
    at a terminal): the exit code says which, every worker and kernel is gone when the build has exited, no
    file of the output folder was written after the signal, the last good reports are intact, and the lock is
    free for the next build."""
    out = project / "reports"
    before = folder_state(out)
    proc, started = start_and_wait_for_kernels(project, short_tmpdir)
    assert marked_by(proc.pid), "the build's workers should carry its mark"
    kernels = [p for p in started if is_kernel(p)]
    assert len(kernels) >= 2 and all(alive(k) for k in kernels)
    signalled = time.time()
    if to_group:
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == code, err
    assert "stopped by" in err and signal.Signals(sig).name in err, err
    assert "Traceback" not in err, err
    # Nothing of the build runs on: neither what it started nor anything carrying its mark.
    # (multiprocessing's resource tracker, a child the build spares while its pool lives, ends when the build's
    # end closes its pipe: a moment after the build, never later; everything else is gone already.)
    _, still = psutil.wait_procs([p for p in started if alive(p)], timeout=2)
    assert [(p.pid, command(p)) for p in still if alive(p)] == []
    assert [command(p) for p in marked_by(proc.pid)] == []
    # Nothing published after the signal: the folder is byte for byte the last good set, nothing newer.
    assert folder_state(out) == before
    late = [p.name for p in out.rglob("*") if p.is_file() and p.stat().st_mtime >= signalled]
    assert late == []
    # The lock is free at once.
    lock = FileLock(str(out / ".build.lock"))
    lock.acquire(timeout=0)
    lock.release()
    # And the next build goes through (the reports no longer sleep).
    (project / "slow").unlink()
    again = subprocess.run([BALLOTBOOK, "build"], cwd=project, env=kit_env(short_tmpdir), capture_output=True,
                           text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    assert "waiting" not in again.stderr and "took over" not in again.stderr, again.stderr
    # No kernel socket folder of either build stays in TMPDIR (the stopped build's, if any, went at this one's start).
    assert sorted(p.name for p in short_tmpdir.iterdir()) == []
