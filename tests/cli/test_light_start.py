"""``geo.cli.start_up.light_start``: what ``geo coreg`` does before importing numpy and rasterio. Each case runs
in a fresh interpreter (what it changes is the process's first import of those libraries)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import rasterio

from tests.conftest import REPO

AWS_SESSION = """
import json, sys, types
{prelude}
import rasterio.session as rs
imported_with_rasterio = "boto3" in sys.modules
cls = rs.Session.cls_from_path("s3://a-bucket/scene.tif")
session = cls(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="not-a-secret", region_name="eu-west-1")
boto3 = sys.modules["boto3"]
print(json.dumps({{"imported_with_rasterio": imported_with_rasterio, "session": cls.__name__,
                  "credentials": session.credentials, "boto3_is_real": type(boto3) is types.ModuleType
                  and hasattr(boto3, "Session") and "botocore" in sys.modules}}))
"""
LIGHT = "from geo.cli.start_up import light_start\nlight_start()"
LIGHT_RASTERIO = "from geo.cli.start_up import light_rasterio\nlight_rasterio()"  # what `geo run` does


def run_python(code: str, env: dict[str, str] | None = None) -> dict[str, object]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "AWS_NO_SIGN_REQUEST")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**full_env, **(env or {})}, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, object] = json.loads(proc.stdout)
    return result


@pytest.mark.parametrize("prelude", ["", LIGHT, LIGHT_RASTERIO],
                         ids=["rasterio-as-is", "light-start", "light-rasterio"])
def test_boto3_is_imported_when_rasterio_signs_an_s3_request(prelude):
    """rasterio imports boto3 with itself (control); after ``light_start`` only at the first S3 session,
    which is the same: an AWS session from the real boto3, with the credentials given."""
    pytest.importorskip("boto3")
    out = run_python(AWS_SESSION.format(prelude=prelude))
    assert out == {
        "imported_with_rasterio": prelude == "", "session": "AWSSession", "boto3_is_real": True,
        "credentials": {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "not-a-secret",
                        "aws_region": "eu-west-1"},
    }


BLAS_THREADS = """
import json
{prelude}
import numpy, threadpoolctl
print(json.dumps(sorted({{p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"}})))
"""


@pytest.mark.parametrize(("prelude", "env", "threads"), [
    (LIGHT, {}, [1]),
    (LIGHT, {"OPENBLAS_NUM_THREADS": "2"}, [2]),  # the user's setting wins
])
def test_numpy_starts_one_blas_thread(prelude, env, threads):
    pytest.importorskip("threadpoolctl")
    assert run_python(BLAS_THREADS.format(prelude=prelude), env) == threads


def test_a_process_that_already_imported_rasterio_is_left_as_it_is():
    pytest.importorskip("boto3")
    code = ("import json, os, sys, types, rasterio\n" + LIGHT + "\nimport rasterio.session as rs\n"
            "print(json.dumps([type(rs.boto3) is types.ModuleType, 'OPENBLAS_NUM_THREADS' in os.environ]))")
    assert run_python(code) == [True, False]  # numpy came with rasterio: its threads are started


PAUSED = """
import gc, json
from geo.cli.start_up import collector_paused
{before}
frozen = gc.get_freeze_count()
with collector_paused():
    off_inside = not gc.isenabled()
    made = [[i] for i in range(5000)]  # objects the collector tracks
print(json.dumps({{"off_inside": off_inside, "on_after": gc.isenabled(), "frozen": gc.get_freeze_count() - frozen}}))
"""


@pytest.mark.parametrize("before, on_after", [("", True), ("gc.disable()", False)], ids=["was-on", "was-off"])
def test_imports_run_with_the_collector_paused_and_what_they_made_frozen(before, on_after):
    result = run_python(PAUSED.format(before=before))
    assert result["off_inside"] is True and result["on_after"] is on_after
    assert result["frozen"] >= 5000  # kept out of later collections


DEFERRED = """
import json, sys, types
{prelude}
import numpy as np, rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window
deferred_after_import = [name not in sys.modules for name in ("xml.etree.ElementTree", "ctypes")]
values = np.arange(3, dtype=np.int32)
view = values.ctypes  # numpy's ctypes view of an array: ctypes is really imported from here on
ctypes_view = [int(n) for n in view.shape] == [3] and view.data == values.__array_interface__["data"][0]
path = sys.argv[1] + "/small.tif"
with rasterio.open(path, "w", driver="GTiff", width=3, height=3, count=1, dtype="uint8", crs="EPSG:32630",
                   transform=from_origin(500000, 5000000, 10, 10)) as dst:
    dst.write(np.arange(1, 10, dtype="uint8").reshape(1, 3, 3))
with rasterio.open(path) as src:  # a boundless read goes through a VRT document (rasterio.vrt's XML)
    read = src.read(1, window=Window(-1, -1, 3, 3), boundless=True, fill_value=0).tolist()
print(json.dumps({{"deferred_after_import": deferred_after_import, "read": read, "ctypes_view": ctypes_view,
                  "xml_is_real": type(sys.modules["xml.etree.ElementTree"]) is types.ModuleType,
                  "numpy_docstrings": np.array.__doc__ is not None, "numpy_works": float(np.median([3.0, 1.0, 2.0]))}}))
"""


@pytest.mark.parametrize("prelude", ["", LIGHT], ids=["as-is", "light-start"])
def test_rasterios_vrt_parser_and_ctypes_come_at_first_use_and_numpy_without_its_docstrings(prelude, tmp_path):
    """After ``light_start`` rasterio's VRT XML parser and ctypes are imported only when used (a boundless read,
    an array's ``.ctypes``: the same as without), and numpy works without the docstrings of its compiled
    functions (control: as-is). A rasterio built on GDAL 3.11 or later parses GDAL's list of warp options (XML)
    as ``rasterio._warp`` is imported: there the parser comes with rasterio, its stand-in replaced by it."""
    code = DEFERRED.format(prelude=prelude).replace("sys.argv[1]", repr(str(tmp_path)))
    xml_at_import = tuple(int(part) for part in rasterio.__gdal_version__.split(".")[:2]) >= (3, 11)
    assert run_python(code) == {
        "deferred_after_import": [prelude == LIGHT and not xml_at_import, prelude == LIGHT], "read": [[0, 0, 0], [0, 1, 2], [0, 4, 5]], "xml_is_real": True,
        "ctypes_view": True,
        "numpy_docstrings": prelude == "", "numpy_works": 2.0,
    }


LOADING = """
import json, os, sys
before = sys.getdlopenflags()
seen = []
class Watch:  # notes the flags the compiled modules of numpy and rasterio are loaded with
    def find_spec(self, name, path=None, target=None):
        if name in ("numpy._core._multiarray_umath", "rasterio._base"):
            seen.append(sys.getdlopenflags())
        return None
sys.meta_path.insert(0, Watch())
{prelude}
import numpy, rasterio
print(json.dumps({{"lazy_while_loading": [bool(f & os.RTLD_LAZY) and not f & os.RTLD_NOW for f in seen],
                  "restored": sys.getdlopenflags() == before}}))
"""


@pytest.mark.parametrize("prelude", ["", LIGHT], ids=["as-is", "light-start"])
def test_numpy_and_gdal_are_loaded_with_lazy_binding_and_the_flags_restored(prelude):
    assert run_python(LOADING.format(prelude=prelude)) == {
        "lazy_while_loading": [prelude == LIGHT] * 2, "restored": True}


@pytest.mark.parametrize(("env", "threads"), [({}, 1), ({"OPENBLAS_NUM_THREADS": "2"}, 2)])
def test_a_change_job_imports_no_boto3_and_starts_one_blas_thread(tmp_path, env, threads):
    """``geo demo`` (as ``geo run``) reads local files: boto3 is never imported (rasterio's reference to it is
    the stand-in); OpenBLAS starts one thread unless the user says otherwise; numpy keeps its docstrings."""
    pytest.importorskip("threadpoolctl")
    probe = """
import atexit, json, sys, types
def report():
    boto3 = sys.modules.get("boto3")
    import numpy, threadpoolctl
    print(json.dumps({"real_boto3": type(boto3) is types.ModuleType and hasattr(boto3, "Session"),
                      "botocore": "botocore" in sys.modules, "numpy_docstrings": bool(numpy.add.__doc__),
                      "blas_threads": sorted({p["num_threads"] for p in threadpoolctl.threadpool_info()
                                              if p["user_api"] == "blas"})}))
atexit.register(report)
from geo.cli import main
main(["demo", "--out", sys.argv[1]])
"""
    proc = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "job")], capture_output=True, text=True,
                          cwd=tmp_path, env={**{k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"},
                                             "PYTHONPATH": str(REPO), **env}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.splitlines()[-1]) == {"real_boto3": False, "botocore": False,
                                                         "numpy_docstrings": True, "blas_threads": [threads]}
    assert json.loads((tmp_path / "job" / "manifest.json").read_text())["n_changes"] > 0



UNUSED = """
import json, sys, types
from geo.cli.start_up import job_imports
with job_imports():
    import geo.cli.change_job  # noqa: F401  (scipy.ndimage: its array API layer copies numpy's namespace)
imported = sorted(n for n in ("numpy.f2py", "numpy.testing", "numpy.matlib", "charset_normalizer", "unittest")
                  if n in sys.modules)
import numpy
try:  # where scipy keeps its copy of array_api_compat: _external from 1.18, _lib before
    import scipy._external.array_api_compat.numpy as xp
except ImportError:
    import scipy._lib.array_api_compat.numpy as xp
copied = xp.testing.assert_equal.__module__  # the copy's stand-in imports the real module at its first use
import numpy.f2py
print(json.dumps({"imported": imported, "copied": copied, "numpy_testing": numpy.testing.assert_equal.__module__,
                  "f2py_real": type(numpy.f2py) is types.ModuleType and hasattr(numpy.f2py, "run_main"),
                  "matlib": float(numpy.matlib.ones(2).sum())}))
"""


def test_a_change_job_imports_no_numpy_f2py_testing_or_matlib_and_they_still_work_after():
    """scipy.ndimage's array API layer touches every name of numpy, which imported f2py (with
    charset_normalizer), testing (with unittest) and matlib into every job: stand-ins now, the real modules
    at their first use, through numpy or through scipy's copy."""
    assert run_python(UNUSED) == {"imported": [], "copied": "numpy.testing._private.utils",
                                  "numpy_testing": "numpy.testing._private.utils", "f2py_real": True, "matlib": 2.0}


USED_WHILE_STANDING_IN = """
import json, sys
from geo.cli.start_up import DeferredModule, _standing_in
assert "colorsys" not in sys.modules
with _standing_in(["colorsys"], DeferredModule):
    stand_in = sys.modules["colorsys"]
    # what rasterio 1.5's modules do with the VRT XML parser as they import: an attribute of the stand-in, read
    # inside the block (it recursed until Python gave up: `geo demo` ended in a RecursionError on Python 3.13)
    hue = stand_in.rgb_to_hsv(0.0, 1.0, 0.0)[0]
import colorsys
print(json.dumps({"hue": hue, "real_kept": not isinstance(colorsys, DeferredModule),
                  "one_module": sys.modules["colorsys"] is colorsys and colorsys.rgb_to_hsv is stand_in.rgb_to_hsv}))
"""


def test_a_stand_in_used_inside_its_block_becomes_the_real_module_which_stays():
    out = run_python(USED_WHILE_STANDING_IN)
    assert out == {"hue": pytest.approx(1 / 3), "real_kept": True, "one_module": True}
