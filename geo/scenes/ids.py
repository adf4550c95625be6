"""Item ids from archives as names on disk: which are safe, and how to print any of them.

Apart from the cache (which imports rasterio) so that searching a local catalog can check ids cheaply.
"""

from __future__ import annotations

import re
from datetime import date

MAX_ID_BYTES = 200  # file names stop at 255 bytes; leave room for what is appended
MOSAIC_JOIN = "+"  # a pass's id: its tiles' ids joined, in their order of priority (geo.scenes.mosaic)
PassKey = tuple[date, str, int, str]
_NOT_IN_ID = re.compile(r"[/\\\x00-\x1f\x7f]")  # separators (either OS) and control characters, NUL included


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
