"""GDAL settings for reading remote Cloud-Optimised GeoTIFFs, gathered and explained in one place.

Every raster open in the workbench goes through ``gdal_env()``. A ``GDAL_*``/``CPL_*``/``VSI_*`` variable
set in the user's environment wins over these defaults (``rasterio.Env`` options would otherwise shadow
it), so ``GDAL_HTTP_MAX_RETRY=10 geo run ...`` does what a GDAL user expects.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import rasterio

REMOTE_COG_DEFAULTS: dict[str, Any] = {
    # Do not list the remote "directory" on open: S3/HTTP listings are slow and useless for COGs.
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    # Only these extensions are opened over /vsicurl/ (stops GDAL probing for .aux.xml, .ovr, ...): COGs, and the
    # JPEG 2000 of SAFE products (the Copernicus Data Space serves those).
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.TIF,.tiff,.jp2,.JP2",
    # Fetch adjacent tiles in one ranged request.
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    # GDAL does not retry by default; archives do return transient 5xx/429. GDAL doubles the delay at
    # each retry but ignores Retry-After (measured with GDAL 3.10): geo.scenes.remote adds a second,
    # slower layer that honours it.
    "GDAL_HTTP_MAX_RETRY": "3",
    "GDAL_HTTP_RETRY_DELAY": "1",
    # A stalled connection must fail (and be retried), not hang the job.
    "GDAL_HTTP_CONNECTTIMEOUT": "10",
    "GDAL_HTTP_TIMEOUT": "60",
    # First request reads the header and the tile index of a typical S2 COG in one go.
    "GDAL_INGESTED_BYTES_AT_OPEN": "32000",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "VSI_CACHE": "TRUE",
}
# GDAL's block cache, bytes (rasterio sets it as a number): its default, 5 % of the machine's memory, would be
# held by a job's process; a large job reads by windows, each once. A GDAL_CACHEMAX of the user's wins.
CACHE_MAX_BYTES = 128 << 20


# GDAL's own HTTP retry chatter, logged by rasterio as warnings: a read that fails after all retries is
# reported once by geo.scenes.remote (scene, band, why), so these are shown only with -vv.
# A file shorter than its header says (truncated on the server) gets "Request for A-B failed with response_code=416".
_GDAL_HTTP_CHATTER = re.compile(r"Retrying again|HTTP (?:error|response) code|failed with response_code", re.IGNORECASE)
# The warper keeps a valid pixel resampled onto the nodata value off it (0 -> 1 for the scenes' nodata 0), as
# geo.scenes.separable does: what geo wants. GDAL 3.10.4 and later (rasterio 1.5's wheels) say so, as a warning,
# for every read that has one such pixel; shown only with -vv.
_GDAL_KEPT_OFF_NODATA = re.compile(r"has been changed to \S+ in the destination dataset to avoid being treated as NoData")
# Where rasterio logs GDAL's CPLE warnings: those raised while opening, and those of a failed block read or warp.
GDAL_LOGGERS = ("rasterio._env", "rasterio._err")


class GdalHttpChatter(logging.Filter):
    """Drops GDAL's per-request HTTP retry warnings, and its note on the pixels the warper keeps off nodata,
    unless debug logging is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        message = record.getMessage()
        return _GDAL_HTTP_CHATTER.search(message) is None and _GDAL_KEPT_OFF_NODATA.search(message) is None


def quiet_gdal_http_chatter() -> None:
    """Install the ``GdalHttpChatter`` filter on rasterio's GDAL loggers (once)."""
    for name in GDAL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, GdalHttpChatter) for f in logger.filters):
            logger.addFilter(GdalHttpChatter())


def gdal_env(**overrides: Any) -> rasterio.Env:
    """A ``rasterio.Env`` with the remote-COG defaults (the user's environment first), overridable per call."""
    quiet_gdal_http_chatter()
    options = {key: os.environ.get(key, value) for key, value in REMOTE_COG_DEFAULTS.items()}
    if "GDAL_CACHEMAX" not in os.environ:
        options["GDAL_CACHEMAX"] = CACHE_MAX_BYTES
    return rasterio.Env(**{**options, **overrides})
