"""``geo recheck`` as cron runs it: exit codes, messages, --on-new, a locked store."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from geo.errors import AOIError, DateError, GeoError, SceneError
from geo.recheck.run import recheck
from tests.recheck.conftest import SCENE_IDS, request


def _store_files(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("extra, needles", [
    (("--aoi", "no-such-site"), ("unknown AOI id 'no-such-site'", "site-a")),
    (("--aoi", "site-a", "--since", "2021-13-01"), ("--since '2021-13-01': not a valid date (month must be in 1..12)",)),
    ((), ("the store has no AOIs yet", "--aoi")),
])
def test_bad_input_exit_1_names_it_and_creates_nothing(series, tmp_path, geo_cli, extra, needles):
    store = tmp_path / "store" / "s.gpkg"
    result = geo_cli(*series.args(store, *extra))
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("store", ["", "."])
def test_a_store_path_that_names_no_file_is_bad_input(series, tmp_path, geo_cli, store):
    """``--store ""`` (a cron line whose variable was empty) or ``.``: exit 1 naming it, not an internal error."""
    args = series.args(tmp_path / "placeholder", "--aoi", "site-a", "--since", "2021-03-01")
    args[args.index("--store") + 1] = store
    result = geo_cli(*args, cwd=tmp_path)
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stderr.strip() == ("Error: --store '.': names a folder, not the store's file; give a file such as "
                                     "recheck.gpkg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


@pytest.mark.parametrize("overrides, error, message", [
    (dict(aoi_refs=("missing.geojson",)), AOIError, "missing.geojson: AOI file does not exist"),
    (dict(aoi_refs=("site-c",), since=None), DateError, "'site-c' has no claims naming it and no --since"),
    (dict(since=date(2999, 1, 1)), DateError, "--since 2999-01-01 is in the future"),
    (dict(source="/no/such/catalog.json"), SceneError, "'/no/such/catalog.json' is neither"),
])
def test_more_bad_input_creates_nothing(series, tmp_path, overrides, error, message):
    store = tmp_path / "store" / "s.gpkg"
    with pytest.raises(error, match=re.escape(message)):
        recheck(request(series, store, **overrides))
    assert issubclass(error, GeoError)  # the CLI's exit 1
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("content, needle", [
    ("just some notes\n" * 50, "not a results store (not a readable SQLite/GeoPackage file"),
    (None, "not a results store (no store_meta table)"),
])
def test_a_file_that_is_not_a_store_is_refused_untouched(series, tmp_path, geo_cli, content, needle):
    store = tmp_path / "notes.gpkg"
    if content is None:
        conn = sqlite3.connect(store)
        conn.execute("CREATE TABLE mine (x)")
        conn.commit()
        conn.close()
    else:
        store.write_text(content)
    before = store.read_bytes()
    result = geo_cli(*series.args(store, "--aoi", "site-a", "--since", "2021-03-01"))
    assert result.returncode == 1 and needle in result.stderr and "notes.gpkg" in result.stderr
    assert store.read_bytes() == before
    assert _store_files(tmp_path) == ["notes.gpkg", "project"]


def test_on_new_gets_the_summary_and_a_failed_command_is_retried(first_run, tmp_path, geo_cli):
    series, store = first_run
    series.publish(4)
    failing = geo_cli(*series.args(store, "--on-new", "cat > /dev/null; exit 7"))
    assert failing.returncode == 5, (failing.stdout, failing.stderr)
    assert "--on-new command failed for run 2;" in failing.stderr
    with sqlite3.connect(store) as conn:  # the results are committed all the same
        assert conn.execute("SELECT n_new_changes, notified_at FROM runs WHERE run_id = 2").fetchone() == (2, None)
    hook = tmp_path / "hook"
    command = f'cat > {hook}.json; echo "$GEO_RECHECK_SUMMARY $GEO_RECHECK_RUN" > {hook}.env'
    retry = geo_cli(*series.args(store, "--on-new", command))
    assert retry.returncode == 0, retry.stderr
    # said, as --notify's late alerts are; and the store did change: the delivery is recorded in it
    assert "store unchanged but for run 2's --on-new delivery recorded" in retry.stdout, retry.stdout
    assert "--on-new: ran the command for earlier run 2 (late: it had failed)" in retry.stderr, retry.stderr
    summary_path = store.with_name("s-outputs") / "runs" / "000002" / "summary.json"
    delivered = json.loads(hook.with_suffix(".json").read_text())
    assert delivered == json.loads(summary_path.read_text())
    assert delivered["n_new_changes"] == 2 and delivered["has_new"]
    assert hook.with_suffix(".env").read_text().split() == [str(summary_path), "2"]
    # delivered once: the next run has nothing to send
    hook.with_suffix(".json").unlink()
    again = geo_cli(*series.args(store, "--on-new", command))
    assert again.returncode == 0 and again.stderr == "" and "store unchanged\n" in again.stdout, again.stdout
    assert not hook.with_suffix(".json").exists()


def test_on_new_is_not_run_when_nothing_is_new(first_run, tmp_path, geo_cli):
    series, store = first_run
    flag = tmp_path / "ran"
    result = geo_cli(*series.args(store, "--on-new", f"touch {flag}", "--json"))
    assert result.returncode == 0
    summary = json.loads(result.stdout)
    assert summary["run_id"] is None and not summary["has_new"] and len(summary["aois"]) == 4
    assert not flag.exists()



def test_an_on_new_command_that_hangs_is_stopped_with_what_it_started(first_run, tmp_path, geo_cli):
    # A hook whose mail or curl hangs: only its shell was killed at the timeout. Its children ran on, holding cron's
    # output pipe open (the cron job, here run_geo's capture, ended only when they did) and delivering after the
    # run had counted the hook as failed (to be run again next time: a second mail).
    series, store = first_run
    series.publish(4)
    late, pid = tmp_path / "late", tmp_path / "pid"
    command = f"sh -c 'echo $$ > {pid}; sleep 30; touch {late}'; true"  # the shell waits on a child that hangs
    started = time.monotonic()
    hung = geo_cli(*series.args(store, "--on-new", command, "--on-new-timeout", "1"))
    took = time.monotonic() - started
    assert hung.returncode == 5, hung.stderr
    assert "--on-new command timed out after 1 s (stopped, with the processes it started)" in hung.stderr
    assert "--on-new command failed for run 2; retried next run" in hung.stderr
    assert took < 20, took  # not the 30 s of the hung child
    child = int(pid.read_text())
    assert not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text()
    time.sleep(0.5)
    assert not late.exists()  # it never delivered behind the run's back
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT notified_at FROM runs WHERE run_id = 2").fetchone() == (None,)

HOLD = """
import sys
from pathlib import Path
from geo.store import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_locked_store_exit_3_or_wait(first_run, geo_cli):
    series, store = first_run
    series.publish(4)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        refused = geo_cli(*series.args(store))
        assert refused.returncode == 3, (refused.stdout, refused.stderr)
        assert "Locked:" in refused.stderr and f"pid {holder.pid}" in refused.stderr and "s.gpkg" in refused.stderr
        assert "Traceback" not in refused.stderr
        waiter = subprocess.Popen([sys.executable, "-m", "geo", "-v", *series.args(store, "--wait", "300")],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in waiter.stderr:  # it reached the lock and is waiting for it
            if "is locked by" in line:
                assert f"pid {holder.pid}" in line
                break
        assert waiter.poll() is None
        with sqlite3.connect(store) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        holder.stdin.write("\n")
        holder.stdin.flush()
        out, _ = waiter.communicate(timeout=300)
        assert waiter.returncode == 0 and "run 2:" in out
    finally:
        holder.kill()
        holder.wait()
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count(*) FROM pairs WHERE after_scene = ?", (SCENE_IDS[3],)).fetchone() == (4,)


def test_a_stored_aoi_redrawn_invalid_fails_alone_at_a_scheduled_run(first_run, geo_cli):
    """Cron's run (no --aoi: every AOI of the store) with one AOI file redrawn as a bow-tie: that AOI is the
    run's failed AOI (exit 4) and the others are re-checked; named with --aoi it is bad input (exit 1)."""
    series, store = first_run
    series.publish(4)
    path = series.aoi_dir / "site-a.geojson"
    drawn = path.read_text()
    data = json.loads(drawn)
    geometry = data["features"][0]["geometry"] if "features" in data else data["geometry"]
    ring = geometry["coordinates"][0]
    geometry["coordinates"][0] = [ring[0], ring[2], ring[1], ring[3], ring[0]]  # the corners crossed
    path.write_text(json.dumps(data))
    named = geo_cli(*series.args(store, "--aoi", "site-a"))
    assert named.returncode == 1 and "site-a.geojson: invalid polygon" in named.stderr, named.stderr
    mail = store.with_name("mail.txt")
    scheduled = geo_cli(*series.args(store, "--json", "--on-new", f'echo "$GEO_RECHECK_TEXT" > {mail}'))
    assert scheduled.returncode == 4, (scheduled.returncode, scheduled.stderr[-2000:])
    # the mail of the crontab says which AOI failed, beside what the others found
    text = mail.read_text().splitlines()
    assert text[0] == "geo recheck run 2: 2 new changes (2 new_bright_surface), 1 verdict changed"
    assert f"• failed site-a: {path}: invalid polygon (Self-intersection" in "\n".join(text)
    assert "Traceback" not in scheduled.stderr
    summary = json.loads(scheduled.stdout)
    [failure] = summary["failed_aois"]
    assert failure["aoi_id"] == "site-a" and "site-a.geojson: invalid polygon (Self-intersection" in failure["error"]
    assert summary["run_id"] == 2 and summary["n_new_changes"] == 2
    assert sorted(a["aoi_id"] for a in summary["aois"]) == ["site-b", "site-c", "site-d"]
    with sqlite3.connect(store) as conn:
        heads = dict(conn.execute("SELECT aoi_id, max(after_scene) FROM pairs GROUP BY aoi_id"))
    assert heads == {"site-a": SCENE_IDS[2], "site-b": SCENE_IDS[3], "site-c": SCENE_IDS[3], "site-d": SCENE_IDS[3]}
    path.write_text(drawn)  # drawn again: site-a catches up at the next run
    fixed = geo_cli(*series.args(store, "--json"))
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert [a["aoi_id"] for a in json.loads(fixed.stdout)["aois"] if a["pairs"]] == ["site-a"]
