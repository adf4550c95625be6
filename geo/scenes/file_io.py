"""pystac's I/O for local files named by ``file:`` URIs.

pystac resolves and relativises hrefs as URLs, so a plain path holding ``#`` or ``?`` (``scenes #2/catalog.json``)
loses its tail as a fragment or a query: it reads or writes another file. Local catalogs are therefore handed
to pystac as ``file:`` URIs (percent-encoded, which its href arithmetic keeps intact), and this I/O turns each
back into the path it names at the file system's door.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from pystac.stac_io import DefaultStacIO

from geo.atomic import write_text


def local_path(href: str) -> str:
    """The file a ``file:`` URI names (decoded); any other href as it is."""
    parsed = urlparse(href)
    return url2pathname(parsed.path) if parsed.scheme == "file" else href


class FileUriStacIO(DefaultStacIO):
    """pystac's default I/O, reading and writing ``file:`` URIs as the paths they name."""

    def read_text_from_href(self, href: str) -> str:
        if urlparse(href).scheme == "file":
            return Path(local_path(href)).read_text(encoding="utf-8")
        return str(super().read_text_from_href(href))

    def write_text_to_href(self, href: str, txt: str) -> None:
        if urlparse(href).scheme != "file":
            super().write_text_to_href(href, txt)
            return
        path = Path(local_path(href))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, txt)
