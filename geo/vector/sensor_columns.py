"""The attributes a sensor adds to the contract's (``ChangeFeature.extra``) as the columns of a run's changes,
with their types: a run's ``changes`` layer has them also when the run found no change, so a QGIS style or
filter on them, or a script reading the table, works on a quiet run as on a busy one. Read from the run's
manifest, which says the sensor, the polarisations tested and whether the omnibus series dated the changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from geo.scenes.model import Sensor

# The Sentinel-1 omnibus dating (geo.jobs.sar_regions), when the series was tested; change_first_seen and
# change_last_unchanged are ISO days (Date fields in the GeoPackage: geo.outputs.gpkg.DATE_COLUMNS).
SAR_DATING_COLUMNS: dict[str, type] = {"omnibus_share": float, "change_first_seen": str, "change_first_scene": str,
                                       "change_last_unchanged": str, "change_date_agreement": float}


def sar_columns(polarisations: Sequence[str], dated: bool) -> dict[str, type]:
    """A Sentinel-1 run's columns (``geo.jobs.sar_regions.sar_features``), in the order its features write them."""
    return {"sensor": str, "backscatter": str, **{f"db_change_{pol}": float for pol in polarisations},
            "water_share": float, **(SAR_DATING_COLUMNS if dated else {})}


def extra_columns(manifest: Mapping[str, Any]) -> dict[str, type]:
    """The columns the sensor of the run ``manifest`` describes adds to the contract's (none for Sentinel-2)."""
    if manifest.get("sensor") != Sensor.S1.value:
        return {}
    return sar_columns(manifest.get("polarisations") or (), bool((manifest.get("omnibus") or {}).get("run")))
