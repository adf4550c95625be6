"""Issue 17, screened in ``benchmarks/oscd_statistics.py``: ``local-fusion``'s statistic computed on a 20 m
grid — of the red-edge bands B05, B06, B07 and B8A at their own resolution, and of red itself — and fused
with the 10 m red statistic.

The 20 m grid is the label grid's pixels averaged 2 × 2 (over the valid ones). The red-edge bands are read
through the pipeline's reader onto the label grid, co-registered on red as every band (cubic from their
native 20 m grid, so the 2 × 2 average is again ~20 m of content); they are not normalised: the local fit's
own gain and offset absorb any global one. On that grid the fusion's windows (48 / 96 px) and footprints
(σ 1 / 2 px) are halved in pixels — the same metres — and the statistic is brought back onto the 10 m grid
bilinearly (pixel areas aligned). Fused with the 10 m red statistic by the minimum (a change must show at
both scales / in both bands, as ``local-fusion`` fuses) or by the mean (an extra member). The bands read
are kept in ``CACHE`` (``--fresh`` does not re-read them: delete it after a change to the reader).
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/oscd_red_edge.py is a part of other benchmarks, not one to run: run python benchmarks/oscd_statistics.py")

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from geo.change.local import PRECISION, _block_sums, robust_z
from geo.change.local_blocks import local_regression_residual

from benchmarks.oscd_directions import CityData
from benchmarks.oscd_fusion_variants import red_pair
from benchmarks.oscd_multivariate import SIGMAS, fused

if TYPE_CHECKING:
    from geo.align.stack import AlignedPair
    from geo.scenes.model import Scene

RED_EDGE = {"rededge1": "B05", "rededge2": "B06", "rededge3": "B07", "nir08": "B8A"}
CACHE = Path("/tmp/oscd_red_edge_cache")


@dataclasses.dataclass(frozen=True)
class RedEdge:
    before: np.ndarray  # (4, H, W) on the label grid, reflectance, in the order of RED_EDGE
    after: np.ndarray
    valid: np.ndarray


def read_bands(root: Path, name: str, bands: dict[str, str], coregistered: bool = True) -> AlignedPair:
    """``bands`` (name -> file suffix, red among them) of both dates on the label grid, the after
    co-registered on red as ``read_city`` does (or read as it is: ``coregistered`` False)."""
    from geo.align.stack import AlignedPair, read_aligned
    from geo.eval.oscd import JOB, L1C_SCALE, _band_file, load_city
    from geo.jobs.optical_kit import local_coreg
    from geo.scenes.model import Asset

    city = load_city(root, name)

    def with_assets(scene: Scene, folder: Path) -> Scene:
        assets = {k: Asset(k, str(_band_file(folder, suffix)), L1C_SCALE, 0.0, 0) for k, suffix in bands.items()}
        return dataclasses.replace(scene, assets=MappingProxyType(assets))
    before, after = with_assets(city.before, city.folder / "imgs_1"), with_assets(city.after, city.folder / "imgs_2")
    if not coregistered:
        from geo.scenes.read import read_stack
        return AlignedPair(read_stack(before, tuple(bands), city.grid), read_stack(after, tuple(bands), city.grid), None)
    return read_aligned(before, after, tuple(bands), city.grid, JOB.coreg_band, JOB.min_coreg_quality,
                        local=local_coreg(JOB))


def read_red_edge(root: Path, name: str) -> RedEdge:
    """The four bands of both dates on the label grid, the after co-registered as ``read_city`` does."""
    path = CACHE / f"{name}.npz"
    if path.exists():
        d = np.load(path)
        return RedEdge(d["before"], d["after"], d["valid"])
    pair = read_bands(root, name, {"red": "B04", **RED_EDGE})
    out = RedEdge(pair.before.data[1:], pair.after.data[1:], pair.before.valid & pair.after.valid)
    CACHE.mkdir(exist_ok=True)
    np.savez(path, before=out.before, after=out.after, valid=out.valid)
    return out


def _halve(image: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2 × 2 mean over the valid pixels (odd edges: the pixels there are), and where any was valid."""
    count = _block_sums(valid.astype(np.float64), 2)
    total = _block_sums(np.where(valid, np.nan_to_num(image), 0.0), 2)
    return total / np.maximum(count, 1), count > 0


