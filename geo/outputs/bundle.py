"""Everything a run writes besides its GeoJSON and JSON: the AOI, ``changes.kml``, the COGs with their QGIS
styles, the ``changes.qml`` sidecar, the GeoPackage and the report. Passed to ``geo.jobs.spine.write_outputs`` as an extra
writer, so it all lands atomically with the rest of the run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from geo.atomic import write_json
from geo.outputs.cog import sar_display, true_colour, write_cog
from geo.outputs.geojson import write_feature_collection
from geo.outputs.gpkg import write_geopackage
from geo.outputs.kml import KML, write_kml
from geo.outputs.render import display_stretch
from geo.outputs.qgis_project import PROJECT, write_project
from geo.outputs.provenance import portable
from geo.outputs.report import write_report
from geo.outputs.run_data import AFTER_RGB, AOI, BEFORE_RGB, CLAIMS, GEOPACKAGE, REPORT, STATISTIC, load_run
from geo.outputs.statistic import describe
from geo.outputs.styles import changes_style, statistic_style, to_qml, true_colour_style
from geo.results import JobResult

log = logging.getLogger(__name__)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def write_rasters(result: JobResult, out: Path) -> None:
    """The change statistic and before/after true colour as COGs, each with a QML sidecar."""
    grid = result.before.grid
    statistic = result.manifest["statistic"]
    view = describe(statistic)
    tags = {"statistic": view.label, "method": view.method, "unit": view.unit_long or view.unit,
            **{f"level_{level.key}": f"{level.value:.6g} ({level.label})" for level in view.levels},
            **({"dof": str(view.dof)} if view.dof is not None else {})}
    write_cog(out / STATISTIC, result.statistic, grid, [f"{view.label} ({view.unit})" if view.unit else view.label],
              {k: v for k, v in tags.items() if v})
    _write_text((out / STATISTIC).with_suffix(".qml"), to_qml(statistic_style(statistic)))
    for name, stack in ((BEFORE_RGB, result.before), (AFTER_RGB, result.after)):
        rgb: np.ndarray | None  # None: no true colour (checked below)
        if stack.quantity != "reflectance":  # Sentinel-1: VV backscatter in dB, grey
            rgb = sar_display(stack.data, stack.bands)
            names, units = [f"{stack.bands[0]}_db"] * 3, f"{stack.bands[0].upper()} backscatter, dB"
        else:
            rgb = true_colour(stack.data, stack.bands)
            names, units = ["red", "green", "blue"], "reflectance"
            if rgb is None:
                warning = f"{name} not written: the run read no red/green/blue bands ({', '.join(stack.bands)})"
                log.warning(warning)
                result.manifest.setdefault("warnings", []).append(warning)
                continue
        write_cog(out / name, rgb, grid, names,
                  {"scene": stack.scene.id, "acquired": stack.scene.datetime.isoformat(), "units": units})
        _write_text((out / name).with_suffix(".qml"), to_qml(true_colour_style(display_stretch(rgb))))


def write_run_extras(result: JobResult, out: Path) -> None:
    """Extra writer for ``write_outputs``: AOI, ``changes.kml``, rasters, QGIS styles, GeoPackage, QGIS project,
    report; the manifest's local paths made portable first (``provenance``)."""
    if result.aoi is None:
        raise ValueError("JobResult without its AOI: cannot write the AOI layer")
    # No path of this machine in the provenance: manifest.json is written after this, from the same dict;
    # claims.json (rationales may name the catalog searched) was written before, so again.
    portable_manifest = portable(result.manifest)
    result.manifest.clear()
    result.manifest.update(portable_manifest)
    result.claims = portable(result.claims)
    write_json(out / CLAIMS, result.claims)
    write_feature_collection(out / AOI, [(result.aoi.geometry, {**result.aoi.summary()})])
    scenes = result.manifest["scenes"]
    write_kml(out / KML, result.features, f"Changes in {result.aoi.name}: {scenes['before']['datetime'][:10]} to "
                                          f"{scenes['after']['datetime'][:10]}")
    write_rasters(result, out)
    types = sorted({str(p.get("change_type", "other")) for _, p in result.features})
    _write_text(out / "changes.qml", to_qml(changes_style(types)))
    # The manifest as it will read back from manifest.json, so `geo report` later renders the same page.
    run = load_run(out, manifest=json.loads(json.dumps(result.manifest, default=str)))
    write_geopackage(out / GEOPACKAGE, [run])
    write_project(out / PROJECT, run)
    write_report(out / REPORT, [run])
