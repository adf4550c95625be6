"""``geo coreg --local``'s numbers checked as options, before any pixel is read: a window under 16 px, a
spacing under 1 px or fewer than 3 tie points (an affine model's least) was taken, the whole overlap read (42 s
on a 2.5 m pair of 8,000 x 12,000 px), then refused as if the files were at fault ('ref.tif and tgt.tif:
tie-point window must be >= 16 px'); --min-points 0 went through."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from tests.conftest import REPO

DEMO = REPO / "scenes" / "demo"
REF = str(DEMO / "S2_30TXT_20171014_L1C_nantes" / "red.tif")
TGT = str(DEMO / "S2A_30TXT_20150821_L1C_nantes" / "red.tif")


@pytest.mark.parametrize("option, value, allowed", [
    ("--window", "8", "x>=16"), ("--window", "-5", "x>=16"), ("--spacing", "0", "x>=1"),
    ("--min-points", "0", "x>=3"), ("--min-points", "2", "x>=3"),
])
def test_a_local_setting_out_of_range_is_a_usage_error_naming_the_option(user, option, value, allowed):
    result = user("coreg", REF, TGT, "--local", option, value)
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == (f"Error: Invalid value for '{option}': {value} is not in the range {allowed} "
                                     "(see 'geo coreg --help')")
    assert result.stdout == ""


def test_the_least_settings_allowed_still_measure(user):
    result = user("coreg", REF, TGT, "--local", "--window", "16", "--spacing", "64", "--min-points", "3", "--json")
    assert result.returncode == 0, result.output
    measured = json.loads(result.stdout)
    assert measured["warnings"] == [] and measured["local"]["n_inliers"] >= 3
    assert measured["local"]["n_points"] > 16  # 16-px windows every 64 px over the demo's 400 x 500 px overlap


def test_the_cli_s_least_window_is_the_tie_points_own():
    from geo.align import local
    from geo.cli import coreg

    assert coreg.MIN_WINDOW == local.MIN_WINDOW


def test_a_complex_band_is_refused_naming_it(user):
    """A complex raster (a SAR single-look complex product) was measured on its real part alone, without a
    word (or, when warped, with Python's 'ComplexWarning: Casting complex values to real discards the imaginary
    part' and a source line on stderr)."""
    with rasterio.open(TGT) as src:
        values = src.read(1).astype(np.complex64) * np.complex64(0.6 + 0.8j)
        profile = {**src.profile, "dtype": "complex64", "nodata": None}
    with rasterio.open(user.home / "slc.tif", "w", **profile) as dst:
        dst.write(values, 1)
    for args in ((REF, "slc.tif"), ("slc.tif", REF)):
        result = user("coreg", *args, "--json")
        assert result.returncode == 1, result.output
        assert result.stderr.strip() == (
            "Error: slc.tif: band 1 is complex (complex64: a SAR single-look complex product?); co-registration "
            "measures intensity: give a band of its amplitude")
        assert result.stdout == ""
