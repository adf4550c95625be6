"""The parts of a run folder that need more than one call (registered in ``geo.outputs.writers``): the AOI, the
COGs with their QGIS styles, and what the GeoPackage, QGIS project and report are
built from.

The writers take the result as its folder records it (``folder_view``: portable paths, a warning for each
file not written) and never change it; the GeoPackage and report are built from the values in memory, not
from the files just written (``geo report RUN_DIR`` reads a folder back with ``run_data.load_run``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from geo.claim_verdict import ClaimVerdict
from geo.outputs.cog import TRUE_COLOUR, sar_display, true_colour, write_cog
from geo.outputs.geojson import lonlat_as_written, write_feature_collection
from geo.outputs.layer_metadata import COPYRIGHT_TAG, sentinel_credit
from geo.outputs.not_compared import with_not_compared
from geo.outputs.render import display_stretch
from geo.outputs.provenance import as_json, portable
from geo.outputs.run_data import AFTER_RGB, AOI, BEFORE_RGB, STATISTIC, RunData
from geo.outputs.statistic import describe
from geo.outputs.styles import statistic_style, to_qml, true_colour_style
from geo.results import NOT_COMPUTED, JobResult, Manifest
from geo.scenes.scratch import is_scratch, scratch_array
from geo.scenes.read import Stack

log = logging.getLogger(__name__)



def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _no_true_colour(name: str, stack: Stack) -> str | None:
    """Why ``name`` (the view of ``stack``) cannot be written, or None when it can."""
    if not stack.valid.any():
        why = ("no data: radar sees through cloud" if stack.quantity != "reflectance" else
               "all cloud or no data" if stack.cloud_masked else "no data: no SCL, so no cloud was masked")
        return f"{name} not written: scene {stack.scene.id} shows nothing of the area ({why})"
    if stack.quantity != "reflectance" or set(TRUE_COLOUR) <= set(stack.bands):
        return None
    return f"{name} not written: the run read no red/green/blue bands ({', '.join(stack.bands)})"


def _no_statistic(statistic: Mapping[str, Any]) -> str | None:
    if statistic.get("name") != NOT_COMPUTED:
        return None
    return f"{STATISTIC} not written: the change statistic was not computed"


def folder_view(result: JobResult) -> JobResult:
    """``result`` as its run folder records it, a new value: no path of this machine in the manifest or the
    claims (rationales may name the catalog searched; ``provenance``), and in the manifest's warnings each
    true-colour raster that will not be written."""
    missing = [w for w in (_no_statistic(result.manifest.statistic), _no_true_colour(BEFORE_RGB, result.before),
                           _no_true_colour(AFTER_RGB, result.after)) if w]
    manifest = Manifest.from_dict(portable(result.manifest.with_warnings(*missing).to_dict()))
    claims = [ClaimVerdict.from_dict(portable(c.to_dict())) for c in result.claims]
    return replace(result, manifest=manifest, claims=claims)


def run_data(result: JobResult, out: Path) -> RunData:
    """What the GeoPackage, QGIS project and report show of ``result``, from memory: the values as the run's
    files hold them (lon/lat geometry as ``changes.geojson`` writes it), the vessel job's part included (its
    plot is the file its writer put in ``out``)."""
    if result.aoi is None:
        raise ValueError("JobResult without its AOI: cannot write the AOI layer")
    features = [replace(f, geometry=lonlat_as_written(f.geometry)) for f in result.features]
    manifest = as_json(result.manifest.to_dict())
    return RunData(out, {**manifest["aoi"], **as_json(result.aoi.summary())},
                   lonlat_as_written(result.aoi.geometry), features, [c.to_dict() for c in result.claims], manifest,
                   None if result.vessels is None else replace(result.vessels, plot=out / result.vessels.plot.name),
                   tuple(with_not_compared(result).not_compared or ()))


def write_rasters(result: JobResult, out: Path) -> None:
    """The change statistic and before/after true colour as COGs, each with a QML sidecar (those that cannot
    be made are left out: the manifest says why, ``folder_view``)."""
    if (why := _no_statistic(result.manifest.statistic)) is None:
        _write_statistic(result, out)
    else:
        log.warning("%s", why)
    grid = result.before.grid
    left_out = _left_out_of_stretch(result)
    for name, stack in ((BEFORE_RGB, result.before), (AFTER_RGB, result.after)):
        rgb: np.ndarray | list[np.ndarray] | None  # None: no true colour (checked below)
        if (why := _no_true_colour(name, stack)) is not None:
            log.warning("%s", why)
            continue
        if stack.quantity != "reflectance":  # Sentinel-1: VV backscatter in dB, grey
            rgb = sar_display(stack.data, stack.bands)
            names, units = [f"{stack.bands[0]}_db"] * 3, f"{stack.bands[0].upper()} backscatter, dB"
        else:
            rgb = true_colour(stack.data, stack.bands)
            names, units = ["red", "green", "blue"], "reflectance"
            assert rgb is not None  # (_no_true_colour)
        write_cog(out / name, rgb, grid, names,
                  {"scene": stack.scene.id, "acquired": stack.scene.datetime.isoformat(), "units": units,
                   COPYRIGHT_TAG: sentinel_credit([stack.scene.datetime])})
        _write_text((out / name).with_suffix(".qml"), to_qml(true_colour_style(display_stretch(rgb, left_out))))


def _left_out_of_stretch(result: JobResult, strip_rows: int = 1024) -> np.ndarray:
    """The pixels a date's display stretch leaves out: the changes, and those seen on both dates but not compared
    (no statistic there: snow on one date only), which set the snowed date's stretch and showed the ground compared
    beside them a few times darker on that date alone. By strips of rows (a large grid's masks are on disk)."""
    shape, valid = result.mask.shape, (result.before.valid, result.after.valid)
    out = scratch_array(shape, bool) if is_scratch(result.mask) else np.zeros(shape, bool)
    for top in range(0, shape[0], strip_rows):
        rows = slice(top, top + strip_rows)
        out[rows] = result.mask[rows] | (~np.isfinite(result.statistic[rows]) & valid[0][rows] & valid[1][rows])
    return out


def _write_statistic(result: JobResult, out: Path) -> None:
    statistic = result.manifest.statistic
    view = describe(statistic)
    tags = {"statistic": view.label, "method": view.method, "unit": view.unit_long or view.unit,
            **{f"level_{level.key}": f"{level.value:.6g} ({level.label})" for level in view.levels},
            **({"dof": str(view.dof)} if view.dof is not None else {})}
    tags[COPYRIGHT_TAG] = sentinel_credit([result.before.scene.datetime, result.after.scene.datetime])
    write_cog(out / STATISTIC, result.statistic, result.before.grid,
              [f"{view.label} ({view.unit})" if view.unit else view.label], {k: v for k, v in tags.items() if v})
    _write_text((out / STATISTIC).with_suffix(".qml"), to_qml(statistic_style(statistic)))


def write_aoi(result: JobResult, out: Path) -> None:
    if result.aoi is None:
        raise ValueError("JobResult without its AOI: cannot write the AOI layer")
    write_feature_collection(out / AOI, [(result.aoi.geometry, {**result.aoi.summary()})])


