"""A warm fork server for report kernels: a fresh kernel per report without paying Python's start-up and the
kit's imports each time.

The build starts one server (``python -m helpers.pipeline.forkserver --listen SOCKET``, :class:`ForkServer`) for
all its workers, a local dask cluster's too: one set of imports, made while the workers start. A worker that has
no shared server (a worker of a remote dask cluster) starts one of its own, taking requests on its stdin. The
server imports what every report imports (ipykernel, IPython, pandas, NumPy, matplotlib with the inline backend,
the kit), starts no thread, then waits for requests. For each kernel it forks: the child is a new process, a
session of its own (as ``jupyter_client`` starts kernels), with the kernel's own environment, working folder and
log file, and becomes an ipykernel kernel on the connection file it is given. Every report still gets a process
of its own; nothing a report does reaches the server or another report. Only the imports, made once before any
fork, are shared, copy-on-write.

Lifetimes: the server dies with its owner (the build, or the worker that started it) and each kernel with the
server (``PR_SET_PDEATHSIG``, SIGKILL), so stopping a build stops everything under it. The server reaps its
children. In a worker a forked kernel is a :class:`ForkedKernel` (a ``subprocess.Popen`` look-alike over a pidfd)
behind a ``jupyter_client`` provisioner (:class:`ForkProvisioner`), so the kernel manager and nbclient treat it as
any local kernel; the worker reaches a shared server through a :class:`ForkClient`.

The protocol is one JSON object a line, on the server's stdin and stdout or on a connection to its socket.
Request: ``{"argv": [...], "env": {...}, "cwd": "...", "log": "..."}`` (argv: the kernel's arguments after
``-m ipykernel_launcher``). Reply: ``{"pid": N}`` or ``{"error": "..."}``. The server's first line on stdout is
``{"ready": true}`` once its imports are done; a shared server makes its socket only then.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

from helpers.pipeline.processes import is_running

#: Imported by the server before it forks: the kernel itself and the libraries every report uses (the kit's own
#: modules are imported by :func:`warm_up`).
IMPORTS = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython.core.interactiveshell",
           # what a kernel imports as it starts (its debugger, history database, process tools): 0.1 s a kernel
           "ipykernel.debugger", "IPython.core.history", "sqlite3", "psutil", "faulthandler",
           "tornado.platform.asyncio",
           "matplotlib_inline.backend_inline", "matplotlib.pyplot", "numpy", "pandas",
           # what reports import on first use (a rules or scenario file, an image's metadata)
           "yaml", "xml.etree.ElementTree")
#: Seconds the server may take to import and warm up before the worker starts kernels the usual way.
READY_TIMEOUT = 120
#: The backend a kernel started by jupyter_client has (ipykernel sets it in the kernel's environment).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
LAUNCHER = ("-m", "ipykernel_launcher")
#: The process names (``comm``: ``ps -o comm``, ``top``) of the server and of the kernels it forks: a forked
#: kernel's command line is the server's, so the name is what tells them apart.
SERVER_NAME = "bb-forkserver"
KERNEL_NAME = "bb-kernel"
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


def _prctl(option: int, value) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def _die_with_parent(signum: int = signal.SIGKILL) -> None:
    _prctl(_PR_SET_PDEATHSIG, int(signum))


def _name(name: str) -> None:
    _prctl(_PR_SET_NAME, name.encode())


# ------------------------------------------------------------------------------------------ the server side
def _reap(signum=None, frame=None) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_kernel(request: dict, launched_from: str) -> None:
    """In the forked child: become the kernel of `request`. Never returns."""
    code = 1
    try:
        os.setsid()  # a session of its own, as jupyter_client starts kernels: stopped as a whole
        _die_with_parent()
        _name(KERNEL_NAME)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # as ipykernel_launcher: the server's own folder is not on the kernel's path (IPython adds '' back)
        if sys.path and (sys.path[0] in ("", launched_from)):
            del sys.path[0]
        import random

        import numpy as np

        random.seed()  # a fresh process draws its seeds from the system: so does a forked one
        np.random.seed()
        from ipykernel import kernelapp

        argv = list(request["argv"])
        if request["env"].get("JPY_PARENT_PID", "").isdigit():  # read by ipykernel at import, before the fork
            argv.append(f"--IPKernelApp.parent_handle={request['env']['JPY_PARENT_PID']}")
        kernelapp.IPKernelApp.launch_instance(argv=argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - the kernel's log gets the traceback
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001,S110 - nothing left to tell
                pass
        os._exit(code)


def warm_up() -> None:
    """What every report pays on first use, paid once here before any fork: the kit's modules (all but the
    pipeline and the command line, which kernels never use), matplotlib's fonts, text layout and SVG writer,
    pandas' CSV reader and HTML writer, and the validators of the kit's file schemas. Nothing here is state a
    report could see: no pyplot figure is left open, no option is changed."""
    import importlib
    import io
    import pkgutil

    import helpers

    for module in pkgutil.walk_packages(helpers.__path__, "helpers."):
        if not module.name.startswith(("helpers.pipeline", "helpers.cli")):
            importlib.import_module(module.name)
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    FigureCanvasSVG(fig)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="warm-up")
    ax.bar([0, 1], [1, 2])
    ax.set_title("Warm-up 0123 %")
    ax.legend()
    fig.savefig(io.StringIO(), format="svg", bbox_inches="tight")
    import pandas as pd

    pd.read_csv(io.StringIO("a,b,c\n1,x,2020-01-01\n"), parse_dates=["c"]).to_html()
    from helpers.data import schema

    for name in schema.SCHEMAS:  # jsonschema and the kit's own schemas, which every rules file is checked against
        list(schema.validator(name).iter_errors({}))


def _fork_for(line: str, launched_from: str, to_close: list) -> dict:
    """Fork a kernel for the request `line` (closing `to_close` in the child, which never returns here): the
    reply to send."""
    try:
        request = json.loads(line)
        pid = os.fork()
    except Exception as exc:  # noqa: BLE001 - told to the worker, which starts a kernel the usual way
        return {"error": f"{type(exc).__name__}: {exc}"}
    if pid == 0:
        for thing in to_close:
            try:
                thing.close()
            except OSError:
                pass
        _become_kernel(request, launched_from)
    return {"pid": pid}


def _serve_socket(path: str, owner_in, owner_out, launched_from: str) -> None:
    """The shared server's loop: requests from any worker connected to the socket at `path`, until the owner
    (the build) closes stdin. The socket is made once the imports are done, so a worker that can connect to it
    knows the server is ready."""
    import selectors
    import socket

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    owner_out.write(json.dumps({"ready": True}) + "\n")
    watched = selectors.DefaultSelector()
    watched.register(owner_in, selectors.EVENT_READ, "owner")
    watched.register(listener, selectors.EVENT_READ, "listener")
    pending: dict = {}  # connection -> bytes of a request not yet ended by a newline
    while True:
        for key, _ in watched.select():
            if key.data == "owner":
                if not owner_in.readline():
                    return  # the build is done with the server
            elif key.data == "listener":
                conn, _ = listener.accept()
                watched.register(conn, selectors.EVENT_READ, "worker")
                pending[conn] = b""
            else:
                conn = key.fileobj
                chunk = conn.recv(1 << 16)
                if not chunk:  # the worker is gone
                    watched.unregister(conn)
                    conn.close()
                    pending.pop(conn, None)
                    continue
                pending[conn] += chunk
                while b"\n" in pending[conn]:
                    line, pending[conn] = pending[conn].split(b"\n", 1)
                    answer = _fork_for(line.decode("utf-8"), launched_from,
                                       [watched, listener, owner_in, owner_out, *pending])
                    conn.sendall((json.dumps(answer) + "\n").encode("utf-8"))


def serve(listen: str | None = None) -> None:
    """The server: import, say ready, then fork a kernel per request until stdin closes. `listen`: a shared
    server, taking requests from the workers that connect to a Unix socket made at that path (the owner's
    stdin then only says when to stop); else requests come on stdin and replies go to stdout."""
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(0)
    _name(SERVER_NAME)
    launched_from = os.getcwd()
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    import importlib

    for name in IMPORTS:
        importlib.import_module(name)
    warm_up()

    if threading.active_count() != 1:  # forking a process with threads could copy a held lock
        raise SystemExit("the fork server started a thread while importing; it cannot fork safely")
    import gc

    gc.collect()
    gc.freeze()  # what the imports made is never collected in a kernel: its collections skip it (and leave it shared)
    signal.signal(signal.SIGCHLD, _reap)
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    requests = os.fdopen(os.dup(0), "r")
    if listen is not None:
        _serve_socket(listen, requests, reply, launched_from)
        os._exit(0)
    reply.write(json.dumps({"ready": True}) + "\n")
    for line in requests:
        reply.write(json.dumps(_fork_for(line, launched_from, [requests, reply])) + "\n")
    os._exit(0)


# ------------------------------------------------------------------------------------------ the worker side
class ForkedKernel:
    """A kernel forked by the server, as a ``subprocess.Popen`` look-alike: it is not this process's child, so it
    is watched through a pidfd (Linux), which also keeps a reused process id from being signalled."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except (OSError, AttributeError):  # already gone, or no pidfd: fall back to the process id
            self._fd = None
            if not is_running(pid):
                self.returncode = 0

    def poll(self) -> int | None:
        if self.returncode is None:
            if self._fd is not None:
                import select

                if select.select([self._fd], [], [], 0)[0]:
                    self._done()
            elif not is_running(self.pid):
                self._done()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import select
        import time

        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = 0.05 if end is None else min(0.05, end - time.monotonic())
            if left <= 0:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            if self._fd is not None:
                select.select([self._fd], [], [], left)
            else:
                time.sleep(left)
        return self.returncode  # type: ignore[return-value]

    def _done(self) -> None:
        self.returncode = 0  # the server reaps it; only whether it ended matters here
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def send_signal(self, signum: int) -> None:
        if self.poll() is not None:
            return
        if self._fd is not None:
            signal.pidfd_send_signal(self._fd, signum)
        else:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def __del__(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)


