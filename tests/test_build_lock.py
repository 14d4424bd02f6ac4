"""The output folder's lock itself (helpers.pipeline.processes._Flock, ``flock`` through the standard library):
exclusive between processes and between threads of one process, a timeout that gives up, a lock file replaced
while waiting, a wait interrupted by a signal that leaves no file open, and ``filelock`` (the tests' independent
taker, and the kit's lock on Windows) seeing the same lock. The build-level behaviour (waiting builds, a killed
holder taken over, children not holding it) is in test_hardening_build.py and test_cancel.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from helpers.pipeline.processes import BuildLock, _file_lock, _Flock

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="flock is the Unix lock")


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()


def test_unix_uses_flock(tmp_path):
    assert isinstance(_file_lock(tmp_path / "x.lock"), _Flock)


def test_a_second_lock_in_the_same_process_waits_and_times_out(tmp_path):
    path = tmp_path / ".build.lock"
    first, second = _Flock(path), _Flock(path)
    assert first.acquire(timeout=0)
    began = time.monotonic()
    assert second.acquire(timeout=0.2) is False
    assert time.monotonic() - began >= 0.2
    first.release()
    assert second.acquire(timeout=0)
    second.release()


def test_a_thread_waiting_without_timeout_gets_the_lock_when_it_is_let_go(tmp_path):
    path = tmp_path / ".build.lock"
    holder = _Flock(path)
    holder.acquire()
    got = threading.Event()

    def take():
        lock = _Flock(path)
        lock.acquire()
        got.set()
        lock.release()

    t = threading.Thread(target=take)
    t.start()
    assert not got.wait(0.3)  # still held
    holder.release()
    assert got.wait(10)
    t.join(10)


def test_filelock_and_the_kit_see_the_same_lock(tmp_path):
    path = tmp_path / ".build.lock"
    ours = _Flock(path)
    assert ours.acquire(timeout=0)
    with pytest.raises(Timeout):
        FileLock(str(path)).acquire(timeout=0.1)
    ours.release()
    theirs = FileLock(str(path))
    theirs.acquire(timeout=0)
    assert _Flock(path).acquire(timeout=0.1) is False
    theirs.release()


def test_a_lock_file_replaced_while_waiting_is_locked_afresh(tmp_path):
    """A taker that locked a file which is no longer the path's (removed and made again meanwhile) does not
    count that as holding the lock: two holders would then each hold a different file."""
    path = tmp_path / ".build.lock"
    holder = _Flock(path)
    holder.acquire()
    result = {}

    def take():
        lock = _Flock(path)
        result["got"] = lock.acquire()  # blocks in flock on the file the path names now
        result["ino"] = os.fstat(lock._fd).st_ino
        lock.release()

    t = threading.Thread(target=take)
    t.start()
    time.sleep(0.2)
    path.unlink()
    path.write_text("")  # a new file at the path, unlocked
    holder.release()     # the waiter's old file is free now, but it is not the path's file any more
    t.join(10)
    assert result["got"] is True
    assert result["ino"] == path.stat().st_ino


def test_a_wait_cut_short_by_a_signal_leaves_no_file_open(tmp_path):
    """A build cancelled (SIGTERM) while it waits for the lock raises from inside the wait; the lock file it had
    opened is closed, so nothing of it holds the lock or leaks."""
    path = tmp_path / ".build.lock"
    holder = _Flock(path)
    holder.acquire()

    class Stop(Exception):
        pass

    def stop(*_):
        raise Stop

    previous = signal.signal(signal.SIGALRM, stop)
    before = open_fds()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(Stop):
            _Flock(path).acquire()  # blocks in flock until the alarm
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert open_fds() <= before
    holder.release()


def test_the_lock_goes_with_a_killed_holder(tmp_path):
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from helpers.pipeline.processes import _Flock
        _Flock(Path({str(tmp_path / '.build.lock')!r})).acquire()
        print("held", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert _Flock(tmp_path / ".build.lock").acquire(timeout=0.2) is False
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        lock = _Flock(tmp_path / ".build.lock")
        assert lock.acquire(timeout=5)
        lock.release()
    finally:
        proc.kill()
        proc.stdout.close()


def test_a_waiting_build_says_who_holds_the_lock_once_it_has_waited(tmp_path):
    notes: list[str] = []
    with BuildLock(tmp_path, print):
        holder_pid = os.getpid()
        done = threading.Event()

        def wait():
            with BuildLock(tmp_path, notes.append, notice_after=0.1):
                done.set()

        t = threading.Thread(target=wait)
        t.start()
        time.sleep(0.5)
        assert not done.is_set()
    t.join(10)
    assert done.is_set()
    assert notes[0] == f"another build (process {holder_pid}) is writing to {tmp_path}; waiting for it to finish", \
        notes


def test_releasing_twice_is_harmless(tmp_path):
    lock = _Flock(Path(tmp_path / "x.lock"))
    lock.acquire()
    lock.release()
    lock.release()
    assert lock.acquire(timeout=0)
    lock.release()
