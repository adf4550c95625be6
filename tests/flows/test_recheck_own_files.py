"""The scheduled re-check (cron: ``geo recheck`` without --aoi) of a store of several AOIs while an analyst's
claims or AOI file is broken: the AOIs it concerns fail for this run (exit 4, the summary naming the file and
the fault) and are retried next run; the other AOIs are re-checked; a broken file concerning none is a warning."""

from __future__ import annotations

import json
import sqlite3

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi
from tests.flows.test_own_claims import BAD_CLAIM, my_project

SOURCE = ("--source", str(DEMO_CATALOG))
DEMO_HEAD = "S2_30TXT_20171014_L1C_nantes"  # the demo catalog's second (last) scene


def stored_store(user, *aoi_refs: str):
    """The user's project, and a store whose first re-check took ``aoi_refs`` (their chains: the demo's pair)."""
    dirs, project = my_project(user.home)
    first = user("recheck", "--store", "store.gpkg", *(a for ref in aoi_refs for a in ("--aoi", ref)), *SOURCE,
                 "--since", "2015-08-01", *dirs)
    assert first.returncode == 0 and "run 1" in first.stdout, first.output
    return dirs, project


def scheduled(user, dirs):
    result = user("recheck", "--store", "store.gpkg", *SOURCE, "--json", *dirs)
    assert "Traceback" not in result.stderr and "internal error" not in result.output, result.output
    return result, json.loads(result.stdout)


def checked(summary) -> dict[str, str]:
    return {e["aoi_id"]: e["head_scene"] for e in summary["aois"]}


def runs(store) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return list(conn.execute("SELECT run_id FROM runs ORDER BY run_id"))


def test_a_broken_claim_fails_the_aoi_it_names_and_the_others_are_rechecked(user):
    harbour = drawn_aoi(user.home / "harbour.geojson")
    dirs, project = stored_store(user, "demo-nantes-port", "my-island", str(harbour))
    bad = project / "seeds" / "bad.toml"
    bad.write_text("[document]\ntitle = \"Hand-written\"\n" + BAD_CLAIM.format(
        id="zoned", aoi="my-island", start="2016-01-01T00:00:00+02:00", signature="earthworks"), encoding="utf-8")

    result, summary = scheduled(user, dirs)
    assert result.returncode == 4, result.output
    failure, = summary["failed_aois"]
    assert failure["aoi_id"] == "my-island"
    assert failure["error"].startswith(f"{bad} claim 'zoned': field 'start' must be a date YYYY-MM-DD")
    assert checked(summary) == {"demo-nantes-port": DEMO_HEAD, "harbour": DEMO_HEAD}
    # nothing new for the others: no run recorded, no run folder; the failure is in the summary printed (cron's log)
    assert summary["run_id"] is None and runs(user.home / "store.gpkg") == [(1,)]
    assert not (user.home / "store-outputs" / "runs" / "000002").exists()

    # A seeds file too broken to tell what it names: every registry AOI may be named in it, not a drawn one.
    bad.write_text('[document]\ntitle = "x"\n[[claim]]\nid = "half\n', encoding="utf-8")
    result, summary = scheduled(user, dirs)
    assert result.returncode == 4, result.output
    assert [f["aoi_id"] for f in summary["failed_aois"]] == ["demo-nantes-port", "my-island"]
    assert all(f["error"].startswith(f"{bad}: malformed TOML") for f in summary["failed_aois"])
    assert checked(summary) == {"harbour": DEMO_HEAD}
    assert "warning" not in result.stderr  # told once: in the failures, which cron's log and --on-new get

    bad.unlink()
    fixed, summary = scheduled(user, dirs)
    assert fixed.returncode == 0 and summary["run_id"] is None, fixed.output  # retried: nothing new for any
    assert checked(summary) == dict.fromkeys(["demo-nantes-port", "harbour", "my-island"], DEMO_HEAD)


def test_broken_files_concerning_no_stored_aoi_are_warnings(user):
    dirs, project = stored_store(user, "demo-nantes-port", "my-island")
    bad = project / "seeds" / "bad.toml"
    bad.write_text("[document]\ntitle = \"Hand-written\"\n" + BAD_CLAIM.format(
        id="typo", aoi="chongjin-port", start="2016-01-01", signature="new_constructions"), encoding="utf-8")
    half = project / "aoi" / "half-drawn.geojson"
    half.write_text('{"type": "Feature", "properties": {"id": "half"}, ')
    on_half = project / "seeds" / "on-half.toml"
    on_half.write_text("[document]\ntitle = \"Mine\"\n" + BAD_CLAIM.format(
        id="on-half", aoi="half", start="2016-01-01", signature="earthworks"), encoding="utf-8")
    before = runs(user.home / "store.gpkg")

    result, summary = scheduled(user, dirs)
    assert result.returncode == 0 and summary["run_id"] is None and not summary["failed_aois"], result.output
    assert checked(summary) == {"demo-nantes-port": DEMO_HEAD, "my-island": DEMO_HEAD}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3, result.stderr
    assert warnings[0].startswith(f"warning: {half}: malformed GeoJSON")
    assert warnings[0].endswith("(skipped: not needed here; check with `geo aoi list`)")
    assert warnings[1].startswith(f"warning: {bad} claim 'typo': unknown signature(s) ['new_constructions']")
    # a claim on the AOI of the unreadable file: said to be for the skipped file, not a misspelt id
    assert warnings[2].startswith(f"warning: {on_half}: claim 'on-half' names unknown AOI 'half' (an AOI file that "
                                  "cannot be read was skipped: it may be this AOI's)")
    assert runs(user.home / "store.gpkg") == before  # nothing new: the store is unchanged

    named = user("recheck", "--store", "store.gpkg", "--aoi", "half", *SOURCE, *dirs)  # its own file is broken
    assert named.returncode == 1 and named.stderr.startswith(f"Error: {half}: malformed GeoJSON"), named.output


