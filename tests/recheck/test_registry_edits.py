"""An analyst keeps the aoi/ registry over weeks while cron re-checks the store: an AOI removed from it, or
renamed (its id changed), is retired by the next scheduled run, said once, its results kept in the store and
marked (``geo.recheck.retire``); it was re-checked from the store's record for good, said nowhere."""

from __future__ import annotations

import json
import shutil
import sqlite3

from tests.recheck.conftest import dump_store, imported_modules

PROFILE = {"PYTHONPROFILEIMPORTTIME": "1"}


def retired(store) -> dict[str, int]:
    with sqlite3.connect(store) as conn:
        return dict(conn.execute("SELECT aoi_id, retired_run FROM aois WHERE retired_run IS NOT NULL"))


def aoi_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("  ")]


def test_an_aoi_removed_from_the_registry_is_retired_once_and_taken_up_again_when_its_file_is_back(first_run, geo_cli):
    series, store = first_run
    kept = (series.aoi_dir / "site-c.geojson").read_text()
    (series.aoi_dir / "site-c.geojson").unlink()
    first = geo_cli(*series.args(store))
    assert first.returncode == 0 and first.stdout.startswith("run 2: 0 new pairs"), first.stdout + first.stderr
    assert aoi_lines(first.stdout) == [
        "  site-c: retired: no file of aoi/ defines it (removed, or its id changed); no longer re-checked, its results "
        "kept in the store, marked (aois.retired_run = 2); its file back in aoi/ takes it up again"]
    assert first.stderr == ""
    assert retired(store) == {"site-c": 2}
    summary = json.loads((store.parent / "s-outputs" / "latest.json").read_text())
    assert summary["aois_retired"] == [{"aoi_id": "site-c", "why": "no file of aoi/ defines it (removed, or its id "
                                        "changed)", "new_aois_over_it": []}]
    rows = dump_store(store)
    for _ in range(2):  # said once; then quiet, and quick (it took no other path)
        idle = geo_cli(*series.args(store), env=PROFILE)
        assert idle.returncode == 0, idle.stdout + idle.stderr
        assert idle.stdout.startswith("nothing new: 3 AOIs checked in ") and idle.stdout.count("\n") == 1
        assert "shapely" not in imported_modules(idle.stderr)
    assert dump_store(store) == rows
    series.publish(4)
    named = geo_cli(*series.args(store, "--aoi", "site-c"))  # asked for once: re-checked from the store's record
    assert named.returncode == 0 and "  site-c: 1 pair, 0 changes;" in named.stdout, named.stdout + named.stderr
    assert "re-checked again" not in named.stdout and retired(store) == {"site-c": 2}  # no ping-pong with cron's
    scheduled = geo_cli(*series.args(store))
    assert scheduled.returncode == 0 and "site-c" not in scheduled.stdout, scheduled.stdout + scheduled.stderr
    (series.aoi_dir / "site-c.geojson").write_text(kept)  # its file back: taken up again
    back = geo_cli(*series.args(store))
    assert back.returncode == 0 and "  site-c: re-checked again (it was retired: no file of aoi/ defined it)" in (
        back.stdout), back.stdout + back.stderr
    assert retired(store) == {}


def test_an_aoi_renamed_is_retired_under_its_old_id_naming_the_new_one(first_run, geo_cli):
    series, store = first_run
    old = series.aoi_dir / "site-a.geojson"
    (series.aoi_dir / "harbour-a.geojson").write_text(old.read_text().replace('"site-a"', '"harbour-a"'))
    old.unlink()
    seeds = series.seeds_dir / "claims.toml"
    seeds.write_text(seeds.read_text().replace('aoi_ids = ["site-a"]', 'aoi_ids = ["harbour-a"]'))
    result = geo_cli(*series.args(store))
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in aoi_lines(result.stdout) if line.startswith("  site-a:")]
    # a cron line without --all-aois takes it up neither: the way that does is named too
    assert line.endswith("; 'harbour-a' of aoi/, new to the store, covers its place: --aoi harbour-a once, or "
                         "--all-aois in the scheduled command, re-checks it from now on"), line
    assert ("  claim a-build: no longer names site-a: its verdicts there kept in the store, its changes there "
            "no longer linked to it") in result.stdout
    named = geo_cli(*series.args(store, "--aoi", "harbour-a"))
    assert named.returncode == 0 and "  harbour-a: baseline " in named.stdout, named.stdout + named.stderr
    assert "claim a-build on harbour-a: consistent with the claim (first verdict)" in named.stdout


