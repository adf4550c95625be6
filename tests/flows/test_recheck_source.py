"""A store keeps the source of its re-checks: a cron line without ``--source`` searches the archive the store
was made with (it searched Earth Search, the default, so a store of the demo scenes or a local catalog had its
chain mixed with another archive's scenes, or failed every AOI offline), and another ``--source`` is refused
unless ``--switch-source`` says so."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3

import pytest

from tests.conftest import REPO

FIRST = ("recheck", "--aoi", "demo-nantes-port", "--since", "2015-08-01", "--store", "watch.gpkg")


def _meta_source(store) -> str | None:
    with sqlite3.connect(store) as conn:
        row = conn.execute("SELECT value FROM store_meta WHERE key = 'source'").fetchone()
    return row[0] if row else None


def test_a_rerun_without_source_searches_the_stores_source(user):
    first = user(*FIRST, "--source", "demo")
    assert first.returncode == 0, first.output
    store = user.home / "watch.gpkg"
    demo = str((REPO / "scenes/demo/catalog.json").resolve())
    assert _meta_source(store) == demo
    before = store.read_bytes()
    again = user("recheck", "--store", "watch.gpkg", "--json")
    assert again.returncode == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["run_id"] is None and summary["failed_aois"] == []
    assert summary["aois"][0]["head_scene"] == "S2_30TXT_20171014_L1C_nantes"
    assert store.read_bytes() == before
    said = user("-v", "recheck", "--store", "watch.gpkg")
    assert said.returncode == 0 and said.stdout.startswith("nothing new: 1 AOI checked"), said.output
    assert f"--source: {demo}, the store's source" in said.stderr


def test_another_source_is_refused_naming_both_unless_switched(user):
    assert user(*FIRST, "--source", "demo").returncode == 0
    store = user.home / "watch.gpkg"
    before = store.read_bytes()
    refused = user("recheck", "--store", "watch.gpkg", "--source", "earth-search")
    assert refused.returncode == 1, refused.output
    demo = str((REPO / "scenes/demo/catalog.json").resolve())
    line = refused.stderr.strip().splitlines()[-1]
    assert "--source earth-search" in line and demo in line and "--switch-source" in line, refused.stderr
    assert "Traceback" not in refused.stderr and store.read_bytes() == before
    # a copy of the store's catalog (a project copied, a catalog moved) is the same source
    shutil.copytree(REPO / "scenes/demo", user.home / "copy", ignore=shutil.ignore_patterns("build.py"))
    copied = user("recheck", "--store", "watch.gpkg", "--source", "copy")
    assert copied.returncode == 0 and copied.stdout.startswith("nothing new: 1 AOI checked"), copied.output
    # another catalog (the same scenes under another id) is taken with --switch-source, and kept for later runs
    shutil.copytree(user.home / "copy", user.home / "mirror")
    catalog = user.home / "mirror/catalog.json"
    catalog.write_text(catalog.read_text().replace('"id": "demo"', '"id": "mirror"'))
    assert user("recheck", "--store", "watch.gpkg", "--source", "mirror").returncode == 1
    switched = user("recheck", "--store", "watch.gpkg", "--source", "mirror", "--switch-source")
    assert switched.returncode == 0 and switched.stdout.startswith("nothing new: 1 AOI checked"), switched.output
    assert _meta_source(store) == str(catalog.resolve())
    later = user("recheck", "--store", "watch.gpkg", "--source", "demo")
    assert later.returncode == 1 and str(catalog.resolve()) in later.stderr, later.output
    assert user("recheck", "--store", "watch.gpkg").returncode == 0


def test_a_deleted_local_catalog_is_named_as_the_stores_with_what_to_do(user):
    """cron's line has no --source; the store's catalog was deleted (or moved): it said "scene source
    '/…/catalog.json' is neither 'earth-search', …, a URL, nor an existing catalog path", a --source never typed."""
    shutil.copytree(REPO / "scenes/demo", user.home / "mycat", ignore=shutil.ignore_patterns("build.py"))
    assert user(*FIRST, "--source", "mycat").returncode == 0
    store = user.home / "watch.gpkg"
    catalog = str((user.home / "mycat/catalog.json").resolve())
    shutil.move(user.home / "mycat", user.home / "moved")
    before = store.read_bytes()
    refused = user("recheck", "--store", "watch.gpkg")
    assert refused.returncode == 1 and refused.stdout == "", refused.output
    assert refused.stderr.strip() == (
        f"Error: watch.gpkg is re-checked against the local catalog {catalog}, which no longer exists: restore it, "
        "or give its new place with --source (a copy of it is the same source), or another source with --source SRC "
        "--switch-source")
    assert store.read_bytes() == before
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    moved = user("recheck", "--store", "watch.gpkg", "--source", "moved")
    assert moved.returncode == 0 and moved.stdout.startswith("nothing new: 1 AOI checked"), moved.output


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("stored, given", [("earth-search", "https://earth-search.aws.element84.com/v1/"),
                                           ("https://earth-search.aws.element84.com/v1", "earth-search")])
def test_an_archive_by_its_name_and_by_its_url_is_one_source(user, stored, given):
    """A store made with --source earth-search, and a cron line giving its URL (or the other way round), was refused
    as "re-checked against earth-search; a chain mixing archives ..."."""
    assert user(*FIRST, "--source", "demo").returncode == 0
    store = user.home / "watch.gpkg"
    with sqlite3.connect(store) as db:  # the store as --source STORED leaves it
        db.execute("UPDATE store_meta SET value = ? WHERE key = 'source'", (stored,))
    # the internet is not reached: requests go to a proxy on a closed loopback port, and fail there
    proxy = f"http://127.0.0.1:{_closed_port()}"
    offline = {"HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "", "no_proxy": "", "GEO_HTTP_ATTEMPTS": "1"}
    taken = user("recheck", "--store", "watch.gpkg", "--source", given, env=offline)
    assert taken.returncode == 4, taken.output  # searched, not refused (exit 1)
    assert "failed demo-nantes-port: search failed: https://earth-search.aws.element84.com/v1: " in taken.stdout
    assert "ProxyError" in taken.stdout and "re-checked against" not in taken.output
    assert _meta_source(store) == stored  # a run recording nothing (every AOI failed) leaves the store as it was
