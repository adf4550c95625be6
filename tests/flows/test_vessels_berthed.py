"""``geo vessels --berthed`` changes only the land model of Sentinel-2 scenes judged one by one (fewer than 3
of them in the period). On the synthetic port's four Sentinel-2 scenes (tests/vessels/port.py), or on its
Sentinel-1 series, it changed nothing, byte for byte, and said nothing: the user took the counts for those of
the berthed-ship model. It now says, in one warning, that it changed nothing and why."""

from __future__ import annotations

import json

from tests.flows.test_sar_archives import counts

NOTHING = "warning: --berthed changes nothing here: it applies to Sentinel-2 scenes judged one by one (fewer than " \
          "3 in the period)"


def berthed(user, project, *args: str, out: str = "out"):
    return user("vessels", "--aoi", "test-port", "--source", str(project.catalog), "--aoi-dir",
                str(project.aoi_dir), "--seeds-dir", str(project.seeds_dir), "--berthed", *args, "--out", out)


def test_berthed_on_a_series_says_it_changed_nothing(user, port_project):
    result = berthed(user, port_project, "--sensor", "s2", "--from", "2021-03-25", "--to", "2021-06-30")
    assert result.returncode == 0, result.output
    assert f"{NOTHING}; these 4 Sentinel-2 scenes share a time-series land mask" in result.stderr.splitlines()
    assert sum(counts(user).values()) == 11  # 2, 2, 1, 6 planted and found, as without --berthed
    result = berthed(user, port_project, "--sensor", "s1", "--from", "2021-03-25", "--to", "2021-06-30", out="s1")
    assert result.returncode == 0, result.output
    assert f"{NOTHING}; the period holds no Sentinel-2 scene" in result.stderr.splitlines()


def test_berthed_on_one_scene_applies_silently(user, port_project):
    result = berthed(user, port_project, "--sensor", "s2", "--from", "2021-06-01", "--to", "2021-06-30")
    assert result.returncode == 0, result.output
    assert "--berthed" not in result.stderr
    manifest = json.loads((user.home / "out" / "vessels-manifest.json").read_text())
    assert "objects-on-water" in manifest["land_mask"]["s2"]
