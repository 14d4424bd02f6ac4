"""Kernels for reports: each report runs in a fresh kernel of its own, talking over Unix sockets in a private
folder; a pool worker starts the next report's kernel (and imports the kit in it) while the current report runs.

:func:`warm_worker` is the initializer of the build's local process pool: it ties the worker's life to the
build's, imports the heavy libraries once per worker and starts the first kernel ahead.
"""

from __future__ import annotations

import os
import sys
import time
import weakref

KERNEL_NAME = "python3"
#: Attempts at starting a kernel before a report fails (only failures to *start* are retried).
START_RETRIES = 3


def start_failed(exc: BaseException) -> bool:
    """Whether `exc` is a failure to start a kernel (worth another attempt), not a report's own failure."""
    text = f"{type(exc).__name__}: {exc}"
    # Only failures to *start* a kernel are retried; a kernel that dies while running a report fails it.
    return any(s in text for s in ("Address already in use", "Kernel died before replying",
                                   "Kernel didn't respond", "kernel_info", "TimeoutError: Kernel"))


_KM_CLASS = None


def kernel_manager_class():
    """Kernels talk over Unix sockets in a private temporary path (IPC transport), not TCP: no port
    collisions when many kernels start at once, and nothing listens on the network. The sockets live in this
    process's own folder (``processes.kernel_folder``), removed when the process ends, or by the next build
    when it was killed.

    A kernel's own stdout and stderr (ipykernel's log: ``[IPKernelApp] ERROR | KeyboardInterrupt caught in
    kernel`` when it is stopped, warnings, a crashing library's messages) go to ``log_path``, a file beside its
    sockets, not to the build's log: a report's output reaches its notebook over the sockets anyway. The file
    goes with the folder."""
    global _KM_CLASS
    if _KM_CLASS is None:
        import subprocess
        import uuid

        from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager

        from helpers.pipeline.processes import kernel_folder

        class ThisPython(KernelSpecManager):
            """The kernel is always ipykernel on the interpreter running the kit (its venv), whatever a
            ``python3`` kernelspec in the user's or the system's Jupyter folders says: the same inputs give the
            same numbers only with the same packages."""

            def get_kernel_spec(self, kernel_name):
                from ipykernel.kernelspec import RESOURCES, get_kernel_dict

                return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())

        # nbclient notices a kernel that dies mid-report only with an async manager (a blocking one hangs).
        class IPCKernelManager(AsyncKernelManager):
            def __init__(self, **kwargs):
                kwargs.setdefault("kernel_spec_manager", ThisPython())
                kwargs.setdefault("client_factory", ready_client_class())

                base = os.path.join(kernel_folder(), f"kernel-{uuid.uuid4().hex[:12]}")
                kwargs["transport"] = "ipc"
                kwargs["ip"] = base
                kwargs.setdefault("connection_file", f"{base}.json")  # else a tmp*.json in $TMPDIR
                super().__init__(**kwargs)
                #: the kernel process's own stdout and stderr (see :func:`kernel_manager_class`)
                self.log_path = f"{base}.log"
                self._log = None
                _LIVE_KERNELS.add(self)

            async def start_kernel(self, **kw):
                server = fork_server()
                if server is not None and self.provisioner is None:
                    from helpers.pipeline.forkserver import provisioner_class

                    self.kernel_id = self.kernel_id or str(uuid.uuid4())
                    self.provisioner = provisioner_class()(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                                           parent=self)
                    self.provisioner.server = server
                # Popen's streams, through the kernel manager's launch arguments (kept for a restart too)
                if self._log is None:
                    self._log = open(self.log_path, "ab", buffering=0)  # noqa: SIM115 - lives with the kernel
                kw.setdefault("stdout", self._log)
                kw.setdefault("stderr", subprocess.STDOUT)
                return await super().start_kernel(**kw)

        _KM_CLASS = IPCKernelManager
    return _KM_CLASS


_LIVE_KERNELS: weakref.WeakSet = weakref.WeakSet()
#: Where a report kernel keeps its IPython history: in memory only, as nbclient has the kernels it starts keep
#: it (a report's cells are not the user's history; kernels of parallel builds writing ~/.ipython's database at
#: once corrupted it).
HISTORY = ":memory:"
#: Seconds a client waits for more of IOPub's messages once the kernel has answered (see ready_client_class).
IOPUB_SETTLE = 0.01


