"""The writers of a run folder, in one registry: each a name, the files it makes and a function that takes
the run's result and a folder and writes them, never changing the result.

``geo run``/``geo demo`` write ``RUN_WRITERS`` in order (``write_run``); the change layers
(``layers.CHANGE_LAYERS``: ``changes.geojson``, ``changes.kml``, ``changes.qml``, ``changes.qlr``) are written by the same code for a run and for each
``geo recheck`` run folder; the client views (``VIEW_WRITERS``: GeoPackage, QGIS project, report) are written
from a run's view by the ``client views`` writer, and ``geo report`` rebuilds a report with the same ``report``
view writer from run folders read back. A new format is one writer function and one line in ``layers.CHANGE_LAYERS`` (a
layer of change polygons: a run and every re-check run folder write it) or ``RUN_WRITERS`` (anything else of a
run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from geo.atomic import staged_dir, write_json
from geo.output_kinds import CHANGE_RUN
from geo.outputs.bundle import folder_view, run_data, write_aoi, write_rasters
from geo.outputs.gpkg import write_geopackage
from geo.outputs.layers import CHANGE_LAYERS, LayerFacts, write_change_layers
from geo.outputs.not_compared import NOT_COMPARED_LAYER, NOT_COMPARED_STYLE, write_not_compared
from geo.outputs.qgis_project import PROJECT, write_project
from geo.outputs.report import write_report
from geo.outputs.run_data import (AFTER_RGB, AOI, BEFORE_RGB, CLAIMS, GEOPACKAGE, MANIFEST, NOT_COMPARED, REPORT,
                                  STATISTIC, WRITER_TIMING, RunData)
from geo.outputs.stac_item import STAC_ITEM, write_stac_item
from geo.results import JobResult, run_caveats
from geo.vector.sensor_columns import extra_columns

Write = Callable[[JobResult, Path], object]  # what it returns is not used, but a JobResult: handed on (write_run)


@dataclass(frozen=True)
class OutputWriter:
    name: str
    files: tuple[str, ...]  # what it writes into the run folder (those it cannot make are left out, with a warning)
    write: Write


def _layer_facts(result: JobResult) -> LayerFacts:
    scenes = result.manifest.scenes
    name = result.aoi.name if result.aoi is not None else result.manifest.aoi["id"]
    days = (scenes["before"]["datetime"][:10], scenes["after"]["datetime"][:10])
    manifest = result.manifest.to_dict()
    return LayerFacts(f"Changes in {name}: {days[0]} to {days[1]}", extra_columns(manifest), days,
                      tuple(run_caveats(manifest)))


def _raster_files() -> tuple[str, ...]:
    return tuple(f for name in (STATISTIC, BEFORE_RGB, AFTER_RGB) for f in (name, str(Path(name).with_suffix(".qml"))))


@dataclass(frozen=True)
class ViewWriter:
    """A client's view of one or more runs (``RunData``: from a run in memory, or read back from its folder by
    ``geo report``): its file name in a run folder and ``write(path, runs)``."""

    name: str
    file: str
    write: Callable[[Path, Sequence[RunData]], object]


VIEW_WRITERS: dict[str, ViewWriter] = {w.name: w for w in (
    ViewWriter("geopackage", GEOPACKAGE, write_geopackage),
    ViewWriter("qgis project", PROJECT, lambda path, runs: write_project(path, runs[0])),
    ViewWriter("report", REPORT, write_report),
)}


def _write_client_views(result: JobResult, out: Path) -> None:
    """The client views (``VIEW_WRITERS``), all from one view of the run (``bundle.run_data``: features in
    lon/lat, the vessel job's files read once)."""
    run = run_data(result, out)
    for writer in VIEW_WRITERS.values():
        writer.write(out / writer.file, [run])


RUN_WRITERS: tuple[OutputWriter, ...] = (
    OutputWriter("change layers", tuple(layer.file for layer in CHANGE_LAYERS),
                 lambda result, out: write_change_layers(out, result.features, _layer_facts(result))),
    OutputWriter("areas not compared", (NOT_COMPARED, NOT_COMPARED_STYLE, NOT_COMPARED_LAYER), write_not_compared),
    OutputWriter("claims", (CLAIMS,), lambda result, out: write_json(out / CLAIMS, [c.to_dict() for c in result.claims])),
    OutputWriter("aoi", (AOI,), write_aoi),
    OutputWriter("rasters", _raster_files(), write_rasters),
    OutputWriter("client views", tuple(w.file for w in VIEW_WRITERS.values()), _write_client_views),
    OutputWriter("stac item", (STAC_ITEM,), write_stac_item),
    OutputWriter("manifest", (MANIFEST,), lambda result, out: write_json(out / MANIFEST, result.manifest.to_dict())),
)


def write_run(result: JobResult, out: Path, job_writers: Sequence[Write] = (),
              writers: Sequence[OutputWriter] = RUN_WRITERS) -> list[Path]:
    """Write the run folder of ``result`` as the folder records it (``bundle.folder_view``): first the files
    of the jobs beside the change job (``job_writers``: the vessel job's, which the GeoPackage and report
    show), then ``writers`` in order, each timed: the view a writer is given holds in its manifest's
    ``timings_s`` the seconds of the writers before it ("write rasters", ...; the manifest, written last, holds
    them all). Staged, then swapped into place whole (``staged_dir``: the folder holds this run or the previous
    one, never a mix). A writer returning a ``JobResult`` hands on what it made to the writers after it (the areas
    not compared, made once for the GeoJSON, the GeoPackage, the project and the report). Returns the final paths."""
    view = folder_view(result)
    timings = dict(view.manifest.timings_s)
    with staged_dir(out, kind=CHANGE_RUN) as stage:
        for job_writer in job_writers:
            job_writer(view, stage)
        for writer in writers:
            start = time.perf_counter()
            made = writer.write(replace(view, manifest=replace(view.manifest, timings_s=dict(timings))), stage)
            if isinstance(made, JobResult):
                view = replace(made, manifest=view.manifest)
            timings[WRITER_TIMING.format(writer.name)] = round(time.perf_counter() - start, 3)
        names = sorted(p.name for p in stage.iterdir() if not p.name.startswith("."))
    return [Path(out) / n for n in names]
