"""A team's cron line re-checks the store while analysts add AOIs to aoi/ and claims to seeds/ over weeks.
Without --aoi a re-check takes every AOI already in the store: an AOI added later was never re-checked, said
nowhere, unless someone edited the cron line. ``--all-aois`` takes every AOI of aoi/ and of the store: one
added to aoi/ is registered by the next run, its baseline as for ``--aoi`` (``--since``, else its claims' window)."""

from __future__ import annotations

import json
import shutil
import sqlite3

from tests.conftest import REPO
from tests.flows.conftest import DEMO_CATALOG, drawn_aoi, registry_aoi

DEMO_BASE, DEMO_HEAD = "S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"
ISLAND_CLAIM = """
[[claim]]
id = "island-build"
claimant = "analyst"
statement = "Works on the island."
date_stated = 2017-10-31
stance = "assert"
aoi_ids = ["my-island"]
window = { start = 2016-01-01, end = 2017-06-30 }
signatures = ["new_construction"]
"""


def team_project(home):
    """The demo AOI and its claim in the team's own aoi/ and seeds/."""
    project = home / "project"
    (project / "aoi").mkdir(parents=True)
    (project / "seeds").mkdir()
    shutil.copy(REPO / "aoi" / "demo-nantes-port.geojson", project / "aoi")
    shutil.copy(REPO / "seeds" / "demo-nantes.toml", project / "seeds")
    return ("--aoi-dir", str(project / "aoi"), "--seeds-dir", str(project / "seeds")), project


def cron(user, dirs, *more: str):
    result = user("recheck", "--store", "store.gpkg", "--all-aois", *more, *dirs)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


def stored_aois(store) -> list[str]:
    with sqlite3.connect(store) as conn:
        return [r[0] for r in conn.execute("SELECT aoi_id FROM aois ORDER BY aoi_id")]


def test_an_aoi_added_to_the_registry_is_taken_up_by_the_cron_line(user):
    dirs, project = team_project(user.home)
    drawn = drawn_aoi(user.home / "harbour.geojson")  # drawn, given by path once: lives on its stored record
    first = user("recheck", "--store", "store.gpkg", "--aoi", "demo-nantes-port", "--aoi", str(drawn),
                 "--source", str(DEMO_CATALOG), "--since", "2015-08-01", *dirs)
    assert first.returncode == 0 and first.stdout.startswith("run 1: "), first.output
    idle = cron(user, dirs)
    assert idle.returncode == 0 and idle.stdout.startswith("nothing new: 2 AOIs checked"), idle.output

    # weeks later an analyst adds an AOI and a claim naming it; nobody edits the cron line
    registry_aoi(project / "aoi" / "my-island.geojson", "my-island", "My island")
    with (project / "seeds" / "demo-nantes.toml").open("a", encoding="utf-8") as seeds:
        seeds.write(ISLAND_CLAIM)
    plain = user("recheck", "--store", "store.gpkg", *dirs)  # without the option: the store's AOIs, as documented
    assert plain.returncode == 0 and plain.stdout.startswith("nothing new: 2 AOIs checked"), plain.output
    taken = cron(user, dirs)
    assert taken.returncode == 0 and taken.stdout.startswith("run 2: 1 new pair"), taken.output
    # its baseline: the latest scene on or before its claim's window, as a first --aoi my-island would take
    assert f"  my-island: baseline {DEMO_BASE}; 1 pair" in taken.stdout, taken.stdout
    assert "claim island-build on my-island: " in taken.stdout
    assert stored_aois(user.home / "store.gpkg") == ["demo-nantes-port", "harbour", "my-island"]
    again = cron(user, dirs)
    assert again.returncode == 0 and again.stdout.startswith("nothing new: 3 AOIs checked"), again.output
    # and a plain scheduled run now has it too
    plain = user("recheck", "--store", "store.gpkg", *dirs)
    assert plain.returncode == 0 and plain.stdout.startswith("nothing new: 3 AOIs checked"), plain.output


def test_a_new_aoi_no_claim_names_fails_alone_until_one_does_or_since_is_given(user):
    dirs, project = team_project(user.home)
    first = cron(user, dirs, "--source", str(DEMO_CATALOG))  # the cron line from the first day: a new store
    assert first.returncode == 0 and f"  demo-nantes-port: baseline {DEMO_BASE}; 1 pair" in first.stdout, first.output
    registry_aoi(project / "aoi" / "my-island.geojson", "my-island", "My island")

    result = cron(user, dirs, "--json")
    assert result.returncode == 4, result.output
    summary = json.loads(result.stdout)
    failure, = summary["failed_aois"]
    assert failure["aoi_id"] == "my-island"
    assert "no claim names it and no --since was given" in failure["error"], failure
    assert "--aoi my-island --since DATE" in failure["error"], failure
    assert stored_aois(user.home / "store.gpkg") == ["demo-nantes-port"]  # not registered without a baseline
    assert summary["run_id"] is None

    since = cron(user, dirs, "--since", "2015-08-01")  # a cron line's --since: the baseline of AOIs new to the store
    assert since.returncode == 0 and f"  my-island: baseline {DEMO_BASE}; 1 pair" in since.stdout, since.output


def test_all_aois_with_aoi_is_refused(user):
    dirs, _ = team_project(user.home)
    result = user("recheck", "--store", "store.gpkg", "--all-aois", "--aoi", "demo-nantes-port", *dirs)
    assert result.returncode == 1 and "--all-aois" in result.stderr and "--aoi" in result.stderr, result.output
    assert not (user.home / "store.gpkg").exists()


def test_all_aois_with_an_empty_registry_and_no_store_says_so(user):
    empty = user.home / "empty"
    (empty / "aoi").mkdir(parents=True)
    (empty / "seeds").mkdir()
    result = user("recheck", "--store", "store.gpkg", "--all-aois", "--source", str(DEMO_CATALOG),
                  "--aoi-dir", str(empty / "aoi"), "--seeds-dir", str(empty / "seeds"))
    assert result.returncode == 1 and "no AOIs" in result.stderr, result.output
    assert not (user.home / "store.gpkg").exists()



def test_a_first_cron_run_that_can_start_no_aoi_keeps_its_source_for_the_next(user):
    """The first `--all-aois --source demo` over an aoi/ whose AOI no claim names yet fails that AOI (exit 4) and
    leaves the store made, blank: it kept no source, so the next run without --source (the cron line) searched
    Earth Search, not the demo scenes given first. The store keeps the source of its first re-check, recorded or not."""
    dirs, project = team_project(user.home)
    (project / "seeds" / "demo-nantes.toml").unlink()
    first = cron(user, dirs, "--source", "demo")
    assert first.returncode == 4 and "failed demo-nantes-port: no claim names it" in first.stdout, first.output
    assert "store unchanged" not in first.stdout and "made, its source kept for later runs" in first.stdout, first.stdout
    shutil.copy(REPO / "seeds" / "demo-nantes.toml", project / "seeds")  # the claim comes: the cron line goes on
    later = cron(user, dirs)
    assert later.returncode == 0 and f"  demo-nantes-port: baseline {DEMO_BASE}; 1 pair" in later.stdout, later.output
    summary = json.loads((user.home / "store-outputs" / "latest.json").read_text())
    assert summary["source"].endswith(str(DEMO_CATALOG.relative_to(DEMO_CATALOG.parents[2]))), summary["source"]
