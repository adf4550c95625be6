"""Tie points, the value type ``geo.align.local`` measures and ``geo.align.lattice`` moves onto REF's grid (its own
module, so that neither of the two imports the other)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TiePoints:
    row: np.ndarray
    col: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    quality: np.ndarray
    sigma: np.ndarray
    reliable: np.ndarray  # converged, correlated, precise
    inlier: np.ndarray  # reliable and consistent with its neighbours

    def __len__(self) -> int:
        return len(self.row)