def test_an_aoi_file_missing_while_another_is_unreadable_or_the_folder_gone_is_not_retired(first_run, geo_cli):
    series, store = first_run
    path = series.aoi_dir / "site-c.geojson"
    path.unlink()
    half = series.aoi_dir / "site-x.geojson"
    half.write_text('{"type": "Feature", "properties": {"id": "site-')  # saved half-way: it may be site-c's
    unreadable = geo_cli(*series.args(store))
    assert unreadable.returncode == 4 and "failed site-c:" in unreadable.stdout, unreadable.stdout + unreadable.stderr
    assert "retired" not in unreadable.stdout and retired(store) == {}
    shutil.rmtree(series.aoi_dir)  # a cron line's GEO_ROOT set wrong: no answer about any AOI
    gone = geo_cli(*series.args(store))
    assert gone.returncode == 0 and "nothing new: 4 AOIs checked" in gone.stdout, gone.stdout + gone.stderr
    assert retired(store) == {}


def test_a_claim_deleted_from_the_seeds_is_retired_once_its_verdicts_kept_and_current_again_when_back(
        first_run, geo_cli):
    series, store = first_run
    seeds = series.seeds_dir / "claims.toml"
    kept = seeds.read_text()
    start, end = kept.index('[[claim]]\nid = "a-build"'), kept.index('[[claim]]\nid = "b-build"')
    seeds.write_text(kept[:start] + kept[end:])

    def stored() -> tuple[list[tuple], list[tuple], dict[str, int]]:
        with sqlite3.connect(store) as conn:
            verdicts = list(conn.execute("SELECT kind, verdict FROM verdicts WHERE claim_id = 'a-build' ORDER BY fid"))
            links = list(conn.execute("SELECT change_id FROM changes WHERE claim_ids LIKE '%a-build%'"))
            marks = dict(conn.execute("SELECT claim_id, retired_run FROM claims WHERE retired_run IS NOT NULL"))
        return verdicts, links, marks

    verdicts, links, _ = stored()
    assert ("window", "consistent with the claim") in verdicts and links
    first = geo_cli(*series.args(store))
    assert first.returncode == 0 and first.stdout.startswith("run 2: 0 new pairs"), first.stdout + first.stderr
    assert aoi_lines(first.stdout) == [
        "  claim a-build: retired: in no seeds file (deleted, or its id changed); its verdicts and linked changes on "
        "site-a kept in the store, marked (claims.retired_run = 2)"]
    assert stored() == (verdicts, links, {"a-build": 2})  # kept as they were, and marked
    rows = dump_store(store)
    idle = geo_cli(*series.args(store), env=PROFILE)
    assert idle.returncode == 0 and "nothing new: 4 AOIs checked" in idle.stdout, idle.stdout + idle.stderr
    assert "shapely" not in imported_modules(idle.stderr) and dump_store(store) == rows
    seeds.write_text(kept)
    back = geo_cli(*series.args(store))
    assert back.returncode == 0 and "  claim a-build: current again (back in the seeds)" in back.stdout, back.stdout
    assert stored() == (verdicts, links, {})


def test_a_seeds_file_that_cannot_be_read_retires_no_claim(first_run, geo_cli):
    series, store = first_run
    seeds = series.seeds_dir / "claims.toml"
    seeds.write_text(seeds.read_text() + '\n[[claim]]\nid = "half\n')  # a TOML syntax error: any claim may be in it
    broken = geo_cli(*series.args(store))
    assert "retired" not in broken.stdout and broken.returncode == 4, broken.stdout + broken.stderr


