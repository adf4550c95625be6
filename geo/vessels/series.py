"""Per-AOI time series of vessel counts and areas per local day, written as CSV, JSON and a plot (SVG + PNG)."""

from __future__ import annotations

import csv
import logging
import textwrap
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from geo.atomic import replacing
from geo.claim_days import UTC, DayZone, aoi_zone, claim_zone
from geo.claims import VESSEL_SIGNATURE, Claim
from geo.outputs.palette import SENSOR_COLOURS
from geo.vessels.model import SceneDetections

if TYPE_CHECKING:  # matplotlib is imported only where a plot is drawn
    from matplotlib.axes import Axes
    from matplotlib.text import Text

    from geo.aoi import AOI

log = logging.getLogger(__name__)

COLUMNS = ("date", "datetime", "local_date", "sensor", "instrument_mode", "scene", "n_vessels", "n_large", "total_area_m2", "large_area_m2",
           "observed_fraction", "observed_km2", "land_mask", "n_100m", "n_at_berth", "n_at_anchor",
           "n_100m_at_berth")
TROOP_SHIP_M = 100.0  # the size class a claim about troop transport turns on


def scene_row(result: SceneDetections, aoi_contains: Callable[[float, float], bool],
              large_length_m: float) -> dict[str, Any]:
    """One scene's counts and areas of the detections whose centre ``aoi_contains(x, y)``."""
    inside = [d for d in result.detections if aoi_contains(d.x, d.y)]
    large = [d for d in inside if d.length_m >= large_length_m]
    return {
        "date": result.datetime.date().isoformat(),
        "datetime": result.datetime.isoformat(),
        "sensor": result.sensor,
        "instrument_mode": result.instrument_mode,
        "scene": result.scene_id,
        "n_vessels": len(inside),
        "n_large": len(large),
        "total_area_m2": round(sum(d.area_m2 for d in inside), 1),
        "large_area_m2": round(sum(d.area_m2 for d in large), 1),
        "observed_fraction": round(result.observed_fraction, 4),
        "observed_km2": round(result.observed_km2, 4),
        "land_mask": result.diagnostics.get("land_mask", ""),
        "n_100m": sum(d.length_m >= TROOP_SHIP_M for d in inside),
        "n_at_berth": sum(d.at_berth for d in inside),
        "n_at_anchor": sum(not d.at_berth for d in inside),
        "n_100m_at_berth": sum(d.at_berth and d.length_m >= TROOP_SHIP_M for d in inside),
    }


def one_row_per_day(rows: Sequence[Mapping[str, Any]], zones: Sequence[DayZone]) -> list[dict[str, Any]]:
    """The series: one row per (local day, sensor, instrument mode), the day of each of ``zones`` (``series_zones``:
    the claims' windows count scenes by their local day, ``geo.claim_days``, and two passes of one UTC date can
    be two days there, the window's last and the next). When a sensor has two scenes of one mode on one day in
    every zone (adjacent slices, both satellites), the one that saw more of the AOI's water is kept; the other is
    named in ``dropped_scenes``. Each row says its ``local_date``, its day in ``zones[0]``. Sorted by time."""
    kept: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (r["datetime"], r["scene"])):
        row = {"instrument_mode": "", **row, "dropped_scenes": list(row.get("dropped_scenes", []))}
        days = [row_day(row, zone) for zone in zones]
        row["local_date"] = days[0].isoformat()
        key = (*days, row["sensor"], row["instrument_mode"])
        if key in kept:
            keep, drop = sorted((kept[key], row), key=lambda r: -r["observed_fraction"])
            keep["dropped_scenes"] = [*keep["dropped_scenes"], drop["scene"]]
            row = keep
        kept[key] = row
    return sorted(kept.values(), key=lambda r: (r["datetime"], r["sensor"], r["instrument_mode"] or ""))


def series_zones(claims: Sequence[Claim], aoi: AOI) -> tuple[DayZone, ...]:
    """The zones whose days the series keeps apart (``one_row_per_day``): first the plot's (``plot_windows``,
    the rows' ``local_date``), then any other a vessel claim's window counts in, so no window's day loses its
    scene to another day's."""
    windows, zone = plot_windows(claims, aoi)
    others = {w.zone.name: w.zone for w in windows if w.zone is not None and w.zone.name != zone.name}
    return (zone, *(others[name] for name in sorted(others)))


