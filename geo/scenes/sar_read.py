"""The bands a scene-by-scene detector reads, on an AOI's grid: Sentinel-1 VV/VH (or HH/HV) intensity for the
SAR change kit (``geo.jobs.sar_kit``) and the vessel job, Sentinel-2 reflectance with its SCL for the optical
vessel detector.

Reads are windowed through ``geo.scenes.read`` (cached, retried, Planetary Computer URLs signed). A scene with
no valid pixel over the grid comes back all invalid (a clouded date is a fact of a series, not an error);
unreadable files raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rasterio.enums import Resampling

from geo.errors import EmptyReadError, SceneError
from geo.grid import Grid
from geo.scenes.model import SCL_ASSET, SCL_MASKED, Scene, Sensor
from geo.scenes.read import check_overlap, read_bands, read_sar, read_stack

SAR_CHANNELS = ("vv", "vh", "hh", "hv")  # co- and cross-polarised; IW over the sea is VV+VH
OPTICAL_BANDS = ("blue", "green", "red", "nir", "swir16")  # what the optical vessel detector reads


@dataclass(frozen=True)
class SceneBands:
    scene: Scene
    sensor: Sensor
    bands: dict[str, np.ndarray]  # SAR: linear intensity; optical: reflectance; NaN where invalid
    valid: np.ndarray
    scl: np.ndarray | None


def _readable(scene: Scene, key: str) -> bool:
    asset = scene.assets.get(key)
    return asset is not None and asset.problem is None


def lacking_assets(scene: Scene) -> str | None:
    """What ``scene`` lacks that its sensor's reader reads (an asset absent, or at an href its archive does
    not serve), or None when it has it all."""
    if scene.sensor is Sensor.S1:
        return None if any(_readable(scene, c) for c in SAR_CHANNELS) else f"no {'/'.join(SAR_CHANNELS)} asset"
    lacking = [b for b in OPTICAL_BANDS if not _readable(scene, b)]
    return f"no readable {', '.join(lacking)} asset" if lacking else None


def scene_sensor(scene: Scene) -> Sensor | None:
    """The reader a scene takes: its sensor (``Scene.sensor``) when it holds the assets that reader needs (a
    polarisation; the optical bands), else None (``lacking_assets`` says why)."""
    return None if lacking_assets(scene) else scene.sensor


def _nothing_valid(scene: Scene, sensor: Sensor, names: Sequence[str], grid: Grid) -> SceneBands:
    empty = np.full(grid.shape, np.nan, np.float32)
    return SceneBands(scene, sensor, {n: empty.copy() for n in names}, np.zeros(grid.shape, bool), None)


def _read_sar(scene: Scene, grid: Grid) -> SceneBands:
    polarisations = [c for c in SAR_CHANNELS if _readable(scene, c)][:2]
    try:
        stack = read_sar(scene, grid, polarisations)  # bilinear: cubic overshoots below zero
    except EmptyReadError:
        return _nothing_valid(scene, Sensor.S1, polarisations, grid)
    # Detectors work on intensity. RTC is linear power already; GRD DN are amplitudes, whose square is
    # proportional to intensity (the tests are scale-free, so no calibration is needed).
    data = stack.data**2 if stack.quantity == "dn" else stack.data
    valid = stack.valid & np.all(data > 0, axis=0)
    data[:, ~valid] = np.nan
    return SceneBands(scene, Sensor.S1, dict(zip(stack.bands, data)), valid, None)


def _read_optical(scene: Scene, grid: Grid) -> SceneBands:
    try:
        stack = read_stack(scene, OPTICAL_BANDS, grid, Resampling.bilinear, cloud_mask=False)
    except EmptyReadError:
        return _nothing_valid(scene, Sensor.S2, OPTICAL_BANDS, grid)
    valid, scl = stack.valid.copy(), None
    if SCL_ASSET in scene.assets:
        values, ok, _ = read_bands(scene, [SCL_ASSET], grid, Resampling.nearest, cloud_mask=False)  # a pass's tiles too
        scl = np.where(ok, values[0], 0).astype(np.uint8)
        valid &= ok & ~np.isin(scl, SCL_MASKED)
    data = stack.data
    data[:, ~valid] = np.nan
    return SceneBands(scene, Sensor.S2, dict(zip(stack.bands, data)), valid, scl)


def read_scene(scene: Scene, grid: Grid) -> SceneBands:
    """The bands of ``scene``'s sensor on ``grid`` (see the module doc)."""
    sensor = scene_sensor(scene)
    if sensor is None:
        raise SceneError(f"scene {scene.id}: neither Sentinel-1 (vv/vh assets) nor Sentinel-2 (green/nir assets)")
    check_overlap(scene, grid)
    return _read_sar(scene, grid) if sensor is Sensor.S1 else _read_optical(scene, grid)
