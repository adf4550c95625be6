"""``geo vessels``: ships per scene over an AOI, the AOI's vessel-count series, and claim evidence."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from geo.aoi_files import gdal_reason
from geo.atomic import check_output_dir, staged_dir
from geo.cli import console
from geo.cli.options import (
    FiniteFloatRange, aoi_dir_option, aoi_folder, claim_list, collection_option, not_empty, out_option, scene_source,
    seeds_dir_option, seeds_folder, sensor_option,
)
from geo.claims import VESSEL_SIGNATURE, Claim
from geo.errors import AOIError, ClaimError, OverlapError
from geo.output_kinds import VESSELS
from geo.paths import visible_files
from geo.scenes.model import Sensor
from geo.scenes.source import default_source
from geo.words import counted

if TYPE_CHECKING:  # imported by the command itself, so --help stays light
    from shapely.geometry.base import BaseGeometry

    from geo.aoi import AOI
    from geo.scenes.model import Scene
    from geo.vessels.job import VesselRun


def _land_layer(path: Path | None, aoi: AOI) -> list[BaseGeometry]:
    """Polygons of a land layer (any vector file GDAL reads), as lon/lat shapely geometries; one of them must
    touch the AOI (one that does not is the wrong file, or lon/lat swapped: it would mask nothing)."""
    if path is None:
        return []
    import geopandas as gpd
    import pyogrio

    from geo.aoi_vector import polygon_layer

    try:
        layers = [(str(name), str(kind)) for name, kind in pyogrio.list_layers(path)]
        # a file of several layers (a GeoPackage of a project's): its one polygon layer, not the first
        frame = gpd.read_file(path, layer=polygon_layer(path, layers, "the land layer") if len(layers) > 1 else None)
    except AOIError:
        raise
    except Exception as exc:  # pyogrio raises its own DataSourceError/DataLayerError hierarchy
        raise AOIError(f"{path}: cannot read land layer ({gdal_reason(exc)})") from None
    if frame.crs is None:
        raise AOIError(f"{path}: land layer has no CRS")
    polygons = [g for g in frame.to_crs("EPSG:4326").geometry if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        raise AOIError(f"{path}: land layer holds no polygons")
    if not any(polygon.intersects(aoi.geometry) for polygon in polygons):
        from geo.antimeridian import bbox

        west, south, east, north = (round(v, 4) for v in bbox(aoi.geometry))
        raise OverlapError(f"{path}: no polygon of the land layer overlaps AOI {aoi.id!r} "
                           f"(lon {west}..{east}, lat {south}..{north}; wrong file, or a CRS it does not declare?)")
    return polygons


def _vessel_claims_only(claims: list[Claim]) -> None:
    """A claim named with --claim must expect vessels: the vessel job tests no other signature."""
    for claim in claims:
        if VESSEL_SIGNATURE not in claim.signatures:
            raise ClaimError(f"--claim {claim.id}: expects {', '.join(claim.signatures)}, not "
                             f"{VESSEL_SIGNATURE}; geo vessels tests vessel claims only (geo run tests the others)")


@click.command("vessels")
@click.option("--aoi", "aoi_ref", required=True, callback=not_empty,
              help="AOI id (from aoi/) or a polygon file: GeoJSON, GeoPackage, shapefile, KML...")
@click.option("--from", "start", required=True, help="First date of the period (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="Last date of the period (YYYY-MM-DD).")
@sensor_option(None,
              help="Only Sentinel-1 (SAR CFAR) or Sentinel-2 (optical) scenes [default: every sensor the source has].")
@click.option("--source", default=None, callback=scene_source,
              help="'earth-search' (Sentinel-2), 'planetary-computer' (Sentinel-1 RTC and Sentinel-2), 'cdse' "
                   "(Sentinel-1 GRD and Sentinel-2; S3 keys to read), a STAC API URL, a local STAC catalog, or 'demo' (the Nantes scenes shipped with geo) [default: earth-search; planetary-computer with --sensor s1].")
@collection_option(", searched for the one sensor searched: --sensor names it unless the source has one")
@click.option("--claim", "claim_ids", multiple=True, callback=claim_list,
              help="Claim to test (repeatable, or a,b) [default: the AOI's claims whose signature is vessels].")
@click.option("--land", "land_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Land polygons (GeoJSON/GeoPackage) added to the land mask built from the imagery.")
@click.option("--pfa", type=FiniteFloatRange(1e-12, 1e-2), default=None,
              help="Pixel false-alarm rate of the SAR CFAR and the optical test [default: 1e-6].")
@click.option("--berthed", is_flag=True, default=False,
              help="Sentinel-2 with fewer than 3 scenes: keep ship-shaped objects on the water (ships at berth) "
                   "out of the land mask, and keep only candidates the hull model takes for hulls. Experimental: "
                   "more ships found, more false alarms (README).")
@out_option
@aoi_dir_option
@seeds_dir_option
def vessels_command(aoi_ref: str, start: str, end: str, sensor: Sensor | None, source: str | None,
                    collections: tuple[str, ...], claim_ids: tuple[str, ...],
                    land_path: Path | None, pfa: float | None, berthed: bool, out: Path, aoi_dir: Path | None,
                    seeds_dir: Path | None) -> None:
    """Detect vessels in every scene over an AOI between --from and --to; count them per date.

    Writes detections-<scene>.geojson and vessels.geojson (RFC 7946), vessels.qlr (all of them for QGIS:
    Layer > Add from Layer Definition File), timeseries.csv|json|svg|png,
    evidence.json (claims whose signature is vessels: a rise in large vessels inside the claim window
    against the AOI's own earlier dates), vessels-manifest.json and item.json (the folder as a STAC Item)
    into --out.
    """
    from dataclasses import replace

    from geo.cli.start_up import collector_paused

    with collector_paused():  # numpy, rasterio, geopandas...: as a change job's (geo.cli.start_up.job_imports)
        from geo.cli.change_job import load_job_inputs
        from geo.scenes.pairs import parse_period
        from geo.vessels.job import VesselParams, find_scenes, run_vessels
        from geo.vessels.run_files import write_vessel_item, write_vessel_outputs
        from geo.vessels.period import default_sensors, no_scenes, vessel_claims

    first, last = parse_period(start, end)
    check_output_dir(out, kind=VESSELS)  # a re-run's folder, not another command's
    aoi, claims = load_job_inputs(aoi_ref, claim_ids, aoi_folder(aoi_dir),
                                  seeds_folder(seeds_dir, needed=bool(claim_ids)))
    if claim_ids:
        _vessel_claims_only([c for c in claims if c.id in claim_ids])
    else:
        claims = vessel_claims(claims, aoi)
    land = _land_layer(land_path, aoi)
    said = _windows_outside([c for c in claims if c.id in claim_ids] if claim_ids else claims, first, last)
    params = VesselParams()
    if pfa is not None:
        params = replace(params, sar=replace(params.sar, pfa=pfa), optical=replace(params.optical, pfa=pfa))
    if berthed:
        params = replace(params, land=replace(params.land, keep_objects_on_water=True),
                         optical=replace(params.optical, ship_model=True))
    source = source or default_source(sensor)
    sensors = (sensor,) if sensor else default_sensors(source)
    named = _named_collections(collections, sensors, source)
    with console.progress(f"vessels {aoi.id}") as step:
        step("searching scenes")
        scenes = find_scenes(source, aoi, first, last, sensors, named=named)
        if not scenes:
            raise no_scenes(sensors, aoi, first, last, source, named)
        if berthed:
            said += _berthed_applies(scenes)
        run = run_vessels(aoi, scenes, claims, params, land, step)
        after = _run_warnings(run)  # said with the summary below
        run.manifest["warnings"] = [*said, *after]  # before the files: their layers' metadata lists them
        step("writing outputs")
        with staged_dir(out, kind=VESSELS) as stage:
            write_vessel_outputs(run, stage)
            write_vessel_item(run, scenes, stage)
            written = [out / path.name for path in visible_files(stage)]
    _summary(run, written, out, after)


def _named_collections(collections: tuple[str, ...], sensors: tuple[Sensor, ...], source: str,
                       ) -> dict[Sensor, tuple[str, ...]]:
    """``--collection``'s collections as the one sensor's searched; a source searched for both sensors leaves
    it unsaid which sensor's they are (Sentinel-2 items read as Sentinel-1 fail far later)."""
    if not collections:
        return {}
    if len(sensors) > 1:
        raise click.UsageError(f"--collection {', '.join(collections)}: {source} is searched for "
                               f"{' and '.join(s.mission for s in sensors)}; add --sensor "
                               f"{' or --sensor '.join(sensors)} to say whose collection it is")
    return {sensors[0]: collections}


def _windows_outside(claims: list[Claim], first: date, last: date) -> list[str]:
    """Warn of a claim whose window lies wholly outside the period: its 'no scene inside the window' would
    blame the archive for what --from/--to left out (a day's slack: windows count local days). The warnings."""
    said = []
    period = f"the period {first}..{last} (--from/--to): no scene of the period can test it"
    for claim in claims:
        window = claim.window
        if window.start > last + timedelta(days=1):
            side, fix = "after", f"give --to {window.end} or later"
        elif window.end < first - timedelta(days=1):
            side, fix = "before", f"give --from well before {window.start} (its baseline is the dates before it)"
        else:
            continue
        said.append(f"claim {claim.id}: its window {window.start}..{window.end} lies {side} {period}; {fix}")
        logging.getLogger(__name__).warning(said[-1])
    return said


def _berthed_applies(scenes: list[Scene]) -> list[str]:
    """Warn when --berthed can change nothing: it changes only the land model of Sentinel-2 scenes judged one by
    one; a series of them shares a time-series mask, which has no ships in it to keep. The warning, if any."""
    from geo.vessels.job import mask_groups
    from geo.vessels.landmask import MIN_SCENES_FOR_MEDIAN

    optical = [group for key, group in mask_groups(scenes).items() if key.sensor == Sensor.S2]
    if any(len(group) < MIN_SCENES_FOR_MEDIAN for group in optical):
        return []
    held = (f"these {sum(map(len, optical))} Sentinel-2 scenes share a time-series land mask" if optical else
            "the period holds no Sentinel-2 scene")
    said = (f"--berthed changes nothing here: it applies to Sentinel-2 scenes judged one by one (fewer than "
            f"{MIN_SCENES_FOR_MEDIAN} in the period); {held}")
    logging.getLogger(__name__).warning(said)
    return [said]


# Measured on the six labelled sen2ships ports (benchmarks/vessels.py, README's real-data table): the default
# single-scene Sentinel-2 land model's ships found at berth and on open water, and its false alarms (precision 0.205).
SINGLE_SCENE_FOUND = "2 of 136 ships at berth and 30 of 39 on open water, and 4 in 5 of its detections were not ships"


def _berths_unseen(masks: dict[str, str]) -> list[str]:
    """The warning when a Sentinel-2 series was judged by the single-scene land mask without --berthed: it paints a
    ship alongside a quay land with the quay, so its at-berth counts are near 0 whatever is moored there."""
    blind = [series for series, method in masks.items()
             if series.startswith("s2") and "single-scene" in method and "objects-on-water" not in method]
    if not blind:
        return []
    return [f"{', '.join(blind)}: counts are detections, not a census, and ships at berth are nearly all missed: with "
            f"fewer than 3 scenes the land mask paints a ship alongside a quay land with the quay, and what it counts at "
            f"berth is mostly quay-side clutter (on six labelled ports it found {SINGLE_SCENE_FOUND}); give 3 or more "
            "scenes (a time-series mask) or try --berthed"]


LITTLE_WATER_KM2 = 0.005  # half a hectare, 50 pixels of 10 m: room for one ship at most


def _run_warnings(run: VesselRun) -> list[str]:
    """What the counts warrant a warning of: almost no water in the area, ships at berth unseen."""
    said = []
    water = max((r.sea_px * r.pixel_area_m2 / 1e6 for r in run.results), default=0.0)  # seen or not
    if run.results and water < LITTLE_WATER_KM2:
        # a share of almost no water reads as "saw 100%": say how little there was
        said.append(f"{run.aoi.id}: the land mask leaves {water * 1e6:,.0f} m2 of water in the area on its best date; "
                    "vessel counts there say little (is the area over a port's water?)")
    return said + _berths_unseen(run.manifest["land_mask"])


def _summary(run: VesselRun, written: list[Path], out: Path, warnings: list[str]) -> None:
    from geo.vessels.run_files import VESSEL_LAYERS

    echo, esc = console.stdout.print, console.esc
    masks = ", ".join(f"{series} {method}" for series, method in run.manifest["land_mask"].items())
    echo(f"[bold]AOI[/] {esc(run.aoi.id)}: {counted(len(run.results), 'scene')}, land mask {esc(masks)}", markup=True)
    for row in run.rows:
        ice = run.manifest["per_scene"].get(row["scene"], {}).get("sea_ice_fraction", 0.0)  # Sentinel-1's ice fields
        echo(f"  {row['date']} {row['sensor']}: {row['n_vessels']} vessel{'' if row['n_vessels'] == 1 else 's'} ({row['n_large']} >= "
             f"{run.manifest['parameters']['evidence']['large_length_m']:.0f} m, {row['n_100m']} >= 100 m; "
             f"{row['n_at_berth']} at berth, {row['n_at_anchor']} at anchor), "
             f"{row['total_area_m2'] / 1e3:.1f}k m2, saw {row['observed_fraction']:.0%} of the water "
             f"({row['observed_km2']:.2f} km2{f'; {ice:.0%} sea ice, not seen' if ice >= 0.005 else ''})")
    for warning in warnings:  # after the counts they are about
        logging.getLogger(__name__).warning(warning)
    for item in run.evidence:
        echo(f"  claim {esc(item['claim_id'])}: [bold]{esc(item['verdict'])}[/] — {esc(item['rationale'])}",
             markup=True)
    echo(f"files: {len(written)} in {out} (timeseries.csv, timeseries.svg, evidence.json, vessels.geojson, ...)")
    echo(f"[bold]QGIS:[/] {esc(str(out / VESSEL_LAYERS))} (styled, time-aware layers: drag and drop, or Layer > "
         "Add from Layer Definition File)", markup=True)
