"""What a change job returns (``geo.jobs.spine.run_job``): the type that the writers of a run
folder (``geo.outputs``) and the vessel evidence take, so that they need not import a job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.aoi import AOI
from geo.claim_verdict import ClaimVerdict
from geo.scenes.read import Stack
from geo.vector.feature import ChangeFeature


@dataclass(frozen=True)
class JobResult:
    features: list[ChangeFeature]
    claims: list[ClaimVerdict]
    manifest: dict[str, Any]
    before: Stack
    after: Stack
    statistic: np.ndarray
    mask: np.ndarray
    aoi: AOI | None = None
