"""Item ids from archives as names on disk: which are safe, and how to print any of them.

Apart from the cache (which imports rasterio) so that searching a local catalog can check ids cheaply.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime

MAX_ID_BYTES = 200  # file names stop at 255 bytes; leave room for what is appended
MOSAIC_JOIN = "+"  # a pass's id: its tiles' ids joined, in their order of priority (geo.scenes.mosaic)
PassKey = tuple[date, str, int, str]
_NOT_IN_ID = re.compile(r"[/\\\x00-\x1f\x7f]")  # separators (either OS) and control characters, NUL included
_DIGEST_CHARS = 8
# the MGRS tile in a Sentinel-2 id: Earth Search's S2B_52TGN_20241010_0_L2A, the Planetary Computer's
# S2B_MSIL2A_20241010T021649_N0511_R003_T52TGN_20241010T051234 (latitude bands C-X without I and O)
_MGRS_TILE = re.compile(r"(?:^|_)T?(\d{1,2}[C-HJ-NP-X][A-Z]{2})_\d{8}")
REPUBLISHED_WITHIN_S = 60.0  # a product published again keeps its sensing time; this allows for rounding


def unsafe_id_reason(item_id: str) -> str | None:
    """Why ``item_id`` cannot name a folder of the cache, or None when it can."""
    if not item_id:
        return "it is empty"
    if item_id in (".", ".."):
        return "it names a folder relative to the cache"
    if _NOT_IN_ID.search(item_id):
        return "it holds a path separator or a control character"
    if len(item_id.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES:
        return f"it is longer than {MAX_ID_BYTES} bytes"
    return None


def shown_id(item_id: str) -> str:
    """An id as it can be printed: quoted, escapes visible, cut when long."""
    return repr(item_id if len(item_id) <= 80 else item_id[:80] + "...")


def pass_key(day: date, platform: str, relative_orbit: int | None, collection: str) -> PassKey | None:
    """What the tiles or slices of one pass share (``geo.scenes.mosaic`` groups by it, ``geo.recheck.quick``
    matches catalog items by it); None when the item does not say its orbit: it is then a scene of its own."""
    return None if relative_orbit is None else (day, platform.lower(), relative_orbit, collection)


def id_as_file_name(item_id: str, max_bytes: int = MAX_ID_BYTES) -> str:
    """``item_id`` (a pass's ``A+B`` too) as part of a file name: each character other than a letter, a digit,
    ``-``, ``_``, ``.`` or ``+`` (Windows refuses ``:*?"<>|``) as ``_``; one longer than ``max_bytes`` (the ids
    of several tiles joined) cut and ended by ``~`` and a digest of the whole id, so that two ids sharing their
    beginning still name two files."""
    name = "".join(ch if ch.isalnum() or ch in "-_.+" else "_" for ch in item_id)
    encoded = name.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return name
    digest = hashlib.sha1(item_id.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]
    head = encoded[:max_bytes - _DIGEST_CHARS - 1].decode("utf-8", "ignore")  # never half a character
    return f"{head}~{digest}"


def mgrs_tile(item_id: str) -> str | None:
    """The Sentinel-2 tile an item id names (``52TGN``), or None (not a Sentinel-2 id of a known form)."""
    if item_id.upper().startswith("S1"):  # S1A_IW_GRDH_1SDV_2021...: "1SDV" is a product type, not a tile
        return None
    match = _MGRS_TILE.search(item_id.upper())
    return match.group(1) if match else None


def sensed_together(when: datetime, times: Iterable[datetime]) -> bool:
    """Whether an item sensed at ``when`` was sensed with one of ``times``: within ``REPUBLISHED_WITHIN_S``, one
    pass (its tiles, or a product of it published again), one observation."""
    return any(abs((when - other).total_seconds()) <= REPUBLISHED_WITHIN_S for other in times)


def republishes(item_id: str, when: datetime, earlier_id: str, earlier_when: datetime) -> bool:
    """Whether ``item_id`` is the product ``earlier_id`` published again (reprocessed under a new processing
    baseline, or re-ingested: Earth Search's ``_0_L2A`` then ``_1_L2A``): another id of the same tile, sensed
    at the same time."""
    tile = mgrs_tile(item_id)
    return (item_id != earlier_id and tile is not None and tile == mgrs_tile(earlier_id)
            and sensed_together(when, [earlier_when]))
