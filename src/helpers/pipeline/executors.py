"""Where reports run: any ``concurrent.futures.Executor`` works (see ``helpers.pipeline.build``).

The default is a local process pool whose workers keep the heavy libraries imported and start each report's
kernel ahead. For more than one machine, :func:`dask_executor` runs reports on a dask.distributed cluster
(``pip install ballotbook[dask]``) through its ``concurrent.futures`` interface. Every worker must have the
kit installed and see the same project folder (data, notebooks, output folder) at the same path.
"""

from __future__ import annotations

import re

from helpers.core.cpus import usable_cpus
from helpers.core.errors import DataError


class _OwnedDaskExecutor:
    """A dask executor that also closes the client (and the local cluster) it created."""

    def __init__(self, client, cluster=None, server=None, worker_server: bool = False):
        # pure=False: two identical submissions (the same report twice) must both run, not share a result.
        self._executor = client.get_executor(pure=False)
        self._client = client
        self._cluster = cluster
        self._server = server  # the kernel fork server a local cluster's workers share
        self._worker_server = worker_server  # the local cluster started the fork server its workers came from
        self._closed = False

    def submit(self, fn, /, *args, **kwargs):
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False):
        """Close the client (and the local cluster). `cancel_futures` (a stopped build): what is queued or
        running is cancelled instead of waited for; a report already running on a remote worker finishes
        there but publishes nothing (its build's cancel file). Safe to call again."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=wait and not cancel_futures)
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        if self._worker_server:
            from helpers.pipeline.kernels import stop_worker_server

            stop_worker_server()
        if self._server is not None:
            self._server.close()


#: Transports of dask.distributed that reach a scheduler on another process or machine.
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_HOST = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]+\])")


def check_scheduler_address(address: str) -> None:
    """A dask scheduler address must read ``[scheme://]host[:port]`` (scheme tcp, tls, ws, wss or ucx; port 1 to
    65535; the default port is 8786); anything else is a DataError, before any connection is tried."""
    expected = ("expected an address like tcp://host:8786 (scheme tcp, tls, ws, wss or ucx, a host name or IP "
                "address, and a port from 1 to 65535).")
    shown = repr(address[:80]) + ("..." if len(address) > 80 else "")
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme not in SCHEDULER_SCHEMES:
        raise DataError(f"--scheduler {shown}: unknown scheme '{scheme[:20]}'; {expected}")
    host, port = rest, None
    if rest.startswith("["):
        end = rest.find("]")
        host, tail = rest[:end + 1], rest[end + 1:]
        if end < 0 or (tail and not tail.startswith(":")):
            raise DataError(f"--scheduler {shown}: {expected}")
        port = tail[1:] if tail else None
    elif ":" in rest:
        host, _, port = rest.rpartition(":")
    if not host or not _HOST.fullmatch(host):
        raise DataError(f"--scheduler {shown}: '{host[:80]}' is not a host name or IP address; {expected}")
    if port is not None and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise DataError(f"--scheduler {shown}: '{port[:20]}' is not a port number; {expected}")


def _warm_plugin(root: str, server: tuple[str, int] | None = None):
    """A dask worker plugin that warms each worker as the local pool's are (:func:`helpers.pipeline.kernels.
    warm_worker`: a kernel fork server, or `server`, the one the workers of a local cluster share; the first
    kernel started ahead)."""
    from distributed import WorkerPlugin

    class WarmReports(WorkerPlugin):
        name = "ballotbook-warm"
        idempotent = True

        def __init__(self, root: str, server):
            self.root = root
            self.server = server

        def setup(self, worker):
            from helpers.pipeline.kernels import warm_worker

            # set-up blocks the build: the first report imports papermill
            warm_worker(self.root, imports=False, server=self.server)

    return WarmReports(root, server)


#: The local cluster the kit starts runs reports, a few long tasks: each worker takes a report only when it is
#: free (the build hands them out longest first; a second one queued on a busy worker can leave the other idle
#: at the end), and nothing samples a report's thread (the statistical profiler, every 10 ms) or polls the
#: system ten times a second meanwhile. Where kernels are forked, so are its workers, from multiprocessing's
#: fork server, which imports dask once for all of them (:func:`local_cluster_config`), as the local pool's are.
LOCAL_CLUSTER_CONFIG = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


#: What the local cluster's fork server imports before it forks the workers: dask's own (what dask would preload,
#: less NumPy and pandas, which it would also import into the build's process to find out that they are there)
#: and what runs and renders a report, so that a worker's first report does not import papermill and nbconvert.
DASK_WORKER_IMPORTS = ("distributed", "dask", "msgpack", "cloudpickle", "tornado", "toolz")


def local_cluster_config() -> dict:
    """:data:`LOCAL_CLUSTER_CONFIG`, with its workers forked from a warm server where kernels are forked."""
    from helpers.pipeline.kernels import forking

    return {**LOCAL_CLUSTER_CONFIG, "distributed.worker.multiprocessing-method": "forkserver" if forking() else "spawn"}


def dask_executor(scheduler: str | None, workers: int | None = None, root: str | None = None):
    """An executor on the dask scheduler at `scheduler` ("tcp://host:8786"), or on a new LocalCluster of
    `workers` single-threaded processes when no address is given. With `root` (the project folder, the same
    path on every worker) each worker is warmed as a local pool worker is."""
    if scheduler is not None:
        check_scheduler_address(scheduler)
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        raise DataError("--executor dask needs dask.distributed: pip install 'ballotbook[dask]'.")
    from helpers.pipeline.kernels import (
        WORKER_IMPORTS,
        shared_fork_server,
        start_worker_server,
        stop_worker_server,
        worker_server_running,
    )

    server = None
    worker_server = False  # the local cluster's workers' fork server, stopped with the cluster
    if not scheduler:  # this machine's workers: fork servers first, their imports made while dask's are
        if root is not None:
            server = shared_fork_server(root)
        worker_server = not worker_server_running()  # (not one this process already had)
        if worker_server:
            start_worker_server((*DASK_WORKER_IMPORTS, *WORKER_IMPORTS))
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        if server is not None:
            server.close()
        if worker_server:
            stop_worker_server()
        raise DataError("--executor dask needs dask.distributed: pip install 'ballotbook[dask]'.") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise DataError(f"--scheduler {scheduler}: cannot reach the dask scheduler ({exc}).") from None
        cluster = None
    try:
        if not scheduler:
            import dask
            import distributed.utils

            # The fork server runs, with its imports: dask need not import NumPy and pandas here to list its own.
            if hasattr(distributed.utils, "_forkserver_preload_set"):
                distributed.utils._forkserver_preload_set = True
            with dask.config.set(local_cluster_config()):  # read by the scheduler and handed to every worker
                cluster = LocalCluster(n_workers=workers or usable_cpus(), threads_per_worker=1, processes=True,
                                       dashboard_address=None)
            client = Client(cluster)
        if root is not None:
            client.register_plugin(_warm_plugin(root, (server.address, server.pid) if server else None))
    except BaseException:
        if server is not None:
            server.close()
        if worker_server:
            stop_worker_server()
        raise
    return _OwnedDaskExecutor(client, cluster, server, worker_server)
