"""``geo coreg`` of a small pair imports what measuring a shift needs and nothing else: numpy and rasterio,
not scipy (its import cost more than the measurement: the estimator's filters are numpy's,
``geo.align.filters``), nor numpy.ma (``np.median`` and ``np.unique`` import it: ``geo.align.quantiles``), nor
the geometry stack (pyproj, shapely), the tie-point model or the pipeline, nor boto3 when it is installed
(rasterio would import it; ``geo.cli.start_up`` defers it to rasterio's first S3 session).

The real command runs in a subprocess with Python's import profiler on (``PYTHONPROFILEIMPORTTIME``), which
lists every module the process imported on stderr; each run also has to find its known shift."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.align.crops import COREG_PAIR_512, COREG_PAIR_768, CROPS, write_pair
from tests.conftest import SHARED_DATA
from tests.recheck.conftest import imported_modules

needs_data = pytest.mark.skipif(not (SHARED_DATA / "oscd").exists(), reason="../shared/data not present")

NOT_NEEDED = ("scipy", "skimage", "numpy.ma", "pyproj", "shapely", "boto3", "botocore", "geo.align.local", "geo.align.resample",
              "geo.scenes.displace", "geo.scenes.read", "geo.change", "geo.jobs", "geo.outputs", "geo.geometry", "geo.aoi",
              # numpy's docstrings and ctypes, rasterio's VRT XML parser, a thread pool (geo.cli.start_up, geo.align.pair)
              "numpy._core._add_newdocs", "numpy._core._add_newdocs_scalars", "ctypes", "xml.etree.ElementTree",
              "concurrent.futures")
PROFILE = {"PYTHONPROFILEIMPORTTIME": "1"}
# 40 m Bordeaux (bright roofs: the one-date-bright mask labels regions) and a 512 px crop of the co-registration
# pair's REF are measured on their whole overlap; a 768 px crop through the windowed path (overview, then
# chosen windows)
PAIRS = [next(c for c in CROPS if c.name == "bordeaux-40m-B04"), COREG_PAIR_512, COREG_PAIR_768]
WINDOWED = {COREG_PAIR_768.name}


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@needs_data
@pytest.mark.parametrize("crop", PAIRS, ids=[c.name for c in PAIRS])
def test_coreg_of_a_small_pair_imports_neither_scipy_nor_geometry(crop, tmp_path, geo_cli):
    write_pair(tmp_path, SHARED_DATA, crop)
    result = geo_cli("coreg", "ref.tif", "tgt.tif", "--json", cwd=tmp_path, env=PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout)
    assert (out["dx_px"], out["dy_px"]) == pytest.approx(crop.shift, abs=0.01)
    # the two paths: windows read, or the whole overlap (the same keys, null: scripts reading them broke on small files)
    assert (out["blocks_decoded"] is not None) == (crop.name in WINDOWED)
    modules = imported_modules(result.stderr)
    for needed in ("numpy", "rasterio", "geo.align.coreg", "geo.align.filters", "geo.align.masks", "geo.align.lk"):
        assert needed in modules, needed  # the profile is complete
    # without boto3 installed, rasterio's attempt to import it is still listed (the profiler lists failed
    # imports too): a path search, nothing loaded
    checked = [p for p in NOT_NEEDED if p != "boto3" or importlib.util.find_spec("boto3") is not None]
    if crop.name not in WINDOWED:  # read whole: no planning of which blocks to read
        checked.append("geo.align.blocks")
    assert {p: loaded(modules, p) for p in checked} == {p: [] for p in checked}


@needs_data
def test_the_local_model_does_import_scipy(tmp_path, geo_cli):
    """Control for the test above: the same profile lists scipy when the path needs it (tie points)."""
    write_pair(tmp_path, SHARED_DATA, PAIRS[1])
    result = geo_cli("coreg", "ref.tif", "tgt.tif", "--json", "--local", cwd=tmp_path, env=PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["local"]["n_points"] >= 8
    modules = imported_modules(result.stderr)
    assert loaded(modules, "scipy") and "geo.align.local" in modules
