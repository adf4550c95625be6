"""The run's QGIS-ready files read back with GDAL (pyogrio, rasterio): layers, fields, styles, COGs.
The synthetic project has three planted roofs, so counts and verdicts are known."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import zipfile
import xml.etree.ElementTree as ET

import numpy as np
import pyogrio
import pytest
import rasterio
from rasterio.enums import Compression

from geo.outputs.cog import is_cog


def _geojson(folder):
    return json.loads((folder / "changes.geojson").read_text())


def test_geopackage_layers_counts_and_crs(synthetic_output):
    gpkg = synthetic_output / "changes.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert {"changes", "aois", "claims", "layer_styles"} <= set(layers)
    assert layers["layer_styles"] is None  # an attribute table, registered in gpkg_contents
    changes = pyogrio.read_dataframe(gpkg, layer="changes")
    assert len(changes) == len(_geojson(synthetic_output)["features"]) == 3
    assert changes.crs.to_epsg() == 4326
    assert set(changes["change_type"]) == {"new_bright_surface"}
    assert set(changes["evidence_for"]) == {'["test-construction", "test-denial"]'}
    claims = pyogrio.read_dataframe(gpkg, layer="claims").set_index("claim_id")
    assert dict(claims["verdict"]) == {
        "test-construction": "consistent with the claim",
        "test-denial": "inconsistent with the denial",
        "test-later": "not tested",
    }
    assert len(pyogrio.read_dataframe(gpkg, layer="aois")) == 1


def test_claim_ids_are_the_stores_json_text_one_filter_finds_a_claims_changes(synthetic_output, tmp_path):
    """The run's GeoPackage wrote ``claim_ids`` (and ``evidence_for``) comma-separated, the re-check store JSON
    text: a QGIS user filtering both met two conventions, and ``LIKE '%test%'`` on the commas found the changes
    of ``test-later`` too. Now both hold the store's JSON text, and ``claim_ids LIKE '%"test-denial"%'`` finds
    exactly a claim's changes, in QGIS expressions, OGR SQL and SQLite alike."""
    gpkg = synthetic_output / "changes.gpkg"
    features = _geojson(synthetic_output)["features"]
    changes = pyogrio.read_dataframe(gpkg, layer="changes").set_index("change_id")
    for feature in features:
        ids = feature["properties"]["claim_ids"]
        assert changes.loc[feature["id"], "claim_ids"] == json.dumps(ids)  # as geo.store.changes writes it
    linked = {f["id"] for f in features if "test-denial" in f["properties"]["claim_ids"]}
    assert linked
    found = pyogrio.read_dataframe(gpkg, layer="changes", where="""claim_ids LIKE '%"test-denial"%'""")
    assert set(found["change_id"]) == linked
    assert len(pyogrio.read_dataframe(gpkg, layer="changes", where="""claim_ids LIKE '%"test"%'""")) == 0


def types_of(gpkg, layer: str) -> dict[str, str]:
    info = pyogrio.read_info(gpkg, layer=layer)
    return dict(zip(info["fields"], info["dtypes"]))


def test_geopackage_before_after_are_datetimes(synthetic_output):
    gpkg = synthetic_output / "changes.gpkg"
    info = pyogrio.read_info(gpkg, layer="changes")
    types = dict(zip(info["fields"], info["dtypes"]))
    assert types["before_date"].startswith("datetime64") and types["after_date"].startswith("datetime64")
    changes = pyogrio.read_dataframe(gpkg, layer="changes")
    assert str(changes["before_date"].iloc[0])[:16] == "2020-03-01 10:30"
    assert str(changes["after_date"].iloc[0])[:16] == "2020-08-01 10:30"
    claims = pyogrio.read_dataframe(gpkg, layer="claims")
    # the window's first local day (mean solar time at lon ~3 E: UTC+00:12) begins at 23:48 UTC the day before
    assert str(claims["window_start"].min())[:19] == "2020-03-31 23:48:00"
    # and says so: the zone whose days the window counts, as claims.json has it (a text field; it had none)
    assert types_of(gpkg, "claims")["window_time_zone"] == "object"
    assert set(claims["window_time_zone"]) == {"UTC+00:12"}