def test_a_claim_moved_to_another_aoi_leaves_the_changes_of_the_first_unlinked_its_verdicts_there_kept(
        first_run, geo_cli):
    """QGIS showed site A's roof under claim a-build, corrected to name site C, and nothing said so."""
    series, store = first_run
    seeds = series.seeds_dir / "claims.toml"
    seeds.write_text(seeds.read_text().replace('aoi_ids = ["site-a"]', 'aoi_ids = ["site-c"]'))

    def links() -> set[tuple[str, str]]:
        with sqlite3.connect(store) as conn:
            return {(a, c) for a, ids in conn.execute("SELECT aoi_id, claim_ids FROM changes") for c in json.loads(ids)}

    assert links() == {("site-a", "a-build")}
    moved = geo_cli(*series.args(store))
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert aoi_lines(moved.stdout)[0] == ("  claim a-build: no longer names site-a: its verdicts there kept in the "
                                          "store, its changes there no longer linked to it")
    assert "  claim a-build on site-c: consistent with the claim (first verdict)" in moved.stdout
    assert links() == {("site-c", "a-build")}
    with sqlite3.connect(store) as conn:
        assert sorted(conn.execute("SELECT DISTINCT aoi_id FROM verdicts WHERE claim_id = 'a-build'")) == [
            ("site-a",), ("site-c",)]
    idle = geo_cli(*series.args(store), env=PROFILE)
    assert idle.returncode == 0 and "nothing new: 4 AOIs checked" in idle.stdout, idle.stdout + idle.stderr
    assert "shapely" not in imported_modules(idle.stderr)


def test_a_rename_taken_up_by_all_aois_names_no_successor_to_take_up(first_run, geo_cli):
    """With --all-aois the run that retires site-a re-checks harbour-a, new over its place, from its baseline:
    its retirement line has nothing more to ask."""
    series, store = first_run
    old = series.aoi_dir / "site-a.geojson"
    (series.aoi_dir / "harbour-a.geojson").write_text(old.read_text().replace('"site-a"', '"harbour-a"'))
    old.unlink()
    seeds = series.seeds_dir / "claims.toml"
    seeds.write_text(seeds.read_text().replace('aoi_ids = ["site-a"]', 'aoi_ids = ["harbour-a"]'))
    result = geo_cli(*series.args(store, "--all-aois"))
    assert result.returncode == 0 and "  harbour-a: baseline " in result.stdout, result.stdout + result.stderr
    [line] = [line for line in aoi_lines(result.stdout) if line.startswith("  site-a:")]
    assert line.endswith("its file back in aoi/ takes it up again"), line


def test_a_claim_naming_a_retired_aoi_is_no_claim_of_an_unknown_aoi(first_run, geo_cli):
    """site-c retired (its file removed), the claims naming it left as they were: each run warned 'claim ... names
    unknown AOI site-c', though the store holds it, retired, and a claim naming site-d too failed site-d at every run
    (exit 4). The store's retired AOIs are known AOIs: site-d is re-checked with the claim, and no run warns."""
    series, store = first_run
    seeds = series.seeds_dir / "claims.toml"
    seeds.write_text(seeds.read_text() + """
[[claim]]
id = "c-build"
claimant = "test"
statement = "Roofs went up on site C in March."
date_stated = 2021-04-20
stance = "assert"
aoi_ids = ["site-c"]
window = { start = 2021-03-05, end = 2021-03-25 }
signatures = ["new_construction"]

[[claim]]
id = "cd-build"
claimant = "test"
statement = "Roofs went up on sites C and D in May."
date_stated = 2021-05-30
stance = "assert"
aoi_ids = ["site-c", "site-d"]
window = { start = 2021-05-10, end = 2021-05-25 }
signatures = ["new_construction"]
""")
    (series.aoi_dir / "site-c.geojson").unlink()
    first = geo_cli(*series.args(store))
    assert first.returncode == 0 and "  site-c: retired: " in first.stdout, first.stdout + first.stderr
    assert "failed" not in first.stdout and first.stderr == "", first.stderr
    series.publish(4)
    later = geo_cli(*series.args(store))
    assert later.returncode == 0 and "  site-d: 1 pair" in later.stdout, later.stdout + later.stderr
    assert "  claim cd-build on site-d: consistent with the claim" in later.stdout, later.stdout
    assert "site-c" not in later.stdout and later.stderr == "", later.stderr
    idle = geo_cli(*series.args(store))
    assert idle.returncode == 0 and idle.stdout.startswith("nothing new: 3 AOIs checked"), idle.stdout + idle.stderr
    assert idle.stderr == ""
