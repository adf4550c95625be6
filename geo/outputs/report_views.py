"""The pictures of one run for the report: the before/after swipe view of the AOI, per-change chips, and
the vessel count plot.

Everything is built from the run's files (the true-colour COGs and the change polygons), so
``geo report`` can rebuild it after the run.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from geo.antimeridian import centre
from geo.grid import Grid
from geo.outputs.cog import read_view, read_window
from geo.outputs.palette import change_colour
from geo.outputs.render import (
    Furniture,
    PixelFrame,
    Stretch,
    chip_window,
    data_uri,
    display_stretch,
    furniture,
    lat_lon_text,
    to_rgb8,
)
from geo.outputs.run_data import AFTER_RGB, BEFORE_RGB, STATISTIC, VESSEL_PLOT_NARROW, RunData
from geo.results import VesselData, utc_datetime
from geo.scenes.model import Sensor
from geo.vector.feature import ChangeFeature

log = logging.getLogger(__name__)

VIEW_MAX_SIDE = 1000  # px of the swipe view; larger AOIs are shown averaged down
CHIP_SIDE = 40  # px (400 m) around a change, more when the change is larger
CHIP_MAX_SIDE = 300  # px at most: a larger chip (a change over 2 km across) is averaged down, as the view is
COORDINATE_PLACES = 6  # ~0.1 m: well inside a 10 m pixel
OSM_ZOOM = 17  # a few hundred metres across: the change and its surroundings


@dataclass(frozen=True)
class Outline:
    change_id: str
    change_type: str
    colour: str
    path: str
    title: str


@dataclass(frozen=True)
class Place:
    """A change's centroid (of its lon/lat polygon, as in changes.geojson) and where to open it."""

    lat: float
    lon: float

    @classmethod
    def of(cls, geometry: BaseGeometry) -> Place:
        lon, lat = centre(geometry)  # of a polygon cut at 180 too
        return cls(round(lat, COORDINATE_PLACES), round(lon, COORDINATE_PLACES))

    @property
    def text(self) -> str:
        return lat_lon_text(self.lat, self.lon)

    @property
    def osm_url(self) -> str:
        return (f"https://www.openstreetmap.org/?mlat={self.lat:.6f}&mlon={self.lon:.6f}"
                f"#map={OSM_ZOOM}/{self.lat:.6f}/{self.lon:.6f}")

    @property
    def geo_uri(self) -> str:
        """RFC 5870: opens the spot in the device's map app."""
        return f"geo:{self.lat:.6f},{self.lon:.6f}"


@dataclass(frozen=True)
class Chip:
    change: dict[str, Any]
    colour: str
    before_uri: str
    after_uri: str
    size: int  # chip side in image pixels (10 m each)
    path: str  # the change outline in chip pixels
    furniture: Furniture  # scale bar, north arrow, corners of the chip
    place: Place  # the change's centroid and links to it on a web map


@dataclass
class Pictures:
    """What the report shows of one run; ``available`` is False when the true-colour COGs are missing."""

    available: bool
    width: int = 0
    height: int = 0
    before_uri: str = ""
    after_uri: str = ""
    aoi_path: str = ""
    outlines: list[Outline] = field(default_factory=list)
    note: str = ""
    stretch: dict[str, Any] = field(default_factory=dict)
    furniture: Furniture | None = None
    _sources: tuple[TrueColour, TrueColour] | None = None
    _grid: Grid | None = None
    gaps: bool = False  # either picture has pixels not seen on its date (drawn dark grey)
    not_compared: list[tuple[str, str]] = field(default_factory=list)  # the areas not compared: (SVG path, title)
    # each change's chips by change id: an area named by 40 claims shows the same changes on 40 cards
    _chips: dict[str, Chip] = field(default_factory=dict)

    def chips(self, features: Sequence[ChangeFeature]) -> list[Chip]:
        """Before/after chips around each change in ``features``, with its outline: each read from the COGs
        at full resolution (a window around the change, not the whole raster; averaged down to CHIP_MAX_SIDE px
        for a change over 2 km across), once per change."""
        if self._sources is None or self._grid is None:
            return []
        before, after = self._sources
        for feature in features:
            if feature.change_id in self._chips:
                continue
            frame = PixelFrame(self._grid)
            window = chip_window(frame.pixel_bounds(feature.geometry), self._grid.shape, CHIP_SIDE)
            before_rgb, after_rgb = before.chip(window), after.chip(window)
            side = before_rgb.shape[0]  # the window's own side, or CHIP_MAX_SIDE for a change kilometres wide
            local = PixelFrame(self._grid, side / window[2], window[1], window[0])
            self._chips[feature.change_id] = Chip(
                feature.properties(), change_colour(feature.change_type), data_uri(before_rgb),
                data_uri(after_rgb), side, local.svg_path(feature.geometry),
                furniture(self._grid, window), Place.of(feature.geometry),
            )
        return [self._chips[feature.change_id] for feature in features]

    @property
    def shown_chips(self) -> list[Chip]:
        """Every chip of the run that a card or the overview shows: the report writes each picture once and
        each card refers to it (40 claims on one area showed its chips 322 times, 2.2 MB of a 3 MB file)."""
        return list(self._chips.values())


