"""Cron re-checks with nothing new for weeks: an AOI that has had no scene at all since it was registered (the
archive holds none over it: a typo'd polygon, the wrong --source) was said once, on the first run's "no chain yet"
line; every later run said "nothing new: 2 AOIs checked", the same as for an AOI whose scenes are all processed.
Now the line says how many of them have no scene yet, and which."""

from __future__ import annotations

from tests.flows.conftest import DRAWN_RING, drawn_aoi

FAR = [[10.0, 50.0], [10.02, 50.0], [10.02, 50.02], [10.0, 50.02], [10.0, 50.0]]  # far from the demo scenes


def test_a_run_with_nothing_new_names_the_aois_without_a_scene_yet(user):
    drawn_aoi(user.home / "quay.geojson", [DRAWN_RING])
    drawn_aoi(user.home / "far.geojson", [FAR])
    first = user("recheck", "--store", "s.gpkg", "--aoi", "quay.geojson", "--aoi", "far.geojson", "--source", "demo",
                 "--since", "2015-08-01")
    assert first.returncode == 0, first.output
    assert "  far: no chain yet: no scene over the AOI" in first.stdout, first.stdout
    again = user("recheck", "--store", "s.gpkg")
    assert again.returncode == 0, again.output
    line, = again.stdout.splitlines()
    assert line.startswith("nothing new: 2 AOIs checked in "), line
    assert line.endswith(" s (1 without any scene yet: far); store unchanged"), line