def _double(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear onto the 10 m grid, pixel areas aligned (``grid_mode``), cropped to ``shape``."""
    from scipy import ndimage as ndi
    up = ndi.zoom(image, 2, order=1, mode="nearest", grid_mode=True)
    return np.asarray(up[: shape[0], : shape[1]])


def fusion_at_20m(before: np.ndarray, after: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``local-fusion``'s statistic (minimum over windows × footprints of the two directions' mean |z|) of
    one band on the 2 × 2 grid, windows and footprints halved in pixels, back on the 10 m grid."""
    x, small_valid = _halve(before, valid)
    y, _ = _halve(after, valid)

    def z(a: np.ndarray, b: np.ndarray, window: int) -> np.ndarray:
        return np.nan_to_num(robust_z(local_regression_residual(a, b, small_valid, window), small_valid, PRECISION))
    small = fused(small_valid, lambda window: (z(x, y, window // 2), z(y, x, window // 2)),
                  tuple(s / 2 for s in SIGMAS))
    return np.where(valid, _double(small, valid.shape), 0.0)


@dataclasses.dataclass(frozen=True)
class CityExtra(CityData):
    """A city with more bands than the harness's six, kept apart from its stacks: the scoring's region step
    reads ``after − before`` of every band in them, as the job reads its own six."""

    extra: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # name -> (before, after, valid)


def with_bands(city: CityData, bands: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> CityExtra:
    known = city.extra if isinstance(city, CityExtra) else {}
    return CityExtra(city.before, city.after, city.valid, city.truth, city.bands, {**known, **bands})


def with_red_edge(root: Path, name: str, city: CityData) -> CityExtra:
    """``city`` with the four red-edge bands."""
    bands = read_red_edge(root, name)
    return with_bands(city, {b: (bands.before[i], bands.after[i], bands.valid) for i, b in enumerate(RED_EDGE)})


def at_20m(band: str) -> Callable[[CityData], np.ndarray]:
    def statistic(city: CityData) -> np.ndarray:
        if band in city.bands:
            i = city.bands.index(band)
            before, after, valid = city.before[i], city.after[i], city.valid
        else:
            assert isinstance(city, CityExtra)
            before, after, band_valid = city.extra[band]
            valid = city.valid & band_valid
        return fusion_at_20m(before.astype(np.float64), after.astype(np.float64), valid)
    return statistic


def red_edge_mean(city: CityData) -> np.ndarray:
    return np.asarray(np.mean([at_20m(b)(city) for b in RED_EDGE], axis=0))


def red_10m(city: CityData) -> np.ndarray:
    """``local-fusion``'s statistic: the 10 m red one, computed here again (no memo: each candidate's seconds
    are its own)."""
    return fused(city.valid, lambda window: red_pair(city, window))


MIN_SCALE = 1.25  # the minimum of two statistics sits lower: × 1.25 keeps its levels inside the shared grid


def fused_with(other: Callable[[CityData], np.ndarray], how: str) -> Callable[[CityData], np.ndarray]:
    """The 10 m red fusion and ``other`` combined by their per-pixel ``min`` (× ``MIN_SCALE``) or ``mean``."""
    def statistic(city: CityData) -> np.ndarray:
        a, b = red_10m(city), other(city)
        return MIN_SCALE * np.minimum(a, b) if how == "min" else np.asarray(0.5 * (a + b))
    return statistic


red_20m, b05 = at_20m("red"), at_20m("rededge1")
CANDIDATES: dict[str, Callable[[CityData], np.ndarray]] = {
    "20 m: red fusion alone": red_20m,
    "20 m: min of red 10 m and red 20 m (x 1.25)": fused_with(red_20m, "min"),
    "20 m: mean of red 10 m and red 20 m": fused_with(red_20m, "mean"),
    "20 m: red-edge B05 alone": b05,
    "20 m: min of red 10 m and B05 (x 1.25)": fused_with(b05, "min"),
    "20 m: mean of red 10 m and B05": fused_with(b05, "mean"),
    "20 m: min of red 10 m and mean(red-edge) (x 1.25)": fused_with(red_edge_mean, "min"),
    "20 m: mean of red 10 m and mean(red-edge)": fused_with(red_edge_mean, "mean"),
}
