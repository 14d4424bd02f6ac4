"""What a build owns and how it lets go when it ends, is stopped or dies: the output folder's lock, its worker
processes and kernels, and the folder of its kernels' sockets.

- The lock is an exclusive lock on ``.build.lock`` (``flock`` on Unix, ``filelock``'s ``LockFileEx`` on
  Windows), held only while something is published into the folder (a report's page, PDF and manifest renamed
  into place; the index rewritten) and while a build tidies the folder at its start: builds into one folder
  (``run-one`` pods of an indexed job) run their reports at the same time and take turns only to publish. It
  belongs to the holder's own open file, which spawned workers and kernels do not inherit, and the operating
  system drops it when the holder ends, however it ends. ``.build.holder`` beside it records the holder (process
  id, start time, host, build), so a waiting process names it, and one that finds the holder dead says that it
  took the lock over, and waits for (then stops) what the dead build left running.
- SIGTERM and SIGINT stop a build (:class:`Cancellation`): it writes ``.cancel-<build>`` into the output folder,
  which every worker checks under the lock right before it publishes, stops its workers and their kernels (whole
  process trees, found by the build's mark in their environment) and exits 143 or 130.
- Workers die with their build: on Linux the kernel sends them SIGTERM when the build's process ends
  (``PR_SET_PDEATHSIG``, :func:`die_with_parent`), and a thread also watches the parent (:func:`watch_parent`);
  either way a worker stops its kernels (each in a session of its own, taken as a whole) before it exits, and a
  kernel whose worker is gone exits by itself (ipykernel's parent poller).
- Kernel sockets live in a private folder per process, ``$TMPDIR/ballotbook-<pid>-*``, removed when the process
  exits; folders of processes that no longer exist are removed at the next build (:func:`clean_stale_kernel_folders`).

Standard library (``filelock`` on Windows); Linux ``/proc`` is used where present (start times tell a reused process id
apart).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

#: Set in a build's environment for its workers and kernels: "<pid>.<start>" of the build's main process.
BUILD_MARK = "BALLOTBOOK_BUILD"


# --------------------------------------------------------------------------------------------- processes
def process_start(pid: int) -> str | None:
    """The start time of process `pid` (clock ticks since boot, from /proc), "" where /proc is missing, None when
    the process does not exist or is a zombie (it has ended and only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except FileNotFoundError:
        if not os.path.isdir("/proc/self"):
            return "" if _exists(pid) else None
        return None
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if not fields or fields[0] in ("Z", "X"):
        return None
    return fields[19] if len(fields) > 19 else ""


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_running(pid: int, start: str | None = None) -> bool:
    """Whether process `pid` runs, and is the one that started at `start` (when known): a process id reused by
    another program does not count."""
    if pid <= 0:
        return False
    now = process_start(pid)
    if now is None:
        return False
    return not start or not now or now == start


def own_mark() -> str:
    return f"{os.getpid()}.{process_start(os.getpid()) or ''}"


@contextlib.contextmanager
def marked():
    """Mark this build in the environment its workers and kernels inherit, so that a later build can find what
    it left running if it is killed."""
    saved = os.environ.get(BUILD_MARK)
    os.environ[BUILD_MARK] = own_mark()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(BUILD_MARK, None)
        else:
            os.environ[BUILD_MARK] = saved


def marked_processes(mark: str, variable: str = BUILD_MARK) -> list[int]:
    """Running processes (of this user, not zombies) whose environment carries ``variable=mark``: with the build
    mark, a build's workers and kernels; with the print mark, a PDF print's Chromium processes."""
    needle = f"{variable}={mark}\0".encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if (b"\0" + env).find(b"\0" + needle) >= 0 and process_start(int(entry)) is not None:
            found.append(int(entry))
    return found


def stop_leftovers(mark: str, say: Callable[[str], None], patience: float = 10.0) -> None:
    """Wait for the workers and kernels of the dead build `mark` to exit (they watch their parent), then stop
    those still running, so that nothing of the dead build writes into the folder after this build started."""
    deadline = time.monotonic() + patience
    left = marked_processes(mark)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = marked_processes(mark)
    if left:
        say(f"stopping {len(left)} process(es) left running by that build")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# --------------------------------------------------------------------------------------------- the lock
class _Flock:
    """An exclusive ``flock`` on a file (Unix), held by this object's own open file: another open file of the
    same path, in this process or another, waits for it; the operating system drops it when the file is closed,
    however the process ends. The standard library's ``fcntl`` (``filelock`` does the same and costs a no-op
    rebuild 13 ms to import; it is used where ``fcntl`` is missing, on Windows)."""

    POLL = 0.05  # seconds between tries while waiting with a timeout

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def _try(self, wait: bool) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:  # a signal's exception (a cancelled build) while waiting included
            os.close(fd)
            raise
        if not same:  # the file was removed or replaced meanwhile: the lock is on the path's file, try that one
            os.close(fd)
            return False
        self._fd = fd
        return True

    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock: wait at most `timeout` seconds (None: as long as it takes). Whether it was taken."""
        if timeout is None:
            while not self._try(wait=True):
                pass
            return True
        deadline = time.monotonic() + timeout
        while not self._try(wait=False):
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.POLL)
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only open file of the lock lets it go


class _PortableLock:
    """:class:`_Flock`'s interface over ``filelock`` (``LockFileEx`` on Windows)."""

    def __init__(self, path: Path):
        from filelock import FileLock

        self._lock = FileLock(path)

    def acquire(self, timeout: float | None = None) -> bool:
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=-1 if timeout is None else timeout)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        self._lock.release()


