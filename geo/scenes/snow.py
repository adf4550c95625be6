"""Snow and ice that lie on one date of a pair only: a season's change, not the activity a claim predicts.

A scene taken after the first snow (Khabarovsk, Blagoveshchensk and Sergeevka lie under it from November to
March, the Amur and the bays of Vladivostok freeze) compared with one taken before it finds snow over part of
the area as a "new bright surface" that supports a claim, and snow over all of it is taken in by the local
fits' gain: "no evidence found" on ground nobody saw. Those pixels are left out of the comparison, as cloud
is, and the share left out is said. Snow on both dates is compared; what clears snow (a camp dug into it,
ploughed ground) is snow on one date only, so it is left out with the season: a limit, said in the README.

Snow is found from the bands themselves, so an L1C scene without SCL is judged as an L2A one: the normalised
difference snow index (green against SWIR 1.6 µm, which snow and ice absorb) at least 0.4, with NIR
reflectance at least 0.11 (water has a high index too, but is dark in NIR): the test of Hall et al. (1995)
and Dozier (1989) that Sen2Cor's snow class starts from; and green reflectance at least 0.2, since snow is
bright (the wet, hazy edges of the Loire in the demo's L1C scenes pass the first two at green ~0.1); and NIR
at least 0.75 of green (surf foam, the other bright surface dark in the SWIR, is darker in NIR). Snow in deep
shadow or under a forest canopy is darker than that and is not found. On the seven OSCD cities' 14 scenes
and the six sen2ships ports none is found, but for 104 pixels of Durban's surf. The 10 m pixels along a snow
line are mixed, so the pixels left out are grown by ``EDGE_M``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from geo.aoi import AOI
from geo.scenes.read import Stack
from geo.scenes.scratch import is_scratch, scratch_array

NDSI_MIN = 0.4
NIR_MIN = 0.11
GREEN_MIN = 0.2  # snow is bright: hazy water edges of L1C scenes have an index over 0.4 at green ~0.1 (Nantes)
# Snow is nearly as bright in NIR as in green (0.8-0.95 of it); surf foam, which passes the index, is darker in NIR
# (0.55-0.7: Durban's sen2ships scene, August)
NIR_GREEN_MIN = 0.75
EDGE_M = 20.0
WHY = "snow or ice on one date only, a season's change"
# Snow lies in fields: what passes the test narrower than 3 pixels is a bright roof or car whose 10 m green meets
# the 20 m SWIR of its darker surroundings (the demo's Nantes in summer has a dozen), not snow
OPENING = np.ones((3, 3), bool)
STRIP_ROWS = 1024  # rows of a large grid's stacks (on disk) looked at at once


def snow(stack: Stack, rows: slice) -> np.ndarray:
    """Where ``stack`` shows snow or ice in ``rows`` (its valid pixels only)."""
    green, swir, nir = (stack.band(name)[rows] for name in ("green", "swir16", "nir"))
    with np.errstate(invalid="ignore", divide="ignore"):
        ndsi = (green - swir) / (green + swir)
    found = (ndsi >= NDSI_MIN) & (nir >= NIR_MIN) & (green >= GREEN_MIN) & (nir >= NIR_GREEN_MIN * green)
    found &= stack.valid[rows]
    opened: np.ndarray = ndimage.binary_opening(found, OPENING)
    return opened


def can_judge(stack: Stack) -> bool:
    """Whether ``stack`` has the bands the snow test reads (an optical stack of green, NIR and SWIR 1.6)."""
    return {"green", "swir16", "nir"} <= set(stack.bands)


def snow_on_pair(before: Stack, after: Stack, aoi: AOI | None = None,
                 strip_rows: int = STRIP_ROWS) -> tuple[np.ndarray, dict[str, float]]:
    """Pixels valid on both dates with snow or ice on one of them only, grown by ``EDGE_M`` (a boolean mask of the
    grid), and the manifest's ``snow``: the share of ``aoi`` (None: the grid) with snow or ice on each date (of its
    pixels valid on that date: which date the season's change came with) and the test's levels. One pass in strips
    of rows, each date's snow found once, so a large grid's stacks (on disk) are read a strip at a time."""
    grid = before.grid
    rows_total = grid.height
    edge = max(1, round(EDGE_M / min(abs(v) for v in grid.pixel_metres())))
    grow = ndimage.generate_binary_structure(2, 1)
    out = scratch_array(before.valid.shape, bool) if is_scratch(before.valid) else np.zeros(before.valid.shape, bool)
    counts = np.zeros((2, 2), dtype=np.int64)
    for start in range(0, rows_total, strip_rows):
        stop = min(start + strip_rows, rows_total)
        lo, hi = max(0, start - edge - 2), min(rows_total, stop + edge + 2)  # (and the opening's reach)
        rows, core = slice(lo, hi), slice(start - lo, stop - lo)
        snowy = [snow(stack, rows) for stack in (before, after)]
        inside = (aoi.pixel_mask(grid.window(start, 0, stop - start, grid.width)) if aoi is not None
                  else np.ones((stop - start, grid.width), bool))
        for i, stack in enumerate((before, after)):
            counts[i] += ((snowy[i][core] & inside).sum(), (stack.valid[start:stop] & inside).sum())
        both = before.valid[rows] & after.valid[rows]
        differs = (snowy[0] != snowy[1]) & both
        if differs.any():
            grown = ndimage.binary_dilation(differs, grow, iterations=edge)
            out[start:stop] = (grown & both)[core]
    shares = {role: round(float(found / max(seen, 1)), 4) for role, (found, seen) in zip(("before", "after"), counts)}
    return out, {**shares, "ndsi_min": NDSI_MIN, "nir_min": NIR_MIN, "green_min": GREEN_MIN,
                 "nir_green_min": NIR_GREEN_MIN, "edge_m": EDGE_M}
