"""A re-check with nothing new imports only what it needs: no pixel reader, no pipeline, no scipy (their
imports took 2-3 s against 0.1-0.2 s of work). The real command runs in a subprocess with Python's import
profiler on (``PYTHONPROFILEIMPORTTIME``, the environment form of ``-X importtime``), which lists on stderr
every module the process imported.

The store keys chains by the change detector's algorithm version, so the detector registry (names, versions,
parameters: ``geo.change.detectors``) is imported; the change science it runs is not."""

from __future__ import annotations

from tests.recheck.conftest import dump_store, imported_modules

PROCESSING = ("scipy", "skimage", "rasterio", "geo.jobs", "geo.align", "geo.change", "geo.scenes.read",
              "geo.recheck.process", "geo.recheck.window_verdicts", "geo.outputs.qgis_project")
REGISTRY = ("geo.change", "geo.change.params", "geo.change.detectors")


def loaded(modules: set[str], package: str) -> list[str]:
    """The modules of ``package`` imported, leaving out the detector registry."""
    return sorted(m for m in modules if (m == package or m.startswith(package + "."))
                  and m not in REGISTRY and not m.startswith("geo.change.detectors."))


def test_noop_recheck_imports_nothing_of_the_processing_path(first_run, geo_cli):
    series, store = first_run
    rows = dump_store(store)
    result = geo_cli(*series.args(store), env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "nothing new: 4 AOI(s) checked" in result.stdout
    assert dump_store(store) == rows
    modules = imported_modules(result.stderr)
    # the profile is complete: the re-check's own modules, and what the search needs, are listed
    for needed in ("geo.recheck.run", "geo.recheck.plan", "geo.store.store", "shapely", "pystac",
                   "geo.change.detectors.local_regression"):
        assert needed in modules, needed
    assert {p: loaded(modules, p) for p in PROCESSING} == {p: [] for p in PROCESSING}


def test_a_recheck_with_news_does_import_the_processing_path(first_run, geo_cli):
    """Control for the test above: the same profile does list them when there is a pair to process."""
    series, store = first_run
    series.publish(4)
    result = geo_cli(*series.args(store, "--aoi", "site-a"), env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "run 2:" in result.stdout
    modules = imported_modules(result.stderr)
    assert all(loaded(modules, p) for p in ("scipy", "skimage", "rasterio", "geo.jobs", "geo.align", "geo.change",
                                            "geo.recheck.process"))
