"""A job on a local catalog searches no STAC API and asks no host about a file, so it imports neither
pystac-client nor requests: ``geo.scenes.stac_io`` and the remote helpers of ``geo.scenes.remote`` import them
at first use (urllib3 stays: pystac, which reads the local catalog, imports it). The real command runs in a subprocess with Python's import
profiler on, which lists every module the process imported."""

from __future__ import annotations

import json

from tests.conftest import REPO
from tests.recheck.conftest import imported_modules

REMOTE_CLIENTS = ("requests", "pystac_client", "geo.scenes.stac_io")


def test_a_run_on_a_local_catalog_imports_no_http_client(geo_cli, tmp_path):
    result = geo_cli("run", "--aoi", "demo-nantes-port", "--source", str(REPO / "scenes" / "demo"), "--out", "out",
                     env={"PYTHONPROFILEIMPORTTIME": "1"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    verdicts = json.loads((tmp_path / "out" / "claims.json").read_text())
    assert [(v["claim_id"], v["verdict"]) for v in verdicts] == [("demo-nantes-construction", "consistent with the claim")]
    modules = imported_modules(result.stderr)
    assert "geo.scenes.remote" in modules and "rasterio" in modules  # the profile lists the reading path
    assert sorted(m for m in modules if m.split(".")[0] in REMOTE_CLIENTS or m in REMOTE_CLIENTS) == []
