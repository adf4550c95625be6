"""``geo recheck`` of a port with ship claims over an archive that has only Sentinel-1 scenes of it (the
optical chain has no scene yet, the vessel counts have twelve): the run failed recording the AOI ("internal
error ... AssertionError", exit 4) and every scheduled run after it did the same. The vessel counts are
recorded and judged; the optical chain waits for its first scene."""

from __future__ import annotations

import json

from tests.flows.test_pass_slices import sliced_catalog


def test_ship_claims_are_judged_from_sar_counts_while_no_optical_scene_exists(user, port_project, tmp_path):
    source = sliced_catalog(port_project.catalog, tmp_path / "sar-only", slices=False)  # the port's S1 items only
    args = ("recheck", "--aoi", "test-port", "--source", str(source), "--aoi-dir", str(port_project.aoi_dir),
            "--seeds-dir", str(port_project.seeds_dir), "--store", "port.gpkg")
    first = user(*args, "--since", "2021-05-20")
    assert "internal error" not in first.stderr, first.stderr
    entry, = json.loads((user.home / "port-outputs/runs/000001/summary.json").read_text())["aois"]
    assert entry["head_scene"] is None and entry["baseline_reason"].startswith("no scene over the AOI")
    assert entry["vessels"]["n_counted"] == 12
    verdicts = {e["claim_id"]: e["verdict"] for e in entry["vessels"]["evidence"]}
    assert verdicts["test-ships"] == "consistent with the claim"  # the planted rise of large ships in its window
    assert "no chain yet" in first.stdout and "vessels counted on 12 new scenes" in first.stdout
    assert first.returncode == 0, first.output
    again = user(*args)  # the next scheduled run: nothing new, the counts are not taken again
    assert again.stdout.startswith("nothing new"), again.output