def ready_client_class():
    """The client of the kit's kernels: jupyter_client's asynchronous client, except that once the kernel has
    answered ``kernel_info`` (on the shell channel, and on IOPub, so both are connected) it takes what IOPub
    already holds and goes on. jupyter_client's own client then waits until IOPub has been silent for 0.2 s,
    which every report paid before its first cell: idle time, 0.2 s a report. What might still come (the
    kernel's "idle" for that request) is a reply to no cell, and nbclient reads only a cell's own replies."""
    global _CLIENT_CLASS
    if _CLIENT_CLASS is None:
        from queue import Empty

        from jupyter_client.asynchronous import AsyncKernelClient

        class ReadyClient(AsyncKernelClient):
            async def wait_for_ready(self, timeout: float | None = None) -> None:
                deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
                while True:
                    self.kernel_info()
                    try:
                        reply = await self.shell_channel.get_msg(timeout=1)
                    except Empty:
                        reply = None
                    if reply is not None and reply["msg_type"] == "kernel_info_reply":
                        try:  # IOPub is connected when the kernel's status for the request comes through it
                            await self.iopub_channel.get_msg(timeout=0.2)
                        except Empty:
                            pass
                        else:
                            self._handle_kernel_info_reply(reply)
                            break
                    if not await self._async_is_alive():
                        raise RuntimeError("Kernel died before replying to kernel_info")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
                while True:  # what IOPub holds already
                    try:
                        await self.iopub_channel.get_msg(timeout=IOPUB_SETTLE)
                    except Empty:
                        break

        _CLIENT_CLASS = ReadyClient
    return _CLIENT_CLASS


_CLIENT_CLASS = None


def _kill_kernels() -> None:
    """Stop at once every kernel this process started (its parent died: nobody will read the report)."""
    import signal

    for km in list(_LIVE_KERNELS):
        pid = getattr(getattr(km, "provisioner", None), "pid", None)
        if not pid:
            continue
        try:
            if os.getpgid(pid) == pid:  # a kernel is the leader of its own session: take its children too
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


#: Imported in a kernel before it is handed to a report: what every report notebook imports anyway.
WARM_UP = ("import helpers.notebook, helpers.views.charts, helpers.views.tables, helpers.data, pandas, numpy, "
           "matplotlib.pyplot")


class KernelSupply:
    """Fresh kernels for reports, started ahead: while one report runs, the next report's kernel starts and
    imports the kit in a background thread. Every report still gets a kernel of its own (nothing is shared
    between reports); only the waiting is overlapped."""

    def __init__(self, root: str):
        self.root = root
        self._next = None  # (thread, holder dict)
        self._retiring: list = []  # threads shutting down kernels the reports are done with

    def _start(self):
        import asyncio

        return asyncio.run(self._start_async())

    async def _start_async(self):
        km = kernel_manager_class()(kernel_name=KERNEL_NAME)
        await km.start_kernel(cwd=self.root, extra_arguments=[f"--HistoryManager.hist_file={HISTORY}"])
        try:
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=60)
                reply = await kc.execute_interactive(WARM_UP, timeout=120, store_history=False)
                if reply.get("content", {}).get("status") != "ok":
                    raise RuntimeError("the warm-up imports failed in the kernel")
            finally:
                kc.stop_channels()
        except BaseException:
            await self._stop_async(km)
            raise
        return km

    def _start_in_background(self):
        import threading

        holder: dict = {}

        def target():
            for attempt in range(START_RETRIES):
                try:
                    holder["km"] = self._start()
                    return
                except Exception as exc:  # noqa: BLE001 - retried, then reported by take()
                    holder["error"] = exc
                    time.sleep(0.3 * (attempt + 1))

        thread = threading.Thread(target=target, name="ballotbook-next-kernel", daemon=True)
        thread.start()
        self._next = (thread, holder)

    def prepare(self) -> None:
        if self._next is None:
            self._start_in_background()

    def take(self):
        """A started, warmed kernel manager for one report; the caller shuts it down. None when no kernel
        could be started ahead (papermill then starts one itself)."""
        km = None
        if self._next is not None:
            thread, holder = self._next
            self._next = None
            thread.join()
            km = holder.get("km")
        if km is not None:
            import asyncio

            if not asyncio.run(km.is_alive()):
                self.stop(km)
                km = None
        return km

    @staticmethod
    async def _stop_async(km) -> None:
        try:
            await km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - already gone
            pass
        try:
            await km.cleanup_resources()
        except Exception:  # noqa: BLE001
            pass

    @staticmethod
    def stop(km) -> None:
        """Shut kernel manager `km`'s kernel down at once and release its sockets."""
        import asyncio

        asyncio.run(KernelSupply._stop_async(km))

    def retire(self, km) -> None:
        """Shut `km`'s kernel down in the background (the report is done with it; the next report need not
        wait for the kill and the socket clean-up). :meth:`close` waits for every retired kernel."""
        import threading

        self._retiring = [t for t in self._retiring if t.is_alive()]
        thread = threading.Thread(target=self.stop, args=(km,), name="ballotbook-kernel-stop", daemon=True)
        thread.start()
        self._retiring.append(thread)

    def close(self) -> None:
        for thread in self._retiring:
            thread.join()
        if self._next is not None:
            thread, holder = self._next
            self._next = None
            thread.join()
            if holder.get("km") is not None:
                self.stop(holder["km"])


