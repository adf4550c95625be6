"""``geo.scenes.gdal_env``: which of GDAL's warnings reach a user."""

from __future__ import annotations

import logging

import pytest

from geo.scenes.gdal_env import quiet_gdal_http_chatter

# GDAL 3.10.4 and later (rasterio 1.5's wheels, Python 3.12+) say this for every read whose resampling lands a
# valid pixel on the nodata value; `geo demo` printed it twice on Python 3.13.
KEPT_OFF_NODATA = ("CPLE_AppDefined:Value 0 in the source dataset has been changed to 1 in the destination dataset "
                   "to avoid being treated as NoData. To avoid this, select a different NoData value for the "
                   "destination dataset.")
OTHER = "CPLE_AppDefined:TIFFReadDirectory:Sum of Photometric type-related color channels and ExtraSamples doesn't match"


@pytest.mark.parametrize("level, shown", [(logging.WARNING, {OTHER}), (logging.DEBUG, {OTHER, KEPT_OFF_NODATA})],
                         ids=["default", "-vv"])
def test_the_warpers_note_on_pixels_kept_off_nodata_is_shown_only_when_debugging(caplog, level, shown):
    quiet_gdal_http_chatter()
    with caplog.at_level(level):
        for name in ("rasterio._err", "rasterio._env"):
            logging.getLogger(name).warning(KEPT_OFF_NODATA)
            logging.getLogger(name).warning(OTHER)
    assert {record.getMessage() for record in caplog.records if record.name.startswith("rasterio")} == shown