@dataclass(frozen=True)
class TrueColour:
    """A true-colour COG of the run and the display stretch it is shown with."""

    path: Path
    stretch: Stretch

    def chip(self, window: Sequence[int]) -> np.ndarray:
        """The window's pixels, averaged down to CHIP_MAX_SIDE px a side when larger (a change kilometres wide,
        whose full-resolution chips made the report tens of megabytes and read the rasters whole)."""
        return to_rgb8(read_window(self.path, window, CHIP_MAX_SIDE), self.stretch)


def _title(feature: ChangeFeature) -> str:
    return f"{feature.change_type.replace('_', ' ')}: {feature.area_m2:,.0f} m², {feature.confidence:.0%} of it strong"


def build_pictures(run: RunData) -> Pictures:
    before_path, after_path = run.raster(BEFORE_RGB), run.raster(AFTER_RGB)
    if before_path is None or after_path is None:
        missing = ", ".join(n for n, p in ((BEFORE_RGB, before_path), (AFTER_RGB, after_path)) if p is None)
        # why, in the run's own words (a scene that showed nothing of the area), or files gone from the folder since
        said = [w for w in run.manifest.get("warnings", []) if w.startswith((f"{BEFORE_RGB} not", f"{AFTER_RGB} not"))]
        if not said:
            log.warning("run %s: no true-colour images (%s missing)", run.folder, missing)
        why = "; ".join(said) if said else f"{missing} missing"
        there = [n for n, p in ((BEFORE_RGB, before_path), (AFTER_RGB, after_path)) if p is not None]
        if there:
            return Pictures(False, note=f"No before/after picture: the run folder holds {there[0]} alone ({why}).")
        return Pictures(False, note=f"No true-colour images in the run folder ({why}).")
    # a picture of at most VIEW_MAX_SIDE px a side (from the COGs' overviews), its stretch from those pixels
    before_rgb, grid, scale = read_view(before_path, VIEW_MAX_SIDE)
    after_rgb, _, _ = read_view(after_path, VIEW_MAX_SIDE)
    frame = PixelFrame(grid, scale)
    # stretched on the ground compared outside the changes, as the COGs' QGIS styles are (``bundle.write_rasters``)
    changed = frame.cover([f.geometry for f in run.features], before_rgb.shape[1:])
    if (statistic_path := run.raster(STATISTIC)) is not None:  # and the ground not compared (snow on one date only)
        statistic = read_view(statistic_path, VIEW_MAX_SIDE)[0][0]
        if statistic.shape == before_rgb.shape[1:]:
            not_compared = ~np.isfinite(statistic) & np.isfinite(before_rgb).all(0) & np.isfinite(after_rgb).all(0)
            changed = not_compared if changed is None else changed | not_compared
    stretch_before, stretch_after = display_stretch(before_rgb, changed), display_stretch(after_rgb, changed)
    view_before, view_after = to_rgb8(before_rgb, stretch_before), to_rgb8(after_rgb, stretch_after)
    outlines = [
        Outline(f.change_id, f.change_type, change_colour(f.change_type), frame.svg_path(f.geometry), _title(f))
        for f in run.features
    ]
    note = "" if scale >= 1.0 else (f"Shown at {1 / scale:.1f}× 10 m per pixel (averaged); chips are full resolution "
                                     f"up to {CHIP_MAX_SIDE * 10 / 1000:g} km across.")
    return Pictures(
        True, view_before.shape[1], view_before.shape[0], data_uri(view_before, "JPEG"), data_uri(view_after, "JPEG"),
        frame.svg_path(run.aoi_geometry), outlines, note,
        {"before": [list(s) for s in stretch_before], "after": [list(s) for s in stretch_after]},
        furniture(grid), (TrueColour(before_path, stretch_before), TrueColour(after_path, stretch_after)), grid,
        gaps=not (np.isfinite(before_rgb).all() and np.isfinite(after_rgb).all()),
        not_compared=[(frame.svg_path(geometry), f"not compared: {props.get('detail') or props.get('reason')}")
                      for geometry, props in run.not_compared],
    )