def test_layer_styles_table_is_the_one_qgis_reads(synthetic_output):
    with sqlite3.connect(synthetic_output / "changes.gpkg") as db:
        rows = db.execute(
            "SELECT f_table_name, f_table_schema, f_geometry_column, styleName, useAsDefault, styleQML "
            "FROM layer_styles ORDER BY f_table_name").fetchall()
        contents = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        geometry_columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
    assert contents["layer_styles"] == "attributes"
    assert [r[0] for r in rows] == ["aois", "changes", "claims", "not_compared"]
    for table, schema, geometry_column, name, default, qml in rows:
        assert schema == "" and default == 1 and name == table
        assert geometry_column == geometry_columns[table]
        root = ET.fromstring(qml.split("\n", 1)[1])
        assert root.tag == "qgis"
    changes_qml = ET.fromstring(rows[1][5].split("\n", 1)[1])
    renderer = changes_qml.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "change_type"
    temporal = changes_qml.find("temporal")
    assert (temporal.get("enabled"), temporal.get("startExpression"), temporal.get("endExpression")) == (
        "1", 'to_datetime("before_date")', 'to_datetime("after_date")')


def test_sidecar_qml_beside_geojson(synthetic_output):
    qml = (synthetic_output / "changes.qml").read_text()
    root = ET.fromstring(qml.split("\n", 1)[1])
    assert root.find("renderer-v2").get("attr") == "change_type"
    values = [c.get("value") for c in root.find("renderer-v2/categories")]
    assert "new_bright_surface" in values and "" in values  # every known type plus a catch-all


@pytest.mark.parametrize("name, bands", [("change_statistic.tif", 1), ("before_rgb.tif", 3), ("after_rgb.tif", 3)])
def test_rasters_are_cogs_on_the_run_grid(synthetic_output, name, bands):
    path = synthetic_output / name
    assert is_cog(path)
    manifest = json.loads((synthetic_output / "manifest.json").read_text())
    with rasterio.open(path) as src:
        assert src.count == bands
        assert src.crs.to_string() == manifest["grid"]["crs"]
        assert list(src.transform)[:6] == pytest.approx(manifest["grid"]["transform"])
        assert [src.height, src.width] == manifest["grid"]["shape"]
        assert src.block_shapes[0] == (256, 256) and src.overviews(1)
        assert src.compression == Compression.zstd  # lossless, ~half DEFLATE's CPU to write and read
        data = src.read(masked=True)
        descriptions = src.descriptions
    assert np.isfinite(data.compressed()).all()
    if bands == 3:
        # synthetic reflectance: background 0.06-0.09 in the visible, roofs 0.25-0.30
        assert 0.02 < float(np.median(data.compressed())) < 0.2
        assert descriptions == ("red", "green", "blue")


def test_statistic_is_high_on_planted_changes(synthetic_output, synthetic_project):
    manifest = json.loads((synthetic_output / "manifest.json").read_text())
    with rasterio.open(synthetic_output / "change_statistic.tif") as src:
        statistic = src.read(1)
        # the first planted roof (rows 60-90, cols 70-110 of the scene grid) in this grid's pixels
        rect = synthetic_project.rects[0]
        x, y = rasterio.transform.xy(rasterio.Affine(10, 0, 500_000, 0, -10, 5_000_000),
                                     rect.row + rect.height / 2, rect.col + rect.width / 2)
        row, col = src.index(x, y)
    seed = manifest["statistic"]["threshold_seed"]
    assert statistic[row, col] > seed
    assert np.nanmedian(statistic) < manifest["statistic"]["threshold_grow"]


def test_project_is_a_zip_with_relative_sources(synthetic_output):
    with zipfile.ZipFile(synthetic_output / "project.qgz") as archive:
        [name] = archive.namelist()
        root = ET.fromstring(archive.read(name).decode().split("\n", 1)[1])
    sources = [m.findtext("datasource") for m in root.iter("maplayer")]
    assert sources and all(s.startswith("./") for s in sources)
    assert root.find("properties/Paths/Absolute").text == "false"


def test_demo_writes_report_geopackage_and_project(demo_output):
    for name in ("report.html", "changes.gpkg", "project.qgz", "before_rgb.tif", "after_rgb.tif",
                 "change_statistic.tif", "changes.qml", "aoi.geojson"):
        assert (demo_output / name).stat().st_size > 0, name
    n = len(_geojson(demo_output)["features"])
    assert len(pyogrio.read_dataframe(demo_output / "changes.gpkg", layer="changes")) == n
    assert "demo-nantes-construction" in (demo_output / "report.html").read_text()


