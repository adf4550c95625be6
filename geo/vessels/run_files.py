"""A vessel run's files: each scene's detections and all of them as RFC 7946 GeoJSON with their QGIS styles and
layer definition, the count series (CSV, JSON, plots), the evidence, the manifest, and the run folder as a STAC Item;
``vessel_data``: the same from memory, for the GeoPackage, QGIS project and report of a change run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shapely.geometry import Point, shape

from geo.antimeridian import cut_at_antimeridian
from geo.atomic import write_json, write_text
from geo.geometry import WGS84, reproject
from geo.grid import Grid
from geo.outputs.geojson import geojson_text, rfc7946_geometry
from geo.outputs.layer_metadata import sentinel_credit, vessel_metadata
from geo.outputs.provenance import as_json, portable
from geo.outputs.qlr import GeoJSONLayer, declared_fields, geojson_definition
from geo.outputs.run_data import VESSEL_DETECTIONS, VESSEL_PLOT, VESSEL_PLOT_NARROW
from geo.outputs.styles import to_qml, vessels_style
from geo.paths import visible_files
from geo.results import VesselData
from geo.scenes.ids import id_as_file_name
from geo.scenes.model import Scene
from geo.vessels.job import VesselRun, contains_point
from geo.vessels.model import VESSELS_VERSION, SceneDetections, detection_id
from geo.vessels.series import plot_series, plot_windows, write_csv

VESSEL_STYLE = str(Path(VESSEL_DETECTIONS).with_suffix(".qml"))  # beside the layer: QGIS loads it with it
# the layers as QGIS should open them: typed also when empty, on the time slider (geo.outputs.qlr)
VESSEL_LAYERS = str(Path(VESSEL_DETECTIONS).with_suffix(".qlr"))


def _feature(detection: Any, result: SceneDetections, aoi_id: str, grid: Grid) -> dict[str, Any]:
    lon, lat = reproject(Point(detection.x, detection.y), grid.crs.to_string(), WGS84).coords[0]
    identifier = detection_id(aoi_id, result.scene_id, result.sensor, detection.x, detection.y)
    props = {
        "detection_id": identifier, "aoi_id": aoi_id, "scene": result.scene_id,
        "datetime": result.datetime.isoformat(), "date": result.datetime.date().isoformat(),
        "sensor": result.sensor, "length_m": detection.length_m, "width_m": detection.width_m,
        "heading_deg": detection.heading_deg, "area_m2": detection.area_m2, "pixels": detection.pixels,
        "score": detection.score, "peak": detection.peak, "at_berth": detection.at_berth, "lon": round(lon, 7), "lat": round(lat, 7),
        "algorithm_version": VESSELS_VERSION,
    }
    geometry = cut_at_antimeridian(reproject(detection.geometry, grid.crs.to_string(), WGS84))
    return {"type": "Feature", "id": identifier, "geometry": rfc7946_geometry(geometry), "properties": props}


def _features_by_scene(run: VesselRun) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each scene's detections inside the AOI as GeoJSON features (RFC 7946, lon/lat)."""
    inside = contains_point(run.aoi.pixel_mask(run.grid), run.grid)
    return [(result.scene_id, [_feature(d, result, run.aoi.id, run.grid) for d in result.detections
                               if inside(d.x, d.y)]) for result in run.results]


def vessel_data(run: VesselRun) -> VesselData:
    """The run as its files hold it (``write_vessel_outputs``), from memory: what the GeoPackage, QGIS project
    and report show of it. ``plot`` is the plot's file name in the run folder."""
    detections = [(shape(f["geometry"]), f["properties"]) for _, features in _features_by_scene(run) for f in features]
    p = run.manifest["parameters"]["evidence"]
    return VesselData(detections, as_json(run.rows), float(p["large_length_m"]), float(p["min_observed_fraction"]),
                      as_json(portable(run.evidence)), Path(VESSEL_PLOT), as_json(portable(run.manifest)),
                      plot_windows(run.claims, run.aoi)[1].name)  # the rows' local_date's zone