@dataclass(frozen=True)
class VesselView:
    plot_uri: str  # the series plot (SVG) as a data: URI, or "" when the file is not an SVG
    narrow_plot_uri: str  # the plot drawn for a phone, or "" (a folder from before it: the wide one there too)
    rows: list[dict[str, Any]]
    large_length_m: float
    min_observed_fraction: float
    sensors: list[str]
    period: list[str]  # the period searched for scenes
    n_detections: int
    dates: list[str] = field(default_factory=list)  # the first and last day counted, in ``zone``
    note: str = ""
    zone: str = "UTC"  # whose days the rows' ``day`` counts (the claims' windows', as the plot's axis)

    @property
    def unseen_causes(self) -> str:
        """Why a date saw too little of the water: radar (Sentinel-1) sees through cloud, not through sea ice."""
        optical = any((Sensor.named(s) or Sensor.S2).sees_cloud for s in self.sensors)
        return "sea ice or no data" if self.sensors and not optical else "cloud, ice or no data"


def svg_uri(path: Path) -> str:
    """An SVG file as a ``data:image/svg+xml`` URI for an ``<img>``: drawn by the browser as an image, never
    as part of the page, so nothing in the file can run (no script, no links, no style leaking out) and
    the report's CSP (``img-src data:``) allows it. "" when the file is not an SVG."""
    data = path.read_bytes()
    head = data[:512].lstrip().lower()
    if not (head.startswith(b"<?xml") or head.startswith(b"<svg")) or b"<svg" not in data[:4096].lower():
        log.warning("%s: not an SVG image, not shown", path)
        return ""
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


def vessel_view(vessels: VesselData | None) -> VesselView | None:
    if vessels is None:
        return None
    uri = svg_uri(vessels.plot)
    narrow = vessels.plot.with_name(VESSEL_PLOT_NARROW)
    narrow_uri = svg_uri(narrow) if uri and narrow.is_file() else ""
    m = vessels.manifest
    sensors = sorted({str(r["sensor"]) for r in vessels.rows})
    rows = [{**r, "day": day(r), "taken_utc": utc_datetime(r["datetime"]).strftime("%Y-%m-%d %H:%M")}
            for r in vessels.rows]
    dates = sorted(r["day"] for r in rows)
    return VesselView(
        uri, narrow_uri, rows, vessels.large_length_m, vessels.min_observed_fraction, sensors,
        [str(d) for d in m.get("period", [])], len(vessels.detections),
        dates=[dates[0], dates[-1]] if dates else [],
        note="" if uri else f"{vessels.plot.name} is not an SVG image: the plot is not shown.",
        zone=vessels.local_time_zone,
    )


def day(row: dict[str, Any]) -> str:
    """A series row's day where the claims' windows count it (``local_date``); its UTC ``date`` in a series
    written before rows said their local day."""
    return str(row.get("local_date") or row["date"])
