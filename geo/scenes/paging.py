"""Following a STAC search's ``next`` links without trusting them: a link that loops back, or pages that
never end, stop the search with an error naming the archive instead of fetching forever.

pystac-client follows ``next`` links for as long as the server sends them. A broken or hostile server can
send one that points back at a page already seen (the same token, or a fresh token with the same items),
or an endless supply of new pages; either way the client fetched 19,884 pages in 45 s and grew by 600 MB.
Here every page is checked as it arrives, before the next one is asked for: a ``next`` link seen before,
or a page holding only items already seen, is a loop; more than ``max_pages`` pages or ``max_items``
items is too much for one search (``GEO_SEARCH_MAX_PAGES``, ``GEO_SEARCH_MAX_ITEMS`` raise the caps).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from geo.errors import ArchiveError
from geo.scenes.remote import env_number

# Five years of Sentinel-2 over a few tiles is ~3,000 items; Earth Search returns 100 a page, some APIs 10.
MAX_ITEMS = 5000
MAX_PAGES = 500
_NARROW = "narrow the dates or the AOI"


@dataclass(frozen=True)
class SearchLimits:
    """Caps on one search. ``GEO_SEARCH_MAX_PAGES`` / ``GEO_SEARCH_MAX_ITEMS`` override the defaults."""

    max_pages: int = MAX_PAGES
    max_items: int = MAX_ITEMS

    @classmethod
    def from_env(cls) -> SearchLimits:
        return cls(max_pages=max(1, int(env_number("GEO_SEARCH_MAX_PAGES", MAX_PAGES))),
                   max_items=max(1, int(env_number("GEO_SEARCH_MAX_ITEMS", MAX_ITEMS))))


def _next_link(page: Mapping[str, Any]) -> str | None:
    """The page's ``next`` link as a comparable text (target, method, body), or None on the last page."""
    links = page.get("links")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, Mapping) and link.get("rel") == "next":
            return json.dumps([link.get("href"), link.get("method", "GET"), link.get("body")], sort_keys=True,
                              default=str)
    return None


def checked_features(pages: Iterable[Mapping[str, Any]], archive: str, limits: SearchLimits) -> list[dict[str, Any]]:
    """The features of a search's pages (each item once), read page by page from the lazy ``pages``
    (pystac-client's ``pages_as_dicts()``) and stopped with ``ArchiveError`` naming ``archive`` on a loop
    or beyond ``limits``, before the next page is requested."""
    features: dict[tuple[str, str], dict[str, Any]] = {}
    links: set[str] = set()
    for number, page in enumerate(pages, 1):
        batch = [f for f in page.get("features") or [] if isinstance(f, dict)]
        ids = [(str(f.get("collection")), str(f.get("id"))) for f in batch]
        if number > 1 and ids and all(i in features for i in ids):
            raise ArchiveError(f"{archive}: search page {number} repeats the items of an earlier page (its `next` "
                               f"links loop); stopped after {number} pages")
        features.update((i, f) for i, f in zip(ids, batch) if i not in features)
        if len(features) > limits.max_items:
            raise ArchiveError(f"{archive}: search found more than {limits.max_items} items after {number} pages; "
                               f"{_NARROW}, or raise GEO_SEARCH_MAX_ITEMS")
        link = _next_link(page)
        if link is None:
            break
        if link in links:
            raise ArchiveError(f"{archive}: search page {number} links back to a page already fetched (its `next` "
                               f"links loop); stopped after {number} pages")
        links.add(link)
        if number >= limits.max_pages:
            raise ArchiveError(f"{archive}: search did not end after {number} pages ({len(features)} items); "
                               f"{_NARROW}, or raise GEO_SEARCH_MAX_PAGES")
    return list(features.values())


def first_page(pages: Iterator[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The features of a search's first page only (an item lookup by id needs no more)."""
    page = next(pages, None)
    return [f for f in (page or {}).get("features") or [] if isinstance(f, dict)]
