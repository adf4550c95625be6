"""Cloud screening for Sentinel-2 L1C, which has no scene classification (SCL) layer.

The cirrus band (B10, 1375 nm) sits in a strong water-vapour absorption band: light from the ground is
absorbed on its way up and the band sees only what is high in the atmosphere. Its TOA reflectance is a
near-constant ~0.001 over clear land and several times that over cirrus and the tops of thick clouds.
The test is relative to the scene's own clear level, so haze that raises the whole band does not flag
everything. B10 is a 60 m band and cloud edges are soft: the mask is grown by ``grow_px``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

# Measured on the OSCD pairs: clear-sky B10 ~ 0.001, the cloud cores over Paris 0.003-0.004.
CIRRUS_FACTOR = 1.5  # cloud where the smoothed cirrus reflectance exceeds this multiple of the scene median …
CIRRUS_MARGIN = 0.0005  # … plus this reflectance (five L1C digital numbers: the band's quantisation)
GROW_PX = 12  # two 60 m pixels at 10 m


def cirrus_cloud_mask(cirrus: np.ndarray, valid: np.ndarray, grow_px: int = GROW_PX) -> np.ndarray:
    """True where the cirrus band shows cloud (grown by ``grow_px``); ``cirrus`` is TOA reflectance."""
    usable = valid & np.isfinite(cirrus)
    if not usable.any():
        return np.zeros(cirrus.shape, bool)
    level = float(np.median(cirrus[usable]))
    smooth = ndi.gaussian_filter(np.where(usable, cirrus, level), 2.0)
    cloud: np.ndarray = usable & (smooth > CIRRUS_FACTOR * level + CIRRUS_MARGIN)
    if cloud.any() and grow_px > 0:
        cloud = ndi.binary_dilation(cloud, iterations=grow_px)
    return cloud
