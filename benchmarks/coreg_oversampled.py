"""Is ``sigma_px`` honest on images resampled finer than their content? Known sub-pixel shifts of small real
Sentinel-2 crops (tests/align/crops.py: the target is the crop moved by an exact Fourier shift), with and
without independent noise added at the native 10 m, measured at native resolution and after cubic
upsampling by 2 and 4 (what a user gets from a 20 m band resampled to 10 m, a pan-sharpened or reprojected
product). Per case: |error| / sigma (z, per component) and sigma in native pixels. Also two real dates of the
OSCD cities (no known truth): the upsampled measurement, in native pixels, against the native one.

    python benchmarks/coreg_oversampled.py [DATA: the shared data, by default shared/data above the checkout or $GEO_SHARED_DATA]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import rasterio
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.align.coreg import estimate_shift  # noqa: E402
from tests.align.crops import MARGIN, Crop, fourier_shift, read_crop  # noqa: E402

CITIES = ("aguasclaras", "bercy", "bordeaux", "nantes", "paris", "pisa", "rennes")
SHIFTS = ((0.13, -0.21), (-0.22, 0.09), (0.18, 0.24))  # small: at 4x the integer start locks to multiples of 4 px (see docs)
FACTORS = (1, 2, 4)
NOISE = (0.0, 0.1)  # independent noise per image at 10 m, as a share of the crop's standard deviation


def upsample(image: np.ndarray, k: int) -> np.ndarray:
    """Cubic upsampling by ``k`` on pixel centres (a shift of d native px is k * d upsampled px)."""
    return image if k == 1 else ndimage.zoom(image, k, order=3, grid_mode=True, mode="grid-mirror")


def known_shift_rows(data: Path) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for city in CITIES:
        image = read_crop(data, Crop(city, f"oscd/{city}", (100, 100, 200, 240), "B04", 1, (0, 0), 10.0))
        m = np.s_[MARGIN:-MARGIN, MARGIN:-MARGIN]
        for shift in SHIFTS:
            for noise in NOISE:
                scale = noise * image.std()
                ref = image[m] + scale * rng.standard_normal(image[m].shape)
                tgt = fourier_shift(image, *shift)[m] + scale * rng.standard_normal(image[m].shape)
                for k in FACTORS:
                    try:
                        s = estimate_shift(upsample(ref, k), upsample(tgt, k), pixel_m=10.0 / k)
                    except Exception as exc:  # a failure is a result here
                        rows.append({"city": city, "shift": shift, "noise": noise, "k": k, "failed": str(exc)[:80]})
                        continue
                    err = (s.dx_px / k - shift[0], s.dy_px / k - shift[1])  # native px
                    rows.append({"city": city, "shift": shift, "noise": noise, "k": k,
                                 "err_native_px": [round(e, 5) for e in err],
                                 "sigma_native_px": round(s.sigma_px / k, 5),
                                 "z": [round(abs(e) / (s.sigma_px / k), 2) for e in err]})
    return rows


def two_date_rows(data: Path) -> list[dict]:
    rows = []
    for city in CITIES:
        images = []
        for folder in ("imgs_1", "imgs_2"):
            path = next((data / "oscd" / city / folder).glob("*_B04.tif"))
            with rasterio.open(path) as src:
                images.append(src.read(1, window=rasterio.windows.Window(100, 100, 240, 200)).astype(float))
        ref, tgt = images
        out = {}
        for k in FACTORS:
            try:
                s = estimate_shift(upsample(ref, k), upsample(tgt, k), pixel_m=10.0 / k)
            except Exception as exc:  # a failure is a result here
                out[k] = {"failed": str(exc)[:80]}
                continue
            out[k] = {"dx": s.dx_px / k, "dy": s.dy_px / k, "sigma": s.sigma_px / k}
        rows.append({"city": city, **{f"k{k}": v for k, v in out.items()}})
    return rows


def summary(rows: list[dict]) -> list[dict]:
    table = []
    for noise in NOISE:
        for k in FACTORS:
            done = [r for r in rows if r["k"] == k and r["noise"] == noise and "z" in r]
            z = np.array([r["z"] for r in done]).ravel()
            err = np.array([r["err_native_px"] for r in done]).ravel()
            sig = np.array([r["sigma_native_px"] for r in done])
            failed = sum(r["k"] == k and r["noise"] == noise and "failed" in r for r in rows)
            table.append({"noise": noise, "k": k, "n": len(sig), "n_failed": failed, "rmse_native_px": round(float(np.sqrt(np.mean(err**2))), 4),
                          "median_sigma_native_px": round(float(np.median(sig)), 4),
                          "rms_z": round(float(np.sqrt(np.mean(z**2))), 2), "median_z": round(float(np.median(z)), 2),
                          "share_z_over_3": round(float(np.mean(z > 3)), 3)})
    return table


def main() -> None:
    data = shared_data_argument(__doc__)
    rows = known_shift_rows(data)
    print(json.dumps({"known_shifts": summary(rows), "two_dates": two_date_rows(data)}, indent=1))


if __name__ == "__main__":
    from benchmarks.needs import run, shared_data_argument

    run(main, data=["oscd"], option="DATA")
