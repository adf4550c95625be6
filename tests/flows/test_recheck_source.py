"""A store keeps the source of its re-checks: a cron line without ``--source`` searches the archive the store
was made with (it searched Earth Search, the default, so a store of the demo scenes or a local catalog had its
chain mixed with another archive's scenes, or failed every AOI offline), and another ``--source`` is refused
unless ``--switch-source`` says so."""

from __future__ import annotations

import json
import shutil
import sqlite3

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
    assert said.returncode == 0 and said.stdout.startswith("nothing new: 1 AOI(s)"), said.output
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
    assert copied.returncode == 0 and copied.stdout.startswith("nothing new: 1 AOI(s)"), copied.output
    # another catalog (the same scenes under another id) is taken with --switch-source, and kept for later runs
    shutil.copytree(user.home / "copy", user.home / "mirror")
    catalog = user.home / "mirror/catalog.json"
    catalog.write_text(catalog.read_text().replace('"id": "demo"', '"id": "mirror"'))
    assert user("recheck", "--store", "watch.gpkg", "--source", "mirror").returncode == 1
    switched = user("recheck", "--store", "watch.gpkg", "--source", "mirror", "--switch-source")
    assert switched.returncode == 0 and switched.stdout.startswith("nothing new: 1 AOI(s)"), switched.output
    assert _meta_source(store) == str(catalog.resolve())
    later = user("recheck", "--store", "watch.gpkg", "--source", "demo")
    assert later.returncode == 1 and str(catalog.resolve()) in later.stderr, later.output
    assert user("recheck", "--store", "watch.gpkg").returncode == 0
