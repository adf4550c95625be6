"""What every job does around its stages: report and time each step, and record the package versions."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata

Progress = Callable[[str], None]
PACKAGES = ("numpy", "scipy", "scikit-image", "rasterio", "shapely", "pyproj", "pystac", "geopandas")


class StepTimer:
    """Names each step to ``progress`` as it starts and keeps its seconds in ``timings``."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.timings: dict[str, float] = {}
        self._progress = progress

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self._progress:
            self._progress(name)
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    from rasterio import __gdal_version__

    versions["gdal"] = __gdal_version__
    return versions
