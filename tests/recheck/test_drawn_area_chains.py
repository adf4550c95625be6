"""A drawn area no claim names, registered with --since, whose Sentinel-2 pair is clouded at a later re-check
run by cron (no --aoi, no --since): its Sentinel-1 chain starts from the --since the area was registered with.
Before, choosing that chain's baseline needed a claim window or --since, and the whole re-check stopped (exit 1)
at every run from then on. The project is ``test_sar_chain``'s (simulated Sentinel-1 series, a clouded
Sentinel-2 scene over the area)."""

from __future__ import annotations

import json

from geo.change.detectors import SAR_VERSION
from tests.recheck.test_sar_chain import S1_IDS, S2_CLEAR, S2_CLOUDED, project  # noqa: F401 (a fixture)


def test_a_claimless_drawn_area_starts_its_sentinel1_chain_from_its_registered_since(project, geo_cli):  # noqa: F811
    series, publish, store = project
    drawn = store.parent / "drawn-site.geojson"
    feature = json.loads((series.aoi_dir / "sar-site.geojson").read_text())
    drawn.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": feature["geometry"]}))
    publish(S2_CLEAR)  # the clear scene only: the chain starts, nothing to pair
    first = geo_cli(*series.args(store, "--aoi", str(drawn), "--since", "2022-03-01", "--json"), cwd=store.parent)
    assert first.returncode == 0, first.stderr[-3000:]
    assert [(a["aoi_id"], a["sensor"], a["head_scene"]) for a in json.loads(first.stdout)["aois"]] == [
        ("drawn-site", "s2", S2_CLEAR)]
    publish(S2_CLEAR, S2_CLOUDED)  # a clouded scene arrives: the area needs Sentinel-1 now
    cron = geo_cli(*series.args(store, "--json"), cwd=store.parent)
    assert cron.returncode == 0, cron.stderr[-3000:]
    s2, s1 = json.loads(cron.stdout)["aois"]
    assert (s2["sensor"], s2["pairs"][0]["after_scene"], s2["pairs"][0]["status"]) == ("s2", S2_CLOUDED, "skipped")
    assert (s1["aoi_id"], s1["sensor"], s1["algorithm_version"]) == ("drawn-site", "s1", SAR_VERSION)
    assert s1["baseline_scene"] == S1_IDS[0] and s1["head_scene"] == S1_IDS[4]
