"""A loopback stand-in for the internet archives: a STAC API and a COG host on 127.0.0.1.

It is a real HTTP server (``http.server`` in a thread) that the real clients (pystac-client, GDAL's
/vsicurl/, planetary-computer) talk to:

* STAC API: landing page, conformance, ``/collections``, ``/collections/{id}[/items[/{item}]]``, and
  ``/search`` (POST and GET) filtering by collections, ids, datetime and intersects/bbox, paged through
  ``next`` links (``paging``: POST body with a token, or GET with the token in an absolute or relative URL).
* Files: ``GET``/``HEAD`` with HTTP range requests (206 + Content-Range), as S3 or Azure blob storage.
* A Planetary-Computer-like SAS token endpoint (``/api/sas/v1/token/{account}/{container}``); requests
  for ``*.blob.core.windows.net`` arriving through this server as an HTTP proxy are refused (403) unless
  they carry that token, as Azure does.
* Webhooks: a POST to a path in ``webhooks`` is answered ``200 ok``, as a Slack incoming webhook (``geo recheck
  --notify``); status faults apply to it as to any request.
* Injectable faults per path: an HTTP status (with ``Retry-After``), a slow response, a truncated body, a
  corrupt body, a dropped connection; and faults of a broken search: a ``next`` link that loops back
  (``loop``: the same token again; ``loop-fresh``: a new token, the same items again), one that never ends
  (``endless``: new items on every page), ``ignore-ids`` (an ``ids`` filter ignored: a lookup answered
  with other items) and ``ignore-dates`` (the ``datetime`` filter ignored: every date's items). Every request
  is recorded with the body bytes actually sent and, for a POST, those received. ``landing_conforms=False``:
  conformance classes declared only at ``/conformance``, as older STAC APIs do.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from shapely.geometry import box, shape

CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
SAS_TOKEN = "st=2030-01-01T00%3A00%3A00Z&se=2030-01-02T00%3A00%3A00Z&sp=rl&sig=loopback"
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass
class Fault:
    """What to do to matching requests, ``times`` times (-1: always)."""

    kind: str  # status | slow | truncate | corrupt | drop | loop | loop-fresh | endless | ignore-ids | ignore-dates
    match: str = ""  # substring of the request path
    methods: tuple[str, ...] = ("GET",)
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    min_offset: int = 0  # only ranged requests starting at or after this byte (e.g. tiles, not the header)
    agent: str = ""  # only clients whose User-Agent contains this (GDAL says "GDAL/...")
    after: int = 0  # let this many matching requests through first (e.g. a search's first page)
    body: bytes = b"fault injected"  # of a status fault (e.g. S3's XML error document)


@dataclass
class Record:
    method: str
    path: str
    range: str | None
    status: int
    bytes_sent: int
    at: float
    host: str = ""
    fault: str | None = None
    received: bytes = b""  # the request body (POST)


@dataclass
class ArchiveServer:
    page_size: int = 2
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    webhooks: set[str] = field(default_factory=set)  # POST paths answered 200 "ok"
    log: list[Record] = field(default_factory=list)
    epoch: int = 0  # bumped by clear(): requests from before it stay out of the new log
    paging: str = "post"  # next links: POST with the token in the body | get (token in the URL) | get-relative
    landing_conforms: bool = True  # False: the landing page says no ``conformsTo``, only ``/conformance`` does

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> ArchiveServer:
        handler = type("Handler", (_Handler,), {"archive": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- content -----------------------------------------------------------------------------------
    def add_file(self, url_path: str, local: Path) -> str:
        """Serve ``local`` at ``url_path`` (also under any blob-storage host, through the proxy)."""
        self.files["/" + url_path.lstrip("/")] = Path(local)
        return f"{self.url}/{url_path.lstrip('/')}"

    def add_collection(self, collection_id: str, description: str = "") -> None:
        self.collections[collection_id] = {
            "type": "Collection", "stac_version": "1.0.0", "id": collection_id,
            "description": description or collection_id, "license": "proprietary",
            "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}},
            "links": [],
        }
        self.items.setdefault(collection_id, [])

    def add_item(self, item: dict[str, Any]) -> None:
        collection = item["collection"]
        if collection not in self.collections:
            self.add_collection(collection)
        self.items[collection].append(item)

    # -- faults and records ------------------------------------------------------------------------
    def inject(self, kind: str, **kwargs: Any) -> Fault:
        fault = Fault(kind, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """No faults and an empty log; a request that arrived before (e.g. one still stalled by a
        ``slow`` fault of an earlier test) is not logged when it completes."""
        with self._lock:
            self.faults.clear()
            self.log.clear()
            self.epoch += 1

    def records(self, prefix: str = "/") -> list[Record]:
        with self._lock:
            return [r for r in self.log if r.path.startswith(prefix)]

    def bytes_sent(self, prefix: str = "/") -> int:
        return sum(r.bytes_sent for r in self.records(prefix))

    def _take_fault(self, method: str, path: str, start: int | None, agent: str = "") -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times == 0 or method not in fault.methods or fault.match not in path:
                    continue
                if fault.agent and fault.agent not in agent:
                    continue
                if fault.min_offset and (start is None or start < fault.min_offset):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                if fault.times > 0:
                    fault.times -= 1
                return fault
        return None

    def _record(self, record: Record, epoch: int | None = None) -> None:
        with self._lock:
            if epoch is None or epoch == self.epoch:
                self.log.append(record)

    # -- search ------------------------------------------------------------------------------------
    def search(self, query: dict[str, Any], fault: Fault | None = None) -> dict[str, Any]:
        kind = fault.kind if fault else ""
        collections = query.get("collections") or list(self.items)
        if isinstance(collections, str):
            collections = collections.split(",")
        ids = None if kind == "ignore-ids" else query.get("ids")
        if isinstance(ids, str):
            ids = ids.split(",")
        geometry = None
        if query.get("intersects"):
            intersects = query["intersects"]
            geometry = shape(json.loads(intersects) if isinstance(intersects, str) else intersects)
        elif query.get("bbox"):
            bbox = query["bbox"]
            geometry = box(*([float(v) for v in bbox.split(",")] if isinstance(bbox, str) else bbox))
        lo = hi = None
        if query.get("datetime") and kind != "ignore-dates":
            parts = str(query["datetime"]).split("/")
            lo = _when(parts[0]) if parts[0] not in ("", "..") else None
            hi = _when(parts[-1]) if parts[-1] not in ("", "..") else None
        matched = []
        for collection in collections:
            for item in self.items.get(collection, []):
                when = _when(_acquired(item))
                if ids and item["id"] not in ids:
                    continue
                if (lo and when < lo) or (hi and when > hi):
                    continue
                if geometry is not None and not shape(item["geometry"]).intersects(geometry):
                    continue
                matched.append(item)
        matched.sort(key=lambda i: (_acquired(i), i["id"]))
        limit = min(int(query.get("limit") or self.page_size), self.page_size)
        token = str(query.get("token", "offset:0"))
        turn = int(token.split(":")[1])
        offset = 0 if kind in ("loop", "loop-fresh", "endless") else turn
        page = matched[offset:offset + limit]
        if kind == "endless":  # items never seen before on every page
            page = [{**item, "id": f"{item['id']}-{turn}"} for item in page]
        following = {"loop": "offset:0", "loop-fresh": f"fresh:{turn + 1}", "endless": f"fresh:{turn + 1}"}.get(
            kind, f"offset:{offset + limit}" if offset + limit < len(matched) else None)
        links = [{"rel": "root", "href": self.url + "/"}]
        if following is not None:
            body = {k: v for k, v in query.items() if k != "token"}
            if self.paging == "post":
                links.append({"rel": "next", "href": self.url + "/search", "method": "POST",
                              "type": "application/geo+json", "body": {**body, "token": following}, "merge": False})
            else:  # GET: the query and the token in the URL (relative: as a server behind a proxy may write it)
                params = {k: json.dumps(v) if isinstance(v, dict) else ",".join(map(str, v)) if isinstance(v, list)
                          else v for k, v in body.items()}
                href = "/search?" + urlencode({**params, "token": following})
                links.append({"rel": "next", "type": "application/geo+json",
                              "href": href if self.paging == "get-relative" else self.url + href})
        return {"type": "FeatureCollection", "features": page, "links": links,
                "numberMatched": len(matched), "numberReturned": len(page)}

    def landing(self) -> dict[str, Any]:
        url = self.url
        return {
            "type": "Catalog", "stac_version": "1.0.0", "id": "loopback", "description": "loopback archive",
            **({"conformsTo": CONFORMANCE} if self.landing_conforms else {}),
            "links": [
                {"rel": "self", "href": url + "/", "type": "application/json"},
                {"rel": "root", "href": url + "/", "type": "application/json"},
                {"rel": "conformance", "href": url + "/conformance", "type": "application/json"},
                {"rel": "data", "href": url + "/collections", "type": "application/json"},
                {"rel": "search", "href": url + "/search", "type": "application/geo+json", "method": "GET"},
                {"rel": "search", "href": url + "/search", "type": "application/geo+json", "method": "POST"},
            ],
        }


def _acquired(item: dict[str, Any]) -> str:
    """An item's time as STAC allows it: ``datetime``, else (``datetime`` null) ``start_datetime``."""
    properties = item["properties"]
    return str(properties.get("datetime") or properties.get("start_datetime") or "")