class _Spawner:
    """What asks a fork server for a kernel: :meth:`spawn`, one request line and its reply over the channel a
    subclass gives (:meth:`_exchange`, under ``self._lock``), once :meth:`ready` says the server is up."""

    _lock: threading.Lock

    def ready(self) -> bool:
        raise NotImplementedError

    def _exchange(self, request: str) -> str:
        """Send one request line; the reply line ('' when the server is gone)."""
        raise NotImplementedError

    def spawn(self, argv: list[str], *, env: dict, cwd: str, log: str) -> ForkedKernel:
        """A kernel forked by the server: ipykernel with `argv` (what follows ``-m ipykernel_launcher``)."""
        if not self.ready():
            raise RuntimeError("the kernel fork server is not running")
        request = json.dumps({"argv": list(argv), "env": dict(env), "cwd": str(cwd), "log": str(log)})
        with self._lock:
            line = self._exchange(request)
        answer = json.loads(line or '{"error": "the fork server ended"}')
        if "pid" not in answer:
            raise RuntimeError(f"the kernel fork server could not start a kernel ({answer.get('error')})")
        return ForkedKernel(int(answer["pid"]))


class ForkServer(_Spawner):
    """A fork server: started at once (its imports run while the caller goes on), used when ready. A worker's
    own (requests on the server's stdin), or, with `listen` (a Unix socket path in a private folder), one
    shared by the build's workers, each through a :class:`ForkClient`."""

    def __init__(self, root: str, listen: str | None = None):
        env = {**os.environ, "MPLBACKEND": INLINE_BACKEND}
        self.address = listen
        self._proc = subprocess.Popen([sys.executable, "-m", "helpers.pipeline.forkserver",
                                       *(["--listen", listen] if listen else [])], cwd=root, env=env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True, bufsize=1)
        self._lock = threading.Lock()
        self._ready: bool | None = None

    def ready(self) -> bool:
        """Whether the server is up (waits for its imports the first time); False once it has failed."""
        with self._lock:
            if self._ready is None:
                import select

                # nothing is read from the pipe before this line, so its buffer is empty and select sees the fd
                if not select.select([self._proc.stdout], [], [], READY_TIMEOUT)[0]:
                    self._proc.kill()  # hung in its imports: the kernels start the usual way
                    line = ""
                else:
                    line = self._proc.stdout.readline()
                try:
                    self._ready = bool(json.loads(line).get("ready"))
                except ValueError:
                    self._ready = False
            return bool(self._ready) and self._proc.poll() is None

    def _exchange(self, request: str) -> str:
        self._proc.stdin.write(request + "\n")
        self._proc.stdin.flush()
        return self._proc.stdout.readline()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def close(self) -> None:
        """Stop the server (and with it any kernel it forked that is still running)."""
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()


