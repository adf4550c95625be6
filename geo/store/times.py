"""Times as the store writes them: GeoPackage DATETIME text in UTC."""

from __future__ import annotations

from datetime import datetime, timezone


def iso_utc(moment: datetime) -> str:
    """GeoPackage DATETIME text: UTC, millisecond precision, 'Z' suffix."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def now_utc() -> str:
    return iso_utc(datetime.now(timezone.utc))
