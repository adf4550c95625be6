"""What a local cluster's worker process does as it starts (a dask preload: ``dask_setup`` is called with the
worker, in the process's main thread)."""

from __future__ import annotations

import logging
import signal
import threading
import warnings
from typing import Any


def dask_setup(worker: Any) -> None:  # distributed's Worker; its type is not imported for this
    """Ctrl-C is left to the job's own process: a terminal sends it to every process of the job, and each worker
    printed its KeyboardInterrupt traceback; a worker it ended (SIGINT's default action) was started again by its
    nanny as the job's process closed the cluster, and that one failed with a traceback of its own (the job's
    semaphores gone). The job's process says "Interrupted." and closes the cluster, its workers with it. A worker
    logs nothing (as it closed, "Received 'close-stream' ...; closing." at INFO, past the cluster's silence_logs,
    which holds only while the worker runs): what goes wrong in a block reaches the job's process as the block's
    error, and a worker lost is said there by its nanny. And rasterio's warnings are not shown, as in that process
    (``geo.cli``)."""
    warnings.filterwarnings("ignore", category=UserWarning, module="rasterio")
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