class ForkClient(_Spawner):
    """A worker's handle on the fork server the build shares between its workers (:class:`ForkServer` with
    `listen`): the same :meth:`ready` and :meth:`spawn`, over the server's socket at `address`. The server is
    ready when its socket accepts; `server_pid` tells a server that died from one still importing."""

    def __init__(self, address: str, server_pid: int):
        self.address = address
        self._server_pid = server_pid
        self._lock = threading.Lock()
        self._ready: bool | None = None
        self._sock = None
        self._file = None

    def ready(self) -> bool:
        """Whether the server is up (waits for it the first time, at most READY_TIMEOUT); False once it has
        failed."""
        import socket
        import time

        with self._lock:
            if self._ready is None:
                end = time.monotonic() + READY_TIMEOUT
                while True:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        sock.connect(self.address)
                    except OSError:
                        sock.close()
                        if not is_running(self._server_pid) or time.monotonic() > end:
                            self._ready = False
                            break
                        time.sleep(0.02)
                        continue
                    self._sock, self._file, self._ready = sock, sock.makefile("rwb"), True
                    break
            return bool(self._ready)

    def _exchange(self, request: str) -> str:
        try:
            self._file.write((request + "\n").encode("utf-8"))
            self._file.flush()
            return self._file.readline().decode("utf-8")
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        return self._server_pid

    def close(self) -> None:
        """Let go of the server (its owner stops it)."""
        for thing in (self._file, self._sock):
            if thing is not None:
                try:
                    thing.close()
                except OSError:
                    pass