def _when(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)  # a time without zone: UTC, as STAC APIs take it


class _Handler(BaseHTTPRequestHandler):
    archive: ArchiveServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    # -- plumbing ----------------------------------------------------------------------------------
    def _target(self) -> tuple[str, str, str]:
        parts = urlsplit(self.path)
        host = parts.netloc or self.headers.get("Host", "")
        return host, parts.path or "/", parts.query

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, method: str = "GET",
              fault: Fault | None = None, rng: str | None = None, length: int | None = None,
              received: bytes = b"") -> None:
        host, path, _ = self._target()
        epoch = self.archive.epoch  # the log this request belongs to
        if fault and fault.kind == "drop":
            self.close_connection = True
            self.archive._record(Record(method, path, rng, 0, 0, time.time(), host, "drop"), epoch)
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault and fault.kind == "corrupt":
            body = bytes((b * 7 + 13) % 256 for b in body)
        payload = b"" if method == "HEAD" else body[: len(body) // 3] if fault and fault.kind == "truncate" else body
        # Logged before the body goes out: the client may act on the last byte before this thread resumes.
        record = Record(method, path, rng, status, len(payload), time.time(), host, fault.kind if fault else None,
                        received)
        self.archive._record(record, epoch)
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        try:
            self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            record.bytes_sent = 0  # the client had gone (e.g. timed out)
        if fault and fault.kind == "truncate":
            self.close_connection = True

    def _json(self, data: Any, status: int = 200, method: str = "GET", fault: Fault | None = None,
              received: bytes = b"") -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json"}, method, fault,
                   received=received)

    def _status_fault(self, fault: Fault, method: str, rng: str | None = None) -> None:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        self._send(fault.status, fault.body, headers, method, None, rng)

    # -- verbs -------------------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        host, path, _ = self._target()
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length)
        body = json.loads(received or b"{}")
        fault = self.archive._take_fault("POST", path, None)
        if fault and fault.kind == "status":
            return self._status_fault(fault, "POST")
        if path.rstrip("/").endswith("/search"):
            return self._json(self.archive.search(body, fault), method="POST", fault=fault, received=received)
        if path in self.archive.webhooks:
            return self._send(200, b"ok", {"Content-Type": "text/plain"}, "POST", fault, received=received)
        self._json({"code": "NotFound"}, 404, "POST", received=received)

    def _serve(self, method: str) -> None:
        host, path, query = self._target()
        rng = self.headers.get("Range")
        match = _RANGE.match(rng or "")
        start = int(match.group(1)) if match else None
        fault = self.archive._take_fault(method, path, start, self.headers.get("User-Agent", ""))
        if fault and fault.kind == "status":
            return self._status_fault(fault, method, rng)
        if path.startswith("/api/sas/v1/token/"):
            return self._json({"msft:expiry": "2030-01-02T00:00:00Z", "token": SAS_TOKEN}, method=method)
        if path in self.archive.files:
            if host.endswith(".blob.core.windows.net") and "sig=loopback" not in query:
                return self._send(403, b"AuthenticationFailed: no SAS token", {}, method, None, rng)
            return self._file(method, self.archive.files[path], rng, match, fault)
        self._api(method, path, query, fault)

    def _file(self, method: str, local: Path, rng: str | None, match: re.Match | None, fault: Fault | None) -> None:
        size = local.stat().st_size
        kind = "text/html; charset=utf-8" if local.suffix == ".html" else "image/tiff"  # a portal's page
        headers = {"Accept-Ranges": "bytes", "Content-Type": kind}
        if match is None:
            return self._send(200, b"" if method == "HEAD" else local.read_bytes(), headers, method, fault, rng,
                              length=size)
        first = int(match.group(1))
        last = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        if first >= size:
            return self._send(416, b"", {"Content-Range": f"bytes */{size}"}, method, None, rng)
        with local.open("rb") as handle:
            handle.seek(first)
            body = handle.read(last + 1 - first)
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        self._send(206, body, headers, method, fault, rng)

    def _api(self, method: str, path: str, query: str, fault: Fault | None) -> None:
        archive = self.archive
        parts = [p for p in path.split("/") if p]
        if not parts:
            return self._json(archive.landing(), method=method, fault=fault)
        if parts == ["conformance"]:
            return self._json({"conformsTo": CONFORMANCE}, method=method, fault=fault)
        if parts == ["search"]:
            params = {k: v[0] for k, v in parse_qs(query).items()}
            return self._json(archive.search(params, fault), method=method, fault=fault)
        if parts[0] == "collections":
            if len(parts) == 1:
                return self._json({"collections": list(archive.collections.values()), "links": []}, method=method)
            collection = archive.collections.get(parts[1])
            if collection is not None and len(parts) == 2:
                return self._json(collection, method=method, fault=fault)
            if collection is not None and len(parts) >= 3 and parts[2] == "items":
                items = archive.items[parts[1]]
                if len(parts) == 3:
                    return self._json({"type": "FeatureCollection", "features": items, "links": []}, method=method)
                for item in items:
                    if item["id"] == parts[3]:
                        return self._json(item, method=method, fault=fault)
        self._json({"code": "NotFound", "description": path}, 404, method)
