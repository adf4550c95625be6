"""Dask for the jobs: a client of a named scheduler or of a LocalCluster, and a block runner on it.

``geo recheck`` runs one task per AOI on it; ``geo run --workers/--scheduler`` runs the blocks of a large
grid's change statistic (``geo.change.tiling``) on it. ``distributed`` is imported only when a cluster is
used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from geo.errors import ClusterError

if TYPE_CHECKING:
    from distributed import Client

    from geo.change.tiling import BlockRunner

T = TypeVar("T")
IN_FLIGHT_PER_WORKER = 2  # blocks sent ahead per worker: the cluster holds a few blocks' arrays, not the grid's


@contextmanager
def quiet_distributed() -> Iterator[None]:
    """dask.distributed logs every scheduler/worker event at INFO: keep a cron job's output to what matters."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def dask_client(workers: int, scheduler: str | None) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a new LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    with quiet_distributed():
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, ValueError) as exc:
                raise ClusterError(f"--scheduler {scheduler}: cannot connect to the Dask scheduler ({exc})") from None
            with client:
                yield client
            return
        # No dashboard; its HTTP server (health checks) on a free port, so clusters never compete for 8787.
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=logging.ERROR) as cluster:
            with Client(cluster) as client:
                yield client


def dask_runner(client: Client) -> BlockRunner:
    """A ``BlockRunner`` submitting each block to ``client``'s cluster, a few per worker at a time; results
    in the order of the arguments."""
    from distributed import as_completed

    def run(function: Callable[..., T], arguments: Sequence[tuple[Any, ...]]) -> list[T]:
        limit = max(1, IN_FLIGHT_PER_WORKER * len(client.scheduler_info()["workers"]))
        results: dict[int, T] = {}
        pending = iter(enumerate(arguments))
        running = as_completed()
        futures: dict[Any, int] = {}
        for index, args in pending:
            future = client.submit(function, *args, pure=False)
            futures[future] = index
            running.add(future)
            if len(futures) - len(results) >= limit:
                break
        for future in running:
            results[futures.pop(future)] = future.result()
            following = next(pending, None)
            if following is not None:
                future = client.submit(function, *following[1], pure=False)
                futures[future] = following[0]
                running.add(future)
        return [results[i] for i in range(len(arguments))]

    return run


@contextmanager
def block_runner(workers: int = 1, scheduler: str | None = None) -> Iterator[BlockRunner]:
    """Blocks run here (one worker, no scheduler) or on a Dask cluster: a named scheduler is connected to at
    once (a wrong address fails before any work), a local cluster started only when a grid of more than one
    block asks for it; closed at the end of the context."""
    from geo.change.tiling import run_serial

    if scheduler is None and workers <= 1:
        yield run_serial
        return
    if scheduler is not None:
        with dask_client(workers, scheduler) as client:
            yield dask_runner(client)
        return
    with ExitStack() as stack:
        started: list[BlockRunner] = []

        def run(function: Callable[..., T], arguments: Sequence[tuple[Any, ...]]) -> list[T]:
            if not started:
                started.append(dask_runner(stack.enter_context(dask_client(workers, scheduler))))
            return started[0](function, arguments)

        yield run
