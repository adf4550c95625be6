"""Connected regions of a change (or water, or vessel) mask: 8-connected, labelled 1..n."""

from __future__ import annotations

import numpy as np
from rasterio import features
from scipy import ndimage as ndi

EIGHT = np.ones((3, 3), dtype=bool)


def label_regions(mask: np.ndarray, min_pixels: int) -> tuple[np.ndarray, int]:
    """Sieve away regions smaller than ``min_pixels`` (8-connected), then label what is left 1..n."""
    sieved = features.sieve(mask.astype(np.uint8), size=min_pixels, connectivity=8) if mask.any() else mask
    labels, count = ndi.label(np.asarray(sieved, dtype=bool), structure=EIGHT)
    return labels.astype(np.int32), int(count)
