"""Where reports run: any ``concurrent.futures.Executor`` works (see ``helpers.reports.build``).

The default is a local process pool whose workers keep the heavy libraries imported and start each report's
kernel ahead. For more than one machine, :func:`dask_executor` runs reports on a dask.distributed cluster
(``pip install ballotbook[dask]``) through its ``concurrent.futures`` interface. Every worker must have the
kit installed and see the same project folder (data, notebooks, output folder) at the same path.
"""

from __future__ import annotations

from .data._table import DataError


class _OwnedDaskExecutor:
    """A dask executor that also closes the client (and the local cluster) it created."""

    def __init__(self, client, cluster=None):
        # pure=False: two identical submissions (the same report twice) must both run, not share a result.
        self._executor = client.get_executor(pure=False)
        self._client = client
        self._cluster = cluster

    def submit(self, fn, /, *args, **kwargs):
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False):
        self._executor.shutdown(wait=wait)
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def dask_executor(scheduler: str | None, workers: int | None = None):
    """An executor on the dask scheduler at `scheduler` ("tcp://host:8786"), or on a new LocalCluster of
    `workers` single-threaded processes when no address is given."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise DataError("--executor dask needs dask.distributed: pip install 'ballotbook[dask]'.") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise DataError(f"--scheduler {scheduler}: cannot reach the dask scheduler ({exc}).") from None
        return _OwnedDaskExecutor(client)
    import os

    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return _OwnedDaskExecutor(Client(cluster), cluster)
