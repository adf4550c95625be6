"""What a STAC API answers about itself, for ``geo.scenes.source``: a failed answer in one line (HTTP status, timeout,
a host that does not resolve, a web page where JSON was expected) in words naming no library; the conformance
classes an older API declares only at ``/conformance``; the collections it holds when one searched is not there."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from itertools import islice
from typing import Any

import pystac

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


def web_page(text: str) -> str | None:
    """``an HTML page ('502 Bad Gateway')`` when ``text`` is a web page (a proxy's error page, a portal's login or
    home page) rather than JSON, named by its title or first heading; else None."""
    start = text.lstrip()[:200].lower()
    if not start.startswith("<"):  # JSON starts with { or [
        return None
    named = _TITLE.search(text) or _HEADING.search(text)
    title = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", named.group(1))).split())[:80] if named else ""
    kind = "an HTML page" if re.search(r"<(!doctype html|html|head|body)\b", start) else "markup"
    return f"{kind} ({title!r})" if title else kind


def describe_failure(exc: Exception) -> str:
    """An archive failure in one line: HTTP status and the start of the server's message."""
    status = getattr(exc, "status_code", None)
    unresolved = re.search(r"host='([^']+)'.*NameResolutionError", str(exc))
    if unresolved:  # offline: urllib3's "Max retries exceeded with url" says nothing of it
        return f"the host name {unresolved.group(1)} does not resolve: no network, or a DNS or proxy problem"
    # a web page where JSON was expected: "Expecting value: line 1 column 1", or a status with the page's whole markup
    page = web_page(exc.doc if isinstance(exc, json.JSONDecodeError) else str(exc))
    if page is not None:
        return f"HTTP {status}: the server answered with {page}" if status else (
            f"the server answered with {page}, not STAC JSON")
    if isinstance(exc, json.JSONDecodeError):
        return f"the server answered with no JSON ({' '.join(exc.doc.split())[:60]!r}...: {exc.msg})"
    text = re.sub(r"\(Caused by (\w+)\(.*", r"(\1)", " ".join(str(exc).split()))[:200] or type(exc).__name__
    from geo.scenes.remote import timeout_words  # (only on a failure)

    late = timeout_words(text)
    host = re.search(r"host='([^']+)'", text)
    if late and host:  # "Max retries exceeded with url: /search (ReadTimeoutError)" hid that it was a timeout
        return f"{host.group(1)} {late}"
    return f"HTTP {status}: {text}" if status else text


def not_landing_page(url: str, reason: str) -> str:
    """What to give instead of a URL below a STAC API's root, from pystac-client's 'found type=Collection'."""
    found = re.search(r"found type=(\w+)", reason)
    kind = found.group(1) if found else "None"
    named = {"None": "JSON that is no STAC object", "FeatureCollection": "a FeatureCollection"}
    answers = named.get(kind, f"a STAC {kind}")
    root = re.split(r"/(?:collections|search)(?:/|$)", url, maxsplit=1)[0]
    give = f"give the API's root URL, {root}" if root != url else "give the API's root URL (its landing page)"
    return f"{url}: answers {answers}, not a STAC API's landing page: {give} (geo chooses the collection by --sensor)"


def read_conformance_page(client: Any, stac_io: Any) -> None:
    """Take the conformance classes from the API's ``/conformance`` (OGC API's place for them; older STAC APIs
    declare them only there) when its landing page has a ``search`` link but no ``conformsTo``; a static
    catalog has no search link and is not asked."""
    from pystac_client.exceptions import APIError

    if not any(link.rel == "search" for link in client.links):
        return
    link = next((link for link in client.links if link.rel == "conformance"), None)
    try:
        page = stac_io.read_json(link.href if link is not None else f"{client.self_href.rstrip('/')}/conformance")
    except (APIError, OSError, json.JSONDecodeError):
        return
    classes = page.get("conformsTo") if isinstance(page, dict) else None
    if isinstance(classes, list) and all(isinstance(c, str) for c in classes):
        client.set_conforms_to(classes)


def absent_collections(client: Any, collections: Sequence[str], archive: str) -> str | None:
    """What to say when a collection searched is not in the archive (an empty answer, else taken for no scene
    there: an archive keeping Sentinel-2 as ``sentinel-2-c1-l2a`` only), naming those it holds; None when all are
    there, or the archive cannot tell (no collections endpoint, it fails, or it lists none)."""
    from pystac_client import ConformanceClasses
    from pystac_client.exceptions import APIError

    try:
        if not client.conforms_to(ConformanceClasses.COLLECTIONS):
            return None
        absent = [c for c in collections if client.get_collection(c) is None]
        held = sorted(c.id for c in islice(client.get_collections(), 1000)) if absent else []
    except (APIError, OSError, pystac.STACError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    if not absent or not held:  # none at all: an archive not listing them, or holding nothing yet (a re-check waits)
        return None
    shown = ", ".join(held[:12]) + (" ..." if len(held) > 12 else "")
    return f"{archive}: has no collection {', '.join(repr(c) for c in absent)} (its collections: {shown})"
