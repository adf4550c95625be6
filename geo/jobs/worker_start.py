"""What a local cluster's worker process does as it starts (a dask preload: ``dask_setup`` is called with the
worker, in the process's main thread)."""

from __future__ import annotations

import signal
import threading
import warnings
from typing import Any


def dask_setup(worker: Any) -> None:  # distributed's Worker; its type is not imported for this
    """Ctrl-C ends the worker without a word (the default action of SIGINT): a terminal sends it to every process
    of the job, and each worker printed its KeyboardInterrupt traceback; the job's own process says "Interrupted."
    and closes the cluster. And rasterio's warnings are not shown, as in that process (``geo.cli``)."""
    warnings.filterwarnings("ignore", category=UserWarning, module="rasterio")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