def kernel_argv(cmd: list[str]) -> list[str] | None:
    """The arguments after ``-m ipykernel_launcher`` when `cmd` starts a kernel on this interpreter, else None
    (such a command is launched the usual way)."""
    if len(cmd) >= 3 and tuple(cmd[1:3]) == LAUNCHER and os.path.realpath(cmd[0]) == os.path.realpath(
            sys.executable):
        return list(cmd[3:])
    return None


def provisioner_class():
    """:class:`ForkProvisioner`, made on first use (jupyter_client is imported only then)."""
    global _PROVISIONER
    if _PROVISIONER is None:
        from jupyter_client.provisioning import LocalProvisioner

        class ForkProvisioner(LocalProvisioner):
            """A local provisioner whose kernel is forked by the worker's :class:`ForkServer`; a command that is
            not this interpreter's ipykernel is launched the usual way."""

            server: ForkServer | None = None

            async def launch_kernel(self, cmd, **kwargs):
                argv = kernel_argv(cmd)
                log = getattr(self.parent, "log_path", None)
                if argv is None or self.server is None or log is None or not self.server.ready():
                    return await super().launch_kernel(cmd, **kwargs)
                env = kwargs.get("env") or dict(os.environ)
                self.process = self.server.spawn(argv, env=env, cwd=str(kwargs.get("cwd") or os.getcwd()),
                                                 log=log)
                self.pid = self.pgid = self.process.pid
                self.cwd = kwargs.get("cwd")
                return self.connection_info

        _PROVISIONER = ForkProvisioner
    return _PROVISIONER


_PROVISIONER = None


if __name__ == "__main__":
    serve(sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--listen" else None)
