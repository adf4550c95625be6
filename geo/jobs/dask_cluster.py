"""Dask for the jobs: a client of a named scheduler or of a LocalCluster, and a block runner on it.

``geo recheck`` runs one task per AOI on it; ``geo run --workers/--scheduler`` runs the blocks of a large
grid's change statistic (``geo.change.tiling``) on it; by default (``--workers auto``) a local cluster is
started only for a grid of many blocks on a machine with cores to spare. ``distributed`` is imported only when
a cluster is used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from geo.errors import ClusterError

if TYPE_CHECKING:
    from distributed import Client

    from geo.change.tiling import BlockRunner

T = TypeVar("T")
log = logging.getLogger(__name__)
IN_FLIGHT_PER_WORKER = 2  # blocks sent ahead per worker: the cluster holds a few blocks' arrays, not the grid's
# ``--workers auto``: a grid of fewer blocks is done before a cluster has started; on fewer cores the workers
# compete with the job's own process for them (measured on 2 cores: 720 km² 29 s vs 31 s serial, 2,944 km²
# 166 s vs 130 s); each worker holds up to IN_FLIGHT_PER_WORKER blocks' temporaries (~300 MB each).
AUTO_MIN_BLOCKS = 4
AUTO_MIN_CPUS = 4
AUTO_MAX_WORKERS = 4
WORKER_START = "geo.jobs.worker_start"  # run in each worker process as it starts (``dask_setup``)


def usable_cpus() -> int:
    """The cores this process may run on (its affinity mask, e.g. a container's or a systemd unit's limit)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def auto_workers(n_blocks: int, cpus: int) -> int:
    """Local worker processes for a grid of ``n_blocks`` on ``cpus`` cores under ``--workers auto``: 1 (the
    blocks run in this process) for a small grid or machine, else a worker per core left beside the job's own
    process, at most one per two blocks and ``AUTO_MAX_WORKERS``."""
    if n_blocks < AUTO_MIN_BLOCKS or cpus < AUTO_MIN_CPUS:
        return 1
    return max(1, min(cpus - 1, n_blocks // 2, AUTO_MAX_WORKERS))


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
                          scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=logging.CRITICAL,
                          preload=[WORKER_START]) as cluster:
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
def block_runner(workers: int | None = 1, scheduler: str | None = None,
                 cpus: int | None = None) -> Iterator[BlockRunner]:
    """Blocks run here (one worker, no scheduler) or on a Dask cluster: a named scheduler is connected to at
    once (a wrong address fails before any work), a local cluster of ``workers`` processes (``None``: as many
    as ``auto_workers`` gives for the first grid of blocks on ``cpus`` cores, by default this process's)
    started only when a grid of more than one block asks for it; closed at the end of the context."""
    from geo.change.tiling import run_serial

    if scheduler is None and workers is not None and workers <= 1:
        yield run_serial
        return
    if scheduler is not None:
        with dask_client(workers or 1, scheduler) as client:
            yield dask_runner(client)
        return
    with ExitStack() as stack:
        started: list[BlockRunner] = []

        def run(function: Callable[..., T], arguments: Sequence[tuple[Any, ...]]) -> list[T]:
            if not started:
                count = workers if workers is not None else auto_workers(len(arguments), cpus or usable_cpus())
                if count <= 1:
                    return run_serial(function, arguments)
                log.info("computing %d blocks on a local Dask cluster of %d workers", len(arguments), count)
                started.append(dask_runner(stack.enter_context(dask_client(count, None))))
            return started[0](function, arguments)

        yield run
