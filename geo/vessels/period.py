"""Which scenes a vessel count looks at: the claims predicting ships, the period around their windows, the
sensors of a source. Apart from ``geo.vessels.job`` (the detectors and readers) so that a re-check can ask
whether any such scene is new without importing them (``geo.recheck.quick``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from geo.claims import VESSEL_SIGNATURE, Claim
from geo.scenes.model import Sensor

if TYPE_CHECKING:
    from geo.aoi import AOI
    from geo.errors import NoScenesError


def vessel_claims(claims: Sequence[Claim], aoi: AOI) -> list[Claim]:
    """The claims on ``aoi`` whose expected signatures include vessels (asserting, or denying such)."""
    return [c for c in claims if aoi.id in c.aoi_ids and VESSEL_SIGNATURE in c.signatures]


BASELINE_DAYS = 180  # geo run's and geo recheck's vessel counts start this many days before the earliest window


def default_period(claims: Sequence[Claim], baseline_days: int = BASELINE_DAYS,
                   after_days: int = 14) -> tuple[date, date]:
    """A period covering the claims' windows plus a baseline before them (for ``geo run`` / ``recheck``)."""
    if not claims:
        raise ValueError("no claims to derive a vessel period from")
    start = min(c.window.start for c in claims) - timedelta(days=baseline_days)
    end = max(c.window.end for c in claims) + timedelta(days=after_days)
    return start, end


def default_sensors(source: str) -> tuple[Sensor, ...]:
    """Earth Search serves Sentinel-2 only (its Sentinel-1 is not anonymous); other sources may hold both."""
    return (Sensor.S2,) if source == "earth-search" else (Sensor.S1, Sensor.S2)


def no_scenes(sensors: Sequence[Sensor], aoi: AOI, start: date, end: date, source: str,
              named: Mapping[Sensor, Sequence[str]] | None = None) -> NoScenesError:
    """The error of a period holding no scene, saying why where it can (a period in the future, before the
    missions, the dates a local catalog holds over the AOI), as ``geo run`` and ``geo scenes search`` do.
    ``named``: the collections searched for a sensor (``--collection``)."""
    from geo.errors import NoScenesError
    from geo.scenes.empty_notes import empty_period_note
    from geo.scenes.source import open_source

    sensor = sensors[0] if len(sensors) == 1 else None
    mine = tuple((named or {}).get(sensor, ())) if sensor else ()  # --collection: the one sensor's
    opened = open_source(source, sensor, mine or None)
    note = empty_period_note(opened, aoi, start, end, sensors)
    return NoScenesError(f"no {'/'.join(sensors)} scene over AOI {aoi.id!r} between {start} and {end} in {source}"
                         f"{'; ' + note if note else ''}")
