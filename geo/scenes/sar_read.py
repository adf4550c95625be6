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

# Each co-polarisation with its cross-polarisation (IW over the sea is VV+VH): Sentinel-1 acquires VV(+VH)
# or HH(+HV) (polar seas, some coasts), never cross-pol alone. HH plays VV's part: ships, water and the land
# mask are read in co-pol.
SAR_FAMILIES = (("vv", "vh"), ("hh", "hv"))
# Linear power (RTC gamma0) and DN are never negative; dB is mostly so (the sea lies near -20 dB). A few
# negative values are bilinear blends with a negative nodata fill the file does not declare (e.g. -9999).
DB_SHARE = 0.25  # share of negative values (fills left out) above which a band is taken to be in dB
FILL_FLOOR = -1000.0  # below this, a value is a nodata fill, not a backscatter figure
DB_UNITS = ("db", "decibel", "decibels")  # raster:bands units saying a band is in dB (made power when read)
OPTICAL_BANDS = ("blue", "green", "red", "nir", "swir16")  # what the optical vessel detector reads


@dataclass(frozen=True)
class SceneBands:
    scene: Scene
    sensor: Sensor
    bands: dict[str, np.ndarray]  # SAR: linear intensity; optical: reflectance; NaN where invalid
    valid: np.ndarray
    scl: np.ndarray | None
    quantity: str = ""  # SAR: what the file's pixels are (``geo.scenes.read.sar_quantity``); "" when none was read


def _readable(scene: Scene, key: str) -> bool:
    asset = scene.assets.get(key)
    return asset is not None and asset.problem is None


def sar_polarisations(scene: Scene) -> tuple[str, ...]:
    """The polarisations read of a Sentinel-1 scene: its first co-polarisation (VV, else HH) and that one's
    cross-polarisation when the scene has it; empty without a readable co-polarisation."""
    for co, cross in SAR_FAMILIES:
        if _readable(scene, co):
            return (co, cross) if _readable(scene, cross) else (co,)
    return ()


def shared_polarisations(scenes: Sequence[Scene]) -> tuple[str, ...]:
    """The polarisations every one of ``scenes`` has (``sar_polarisations``): a VV+VH scene and a VV-only one
    share VV; VV+VH and HH+HV share none (they are not comparable)."""
    common = sar_polarisations(scenes[0])
    for scene in scenes[1:]:
        common = tuple(c for c in common if c in sar_polarisations(scene))
    return common


def lacking_assets(scene: Scene) -> str | None:
    """What ``scene`` lacks that its sensor's reader reads (an asset absent, or at an href its archive does
    not serve), or None when it has it all."""
    if scene.sensor is Sensor.S1:
        if sar_polarisations(scene):
            return None
        cross = [c for _, c in SAR_FAMILIES if _readable(scene, c)]
        return f"only cross-pol {'/'.join(cross)} (read in co-pol: vv or hh)" if cross else "no vv or hh asset"
    lacking = [b for b in OPTICAL_BANDS if not _readable(scene, b)]
    return f"no readable {', '.join(lacking)} asset" if lacking else None


def scene_sensor(scene: Scene) -> Sensor | None:
    """The reader a scene takes: its sensor (``Scene.sensor``) when it holds the assets that reader needs (a
    polarisation; the optical bands), else None (``lacking_assets`` says why)."""
    return None if lacking_assets(scene) else scene.sensor


def _nothing_valid(scene: Scene, sensor: Sensor, names: Sequence[str], grid: Grid) -> SceneBands:
    empty = np.full(grid.shape, np.nan, np.float32)
    return SceneBands(scene, sensor, {n: empty.copy() for n in names}, np.zeros(grid.shape, bool), None)


def _check_not_db(scene: Scene, polarisations: Sequence[str], data: np.ndarray) -> None:
    """Refuse backscatter in dB: read as power, most of it would be invalid (negative) and the rest wrong."""
    for name, band in zip(polarisations, data):
        figures = band[np.isfinite(band) & (band > FILL_FLOOR)]
        negative = float((figures < 0).mean()) if figures.size else 0.0
        if negative > DB_SHARE:
            raise SceneError(
                f"scene {scene.id}: asset {name!r} has negative values ({negative:.0%} of its pixels, median "
                f"{float(np.median(figures)):.1f}), which intensity cannot have: it looks like backscatter in dB; "
                "geo reads linear power (RTC gamma0) or GRD DN (convert with 10^(dB/10), or say so in the "
                "item: raster:bands unit 'dB')")


def _read_sar(scene: Scene, grid: Grid, polarisations: Sequence[str]) -> SceneBands:
    try:
        stack = read_sar(scene, grid, polarisations)  # bilinear: cubic overshoots below zero
    except EmptyReadError:
        return _nothing_valid(scene, Sensor.S1, polarisations, grid)
    data = stack.data
    for index, name in enumerate(stack.bands):  # the bands the item says are in dB, as power
        asset = scene.assets.get(name)
        if asset is not None and (asset.unit or "").lower() in DB_UNITS:
            data[index] = np.power(np.float32(10.0), data[index] / np.float32(10.0))
    _check_not_db(scene, stack.bands, data)
    # Detectors work on intensity. RTC is linear power already; GRD DN are amplitudes, whose square is
    # proportional to intensity (the tests are scale-free, so no calibration is needed).
    data = data**2 if stack.quantity == "dn" else data
    valid = stack.valid & np.all(data > 0, axis=0)
    data[:, ~valid] = np.nan
    return SceneBands(scene, Sensor.S1, dict(zip(stack.bands, data)), valid, None, stack.quantity)


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


def read_scene(scene: Scene, grid: Grid, polarisations: Sequence[str] = ()) -> SceneBands:
    """The bands of ``scene``'s sensor on ``grid`` (see the module doc); Sentinel-1: ``polarisations`` (those a
    pair shares), else ``sar_polarisations``."""
    if (why := lacking_assets(scene)) is not None:
        raise SceneError(f"scene {scene.id}: {why}")
    check_overlap(scene, grid)
    if scene.sensor is Sensor.S1:
        return _read_sar(scene, grid, tuple(polarisations) or sar_polarisations(scene))
    return _read_optical(scene, grid)