def test_an_unreadable_aoi_file_fails_the_aoi_no_good_file_defines(user):
    dirs, project = stored_store(user, "demo-nantes-port", "my-island")
    island = project / "aoi" / "my-island.geojson"
    island.write_text(island.read_text()[:-20])  # saved half-way: its id cannot be read

    result, summary = scheduled(user, dirs)
    assert result.returncode == 4, result.output
    failure, = summary["failed_aois"]
    assert failure["aoi_id"] == "my-island"
    assert failure["error"].startswith(f"{island}: malformed GeoJSON")
    assert failure["error"].endswith("(no other AOI file defines 'my-island': this one may be its own)")
    assert checked(summary) == {"demo-nantes-port": DEMO_HEAD}
    assert result.stderr == "", result.stderr  # said once, in the summary (as for an AOI whose polygon is invalid)
    retried = user("recheck", "--store", "store.gpkg", "--aoi", "my-island", *SOURCE, *dirs)  # asked for by id
    assert retried.returncode == 1 and retried.stderr.startswith(f"Error: {island}: malformed GeoJSON"), retried.output


def test_a_stored_drawn_aoi_needs_only_its_stored_record_not_every_registry_file(user):
    """A drawn AOI (given once as --aoi FILE, kept in the store) is re-checked from the store's record: an
    unreadable registry file of aoi/ cannot be its own, so it is a warning, not the AOI's failure (it failed
    it, exit 4, while any file of aoi/ was unreadable)."""
    harbour = drawn_aoi(user.home / "harbour.geojson")
    dirs, project = stored_store(user, "demo-nantes-port", str(harbour))
    harbour.unlink()  # the drawn file is gone: the store's record is the AOI
    half = project / "aoi" / "half-drawn.geojson"
    half.write_text('{"type": "Feature", "properties": {"id": "half"}, ')

    result, summary = scheduled(user, dirs)
    assert result.returncode == 0 and not summary["failed_aois"], result.output
    assert summary["run_id"] is None  # nothing new for either
    assert checked(summary) == {"demo-nantes-port": DEMO_HEAD, "harbour": DEMO_HEAD}
    warning, = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith(f"warning: {half}: malformed GeoJSON")
    assert warning.endswith("(skipped: not needed here; check with `geo aoi list`)")

    # A registry AOI whose own file may be the unreadable one still waits for it (the file may be its own)
    island = project / "aoi" / "my-island.geojson"
    first = user("recheck", "--store", "store.gpkg", "--aoi", "my-island", *SOURCE, *dirs)
    assert first.returncode == 0, first.output
    island.unlink()
    result, summary = scheduled(user, dirs)
    assert result.returncode == 4, result.output
    failure, = summary["failed_aois"]
    assert failure["aoi_id"] == "my-island"
    assert failure["error"].endswith("(no other AOI file defines 'my-island': this one may be its own)")
    assert checked(summary) == {"demo-nantes-port": DEMO_HEAD, "harbour": DEMO_HEAD}


def test_a_wrong_aoi_fails_before_the_outputs_are_repaired(user):
    """A mistyped --aoi is bad input: exit 1 naming it, before anything is written (the outputs folder, left
    behind or removed, was first written again from the store, then the run failed)."""
    dirs, project = stored_store(user, "demo-nantes-port")
    outputs = user.home / "store-outputs"
    for path in sorted(outputs.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    outputs.rmdir()
    with sqlite3.connect(user.home / "store.gpkg") as conn:  # run 1 found news; its --on-new command is pending
        conn.execute("UPDATE runs SET on_new = 'false' WHERE run_id = 1 AND has_new")
    before = runs(user.home / "store.gpkg")
    hook = ("--on-new", "cat > hook-got.json")

    for wrong, message in (("demo-nantes-prot", "Error: unknown AOI id 'demo-nantes-prot'"),
                           ("harbor.geojson", "Error: harbor.geojson: AOI file does not exist")):
        result = user("recheck", "--store", "store.gpkg", "--aoi", wrong, *SOURCE, *hook, *dirs)
        assert result.returncode == 1, result.output
        line, = result.stderr.strip().splitlines()
        assert line.startswith(message), line
        assert not outputs.exists() and not (user.home / "hook-got.json").exists()
        assert runs(user.home / "store.gpkg") == before

    fine = user("recheck", "--store", "store.gpkg", "--aoi", "demo-nantes-port", *SOURCE, *hook, *dirs)
    assert fine.returncode == 0 and "nothing new" in fine.stdout, fine.output
    assert json.loads((outputs / "runs" / "000001" / "summary.json").read_text())["run_id"] == 1  # repaired then
    assert json.loads((user.home / "hook-got.json").read_text())["run_id"] == 1  # and the pending command run


def test_a_first_recheck_of_a_drawn_file_warns_of_its_ignored_marker_once(user):
    """A drawn file with a point marker beside its polygon: the first re-check read the file twice (once to
    check it before the store exists, once with the store) and printed the "of no area ignored" warning twice."""
    path = user.home / "harbour east.geojson"
    point = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-1.55, 47.2]}}
    drawn_aoi(path)
    data = json.loads(path.read_text())
    data["features"].append(point)
    path.write_text(json.dumps(data))
    first = user("recheck", "--store", "store.gpkg", "--aoi", path.name, *SOURCE, "--since", "2015-08-01")
    assert "run 1" in first.stdout, first.output
    warnings = [line for line in first.stderr.splitlines() if "ignored" in line]
    assert len(warnings) == 1 and "(Point)" in warnings[0], first.stderr
