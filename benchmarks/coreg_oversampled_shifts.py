"""Known shifts of 0.1-1.5 px of the content on images cubic-upsampled 2x, 3x and 4x (a user's 2.5 m products, a
20 m band resampled to 5 m): how often ``estimate_shift`` succeeds, its RMSE in content pixels and RMS
|error| / sigma. The target is the real crop moved by an exact Fourier shift (tests/align/crops.py).

    python benchmarks/coreg_oversampled_shifts.py [DATA: the shared data, by default shared/data above the checkout or $GEO_SHARED_DATA]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.coreg_oversampled import CITIES, upsample  # noqa: E402
from geo.align.coreg import estimate_shift  # noqa: E402
from tests.align.crops import MARGIN, Crop, fourier_shift, read_crop  # noqa: E402

SHIFTS = ((0.1, -0.15), (0.37, 0.52), (-0.61, 0.28), (0.83, -0.97), (-1.04, -0.66), (1.23, 1.31), (-1.5, 0.45))
FACTORS = (1, 2, 3, 4)


def rows(data: Path) -> list[dict]:
    out = []
    for city in CITIES:
        image = read_crop(data, Crop(city, f"oscd/{city}", (100, 100, 200, 240), "B04", 1, (0, 0), 10.0))
        m = np.s_[MARGIN:-MARGIN, MARGIN:-MARGIN]
        for shift in SHIFTS:
            ref, tgt = image[m], fourier_shift(image, *shift)[m]
            for k in FACTORS:
                try:
                    s = estimate_shift(upsample(ref, k), upsample(tgt, k), pixel_m=10.0 / k)
                except Exception as exc:  # a failure is a result here
                    out.append({"city": city, "shift": shift, "k": k, "failed": str(exc)[:60]})
                    continue
                err = (s.dx_px / k - shift[0], s.dy_px / k - shift[1])
                out.append({"city": city, "shift": shift, "k": k, "err": err, "sigma": s.sigma_px / k})
    return out


def summary(found: list[dict]) -> list[dict]:
    table = []
    for k in FACTORS:
        done = [r for r in found if r["k"] == k and "err" in r]
        n = sum(r["k"] == k for r in found)
        err = np.array([r["err"] for r in done]).reshape(-1, 2)
        z = np.abs(err) / np.array([r["sigma"] for r in done])[:, None] if done else np.zeros((0, 2))
        table.append({"k": k, "succeeded": f"{len(done)}/{n}",
                      "rmse_content_px": round(float(np.sqrt(np.mean(err**2))), 4) if done else None,
                      "max_error_content_px": round(float(np.abs(err).max()), 4) if done else None,
                      "median_sigma_content_px": round(float(np.median([r["sigma"] for r in done])), 4) if done else None,
                      "rms_z": round(float(np.sqrt(np.mean(z**2))), 2) if done else None,
                      "max_z": round(float(z.max()), 2) if done else None})
    return table


def main() -> None:
    found = rows(shared_data_argument(__doc__))
    print(json.dumps(summary(found), indent=1))
    for r in found:
        if "failed" in r:
            print(r["city"], r["shift"], r["k"], r["failed"])


if __name__ == "__main__":
    from benchmarks.needs import run, shared_data_argument

    run(main, data=["oscd"], option="DATA")