def test_a_run_without_changes_still_writes_every_layer(synthetic_output, tmp_path):
    from geo.outputs.gpkg import write_geopackage
    from geo.outputs.report import render_report
    from geo.outputs.run_data import load_run

    folder = tmp_path / "quiet"
    shutil.copytree(synthetic_output, folder)
    (folder / "changes.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    claims = json.loads((folder / "claims.json").read_text())
    for entry in claims:
        entry.update(evidence=[], n_changes=0, n_matching=0, change_types={}, verdict="no evidence found")
    (folder / "claims.json").write_text(json.dumps(claims))
    run = load_run(folder)
    write_geopackage(folder / "quiet.gpkg", [run])
    assert len(pyogrio.read_dataframe(folder / "quiet.gpkg", layer="changes")) == 0
    assert len(pyogrio.read_dataframe(folder / "quiet.gpkg", layer="claims")) == 3
    html = render_report([run])
    assert "No change polygon;" in html and "0 change polygons" not in html and 'class="chip"' not in html


def test_a_sentinel_1_runs_times_are_written_as_its_geopackage_version_says(synthetic_output, tmp_path):
    """A run whose changes have DATE fields (Sentinel-1's omnibus dating): its DateTime fields held
    '2021-05-01T10:30:00Z', which a GeoPackage 1.2 does not allow (YYYY-MM-DDTHH:MM:SS.SSSZ): GDAL (QGIS too)
    warned 'Non-conformant content ... successfully parsed' on every read."""
    from geo.outputs.gpkg import GPKG_VERSION, write_geopackage
    from geo.outputs.run_data import load_run

    folder = tmp_path / "s1"
    shutil.copytree(synthetic_output, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(sensor="s1", polarisations=["vv"], omnibus={"run": True})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    path = write_geopackage(folder / "s1.gpkg", [load_run(folder)])
    with sqlite3.connect(path) as conn:
        major, minor = map(int, GPKG_VERSION.split("."))
        assert conn.execute("PRAGMA user_version").fetchone()[0] == major * 10000 + minor * 100
        declared = {(table, row[1]): row[2] for (table,) in conn.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")
            for row in conn.execute(f"PRAGMA table_info('{table}')")}
        assert declared[("changes", "change_first_seen")] == "DATE"
        # the synthetic run's changes have none of the Sentinel-1 attributes: NULL, not 'nan'
        assert conn.execute("SELECT count(*) FROM changes WHERE sensor IS NOT NULL OR change_first_seen IS NOT "
                            "NULL OR db_change_vv IS NOT NULL").fetchone() == (0,)
        times = {column: [v for (v,) in conn.execute(f'SELECT "{column[1]}" FROM "{column[0]}"') if v is not None]
                 for column, kind in declared.items() if kind == "DATETIME"}
    assert {("changes", "before_date"), ("changes", "after_date"), ("claims", "window_start")} <= set(times)
    assert all(times[("changes", "before_date")]) and times[("changes", "before_date")]
    bad = {column: v for column, values in times.items() for v in values
           if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", v)}
    assert not bad
    changes = pyogrio.read_dataframe(path, layer="changes")
    assert len(changes) == len(_geojson(folder)["features"]) > 0
    assert str(changes["before_date"].dtype).startswith("datetime64")


def test_cog_pixels_and_overviews_are_those_of_gdals_own_cog_copy(tmp_path):
    """``write_cog`` builds the COG's overviews through a PACKBITS temporary file (less CPU than GDAL's
    default ZSTD/LZW): the full-resolution pixels and every overview are those GDAL's COG driver writes with
    its defaults, NaN where nodata, for a grid whose overview sizes do not halve evenly."""
    from affine import Affine

    from geo.grid import Grid
    from geo.outputs.cog import COG_OPTIONS, write_cog

    rng = np.random.default_rng(7)
    rows, cols = np.mgrid[0:2900, 0:2750]
    band = (0.1 + 0.05 * np.sin(rows / 37.0) * np.cos(cols / 53.0) + 0.01 * rng.random(rows.shape)).astype(np.float32)
    band[100:400, 1500:2100] = np.nan  # nodata the average leaves out
    grid = Grid("EPSG:32630", Affine(10, 0, 600_000, 0, -10, 5_300_000), band.shape)
    written = write_cog(tmp_path / "ours.tif", [band, band[::-1].copy()], grid)
    source = tmp_path / "source.tif"
    with rasterio.open(source, "w", driver="GTiff", dtype="float32", count=2, width=grid.width, height=grid.height,
                       crs=grid.crs, transform=grid.transform, nodata=float("nan")) as dataset:
        dataset.write(np.stack([band, band[::-1]]))
    with rasterio.Env(), rasterio.open(source) as dataset:  # GDAL's default temporary compression
        rasterio.shutil.copy(dataset, tmp_path / "gdal.tif", driver="COG", **COG_OPTIONS)
    with rasterio.open(written) as ours:
        levels = ours.overviews(1)
    assert levels == [2, 4, 8, 16] and is_cog(written)
    for level in (None, 0, 1, 2, 3):
        options = {} if level is None else {"overview_level": level}
        with rasterio.open(written, **options) as ours, rasterio.open(tmp_path / "gdal.tif", **options) as gdal:
            assert ours.shape == gdal.shape
            mine, theirs = ours.read(), gdal.read()
            assert np.isnan(mine).any() and np.array_equal(mine, theirs, equal_nan=True)


@pytest.mark.parametrize("users_setting", [None, "FULL"])
def test_the_geopackage_is_written_without_sqlites_fsync_unless_the_user_says_otherwise(synthetic_output, tmp_path,
                                                                                       monkeypatch, users_setting):
    """Each layer's transaction is written with ``OGR_SQLITE_SYNCHRONOUS=OFF`` (no fsync: like every other file
    of the run folder), the option back as it was afterwards; a user's own setting is left alone. The file
    holds the same layers and rows as the run folder's."""
    from geo.outputs import gpkg
    from geo.outputs.run_data import load_run

    seen = []
    write = pyogrio.write_dataframe

    def recording(*args, **kwargs):
        seen.append(pyogrio.get_gdal_config_option(gpkg.SQLITE_SYNC))
        return write(*args, **kwargs)

    monkeypatch.setattr(gpkg.pyogrio, "write_dataframe", recording)
    if users_setting:
        pyogrio.set_gdal_config_options({gpkg.SQLITE_SYNC: users_setting})
    try:
        gpkg.write_geopackage(tmp_path / "again.gpkg", [load_run(synthetic_output)])
        after = pyogrio.get_gdal_config_option(gpkg.SQLITE_SYNC)
    finally:
        pyogrio.set_gdal_config_options({gpkg.SQLITE_SYNC: None})
    assert seen == [False] * 5 if users_setting is None else seen == [users_setting] * 5  # 4 layers + the styles
    assert after == users_setting
    for layer in ("changes", "aois", "claims"):
        ours, runs = (pyogrio.read_dataframe(path, layer=layer) for path in (tmp_path / "again.gpkg",
                                                                            synthetic_output / "changes.gpkg"))
        assert len(ours) > 0 and ours.equals(runs)


def test_a_cog_read_back_against_its_source_is_refused_with_a_tile_gone_to_nodata(tmp_path):
    """On a nearly full disk ``write_cog`` reads the COG back against the GeoTIFF it was copied from: GDAL's COG
    driver, failing a write, can leave a tile that reads as nodata and say nothing (under ``ulimit -f``, the
    last tiles of after_rgb.tif). The same COG is accepted against a source with that nodata."""
    from affine import Affine

    from geo.grid import Grid
    from geo.outputs.cog import _read_back, write_cog

    band = np.linspace(0.0, 1.0, 600 * 700, dtype=np.float32).reshape(600, 700)
    grid = Grid("EPSG:32630", Affine(10, 0, 600_000, 0, -10, 5_300_000), band.shape)
    holed = band.copy()
    holed[512:, 512:] = np.nan  # a tile (256 x 256 blocks) gone
    cog = write_cog(tmp_path / "holed.tif", holed, grid)
    for name, data in (("whole.tif", band), ("same.tif", holed)):
        with rasterio.open(tmp_path / name, "w", driver="GTiff", dtype="float32", count=1, width=grid.width,
                           height=grid.height, crs=grid.crs, transform=grid.transform, nodata=float("nan")) as source:
            source.write(data, 1)
    with pytest.raises(rasterio.errors.RasterioIOError, match="tiles missing"):
        _read_back(cog, tmp_path / "whole.tif")
    _read_back(cog, tmp_path / "same.tif")
