"""A re-check with nothing new imports only what it needs. Over a local catalog that is no pixel reader, no
pipeline, no scipy (their imports took 2-3 s against 0.1-0.2 s of work), and not even the geometry stack:
numpy, shapely and pyproj (a tenth of a second: ``geo.recheck.quick`` decides from plain numbers). The real
command runs in a subprocess with Python's import profiler on (``PYTHONPROFILEIMPORTTIME``, the environment
form of ``-X importtime``), which lists on stderr every module the process imported.

The store keys chains by the change detector's algorithm version, so the detector registry (names, versions,
parameters: ``geo.change.detectors``) is imported; the change science it runs is not."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pystac
import pytest

from geo.recheck.request import RecheckRequest
from geo.recheck.run import recheck
from tests import synthetic
from tests.recheck.conftest import SCENE_IDS, dump_store, imported_modules

PROCESSING = ("scipy", "skimage", "rasterio", "geo.jobs", "geo.align", "geo.change", "geo.scenes.read",
              "geo.recheck.process", "geo.recheck.window_verdicts", "geo.outputs.qgis_project")
REGISTRY = ("geo.change", "geo.change.params", "geo.change.detectors")
GEOMETRY = ("numpy", "shapely", "pyproj", "geo.aoi", "geo.geometry", "geo.vessels.job")
PROFILE = {"PYTHONPROFILEIMPORTTIME": "1"}


def loaded(modules: set[str], package: str) -> list[str]:
    """The modules of ``package`` imported, leaving out the detector registry."""
    return sorted(m for m in modules if (m == package or m.startswith(package + "."))
                  and m not in REGISTRY and not m.startswith("geo.change.detectors."))


def assert_light(modules: set[str]) -> None:
    # the profile is complete: the re-check's own modules, and what reading the catalog and store needs
    for needed in ("geo.recheck.run", "geo.recheck.quick", "geo.store.store", "pystac", "sqlite3"):
        assert needed in modules, needed
    heavy = PROCESSING + GEOMETRY
    assert {p: loaded(modules, p) for p in heavy} == {p: [] for p in heavy}


@pytest.mark.parametrize("extra", [(), ("--since", "2021-03-01"), ("--aoi", "site-b", "--aoi", "site-a", "--json")])
def test_noop_recheck_imports_neither_processing_nor_geometry(first_run, geo_cli, extra):
    series, store = first_run
    rows = dump_store(store)
    result = geo_cli(*series.args(store, *extra), env=PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]
    if "--json" in extra:
        summary = json.loads(result.stdout)
        assert summary["run_id"] is None and not summary["has_new"]
        assert [(e["aoi_id"], e["head_scene"], e["pairs"]) for e in summary["aois"]] == [
            ("site-a", SCENE_IDS[2], []), ("site-b", SCENE_IDS[2], [])]
    else:
        assert "nothing new: 4 AOIs checked" in result.stdout
    assert dump_store(store) == rows
    modules = imported_modules(result.stderr)
    assert "geo.change.detectors.local_regression" in modules  # the registry: the store's key
    assert_light(modules)


def test_a_recheck_with_news_does_import_the_processing_path(first_run, geo_cli):
    """Control for the tests above: the same profile does list them when there is a pair to process."""
    series, store = first_run
    series.publish(4)
    result = geo_cli(*series.args(store, "--aoi", "site-a"), env=PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "run 2:" in result.stdout
    modules = imported_modules(result.stderr)
    assert all(loaded(modules, p) for p in ("scipy", "skimage", "rasterio", "geo.jobs", "geo.align", "geo.change",
                                            "geo.recheck.process", "numpy", "shapely", "pyproj"))


def test_vessel_aoi_noop_is_light_and_a_new_vessel_scene_is_not_missed(port_project, tmp_path, geo_cli):
    """An AOI with a ship claim also has its Sentinel-1/-2 series checked: with nothing new it is still light;
    a new Sentinel-1 scene (nothing for the Sentinel-2 change chain) is counted."""
    shutil.copytree(port_project.root / "scenes", tmp_path / "scenes")
    for path in (tmp_path / "scenes").rglob("*.json"):
        path.write_text(path.read_text().replace(str(port_project.root), str(tmp_path)))
    scenes = pystac.Catalog.from_file(str(tmp_path / "scenes" / "catalog.json"))
    items = {i.id: i for i in scenes.get_items(recursive=True)}
    late = "S1A_TEST_20210613"
    catalog = synthetic.write_catalog(tmp_path / "published", [items[i].clone() for i in sorted(items) if i != late])
    store = tmp_path / "s.gpkg"
    common = dict(store=store, source=str(catalog), aoi_refs=("test-port",), aoi_dir=port_project.aoi_dir,
                  seeds_dir=port_project.seeds_dir, today=date(2021, 7, 1))
    first = recheck(RecheckRequest(**common))
    assert first.run_id == 1 and not first.failed_aois and first.summary["aois"][0]["vessels"]
    args = ["recheck", "--store", str(store), "--source", str(catalog), "--aoi-dir", str(port_project.aoi_dir),
            "--seeds-dir", str(port_project.seeds_dir)]
    rows = dump_store(store)
    idle = geo_cli(*args, env=PROFILE)
    assert idle.returncode == 0, idle.stderr[-3000:]
    assert "nothing new: 1 AOI checked" in idle.stdout
    assert dump_store(store) == rows
    assert_light(imported_modules(idle.stderr))

    synthetic.write_catalog(tmp_path / "published", [items[i].clone() for i in sorted(items)])
    second = recheck(RecheckRequest(**common))
    assert second.run_id == 2 and not second.failed_aois, second.failed_aois
    [entry] = second.summary["aois"]
    assert entry["pairs"] == [] and entry["vessels"]["new_scenes"] == [late]


def test_noop_with_warnings_is_light_too(first_run, geo_cli):
    """A broken AOI file or claim that concerns no AOI re-checked is a warning, and a warning alone does not
    take the re-check down the processing path (it did: any input problem skipped the quick answer)."""
    series, store = first_run
    half = series.aoi_dir / "half-drawn.geojson"
    half.write_text('{"type": "Feature", "properties": {"id": "half"}, ')
    typo = series.seeds_dir / "typo.toml"
    typo.write_text('[document]\ntitle = "x"\n\n[[claim]]\nid = "typo"\nclaimant = "me"\nstatement = "s"\n'
                    'date_stated = 2021-04-20\naoi_ids = ["site-a"]\nwindow = { start = 2021-03-05, end = 2021-03-25 }\n'
                    'signatures = ["new_constructions"]\n')
    rows = dump_store(store)
    result = geo_cli(*series.args(store, "--aoi", "site-b", "--json"), env=PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["run_id"] is None and [e["aoi_id"] for e in summary["aois"]] == ["site-b"]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith(f"warning: {half}: malformed GeoJSON")
    assert warnings[1].startswith(f"warning: {typo} claim 'typo': unknown signature(s) ['new_constructions']")
    assert dump_store(store) == rows
    assert_light(imported_modules(result.stderr))

    # The same broken claim concerns site-a: re-checked, site-a fails this run (the full path says why)
    scheduled = geo_cli(*series.args(store, "--json"))
    assert scheduled.returncode == 4, scheduled.stderr[-3000:]
    failure, = json.loads(scheduled.stdout)["failed_aois"]
    assert failure["aoi_id"] == "site-a" and failure["error"].startswith(f"{typo} claim 'typo': unknown signature")
