"""GDAL settings for reading remote Cloud-Optimised GeoTIFFs, gathered and explained in one place."""

from __future__ import annotations

from typing import Any

import rasterio

REMOTE_COG_DEFAULTS: dict[str, Any] = {
    # Do not list the remote "directory" on open: S3/HTTP listings are slow and useless for COGs.
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    # Only these extensions are opened over /vsicurl/ (stops GDAL probing for .aux.xml, .ovr, ...).
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.TIF,.tiff",
    # Fetch adjacent tiles in one ranged request.
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    # GDAL does not retry by default; archives do return transient 5xx/429.
    "GDAL_HTTP_MAX_RETRY": "3",
    "GDAL_HTTP_RETRY_DELAY": "1",
    # First request reads the header and the tile index of a typical S2 COG in one go.
    "GDAL_INGESTED_BYTES_AT_OPEN": "32000",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "VSI_CACHE": "TRUE",
}


def gdal_env(**overrides: Any) -> rasterio.Env:
    """A ``rasterio.Env`` with the remote-COG defaults, overridable per call."""
    return rasterio.Env(**{**REMOTE_COG_DEFAULTS, **overrides})
