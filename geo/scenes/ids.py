"""Item ids from archives as names on disk: which are safe, and how to print any of them.

Apart from the cache (which imports rasterio) so that searching a local catalog can check ids cheaply.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

MAX_ID_BYTES = 200  # file names stop at 255 bytes; leave room for what is appended
MOSAIC_JOIN = "+"  # a pass's id: its tiles' ids joined, in their order of priority (geo.scenes.mosaic)
PassKey = tuple[date, str, int, str]
_NOT_IN_ID = re.compile(r"[/\\\x00-\x1f\x7f]")  # separators (either OS) and control characters, NUL included
_DIGEST_CHARS = 8


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
