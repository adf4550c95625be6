"""What a scheduled re-check leaves in cron's log: a run that succeeds writes nothing on stderr (per-pair notes
such as "local co-registration not used" are in the pair's manifest, and shown with -v), and each failed AOI is
said once, on the run's `failed` line (it was also a `warning:` line on stderr)."""

from __future__ import annotations

import json
import sqlite3

from tests.recheck.conftest import build_series
from tests.recheck.test_quick import BOWTIE, write_feature


def test_a_run_with_new_pairs_is_quiet_on_stderr_and_its_notes_are_kept(tmp_path, geo_cli):
    series = build_series(tmp_path / "project")
    series.publish(3)
    first = ("--aoi", "site-a", "--aoi", "site-b", "--aoi", "site-c", "--since", "2021-03-01")
    quiet = geo_cli(*series.args(tmp_path / "s.gpkg", *first))
    assert quiet.returncode == 0 and quiet.stdout.startswith("run 1: 6 new pairs"), quiet.stdout + quiet.stderr
    assert quiet.stderr == "", quiet.stderr
    with sqlite3.connect(tmp_path / "s.gpkg") as db:
        notes = [w for (m,) in db.execute("SELECT manifest FROM pairs") for w in json.loads(m)["warnings"]]
    assert len(notes) == 3 and all(n.startswith("local co-registration not used") for n in notes), notes
    told = geo_cli("-v", *series.args(tmp_path / "told.gpkg", *first))  # asked for: shown, at info level
    assert told.returncode == 0 and "warning:" not in told.stderr, told.stderr
    assert sorted(set(notes)) == sorted({line.removeprefix("INFO geo.align.stack: ")
                                         for line in told.stderr.splitlines() if "co-registration" in line})


def test_a_failed_aoi_is_said_once(first_run, geo_cli):
    series, store = first_run
    path = series.aoi_dir / "site-a.geojson"
    write_feature(path, "site-a", BOWTIE)
    series.publish(4)
    broken = geo_cli(*series.args(store))
    assert broken.returncode == 4, broken.stdout + broken.stderr
    assert broken.stdout.count("invalid polygon") == 1 and f"failed site-a: {path}: invalid polygon" in broken.stdout
    assert broken.stderr == "", broken.stderr