def _file_lock(path: Path):
    """The lock of the file `path`: :class:`_Flock` where there is ``fcntl`` (Unix), ``filelock`` elsewhere."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return _PortableLock(path)
    return _Flock(path)


class BuildLock:
    """The output folder's lock, held around what must not interleave: publishing a report (its page, PDF and
    manifest renamed into place), rewriting the index, tidying the folder at a build's start. Another taker waits
    (and, unless `quiet`, says so, naming the holder, once it has waited `notice_after` seconds). A lock left by a
    build that is no longer running is taken over with a note, after what that build left running is stopped."""

    def __init__(self, out: Path, say: Callable[[str], None], quiet: bool = False, notice_after: float = 0.0):
        self.path = Path(out) / ".build.lock"
        self.holder_path = Path(out) / ".build.holder"
        self.say = say
        self.quiet = quiet
        self.notice_after = notice_after  # seconds of waiting before the note: holds are short where builds overlap
        self._lock = None

    def _holder(self) -> dict:
        """The recorded holder ({} when none, or unreadable)."""
        try:
            with open(self.holder_path, "rb") as f:
                raw = f.read(4096)
            holder = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (OSError, ValueError):
            return {}
        return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else {}

    def _record(self) -> None:
        """Record this process as the holder (written whole through a rename: a waiting build reads it at any
        moment). A full disk leaves the record out; the lock holds all the same."""
        record = {"pid": os.getpid(), "start": process_start(os.getpid()) or "", "host": socket.gethostname(),
                  "build": os.environ.get(BUILD_MARK) or own_mark(), "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        tmp = self.holder_path.with_name(f"{self.holder_path.name}.tmp-{os.getpid()}")
        try:
            tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
            os.replace(tmp, self.holder_path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def __enter__(self):
        from helpers.core import paths
        from helpers.core.errors import DataError

        def unwritable(exc: OSError) -> DataError:
            return DataError(f"the output folder {paths.display(self.path.parent)} cannot be written to "
                             f"({exc.strerror or exc}).")

        try:  # a folder that cannot hold the lock file is a sentence, before a lock would retry for ever
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644))
        except OSError as exc:
            raise unwritable(exc) from None
        lock = _file_lock(self.path)
        try:
            if not lock.acquire(timeout=self.notice_after):
                if not self.quiet:
                    holder = self._holder()
                    who = f" (process {holder['pid']})" if holder else ""
                    self.say(f"another build{who} is writing to {paths.display(self.path.parent)}; waiting for it "
                             "to finish")
                lock.acquire()
        except OSError as exc:
            raise unwritable(exc) from None
        try:
            holder = self._holder()
            if holder and holder.get("pid") != os.getpid():
                self._take_over(holder)
            self._record()
        except BaseException:
            lock.release()
            raise
        self._lock = lock
        return self

    def _take_over(self, holder: dict) -> None:
        """The holder file names a holder, yet the lock was free: that build ended without letting go (killed)."""
        host = holder.get("host")
        if host and host != socket.gethostname():
            self.say(f"took over the lock of build {holder['pid']} on {host}, which no longer holds it")
            return
        start = str(holder.get("start") or "")
        if is_running(holder["pid"], start):
            return  # alive and let go without clearing the record: nothing to say
        build = holder.get("build") if isinstance(holder.get("build"), str) else f"{holder['pid']}.{start}"
        pid, _, build_start = build.partition(".")
        if pid == str(holder["pid"]):
            self.say(f"took over the lock of build {holder['pid']}, which is no longer running")
        else:
            self.say(f"took over the lock of process {holder['pid']} (of build {pid}), which is no longer running")
        if not (pid.isdigit() and is_running(int(pid), build_start)):  # a worker of a build that still runs
            stop_leftovers(build, self.say)                             # died: the build stops its own

    def __exit__(self, *exc):
        if self._lock is None:
            return
        try:
            with contextlib.suppress(OSError):
                self.holder_path.unlink()  # a normal end leaves no holder behind
        finally:
            self._lock.release()
            self._lock = None


# --------------------------------------------------------------------------------------------- workers
#: In a pool worker: the process that started it (set by :func:`watch_parent`), and the build's process id and
#: start when that is not the build (a worker forked by the workers' fork server); a worker whose build is gone
#: publishes nothing.
_PARENT: int | None = None
_BUILD: tuple[int, str | None] | None = None


def parent_gone() -> bool:
    """In a pool worker: whether the build that started it has ended (False elsewhere)."""
    if _PARENT is not None and os.getppid() != _PARENT:
        return True
    return _BUILD is not None and not is_running(*_BUILD)


def watch_parent(parent: int, on_death: Callable[[], None], interval: float = 0.2,
                 build: tuple[int, str | None] | None = None) -> None:
    """In a worker: exit as soon as `parent` (the process that started it) is gone, or `build` (process id and
    start, when the build is not `parent`), after `on_death` (which stops the worker's kernels). A worker whose
    build was killed must neither run on nor publish."""
    global _PARENT, _BUILD
    _PARENT, _BUILD = parent, build

    def watch():
        while True:
            if parent_gone():
                try:
                    on_death()
                finally:
                    os._exit(1)
            time.sleep(interval)

    threading.Thread(target=watch, name="ballotbook-watch-parent", daemon=True).start()


def die_with_parent(parent: int, on_death: Callable[[], None]) -> None:
    """In a worker: stop with the build. On Linux the kernel sends this process SIGTERM the moment its parent
    ends, however it ends (``prctl(PR_SET_PDEATHSIG)``; SIGKILL of the build included); SIGTERM, from there or
    from the build stopping its workers, runs `on_death` (the worker's kernels and printers are stopped) and
    exits. SIGINT is ignored: Ctrl-C reaches the whole foreground group, and the build decides for its workers."""

    def stop(signum, frame):
        try:
            on_death()
        finally:
            os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the parent watcher still covers it
    if os.getppid() != parent:  # the build ended before the line above
        stop(signal.SIGTERM, None)


@contextlib.contextmanager
def signals_held():
    """Hold SIGTERM and SIGINT back for a moment (the renames that publish one report: its page, PDF and
    manifest together), so that a stop lands before or after them, never between; delivered on leaving. Only
    in a process's main thread (elsewhere signals are not delivered to Python anyway)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGTERM, signal.SIGINT}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


# --------------------------------------------------------------------------------------------- cancelling
def cancel_path(out: Path, build: str) -> Path:
    """The file that says build `build` (its mark, "<pid>.<start>") was stopped: nothing of it publishes."""
    return Path(out) / f".cancel-{build}"


def build_stopped(out: Path, build: str | None, host: str | None = None) -> bool:
    """Whether build `build` (the mark its worker was given) was stopped or has ended, so that its worker must
    not publish: its cancel file exists, or (on the build's own machine) its process is gone, or this worker's
    parent (in a pool) is gone."""
    if parent_gone():
        return True
    if not build:
        return False
    if cancel_path(out, build).exists():
        return True
    pid, _, start = build.partition(".")
    if (host is None or host == socket.gethostname()) and pid.isdigit():
        return not is_running(int(pid), start)
    return False


def stop_processes(mark: str, patience: float = 5.0) -> None:
    """Stop every process of this user that carries build mark `mark` (the build's workers, their kernels and
    printers), each kernel with its whole session, and wait until they are gone."""
    mine = os.getpid()
    deadline = time.monotonic() + patience
    while True:
        left = [pid for pid in marked_processes(mark) if pid != mine]
        if not left or time.monotonic() > deadline:
            return
        for pid in left:
            try:
                if os.getpgid(pid) == pid and pid != os.getpgid(mine):  # a session leader: its tree too
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


class Cancellation:
    """SIGTERM and SIGINT while a build or run is under way (the main thread only; elsewhere a no-op).

    On the first signal: the signal is recorded and ``<out>/.cancel-<build>`` written (workers check it under the
    lock before they publish). With `raise_now` the handler raises :class:`~helpers.core.errors.Cancelled` at
    once (a run in this process); otherwise the build's wait loop calls :meth:`check` and raises it there, where
    it can stop its pool cleanly. The previous handlers come back on leaving."""

    def __init__(self, out: Path, raise_now: bool = False):
        self.out = Path(out)
        self.raise_now = raise_now
        self.mark = os.environ.get(BUILD_MARK) or own_mark()
        self.signum: int | None = None
        self.at: float | None = None
        self._saved: dict = {}

    @property
    def path(self) -> Path:
        return cancel_path(self.out, self.mark)

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            return  # the stop is under way; a second Ctrl-C does not interrupt the cleaning up
        self.signum, self.at = signum, time.time()
        with contextlib.suppress(OSError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644))
        if self.raise_now:
            self.check()

    def check(self) -> None:
        """Raise Cancelled when a signal came."""
        if self.signum is not None:
            from helpers.core.errors import Cancelled

            raise Cancelled(self.signum)

    def __enter__(self):
        with contextlib.suppress(OSError):
            self.path.unlink()  # a file left by an earlier process with this very id and start time: not ours
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        self._saved = {}

    def finish(self, workers_stopped: bool) -> None:
        """After a stop: the cancel file goes once nothing of this build can publish any more (its local
        workers are stopped); with workers elsewhere (dask) it stays, and the next build tidies it."""
        if workers_stopped:
            with contextlib.suppress(OSError):
                self.path.unlink()


def clean_cancel_files(out: Path) -> None:
    """Remove the cancel files of builds that are no longer running (and of none on another machine: those
    are kept until their build's process id is gone here too, which is harmless)."""
    for p in Path(out).glob(".cancel-*"):
        pid, _, start = p.name[len(".cancel-"):].partition(".")
        if pid.isdigit() and not is_running(int(pid), start):
            with contextlib.suppress(OSError):
                p.unlink()


# --------------------------------------------------------------------------------------------- kernel sockets
_FOLDER: tuple[int, str] | None = None
# A Unix socket path holds at most 107 bytes; the kernel's names inside the folder take about 45 of them.
_MAX_BASE = 60


def _base() -> str:
    base = tempfile.gettempdir()
    if len(base) > _MAX_BASE and os.access("/tmp", os.W_OK):
        base = "/tmp"
    return base


def kernel_folder() -> str:
    """This process's private folder for kernel sockets (mode 700), removed when the process exits."""
    global _FOLDER
    if _FOLDER is None or _FOLDER[0] != os.getpid() or not os.path.isdir(_FOLDER[1]):
        import atexit
        from multiprocessing.util import Finalize

        folder = tempfile.mkdtemp(prefix=f"ballotbook-{os.getpid()}-", dir=_base())
        _FOLDER = (os.getpid(), folder)
        atexit.register(remove_kernel_folder)
        # pool workers end with os._exit, which skips atexit; multiprocessing runs its finalizers first
        Finalize(None, remove_kernel_folder, exitpriority=0)
    return _FOLDER[1]


def remove_kernel_folder() -> None:
    if _FOLDER is not None and _FOLDER[0] == os.getpid():
        shutil.rmtree(_FOLDER[1], ignore_errors=True)


def clean_stale_kernel_folders() -> None:
    """Remove the kernel folders of processes that no longer exist (killed builds), and socket files of older
    versions (``ballotbook-kernel-*`` directly in the temporary folder) that nothing listens on any more."""
    for base in {tempfile.gettempdir(), _base()}:
        try:
            entries = list(os.scandir(base))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
                if st.st_uid != os.getuid():
                    continue
                if entry.name.startswith("ballotbook-kernel-"):
                    if stat.S_ISSOCK(st.st_mode) and not _listening(entry.path):
                        os.unlink(entry.path)
                    continue
                parts = entry.name.split("-")
                if (len(parts) == 3 and parts[0] == "ballotbook" and parts[1].isdigit()
                        and entry.is_dir(follow_symlinks=False) and not is_running(int(parts[1]))):
                    shutil.rmtree(entry.path, ignore_errors=True)
            except OSError:
                continue


def _listening(path: str) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError:
        return True
    finally:
        s.close()
    return True
