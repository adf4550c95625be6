"""Why a search of an archive or catalog found no scene: a date in the future or before the mission's launch (a
year mistyped), what a local catalog does hold over the AOI, or a place the archive does not image (open sea, the
poles: where an AOI drawn with lon and lat swapped lands). Words for the errors of pair selection, ``geo scenes
search`` and ``geo vessels``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone

from geo.aoi import AOI
from geo.scenes.model import Sensor
from geo.scenes.source import LocalCatalog, SceneSource
from geo.words import counted


def future_note(anchor: date) -> str:
    """Why an archive holds nothing near a date that has not come yet (a typo in the year, often)."""
    today = datetime.now(timezone.utc).date()
    return f"{anchor} is in the future (today is {today})" if anchor > today else ""


def mission_note(sensor: Sensor, latest: date) -> str:
    """Why an archive holds no scene up to ``latest``: the mission had not begun (a claim window of 2014 for
    Sentinel-2); '' otherwise."""
    launch = sensor.first_day
    return f"{sensor.mission}'s first satellite was launched on {launch}: no scene of it is older" if latest < launch else ""


def unseen_note(aoi: AOI, days: int) -> str:
    """Why an archive holds no scene over ``aoi`` in ``days`` (a month or more: wherever the missions image,
    they pass every few days): the place is not imaged, open sea far from land or the poles, which is where an
    AOI drawn with its lon and lat swapped lands; '' for a shorter span, whose emptiness may be the calendar's."""
    if days < 30:
        return ""
    from geo.antimeridian import bbox

    west, south, east, north = bbox(aoi.geometry)  # across 180: 179.94..-179.96, not -180..180
    swapped = (f"; with lon and lat swapped it would be at lon {south:.4f}..{north:.4f}, lat {west:.4f}..{east:.4f}: "
               "GeoJSON positions are [longitude, latitude]" if max(abs(west), abs(east)) <= 90 else "")
    return (f"the archive seems not to image the AOI's place (lon {west:.4f}..{east:.4f}, lat "
            f"{south:.4f}..{north:.4f}: open sea far from land, or beyond the mission's latitudes){swapped}")


def catalog_note(source: SceneSource, aoi: AOI) -> str:
    """For a local catalog, what it does hold: the dates of its scenes over the AOI (a date out of their
    range), or, when none touches the AOI on any date, where its scenes are (a drawn AOI in the wrong place,
    or lon/lat swapped), so the user does not go looking for dates. Empty for an archive."""
    if not isinstance(source, LocalCatalog):
        return ""  # an archive: a search without dates would ask for the whole of it
    scenes = source.all()
    if not scenes:
        held = ", ".join(counted(n, f"{sensor.mission} scene") for sensor, n in source.other_sensors.items())
        if held and source.sensor is not None:
            return f"the catalog holds no {source.sensor.mission} scene (it holds {held})"
        return "the catalog holds no scene at all (a saved search that found none?)"  # not a place unimaged
    over = sorted({s.date.isoformat() for s in scenes if s.geometry.intersects(aoi.geometry)})
    if over:
        shown = ", ".join(over) if len(over) <= 6 else f"{', '.join(over[:3])}, ... {', '.join(over[-2:])}"
        return f"the catalog's {counted(len(over), 'date')} over the AOI: {shown}"
    import shapely
    from shapely.ops import unary_union

    from geo.antimeridian import bbox

    def bounds(extent: tuple[float, float, float, float]) -> str:
        west, south, east, north = extent
        return f"lon {west:.4f}..{east:.4f}, lat {south:.4f}..{north:.4f}"

    footprint = unary_union([s.geometry for s in scenes])
    swapped = shapely.transform(aoi.geometry, lambda xy: xy[:, ::-1])  # the commonest slip in a hand-made GeoJSON
    hint = "; with its lon and lat swapped the AOI would lie over them" if swapped.intersects(footprint) else ""
    return (f"no scene of the catalog touches the AOI on any date (the AOI: {bounds(bbox(aoi.geometry))}; the "
            f"catalog's {counted(len(scenes), 'scene')}: {bounds(footprint.bounds)}{hint})")


def empty_period_note(source: SceneSource, aoi: AOI, first: date, last: date, sensors: Sequence[Sensor]) -> str:
    """Why a search of ``source`` over ``aoi`` from ``first`` to ``last`` found no scene of ``sensors``: what a
    local catalog holds, a period in the future or before every mission's launch, or a place not imaged; ''
    when none of these explains it."""
    launched = [mission_note(sensor, last) for sensor in sensors]
    when = future_note(first) or ("; ".join(launched) if all(launched) else "")
    return date_then_catalog(when, source, aoi) or unseen_note(aoi, (last - first).days + 1)


def date_then_catalog(when: str, source: SceneSource, aoi: AOI) -> str:
    """A date note (a future date, one before a launch), then what a local catalog holds: '' when neither."""
    return "; ".join(filter(None, (when, catalog_note(source, aoi))))
