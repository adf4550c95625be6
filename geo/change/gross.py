"""Changes wider than the local fits' window: kept out of the fits that would explain them away.

The local regression (``geo.change.local``) predicts each date from the other over a ~0.5-1 km window, with
a second fit that leaves out the first one's outliers: a change up to about half a window is left out and
stands out whole. A wider one (a flooded plain, a cleared or burnt tract, a camp of a kilometre or more)
fills the windows over it, which fit it as if it were the ground: with a sensor's noise a planted 1 km
square was found over half its area, a 2 km one as a rim (``benchmarks/large_changes.py``).

So before the local fits, pixels far off the *global* line (``SCREEN_Z`` robust SDs, either date predicted
from the other) where they fill at least half of a ``SCREEN_BOX_PX`` square around them weigh no local fit; a
window all inside such a region falls back to the global line, against which it stands out. A change under
~23 px square never fills half the square, so small changes are decided as before (on the OSCD cities, whose
changes are small, every city's F1 is the same: ``geo eval oscd``). The screen reads
``SCREEN_REACH_PX`` around a pixel: a block's halo includes it, so blocks give the whole-image numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from geo.change.local import Line, scaled

SCREEN_Z = 6.0
SCREEN_BOX_PX = 33
SCREEN_SHARE = 0.5  # of the square's pixels (1,089: never exactly half)
SCREEN_REACH_PX = SCREEN_BOX_PX // 2

Offset = tuple[Line, tuple[float, float]]  # the global line and the (median, scale) of its residual


@dataclass(frozen=True)
class Screen:
    """The global quantities of the screen: y's line on x (``forward``) and x's on y, each with its residual's
    robust centre and scale; None where a direction has no valid pixel."""

    forward: Offset | None
    backward: Offset | None

    def swapped(self) -> Screen:
        """The same screen for the images given the other way round (x for y)."""
        return Screen(self.backward, self.forward)


def fit_weights(x: np.ndarray, y: np.ndarray, valid: np.ndarray, screen: Screen | None) -> np.ndarray:
    """The valid pixels that may weigh a local fit: all of them but those the ``screen`` leaves out."""
    if screen is None:
        return valid
    gross = np.zeros(valid.shape, bool)
    for (a, b), offset in (((x, y), screen.forward), ((y, x), screen.backward)):
        if offset is None:
            continue
        (gain, intercept), centre = offset
        z = scaled(b - (gain * a + intercept), valid, centre)  # NaN where invalid: never gross
        with np.errstate(invalid="ignore"):
            gross |= np.abs(z) >= SCREEN_Z
    if not gross.any():
        return valid
    share = ndi.uniform_filter(gross.astype(np.float64), SCREEN_BOX_PX, mode="constant")
    kept: np.ndarray = valid & ~(gross & (share >= SCREEN_SHARE))
    return kept