def mode_unknown(row: Mapping[str, Any]) -> bool:
    """Whether a row's instrument mode is unknown (None: counted before a ``geo recheck`` store kept it; a row
    without the key, or '' for an item that does not say, is known)."""
    return row.get("instrument_mode", "") is None


def known_modes(rows: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Each sensor's instrument modes among ``rows`` ('' where an item does not say), unknown ones (None) aside."""
    modes: dict[str, set[str]] = {}
    for row in rows:
        if not mode_unknown(row):
            modes.setdefault(str(row["sensor"]), set()).add(str(row.get("instrument_mode") or ""))
    return modes


def place_unknown_modes(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with the instrument mode of those whose mode is unknown (None: counted before a ``geo recheck``
    store kept it) settled where it can be: when every row of known mode of that sensor shares one mode, they join
    that series (taking its mode, and ``mode_assumed`` when it is one an item said: the port was imaged so before
    and since); when those rows are in several modes, nothing says which series they belong to, so they stay
    None, which the evidence leaves out of its tests and names. Apply before ``one_row_per_day``."""
    modes = known_modes(rows)
    placed = []
    for row in rows:
        known = modes.get(str(row["sensor"]), set())
        if mode_unknown(row) and len(known) <= 1:
            mode = next(iter(known), "")
            row = {**row, "instrument_mode": mode, **({"mode_assumed": True} if mode else {})}
        placed.append(dict(row))
    return placed


def series_namer(rows: Sequence[Mapping[str, Any]]) -> Callable[[Mapping[str, Any]], str]:
    """The series a row belongs to: its sensor ("s1"), and its instrument mode as well ("s1 EW") where that
    sensor's rows were seen in more than one mode (a mode's counts are not another's). Rows of unknown mode
    (``place_unknown_modes``) do not count as a mode."""
    modes = known_modes(rows)

    def name(row: Mapping[str, Any]) -> str:
        mode = str(row.get("instrument_mode") or "")
        several = len(modes.get(str(row["sensor"]), ())) > 1
        return f"{row['sensor']} {mode}" if mode and several else str(row["sensor"])

    return name


def series_rows(results: Sequence[SceneDetections], aoi_contains: Callable[[float, float], bool],
                large_length_m: float, zones: Sequence[DayZone]) -> list[dict[str, Any]]:
    """The series of ``results``: ``one_row_per_day`` of their ``scene_row``s."""
    return one_row_per_day([scene_row(r, aoi_contains, large_length_m) for r in results], zones)


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    with replacing(Path(path)) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


class PlotWindow(NamedTuple):
    """A claim window as the plot shades it: the whole days ``start`` .. ``end`` of ``zone`` (None: the plot's)."""

    name: str
    start: date
    end: date
    zone: DayZone | None = None


NARROW_INCHES = (3.6, 6.0)  # a phone's plot: ~350 CSS px wide, shown at 290-390 px
FLOOR = 0.05  # the count axis starts this share of its top below zero: a date of none above the frame
Span = tuple[str, datetime, datetime]  # a window's name, first and last instant (exclusive) on the plot's clock


def _span(window: PlotWindow, zone: DayZone) -> Span:
    days = window.zone or zone
    return (window.name, zone.wall_clock(days.start(window.start)),
            zone.wall_clock(days.start(window.end + timedelta(days=1))))


def plot_windows(claims: Sequence[Claim], aoi: AOI) -> tuple[list[PlotWindow], DayZone]:
    """The vessel claims' windows as the plot shades them (one per window and zone, its claims' names joined), and
    the zone of the plot's days: the one the windows count in, or the AOI's mean solar time (a claim's default)
    when none or several (each window is then shaded over its own zone's days)."""
    by_window: dict[tuple[date, date, DayZone], list[str]] = {}
    for claim in claims:
        if VESSEL_SIGNATURE in claim.signatures:
            by_window.setdefault((claim.window.start, claim.window.end, claim_zone(claim, aoi)), []).append(claim.id)
    zones = {zone for _, _, zone in by_window}
    zone = next(iter(zones)) if len(zones) == 1 else aoi_zone(aoi)
    return [PlotWindow(", ".join(ids), start, end, days) for (start, end, days), ids in by_window.items()], zone


def row_day(row: Mapping[str, Any], zone: DayZone) -> date:
    """The day of a claim window (in ``zone``, ``geo.claim_days``) a series row's scene was taken on; a row
    without its time (a series written by hand) is dated by its ``date``."""
    when = row.get("datetime")
    return zone.day(datetime.fromisoformat(str(when))) if when else date.fromisoformat(row["date"])


def plot_time(row: Mapping[str, Any], zone: DayZone) -> datetime:
    """Where a series row is drawn on a plot on ``zone``'s clock: at its scene's time there, inside the day the
    evidence counts it on (``row_day``) and on the side of a window's shading its days put it, also of a window
    counted in another zone (a row without its time, written by hand: at noon of its ``date``)."""
    when = row.get("datetime")
    if when:
        return zone.wall_clock(datetime.fromisoformat(str(when)))
    return datetime.combine(date.fromisoformat(row["date"]), time(12))


def plot_series(
    paths: Sequence[Path], rows: Sequence[Mapping[str, Any]], title: str,
    windows: Sequence[tuple[str, date, date] | PlotWindow] = (), min_observed: float = 0.8,
    large_length_m: float = 50.0, zone: DayZone = UTC, narrow: bool = False,
) -> None:
    """Counts (all, large) and total vessel area per date, one colour per sensor; claim windows shaded;
    dates that saw less than ``min_observed`` of the water drawn hollow. One file per path (.svg, .png).
    The time axis is ``zone``'s clock (named under it when not UTC): each scene at its time there (``plot_time``),
    its area's bar over its whole day there, each window shaded over its whole days, from the first's start to
    the last's end, so a scene is inside the shading when the evidence counts it inside the window
    (``geo.claim_days``). ``narrow``: drawn for a phone's screen (the report shows it there), upright, its legend
    under the plot and its words larger: the wide plot shrunk to a phone's width had words ~4 px high."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure: Figure = plt.figure(figsize=NARROW_INCHES if narrow else (9, 5.5))
    counts_ax, area_ax = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    colours = SENSOR_COLOURS
    series_name = series_namer(rows)
    for sensor in sorted({series_name(r) for r in rows}):  # "s1 IW" and "s1 EW" are drawn apart
        mine = [r for r in rows if series_name(r) == sensor]
        when = [plot_time(r, zone) for r in mine]
        colour = colours.get(mine[0]["sensor"], "#444444")
        good = [r["observed_fraction"] >= min_observed for r in mine]
        counts_ax.plot(when, [r["n_vessels"] for r in mine], color=colour, alpha=0.35, lw=1)
        counts_ax.plot(when, [r["n_large"] for r in mine], color=colour, lw=1.5, label=f"{sensor}: >= {large_length_m:.0f} m")
        counts_ax.scatter(when, [r["n_vessels"] for r in mine], s=12, color=colour, alpha=0.35,
                          label=f"{sensor}: all vessels")
        # hollow = white-faced: an empty face showed the translucent 'all vessels' dot under it, as if filled
        counts_ax.scatter(when, [r["n_large"] for r in mine], s=24,
                          facecolors=[colour if g else "white" for g in good], edgecolors=colour)
        # a bar covers its day: one of a day outside a window is drawn beside its shading, not into it
        days = [datetime.combine(row_day(r, zone), time()) for r in mine]
        area_ax.bar(days, [r["total_area_m2"] / 1e3 for r in mine], width=1.0, align="edge", color=colour,
                    alpha=0.7, label=sensor)
    if any(r["observed_fraction"] < min_observed for r in rows):  # the SVG opened alone has no report caption
        counts_ax.scatter([], [], s=24, facecolors="white", edgecolors="#444444",
                          label=f"hollow: saw under {min_observed:.0%} of the water, left out of tests")
    spans = [_span(PlotWindow(*w), zone) for w in windows]
    for _, start, end in spans:
        for ax in (counts_ax, area_ax):
            ax.axvspan(start, end, color="#f2c230", alpha=0.3, lw=0, zorder=0)  # under the bars and points
    counts_ax.set_ylabel("vessels per scene")
    counts_ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole vessels, from none
    top = max(counts_ax.get_ylim()[1], 1.0)  # a series of none: an axis up to one vessel, not around zero
    counts_ax.set_ylim(-FLOOR * top, top)  # a date of none above the frame, not on it
    counts_ax.set_title(textwrap.fill(title, 40) if narrow else title, fontsize=11)
    # Beside the plot, not in it: inside, it covered points and the names of claim windows at the left edge.
    # On a phone, under it (the plot takes the screen's width).
    legend = figure.legend(*counts_ax.get_legend_handles_labels(), fontsize=9, loc="upper center",
                           bbox_to_anchor=(0.5, 0.0), frameon=False) if narrow else \
        counts_ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if narrow:
        for ax in (counts_ax, area_ax):
            ax.tick_params(labelsize=9)
    counts_ax.grid(alpha=0.3)
    area_ax.set_ylabel("vessel area (1000 m²)")
    area_ax.set_ylim(0, max(area_ax.get_ylim()[1], 1.0))  # no negative area around a series of none
    area_ax.grid(alpha=0.3)
    area_ax.set_xlabel(zone.axis_label(), fontsize=9)
    figure.autofmt_xdate()
    figure.tight_layout()
    names = window_labels(counts_ax, spans)
    _below_the_names(counts_ax, names, [(plot_time(r, zone), max(r["n_vessels"], r["n_large"])) for r in rows])
    for path in map(Path, paths):
        with replacing(path) as tmp:
            figure.savefig(tmp, format=path.suffix.lstrip("."), dpi=110,
                           metadata={"Date": None} if path.suffix == ".svg" else None,
                           bbox_inches="tight" if narrow else None, bbox_extra_artists=[legend] if narrow else None)
    plt.close(figure)


def window_labels(ax: Axes, windows: Sequence[Span]) -> list[Text]:
    """Each claim window's name at the top of its shading, inside the plot (ending at the window's end when it
    would run past the right edge), on the first line down where it covers no other window's name: windows a
    few days apart otherwise print their names over each other."""
    renderer = ax.get_figure(root=True).canvas.get_renderer()  # type: ignore[union-attr]
    inside = ax.get_window_extent(renderer)
    placed: list[Text] = []
    for name, start, end in sorted(windows, key=lambda w: (w[1], w[2], w[0])):
        for line in range(len(windows)):  # as many lines as names: the last always fits
            text = _label(ax, f" {name}", start, "left", line)
            if text.get_window_extent(renderer).x1 > inside.x1:
                text.remove()
                text = _label(ax, f"{name} ", end, "right", line)
            box = text.get_window_extent(renderer)
            if line == len(windows) - 1 or not any(box.overlaps(o.get_window_extent(renderer)) for o in placed):
                break
            text.remove()
        placed.append(text)
    return placed


def _below_the_names(ax: Axes, names: Sequence[Text], points: Sequence[tuple[datetime, float]],
                     radius_pt: float = 3.0) -> None:
    """Raise the count axis's top until no point under a window's name reaches the name (printed over the points
    of a busy window at the top of the plot); the names stay where they are, at the top of the frame."""
    from matplotlib import dates as mdates

    if not names or not points:
        return
    renderer = ax.get_figure(root=True).canvas.get_renderer()  # type: ignore[union-attr]
    inside = ax.get_window_extent(renderer)
    radius = radius_pt * ax.get_figure(root=True).dpi / 72  # type: ignore[union-attr]
    xs = ax.transData.transform([(float(mdates.date2num(t)), v) for t, v in points])[:, 0]  # type: ignore[no-untyped-call]
    top = needed = ax.get_ylim()[1]
    for name in names:
        box = name.get_window_extent(renderer)
        under = [v for x, (_, v) in zip(xs, points) if box.x0 - radius <= x <= box.x1 + radius]
        share = (box.y0 - radius - inside.y0) / inside.height  # of the frame's height, below the name
        if under and (1 + FLOOR) * share - FLOOR > 0.2:  # the floor is -FLOOR x the top
            needed = max(needed, max(under) / ((1 + FLOOR) * share - FLOOR))
    if needed > top:
        ax.set_ylim(-FLOOR * needed, needed)


def _label(ax: Axes, words: str, when: datetime, align: str, line: int) -> Text:
    from matplotlib import dates as mdates

    x = float(mdates.date2num(when))  # type: ignore[no-untyped-call]
    return ax.annotate(words, xy=(x, 1.0), xycoords=ax.get_xaxis_transform(),
                       xytext=(0, -2 - 11 * line), textcoords="offset points", ha=align, va="top", fontsize=8)
