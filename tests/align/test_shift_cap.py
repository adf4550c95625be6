"""A change job refuses a shift no two Sentinel-2 scenes of one grid can have (a false match on a repeating
texture: -57/+15 px at quality 0.97 on synthetic fields, read as 574 m): the after scene is used as read and
the warning says why. Known shifts of 3 px are kept."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from geo.align.stack import coregister
from geo.grid import Grid
from geo.jobs.optical_kit import Params
from geo.scenes.read import Stack
from tests.align.fields import texture
from tests.synthetic import CRS_UTM, fourier_shift

GRID = Grid(CRS_UTM, Affine(10.0, 0, 500000.0, 0, -10.0, 5000000.0), (256, 256))


def stack(image: np.ndarray) -> Stack:
    return Stack(None, GRID, ("red",), image[None].astype(np.float32), np.ones(image.shape, bool), False)  # type: ignore[arg-type]


@pytest.mark.parametrize("dx, dy, kept", [(3.0, -3.0, True), (-2.6, 1.4, True), (12.0, -7.0, False)])
def test_a_shift_beyond_the_cap_is_refused_with_its_reason(dx, dy, kept):
    ref = texture(GRID.shape)
    tgt = fourier_shift(ref, dx, dy)
    cap = Params().max_coreg_shift_px
    shift, warning = coregister(stack(ref), stack(tgt), "red", 0.2, max_shift_px=cap)
    free, none = coregister(stack(ref), stack(tgt), "red", 0.2)  # geo coreg's own estimate: no cap
    assert none is None and free is not None
    assert (free.dx_px, free.dy_px) == (pytest.approx(dx, abs=0.1), pytest.approx(dy, abs=0.1))
    if kept:
        assert warning is None and shift == free
    else:
        assert shift is None and warning is not None
        assert "beyond the 5 px" in warning and "used as read" in warning
        assert f"dx {dx:+.1f} dy {dy:+.1f} px (+120 m, -70 m)" in warning
