"""How much of the AOI a scene shows: clear, cloud and nodata fractions *inside the AOI*.

A tile's ``eo:cloud_cover`` describes 110 km x 110 km; a port of 5 km can be clear under a 90 % cloudy
tile and hidden under a 5 % one. For Sentinel-2 L2A the scene classification (SCL, 20 m) is read over the
AOI's window only — a few kilobytes — and its classes counted (masked classes per DESIGN). SAR sees through
cloud, and scenes without SCL are judged by footprint coverage alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasterio.enums import Resampling

from geo.aoi import AOI
from geo.errors import SceneError
from geo.geometry import WGS84, reproject
from geo.scenes.cache import SceneCache
from geo.scenes.model import SCL_ASSET, SCL_NODATA, SCL_SNOW, Scene, Sensor, tile_cloud_cover
from geo.scenes.read import cloud_buffer_px, padded, read_window, scl_clear

log = logging.getLogger(__name__)

SCL_RESOLUTION = 20.0
COVER_THREADS = 4


@dataclass(frozen=True)
class AoiCover:
    """Fractions of the AOI's pixels: ``clear + cloud + nodata = 1`` (cloud is None when unknown).
    ``method`` is ``scl`` (counted from the scene classification), ``sar`` (no cloud for radar;
    footprint coverage) or ``footprint`` (optical without SCL: coverage only, clouds unknown)."""

    clear: float
    cloud: float | None
    nodata: float
    method: str
    error: str | None = None
    snow: float | None = None  # of the AOI, clear pixels under snow or ice (SCL class 11); None: not known

    @property
    def usable(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        out = {"clear_fraction": r(self.clear), "cloud_fraction": r(self.cloud),
               "nodata_fraction": r(self.nodata), "cover_method": self.method}
        if self.snow is not None:
            out["snow_fraction"] = r(self.snow)
        if self.error:
            out["error"] = self.error
        return out


def footprint_coverage(scene: Scene, aoi: AOI) -> float:
    """Share of the AOI's area inside the scene's footprint (in the AOI's UTM zone)."""
    crs = aoi.utm_grid().crs.to_string()
    area = aoi.projected(crs)
    inside = reproject(scene.geometry, WGS84, crs).intersection(area)
    # capped: an AOI wholly inside can come out a hair above 1, and its "nodata" 1 - 1.0000000000000002 as -0.0
    return min(1.0, float(inside.area / area.area)) if area.area else 0.0


def scl_cover(scene: Scene, aoi: AOI, cache: SceneCache | None = None) -> AoiCover:
    """Count the SCL classes of ``scene`` inside ``aoi`` (nearest-neighbour onto a 20 m AOI grid): cloud is the
    masked classes and the pixels within ``CLOUD_BUFFER_M`` of a cloud, cirrus or shadow, as a job masks them."""
    grid = aoi.utm_grid(SCL_RESOLUTION)
    inside = aoi.pixel_mask(grid)
    if not inside.any():  # an AOI smaller than a pixel: judge the pixel under it
        inside = np.ones(grid.shape, bool)
    pad = cloud_buffer_px(grid)  # the pixels near a cloud are masked as a job masks them (geo.scenes.read)
    wide, _ = padded(grid, None, pad)
    classes = np.full(wide.shape, SCL_NODATA, dtype=np.uint8)
    for tile in scene.parts or (scene,):  # a pass's tiles (geo.scenes.mosaic): the first observation of a pixel
        scl = read_window(tile.id, tile.asset(SCL_ASSET), wide, Resampling.nearest, cache)
        fill = (classes == SCL_NODATA) & ~np.ma.getmaskarray(scl)
        classes[fill] = scl.data[fill]
    clear = scl_clear(classes, classes != SCL_NODATA, pad)
    classes = classes[pad:-pad, pad:-pad]
    observed = inside & (classes != SCL_NODATA)
    masked = observed & ~clear
    total = float(inside.sum())
    nodata = 1.0 - float(observed.sum()) / total
    cloud = float(masked.sum()) / total
    snow = float((observed & clear & (classes == SCL_SNOW)).sum()) / total
    return AoiCover(clear=max(0.0, 1.0 - nodata - cloud), cloud=cloud, nodata=nodata, method="scl", snow=snow)


def aoi_cover(scene: Scene, aoi: AOI, cache: SceneCache | None = None) -> AoiCover:
    if scene.sensor is Sensor.S2 and SCL_ASSET in scene.assets:
        return scl_cover(scene, aoi, cache)
    covered = footprint_coverage(scene, aoi)
    if scene.sensor is Sensor.S1:
        return AoiCover(clear=covered, cloud=0.0, nodata=1.0 - covered, method="sar")
    return AoiCover(clear=covered, cloud=None, nodata=1.0 - covered, method="footprint")


def _safe_cover(scene: Scene, aoi: AOI, cache: SceneCache | None) -> AoiCover:
    try:
        return aoi_cover(scene, aoi, cache)
    except SceneError as exc:
        # One broken item must not hide the other candidates; the failure is reported with the scene, by the
        # caller (the pair's warnings, the search table), once.
        log.info("cannot judge cloud over the AOI for %s: %s", scene.id, exc)
        return AoiCover(clear=0.0, cloud=None, nodata=1.0, method="error", error=str(exc))


def aoi_covers(scenes: Sequence[Scene], aoi: AOI, cache: SceneCache | None = None) -> list[AoiCover]:
    """``aoi_cover`` for each scene (SCL windows read concurrently); a scene whose SCL cannot be read
    gets a cover with ``error`` set instead of failing the others."""
    if len(scenes) <= 1:
        return [_safe_cover(s, aoi, cache) for s in scenes]
    with ThreadPoolExecutor(max_workers=min(COVER_THREADS, len(scenes))) as pool:
        return list(pool.map(lambda s: _safe_cover(s, aoi, cache), scenes))


def needs_scl(scene: Scene) -> bool:
    """Whether judging ``scene`` reads pixels (its SCL window); SAR and SCL-less scenes need none."""
    return scene.sensor is Sensor.S2 and SCL_ASSET in scene.assets


def tile_cloud(scene: Scene) -> float:
    """The item's own ``eo:cloud_cover`` (whole tile, percent); 100 when absent or not a number."""
    percent = tile_cloud_cover(scene.properties)
    return 100.0 if percent is None else percent


def most_promising(scenes: Sequence[Scene], limit: int) -> tuple[list[Scene], list[Scene]]:
    """(scenes to judge, scenes left unjudged): judging reads each scene's SCL window, so at most ``limit``
    scenes that need one are judged, those with the lowest tile ``eo:cloud_cover`` first (then the
    earliest); scenes judged without a read are always kept. Both lists keep the input order."""
    costly = sorted((s for s in scenes if needs_scl(s)), key=lambda s: (tile_cloud(s), s.datetime, s.id))
    left = {id(s) for s in costly[limit:]}
    return [s for s in scenes if id(s) not in left], [s for s in scenes if id(s) in left]


def rank_by_clear(scenes: Sequence[Scene], covers: Sequence[AoiCover]) -> list[tuple[Scene, AoiCover]]:
    """Scenes by clear fraction inside the AOI (best first), then by date."""
    return sorted(zip(scenes, covers), key=lambda sc: (-sc[1].clear, sc[0].datetime))