def write_vessel_outputs(run: VesselRun, folder: Path) -> list[Path]:
    """The run's files into ``folder`` (a staging folder: see ``geo.atomic.staged_dir``, which
    swaps it into place whole): ``detections-<scene>.geojson`` per scene (``geo.scenes.ids.id_as_file_name``)
    and ``vessels.geojson`` (all scenes), both RFC 7946, holding the detections inside the AOI, and each with its QGIS style
    beside it (``detections-<scene>.qml``, ``vessels.qml``); ``vessels.qlr`` (all of them, for QGIS, their metadata
    listing the manifest's ``warnings``); ``timeseries.csv|json|svg|png``; ``evidence.json``; ``vessels-manifest.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    everything = []
    # QGIS applies a .qml of the same name when the layer is opened: the GeoPackage layer's style, beside
    # vessels.geojson and each scene's file
    style = to_qml(vessels_style())
    from geo.outputs.gpkg import DATE_COLUMNS, VESSEL_COLUMNS  # geopandas: only once there are files to write

    # a file with no ship has no field for OGR: the layer declares them, typed as in the GeoPackage
    fields = declared_fields(VESSEL_COLUMNS, DATE_COLUMNS, ("datetime",))
    layers, area, taken = [], f"{run.aoi.name} ({run.aoi.id})", {r.scene_id: r.datetime for r in run.results}
    caveats = (run.manifest.get("warnings", ()), "geo vessels")  # the caller's, set before: in the layers' abstracts
    for scene_id, features in _features_by_scene(run):
        everything += features
        name = f"detections-{id_as_file_name(scene_id)}.geojson"
        write_text(folder / name, geojson_text({"type": "FeatureCollection",  # (handed on alone, credits the data)
                                                "description": sentinel_credit([taken[scene_id]]), "features": features}))
        write_text(folder / (name.removesuffix(".geojson") + ".qml"), style)
        layers.append(GeoJSONLayer(name, f"detections {scene_id}", vessels_style(), False,  # each scene's, unticked
                                   None if features else fields,
                                   vessel_metadata(f"detections {scene_id}", area, [taken[scene_id]], *caveats)))
    layers.insert(0, GeoJSONLayer(VESSEL_DETECTIONS, "vessel detections", vessels_style(), True,
                                  None if everything else fields, vessel_metadata("vessel detections", area, taken.values(),
                                                                                   *caveats)))
    write_text(folder / VESSEL_DETECTIONS, geojson_text({"type": "FeatureCollection",
                                                         "description": sentinel_credit(taken.values()),
                                                         "features": everything}))
    write_text(folder / VESSEL_STYLE, style)
    write_text(folder / VESSEL_LAYERS, geojson_definition(layers))
    write_csv(folder / "timeseries.csv", run.rows)
    p = run.manifest["parameters"]["evidence"]
    windows, zone = plot_windows(run.claims, run.aoi)  # zone: the rows' local_date's (series_zones)
    write_json(folder / "timeseries.json", {"aoi_id": run.aoi.id, "large_length_m": p["large_length_m"],
                                            "min_observed_fraction": p["min_observed_fraction"],
                                            "local_time_zone": zone.name, "rows": run.rows})
    title = f"Vessels detected in {run.aoi.name} ({run.aoi.id})"
    for paths, narrow in (([folder / VESSEL_PLOT, folder / "timeseries.png"], False), ([folder / VESSEL_PLOT_NARROW], True)):
        plot_series(paths, run.rows, title, windows, p["min_observed_fraction"], p["large_length_m"], zone, narrow)
    write_json(folder / "evidence.json", portable(run.evidence))  # no path of this machine in a run folder
    write_json(folder / "vessels-manifest.json", portable(run.manifest))
    return visible_files(folder)


def write_vessel_item(run: VesselRun, scenes: Sequence[Scene], folder: Path) -> None:
    """``item.json``: the vessel run folder as a STAC Item (``geo.outputs.stac_item``), its assets the files
    already in ``folder``, a ``derived_from`` link to each scene searched, its time range theirs."""
    from geo.outputs.stac_item import STAC_ITEM, derived_item, run_assets, scene_link, write_item

    folder = Path(folder)
    first, last = min(s.datetime for s in scenes).date(), max(s.datetime for s in scenes).date()
    names = [path.name for path in visible_files(folder)]
    properties = {"title": f"Vessels in {run.aoi.name}", "geo:aoi_id": run.aoi.id,
                  "geo:n_scenes": len(scenes), "geo:n_detections": sum(r["n_vessels"] for r in run.scene_rows),
                  "geo:claim_ids": sorted({c.id for c in run.claims})}
    lineage = f"Vessel detection ({VESSELS_VERSION}) in {len(scenes)} Sentinel scene(s) from {first} to {last}"
    item = derived_item(f"{run.aoi.id}_vessels_{first}_{last}", rfc7946_geometry(run.aoi.geometry),
                        [scene_link(s, folder) for s in scenes], VESSELS_VERSION, lineage, run_assets(names, folder),
                        properties)
    write_item(folder / STAC_ITEM, item)
