"""A cheap check that reflectance read from an item is plausible: a visible band of which a share of the pixels is
brighter than any surface (above 1.5: fresh snow and cloud tops reach ~1.2) was scaled wrongly, most often by an
item whose ``raster:bands`` scale is not that of its files (``rio stac`` copies GDAL's default 1.0, which geo
takes as Sentinel-2's DN rule, DN / 10000, so exports of reflectance x 65535 read 6.5 times too bright and
``geo vessels`` saw no water and no ship, silently).

The statistic is the share of a band's valid pixels above 1.5, not its median: a port's scene is mostly water, which
even 6.5 times too bright stays below 0.4, while its land and quays go far above 1.5. Measured on the visible bands
(``tests/flows/test_reflectance_scale_warning.py``): the six sen2ships ports read so, 0.7-5 % in each port's
brightest band (0.07-5 % over all bands); read with their true scale, none; the OSCD cities (L1C, DN / 10000) at
most 0.006 % (saturated or specular pixels). Warned from 0.5 %; once per scene and asset in a process.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from geo.scenes.model import Scene

log = logging.getLogger(__name__)

VISIBLE = ("blue", "green", "red")
BRIGHTEST = 1.5  # no surface's reflectance in the visible reaches it (fresh snow, cloud tops: ~1.2)
MAX_SHARE = 0.005  # of a band's valid pixels above BRIGHTEST; a correctly scaled scene has ~0 (see above)
SAMPLE_PX = 1_000_000  # a larger grid (a block-read stack on disk) is judged on a regular sample of about this many
_warned: set[tuple[str, str]] = set()  # (scene id, band) warned of in this process: a job reads a scene more than once


def check_reflectance(scene: Scene, bands: Sequence[str], data: np.ndarray, valid: np.ndarray) -> None:
    """Warn (log) when the visible ``bands`` of ``scene`` read as ``data`` (band, row, col; NaN where not
    ``valid``) hold implausibly bright reflectance, naming each such asset, what was seen and the likely cause."""
    names = [(index, name) for index, name in enumerate(bands) if name in VISIBLE and (scene.id, name) not in _warned]
    if not names:
        return
    step = max(1, math.ceil(math.sqrt(valid.size / SAMPLE_PX)))
    ok = np.asarray(valid[::step, ::step])
    if not ok.any():
        return
    found = []
    for index, name in names:
        values = np.asarray(data[index, ::step, ::step])[ok]
        share = float(np.count_nonzero(values > BRIGHTEST)) / values.size
        if share >= MAX_SHARE:
            found.append((name, share, float(np.percentile(values, 99)), float(np.median(values))))
    if not found:
        return
    _warned.update((scene.id, name) for name, *_ in found)
    log.warning("%s", implausible_words(scene, found))


def _tile_asset(scene: Scene, name: str) -> tuple[str, float, float]:
    """(the key, scale and offset) of the asset read for band ``name`` (a mosaic's: its first tile's)."""
    tile = next((t for t in scene.parts or (scene,) if name in t.assets), scene)
    asset = tile.assets.get(name)
    return (asset.key, asset.scale, asset.offset) if asset is not None else (name, 1.0, 0.0)


def _rule(scale: float, offset: float) -> str:
    words = f"DN × {scale:.6g}"
    return words if not offset else f"{words} {'−' if offset < 0 else '+'} {abs(offset):.6g}"


def implausible_words(scene: Scene, found: Sequence[tuple[str, float, float, float]]) -> str:
    """``scene X: reflectance brighter than snow or cloud: asset 'B04' (red) above 1.5 on 1.2% of its pixels ...``."""
    seen = []
    for name, share, p99, median in found:
        key = _tile_asset(scene, name)[0]
        seen.append(f"asset {key!r} ({name}) above {BRIGHTEST:g} on {share:.1%} of its pixels (99th percentile "
                    f"{p99:.2f}, median {median:.2f})")
    _, scale, offset = _tile_asset(scene, found[0][0])
    return (f"scene {scene.id}: reflectance brighter than snow or cloud: {'; '.join(seen)}, read as "
            f"{_rule(scale, offset)}: its scale is likely wrong. Check the item's raster:bands scale/offset (given "
            "none, or GDAL's default 1.0 as rio stac writes, the files are taken as Sentinel-2 DN = 10000 × "
            "reflectance, + 1000 since baseline 04.00) and give the files' own, e.g. 1/65535 for exports of "
            "reflectance × 65535")
