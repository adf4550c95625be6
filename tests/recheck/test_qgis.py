"""The store and its layer definition opened by real QGIS (Debian's PyQGIS, in a subprocess): every layer
valid, ``changes`` on the time slider by first_seen, accumulating — also at exactly a change's own instant."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from geo.recheck.run import recheck
from geo.store import Store
from tests.recheck.conftest import request

QGIS_PYTHON = Path("/usr/bin/python3")
CHECKER = Path(__file__).with_name("qgis_check.py")


def _qgis_available() -> bool:
    if not QGIS_PYTHON.exists():
        return False
    probe = subprocess.run([str(QGIS_PYTHON), "-c", "import qgis.core"], capture_output=True, timeout=120)
    return probe.returncode == 0


pytestmark = pytest.mark.qgis


@pytest.fixture(scope="module")
def qgis() -> None:
    if not _qgis_available():
        pytest.skip("PyQGIS not installed for /usr/bin/python3 (apt-get install python3-qgis)")


def test_qgis_shows_changes_over_time(qgis, first_run):
    series, store = first_run
    series.publish(4)
    recheck(request(series, store))
    with Store.open(store, create=False) as opened:
        changes = opened.changes()
    early = sorted(f.change_id for f in changes if f.extra["first_seen"] < "2021-05-15")
    assert 0 < len(early) < len(changes) == 6
    # the time slider at exactly the instant a later scene first showed changes: those appear, with the earlier
    latest = max(f.extra["first_seen"] for f in changes)
    by_latest = sorted(f.change_id for f in changes if f.extra["first_seen"] <= latest)
    assert latest.endswith("Z") and len(by_latest) == 6 and latest > "2021-05-15"
    qlr = store.with_name("s-outputs") / "s.qlr"
    env = {"QT_QPA_PLATFORM": "offscreen", "HOME": str(store.parent), "PATH": os.environ.get("PATH", "/usr/bin")}
    proc = subprocess.run([str(QGIS_PYTHON), str(CHECKER), str(store), str(qlr), "2021-05-15T00:00:00Z", latest],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(layer["valid"] for layer in seen["direct"].values()), seen["direct"]
    assert seen["direct"]["changes"]["count"] == 6 and seen["direct"]["aois"]["count"] == 4
    assert seen["direct"]["runs"]["count"] == 2
    assert seen["first_seen_is_datetime"] and seen["crs"] == "EPSG:4326"
    # from first_seen on, no end: each change stays once shown
    temporal = {"active": True, "from_expressions": True, "start_expression": 'to_datetime("first_seen")',
                "end_expression": ""}
    assert seen["default_style"] == temporal
    layers = seen["qlr"]["layers"]
    assert seen["qlr"]["loaded"] and set(layers) == {"changes (re-checks)", "areas of interest"}
    changes_layer = layers["changes (re-checks)"]
    assert {k: changes_layer[k] for k in temporal} == temporal
    assert changes_layer["valid"] and changes_layer["count"] == 6 and layers["areas of interest"]["valid"]
    assert changes_layer["renderer"] == "categorizedSymbol"  # the run outputs' colours by change type
    assert {layer["crs"] for layer in layers.values()} == {"EPSG:4326"}
    assert changes_layer["aliases"]["first_seen"] == "First seen (acquired, UTC)"
    assert changes_layer["aliases"]["change_type"] == "Change type"
    # the changes credit the Sentinel data they are made of, with its years (the scenes are of 2021)
    assert changes_layer["rights"] == ["Contains modified Copernicus Sentinel data 2021"]
    assert changes_layer["title"] == "Changes found by the re-checks of s.gpkg"
    # the time slider at 15 May 2021 shows the changes first seen before it, not those of June; at the June
    # scene's instant all of them
    assert changes_layer["shown_at"] == {"2021-05-15T00:00:00Z": early, latest: by_latest}
