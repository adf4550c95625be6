"""Which archive a re-check searches: the one its store was made with, unless told otherwise.

A store's chains are scenes of one archive (ids, baselines, tiles). A cron line re-run without ``--source``
searched the default archive instead, so the chain mixed archives or found nothing. The store keeps the
source of its runs (``store_meta`` key ``source``; before that, the ``arguments`` of its last run), a run
without ``--source`` takes it, and one naming another is refused unless ``--switch-source`` is given.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from geo import paths
from geo.errors import StoreError
from geo.scenes.source import ARCHIVES, default_source, local_catalog_file

log = logging.getLogger(__name__)

META_KEY = "source"
COLLECTIONS_KEY = "collections"  # the Sentinel-2 collections searched (--collection), a JSON list; none: the archive's


def normalized(source: str) -> str:
    """``source`` as the store keeps it: a local catalog by its absolute path (a cron job's folder is not the
    analyst's), a URL without a trailing slash, an archive's name as it is, and by its name when given by its URL
    (``--source earth-search`` in one cron line and its URL in another search the same archive)."""
    if source in ARCHIVES:
        return source
    if source.startswith(("http://", "https://")):
        url = source.rstrip("/")
        return next((name for name, archive in ARCHIVES.items() if archive.url == url), url)
    catalog = local_catalog_file(source)
    return str(catalog.resolve()) if catalog is not None else source


def _catalog_id(source: str) -> str | None:
    """The ``id`` of the local catalog ``source`` names (a copy of a project keeps it), None when not one."""
    catalog = local_catalog_file(source)
    try:
        found = json.loads(catalog.read_text(encoding="utf-8")).get("id") if catalog is not None else None
    except (OSError, ValueError, AttributeError):  # opening it says what is wrong
        return None
    return str(found) if found is not None else None


def _same_source(chosen: str, stored: str) -> bool:
    """Whether ``chosen`` searches what ``stored`` did: the same name or path, a copy of its local catalog (a
    store copied with its project), or a local catalog standing for the store's, no longer where it was."""
    if chosen == stored:
        return True
    if (chosen_id := _catalog_id(chosen)) is None:
        return False
    return _gone(stored) or chosen_id == _catalog_id(stored)


def _gone(stored: str) -> bool:
    """Whether the store's source is a local catalog no longer where it was (moved, deleted)."""
    return stored not in ARCHIVES and not stored.startswith(("http://", "https://")) and not Path(stored).exists()


def _demo_here(stored: str) -> str:
    """For a store of the demo scenes made where geo lies elsewhere (a store handed on): where they are here."""
    if Path(stored).parts[-3:] != ("scenes", "demo", "catalog.json") or not paths.demo_catalog().is_file():
        return ""
    return "; the demo scenes of this geo are --source demo"


def stored_source(store_path: Path) -> tuple[str | None, tuple[str, ...]]:
    """The source the store at ``store_path`` was re-checked with and the Sentinel-2 collections searched there
    (none: the archive's own); None for no store, or one that cannot be read here (``Store.check`` then names
    the fault)."""
    if not store_path.is_file():
        return None, ()
    try:
        conn = sqlite3.connect(f"{store_path.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None, ()
    try:
        row = conn.execute("SELECT value FROM store_meta WHERE key = ?", (META_KEY,)).fetchone()
        if row is None:  # a store from before the key: its last run's --source
            row = conn.execute("SELECT json_extract(arguments, '$.source') FROM runs "
                               "ORDER BY run_id DESC LIMIT 1").fetchone()
        kept = conn.execute("SELECT value FROM store_meta WHERE key = ?", (COLLECTIONS_KEY,)).fetchone()
        collections = tuple(json.loads(kept[0])) if kept else ()
        return (normalized(str(row[0])) if row and row[0] else None), collections
    except (sqlite3.Error, ValueError, TypeError):  # json_extract of a malformed row too
        return None, ()
    finally:
        conn.close()


def _named(collections: tuple[str, ...]) -> str:
    return ", ".join(collections) if collections else "the archive's own Sentinel-2 collection"


def choose_collections(given: tuple[str, ...], stored: tuple[str, ...], store_made: bool, switch: bool,
                       store_path: Path) -> tuple[str, ...]:
    """The Sentinel-2 collections of this run: ``given`` (``--collection``), else the store's. Another archive's
    collection (Earth Search's ``sentinel-2-c1-l2a`` beside its ``sentinel-2-l2a``) holds the same places under
    other ids and processing, so ``given`` other than the store's is refused (``StoreError``) unless ``switch``,
    which takes ``--source`` and ``--collection`` as given."""
    if switch:
        return given
    if not given or not store_made or set(given) == set(stored):
        return given or stored
    raise StoreError(f"--collection {', '.join(given)}: {store_path} was re-checked in {_named(stored)}; a chain "
                     "mixing collections pairs scenes that are not comparable. Omit --collection "
                     f"{'' if not stored else '(or give ' + ', '.join(stored) + ') '}or add --switch-source to go "
                     "on in the new one")


def choose_source(given: str | None, stored: str | None, switch: bool, store_path: Path) -> str:
    """The source of this run: ``given`` (``--source``), else the store's, else the default archive.
    A ``given`` other than the store's (``_same_source``) is refused (``StoreError``) unless ``switch``."""
    if given is None:
        if stored is None:
            return default_source(None)
        if _gone(stored):  # said as the store's, not as a --source the user never typed
            raise StoreError(f"{store_path} is re-checked against the local catalog {stored}, which no longer "
                             "exists: restore it, or give its new place with --source (a copy of it is the same "
                             f"source), or another source with --source SRC --switch-source{_demo_here(stored)}")
        log.info("--source: %s, the store's source (%s)", stored, store_path)
        return stored
    chosen = normalized(given)
    if stored is None or _same_source(chosen, stored):
        return chosen
    if switch:
        log.info("--switch-source: %s from now on (was %s)", chosen, stored)
        return chosen
    raise StoreError(f"--source {given}: {store_path} was re-checked against {stored}; a chain mixing archives "
                     f"pairs scenes that are not comparable. Omit --source (or give {stored}), or add "
                     "--switch-source to go on against the new one")
