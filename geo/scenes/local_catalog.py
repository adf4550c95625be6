"""Reading a local scene source: a static STAC Catalog or Collection (a file, or the folder holding its
``catalog.json`` / ``collection.json``), or the items a search saved as a FeatureCollection
(``stac-client search --save``, pystac's ``ItemCollection``). pystac reads them through ``file:`` URIs
(``geo.scenes.file_io``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import pystac

from geo.errors import SceneError

if TYPE_CHECKING:
    from geo.scenes.model import Scene

ROOT_FILES = ("catalog.json", "collection.json")  # the root a folder is taken for, in this order
# what reading a broken catalog raises; STACTypeError (a JSON file of another kind: an AOI, an item) is no STACError
UNREADABLE = (OSError, pystac.STACError, pystac.STACTypeError, ValueError, KeyError)


def unreadable(path: Path, exc: Exception) -> SceneError:
    return SceneError(f"{path}: not a readable STAC catalog ({exc})")


def catalog_file(path: Path) -> Path:
    """A local catalog named by its file or by the folder holding its ``catalog.json`` (else its
    ``collection.json``; a folder of neither gives its ``catalog.json``, which ``catalog_items`` refuses)."""
    if not path.is_dir():
        return path
    return next((path / name for name in ROOT_FILES if (path / name).is_file()), path / ROOT_FILES[0])


def _missing_root(path: Path) -> SceneError | None:
    """The error for a folder named as a catalog that holds none of ``ROOT_FILES``."""
    if path.name == ROOT_FILES[0] and not path.exists() and path.parent.is_dir():
        items = _item_files(path.parent)
        if items:  # rio stac's items, one file each: a STAC static catalog links them
            shown = ", ".join(f.name for f in items[:3]) + (" ..." if len(items) > 3 else "")
            return SceneError(f"{path.parent}: a folder of {len(items)} STAC item files ({shown}) and no "
                              f"{' or '.join(ROOT_FILES)}: add a catalog.json linking each of them (rel \"item\"), or "
                              "save them as one FeatureCollection (pystac's ItemCollection) and give that file")
        return SceneError(f"{path.parent}: a folder holding no {' or '.join(ROOT_FILES)}")
    return None


def _item_files(folder: Path) -> list[Path]:
    """The STAC Item files directly in ``folder`` (JSON files whose ``type`` is ``Feature`` with a ``stac_version``)."""
    found = []
    for candidate in sorted(folder.glob("*.json")):
        try:
            data = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("type") == "Feature" and "stac_version" in data:
            found.append(candidate)
    return found


def _item_collection(path: Path, data: dict[str, Any]) -> list[pystac.Item]:
    """The items of a saved search, their relative asset hrefs made absolute against the file's folder (a
    saved search has no self link to resolve them by; its items keep none, as they have no file of their own)."""
    items = list(pystac.ItemCollection.from_dict(data, preserve_dict=False))
    base = Path(path).absolute().as_uri()
    for item in items:
        for asset in item.assets.values():
            asset.href = urljoin(base, asset.href)
    return items


def _refused_item(path: Path, item: pystac.Item) -> SceneError:
    root = item.get_root_link() or item.get_single_link("parent")
    target = root.get_absolute_href() if root is not None else None
    from geo.scenes.file_io import local_path

    links = f" ({local_path(target)})" if target else ""
    return SceneError(f"{path}: a STAC Item ({item.id}), not a catalog: give the catalog or collection that "
                      f"links it{links}")


def catalog_items(path: Path) -> list[pystac.Item]:
    """Every item of the local scene source file ``path``, as pystac reads it, their self hrefs ``file:`` URIs
    (none for a saved search's items); ``SceneError`` when it cannot."""
    from geo.scenes.file_io import FileUriStacIO

    missing = _missing_root(Path(path))
    if missing is not None:
        raise missing
    uri = Path(path).absolute().as_uri()
    try:
        stac_io = FileUriStacIO()
        data = json.loads(stac_io.read_text(uri))
        # (a search that found nothing saves no features: an empty source, not an unreadable one)
        if isinstance(data, dict) and data.get("type") == "FeatureCollection" and data.get("features") == []:
            return []
        if isinstance(data, dict) and data.get("type") == "FeatureCollection" and data.get("features") and all(
                isinstance(f, dict) and "stac_version" in f for f in data["features"]):
            return _item_collection(Path(path), data)
        stac = pystac.read_dict(data, href=uri, stac_io=stac_io)
        if isinstance(stac, pystac.Catalog):  # (a Collection is a Catalog)
            return list(stac.get_items(recursive=True))
    except UNREADABLE as exc:
        raise unreadable(path, exc) from None
    if isinstance(stac, pystac.Item):
        raise _refused_item(Path(path), stac)
    raise SceneError(f"{path}: a STAC {type(stac).__name__}, not a catalog")


def in_collections(scenes: Sequence[Scene], collections: Sequence[str], name: str) -> list[Scene]:
    """The scenes of a local source in ``collections`` (``--collection``); none of them is an error naming the
    collections its scenes are in, not an empty search."""
    kept = [s for s in scenes if s.collection in collections]
    if scenes and not kept:
        held = Counter(s.collection or "none named" for s in scenes)
        listed = ", ".join(f"{c} ({n})" for c, n in sorted(held.items()))
        raise SceneError(f"--collection {', '.join(collections)}: {name} holds no scene of it (its scenes' "
                         f"collections: {listed})")
    return kept