_SUPPLY: KernelSupply | None = None
_FORK_SERVER = None


def forking() -> bool:
    """Whether kernels may be forked from a warm server here (Linux-like systems; ``BALLOTBOOK_FORK=0`` says
    no)."""
    return os.environ.get("BALLOTBOOK_FORK", "1") != "0" and hasattr(os, "fork")


def shared_fork_server(root: str):
    """A fork server for all the workers of this process's pool (:class:`~helpers.pipeline.forkserver.
    ForkServer` listening on a socket in this process's private kernel folder), or None where kernels are not
    forked. Its owner closes it when the workers are done; it dies with its owner in any case."""
    if not forking():
        return None
    import uuid

    from helpers.pipeline.forkserver import ForkServer
    from helpers.pipeline.processes import kernel_folder

    return ForkServer(root, listen=os.path.join(kernel_folder(), f"forkserver-{uuid.uuid4().hex[:8]}.sock"))


#: What a pool worker runs and renders reports with: imported once, by the server its workers are forked from
#: (:func:`worker_context`), or by each worker where workers are spawned.
WORKER_IMPORTS = ("helpers.pipeline.execute", "helpers.pipeline.kernels", "helpers.pipeline.render", "papermill",
                  "nbclient", "jupyter_client.manager", "nbconvert", "nbformat", "nh3")


def worker_context():
    """The multiprocessing context of the build's local pool. Where kernels are forked (:func:`forking`), its
    workers are forked too, from multiprocessing's fork server (:func:`start_worker_server`), which imports
    :data:`WORKER_IMPORTS` once (about 0.5 s) instead of once per worker (a spawned worker also pays Python's
    start-up: 0.7 CPU s each). As with spawn, a forked worker shares nothing of the build process (no open
    descriptor, no lock, no thread): only those imports, made by a process of its own. Elsewhere workers are
    spawned."""
    import multiprocessing

    return multiprocessing.get_context("forkserver" if forking() else "spawn")


def worker_server_running() -> bool:
    """Whether this process has multiprocessing's fork server running (the pool's, or one of its own)."""
    forkserver = sys.modules.get("multiprocessing.forkserver")  # never imported: never started
    return forkserver is not None and getattr(forkserver._forkserver, "_forkserver_pid", None) is not None


def start_worker_server(imports: tuple[str, ...] = ("__main__", *WORKER_IMPORTS)) -> None:
    """Start the fork server that workers are forked from (the local pool's, :func:`worker_context`; a local
    dask cluster's), preloaded with `imports`, now: its imports then run beside the kernels' fork server's, in
    this process's environment as it is now, which its workers inherit. A no-op where workers are spawned, or
    when it is already running."""
    if not forking():
        return
    import multiprocessing
    from multiprocessing import forkserver, process

    from helpers.pipeline.processes import kernel_folder

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(imports))
    # Its socket goes in this process's private folder (where multiprocessing has no folder of its own yet), which
    # the next build removes if this one is killed; multiprocessing's own would stay.
    process.current_process()._config.setdefault("tempdir", kernel_folder())
    forkserver.ensure_running()


def stop_worker_server() -> None:
    """Stop the pool's worker fork server, if it runs, and wait for it: the next build then forks its workers
    from a server with that build's environment, and its CPU time counts as the build's (a process's waited-for
    children). Called once the pool's workers have ended (the server has reaped them): it has nothing left to
    finish, so it is killed rather than asked to exit, which would cost a Python shutdown of every module it
    imported (0.1 s). Multiprocessing has no public way to stop it; without its private ``_stop`` the server
    stays until this process ends, which it notices."""
    if not worker_server_running():
        return
    server = sys.modules["multiprocessing.forkserver"]._forkserver
    stop = getattr(server, "_stop", None)
    if stop is None:
        return
    pid = getattr(server, "_forkserver_pid", None)
    if isinstance(pid, int):
        import signal

        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    stop()


