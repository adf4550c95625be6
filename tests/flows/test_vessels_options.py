"""`geo vessels` options that could do nothing without saying so. ``--berthed`` changes only the land model of
Sentinel-2 scenes judged one by one (fewer than 3 of them in the period): on the synthetic port's four
Sentinel-2 scenes (tests/vessels/port.py), or on its Sentinel-1 series, it changed nothing, byte for byte, and
said nothing. A claim whose window lies outside --from/--to was "not tested" for want of scenes the archive has."""

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


def test_a_claim_whose_window_lies_outside_the_period_is_named(user, port_project):
    """--claim test-ships (window 10-14 June) with --to 2021-05-20: the rationale said 'no scene inside the
    window', though the catalog holds two there; the period, not the archive, left them out. A warning names
    the window and the period to widen."""
    result = user("vessels", "--aoi", "test-port", "--source", str(port_project.catalog), "--aoi-dir",
                  str(port_project.aoi_dir), "--seeds-dir", str(port_project.seeds_dir), "--sensor", "s1",
                  "--from", "2021-04-01", "--to", "2021-05-20", "--claim", "test-ships", "--out", "out")
    assert result.returncode == 0, result.output
    assert ("warning: claim test-ships: its window 2021-06-10..2021-06-14 lies after the period 2021-04-01.."
            "2021-05-20 (--from/--to): no scene of the period can test it; give --to 2021-06-14 or later"
            ) in result.stderr.splitlines()
