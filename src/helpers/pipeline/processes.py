"""What a build owns and how it lets go when it dies: the build lock, its worker processes and the folder of its
kernels' sockets.

- The lock is a ``filelock`` lock on ``.build.lock`` (``flock`` on Unix, ``LockFileEx`` on Windows): it belongs
  to the build's own open file, which its spawned workers and kernels do not inherit, and the operating system
  drops it when the build ends, however it ends. ``.build.holder`` beside it records the holder (process id,
  start time, host), so a waiting build names it, and a build that finds the holder dead says that it took the
  lock over, and waits for (then stops) what the dead build left running.
- Workers watch their parent and exit, stopping their kernels, when it is gone (:func:`watch_parent`).
- Kernel sockets live in a private folder per process, ``$TMPDIR/ballotbook-<pid>-*``, removed when the process
  exits; folders of processes that no longer exist are removed at the next build (:func:`clean_stale_kernel_folders`).

Standard library and ``filelock``; Linux ``/proc`` is used where present (start times tell a reused process id
apart).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
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
        import signal

        say(f"stopping {len(left)} process(es) left running by that build")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# --------------------------------------------------------------------------------------------- the lock
class BuildLock:
    """One build per output folder at a time; a second one waits and says so, naming the holder. A lock left by a
    build that is no longer running is taken over with a note."""

    def __init__(self, out: Path, say: Callable[[str], None]):
        self.path = Path(out) / ".build.lock"
        self.holder_path = Path(out) / ".build.holder"
        self.say = say
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
                  "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        tmp = self.holder_path.with_name(f"{self.holder_path.name}.tmp-{os.getpid()}")
        try:
            tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
            os.replace(tmp, self.holder_path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def __enter__(self):
        from filelock import FileLock, Timeout

        from helpers.core import paths
        from helpers.core.errors import DataError

        def unwritable(exc: OSError) -> DataError:
            return DataError(f"the output folder {paths.display(self.path.parent)} cannot be written to "
                             f"({exc.strerror or exc}).")

        try:  # a folder that cannot hold the lock file is a sentence, before filelock would retry for ever
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644))
        except OSError as exc:
            raise unwritable(exc) from None
        lock = FileLock(self.path)
        try:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                holder = self._holder()
                who = f" (process {holder['pid']})" if holder else ""
                self.say(f"another build{who} is writing to {paths.display(self.path.parent)}; waiting for it to "
                         "finish")
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
        self.say(f"took over the lock of build {holder['pid']}, which is no longer running")
        stop_leftovers(f"{holder['pid']}.{start}", self.say)

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
def watch_parent(parent: int, on_death: Callable[[], None], interval: float = 0.2) -> None:
    """In a worker: exit as soon as `parent` (the process that started it) is gone, after `on_death` (which
    stops the worker's kernels). A worker whose build was killed must neither run on nor publish."""

    def watch():
        while True:
            if os.getppid() != parent:
                try:
                    on_death()
                finally:
                    os._exit(1)
            time.sleep(interval)

    threading.Thread(target=watch, name="ballotbook-watch-parent", daemon=True).start()


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