def _leave_worker_server() -> None:
    """In a worker forked by the workers' fork server: close this worker's copy of the pipe that keeps that
    server running. Multiprocessing hands one to every process it forks, so that it can ask for forks in turn (a
    worker never does); with it closed the server ends as soon as the build does, and the worker at once with
    its parent (``PR_SET_PDEATHSIG``). Where multiprocessing keeps it elsewhere, the worker's watch of the build
    (every 0.2 s) still ends it."""
    import contextlib

    forkserver = getattr(sys.modules.get("multiprocessing.forkserver"), "_forkserver", None)
    fd = getattr(forkserver, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        with contextlib.suppress(OSError):
            os.close(fd)
        forkserver._forkserver_alive_fd = None


def fork_server():
    """This process's kernel fork server (:mod:`helpers.pipeline.forkserver`): set in a pool worker (and a dask
    worker) by :func:`warm_worker`; None elsewhere, where kernels start the usual way."""
    return _FORK_SERVER


def worker_supply() -> KernelSupply | None:
    """This process's kernel supply: set in a pool worker by :func:`warm_worker`; None elsewhere (``ballotbook
    run``, a dask worker), where papermill starts each report's kernel itself."""
    return _SUPPLY


def warm_worker(root: str, parent: int | None = None, fork: bool = True, imports: bool = True,
                server: tuple[str, int] | None = None) -> None:
    """Worker start-up: exit with the build (when `parent`, the build's process, or the workers' fork server
    it started is gone, the worker stops its kernels and exits), import the heavy libraries once per worker,
    not once per report (:data:`WORKER_IMPORTS`, already there in a worker forked from its warm server), and
    start the first report's kernel ahead. `fork`: start a kernel fork server (:mod:`helpers.pipeline.
    forkserver`), worth its own imports when the worker runs more than one report. `imports`: import them now
    (a pool worker, whose initializer runs before its first report anyway); without, the first report does (a
    dask worker, whose set-up the build waits for before it can hand out any report). `server`: the address
    and process id of a fork server the build shares between its workers (one set of imports for all of
    them), used instead of a server of this worker's own."""
    global _SUPPLY, _FORK_SERVER
    if parent is not None:
        from helpers.pipeline.processes import (
            die_with_parent,
            is_running,
            process_start,
            remove_kernel_folder,
            watch_parent,
        )

        build = None
        if os.getppid() != parent and is_running(parent):  # forked by the workers' fork server (worker_context)
            build = (parent, process_start(parent))
            _leave_worker_server()  # which then ends with the build, and this worker with it
            parent = os.getppid()

        def on_death():
            from helpers.pipeline.pdf import stop_all

            _kill_kernels()
            stop_all()  # a report being printed (--pdf)
            remove_kernel_folder()

        watch_parent(parent, on_death, build=build)
        die_with_parent(parent, on_death)  # SIGTERM when the build ends, however it ends (Linux), or stops us
    os.environ.setdefault("BALLOTBOOK_ROOT", root)
    from multiprocessing.util import Finalize

    if server is not None:
        from helpers.pipeline.forkserver import ForkClient

        _FORK_SERVER = ForkClient(*server)
        Finalize(_FORK_SERVER, _FORK_SERVER.close, exitpriority=5)
    elif fork and forking():
        from helpers.pipeline.forkserver import ForkServer

        _FORK_SERVER = ForkServer(root)  # its imports run while this worker makes its own
        Finalize(_FORK_SERVER, _FORK_SERVER.close, exitpriority=5)
    # Imports before the thread that starts the first kernel: a module two threads import at once can reach one
    # of them half made ("partially initialized module"). Already made in a worker forked from the warm server;
    # where the fork server is this worker's own, its imports take longer than these.
    if imports:
        import importlib

        for name in WORKER_IMPORTS:
            importlib.import_module(name)
    kernel_manager_class()  # what the kernel thread imports first (a dask worker's first report imports the rest)
    import ipykernel.kernelspec  # noqa: F401

    _SUPPLY = KernelSupply(root)
    _SUPPLY.prepare()
    Finalize(_SUPPLY, _SUPPLY.close, exitpriority=10)  # workers exit without atexit
