"""Output folders under crashes and hostile paths (issue 14, items 8-10), through the real command.

A run killed (SIGKILL) at any step of the switch leaves the old run or the new one, never a mix, and readers
find a complete run; the staging folders of killed runs are removed by the next run into the same --out;
output paths the file system cannot hold are refused before any work, naming --out; folders that are not
runs are refused untouched, and files a user added to a run folder survive a rerun.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SyntheticProject, run_geo

KILL_AT = Path(__file__).with_name("kill_at.py")
MARKER = ".geo-complete.json"  # written last into a run folder (geo.atomic.MARKER)


def run_args(project: SyntheticProject, out: Path, *extra: str, source: Path | None = None) -> list[str]:
    return ["run", "--aoi", "test-site", "--source", str(source or project.catalog), "--out", str(out),
            "--before", "2020-03-01", "--after", "2020-08-01", "--aoi-dir", str(project.aoi_dir),
            "--seeds-dir", str(project.seeds_dir), *extra]


def killed_run(out: Path, at: int, log: Path, args: list[str], *options: str) -> subprocess.CompletedProcess:
    """``geo ARGS`` killed by SIGKILL at step ``at`` of its output switch (tests/outputs/kill_at.py)."""
    env = {k: v for k, v in os.environ.items() if k != "GEO_DEBUG"}
    return subprocess.run([sys.executable, str(KILL_AT), str(out), str(at), str(log), *options, "--", *args],
                          capture_output=True, text=True, env=env, timeout=600, check=False)


def files(folder: Path) -> dict[str, tuple[int, str]] | None:
    """Name -> (inode, sha256) of the folder's files; None when there is no folder."""
    if not folder.exists():
        return None
    return {p.name: (p.stat().st_ino, hashlib.sha256(p.read_bytes()).hexdigest()) for p in folder.iterdir()
            if p.is_file()}


def claim_ids(folder: Path) -> list[str]:
    return [c["claim_id"] for c in json.loads((folder / "claims.json").read_text())]


@pytest.mark.parametrize("exchange", [True, False], ids=["rename-exchange", "two-renames"])
def test_a_kill_at_any_step_of_the_switch_leaves_one_whole_run(synthetic_project, tmp_path, exchange):
    from geo.outputs.run_data import load_run

    parent = tmp_path / "runs"
    parent.mkdir()
    out = parent / "out"
    assert run_geo(*run_args(synthetic_project, out)).returncode == 0
    assert claim_ids(out) == ["test-construction", "test-denial", "test-later"]
    rerun = run_args(synthetic_project, out, "--claim", "test-construction")  # another run: other claims.json
    options = () if exchange else ("--no-exchange",)
    count_log = tmp_path / "count.log"
    assert killed_run(out, 0, count_log, rerun, *options).returncode == 0
    n_steps = len(count_log.read_text().splitlines())
    outcomes, leftovers, gaps = [], 0, 0
    for at in range(1, n_steps + 1):
        before = files(out)
        killed = killed_run(out, at, tmp_path / f"kill-{at}.log", rerun, *options)
        assert killed.returncode == -signal.SIGKILL, (at, killed.returncode, killed.stderr)
        after = files(out)
        if after is None:  # between the fallback's two renames: the next reader (or run) puts the old run back
            gaps += 1
            report = run_geo("report", str(out))
            assert report.returncode == 0, report.stderr
            after = files(out)
            assert {k: v for k, v in after.items() if k != "report.html"} == \
                   {k: v for k, v in before.items() if k != "report.html"}, f"killed at step {at}"
            outcomes.append("old")
        elif after == before:
            outcomes.append("old")
        else:  # the new run, whole: none of its files is one of the old run's (an old file keeps its inode)
            old = sorted(name for name, (inode, _) in after.items() if name in before and before[name][0] == inode)
            assert not old, f"killed at step {at}: {old} of the old run beside new files"
            listed = json.loads((out / MARKER).read_text())["files"]
            assert sorted(listed) == sorted(n for n in after if not n.startswith("."))
            assert claim_ids(out) == ["test-construction"]
            outcomes.append("new")
        assert load_run(out).claims  # a reader finds a complete run
        leftovers += any(p.name != "out" for p in parent.iterdir())
    assert "old" in outcomes and "new" in outcomes, outcomes
    assert gaps == (0 if exchange else 1), outcomes  # renameat2 swaps in one step; the fallback has one gap
    assert leftovers, "no kill left a staging or old folder: the cleanup below is not tested"
    final = run_geo(*rerun)
    assert final.returncode == 0, final.stderr
    assert [p.name for p in parent.iterdir()] == ["out"]  # every killed run's folders removed
    assert claim_ids(out) == ["test-construction"]


def test_the_staging_folder_of_a_killed_run_is_removed_by_the_next(synthetic_project, tmp_path):
    parent = tmp_path / "runs"
    parent.mkdir()
    out = parent / "out"
    args = run_args(synthetic_project, out)
    killed = killed_run(out, 5, tmp_path / "kill.log", args, "--in-staging")  # while writing its files
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (stale,) = parent.iterdir()
    assert stale.name.startswith(".out.") and stale.name.endswith(".partial") and any(stale.iterdir())
    alive = parent / f".out.{os.getpid()}-0123abcd.partial"  # a run still writing (this process): left alone
    alive.mkdir()
    (alive / "changes.geojson").write_text("{}")
    rerun = run_geo(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in parent.iterdir()) == sorted(["out", alive.name])
    assert (alive / "changes.geojson").read_text() == "{}"
    assert (out / MARKER).is_file() and len(claim_ids(out)) == 3


@pytest.mark.parametrize("out_name", ["o" * 240, "o" * 300, "/".join(["d" * 200] * 21)],
                         ids=["name-240", "name-300", "path-4200"])
def test_an_output_path_the_file_system_cannot_hold_is_refused_before_any_work(synthetic_project, tmp_path,
                                                                               out_name):
    out = tmp_path / "work" / out_name
    out.parents[len(Path(out_name).parts) - 1].mkdir()
    for source in (None, tmp_path / "no-catalog.json"):  # a missing source: the path is checked first
        result = run_geo(*run_args(synthetic_project, out, source=source))
        assert result.returncode == 1, (result.returncode, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "--out" in result.stderr and ("too long" in result.stderr), result.stderr
        assert "no-catalog" not in result.stderr
        assert list((tmp_path / "work").iterdir()) == []  # nothing created


def test_a_special_place_that_takes_no_new_folder_is_refused_before_any_work(synthetic_project, tmp_path):
    """/proc looks writable to root (os.access says yes) yet makes no folder: refused by trying, naming --out."""
    for source in (None, tmp_path / "no-catalog.json"):  # a missing source: the path is checked first
        result = run_geo(*run_args(synthetic_project, Path("/proc/geo-out"), source=source))
        assert result.returncode == 1, (result.returncode, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
        assert result.stderr.strip() == ("Error: --out /proc/geo-out: cannot write there (/proc takes no new "
                                         "file: No such file or directory)"), result.stderr
    assert not [p for p in Path("/proc").iterdir() if "geo" in p.name]


@pytest.mark.parametrize("command, length", [("demo", 240), ("vessels", 240), ("report", 300), ("recheck", 300)])
def test_other_commands_check_their_output_path_first(synthetic_project, tmp_path, command, length):
    """240 bytes are too long for a folder a run stages beside it, not for a re-check's folder (files are
    added to it) or a report (a file): those take 300."""
    long = tmp_path / "work" / ("o" * length)
    (tmp_path / "work").mkdir()
    project = ["--aoi-dir", str(synthetic_project.aoi_dir), "--seeds-dir", str(synthetic_project.seeds_dir)]
    args = {
        "demo": ["demo", "--out", str(long)],
        "vessels": ["vessels", "--aoi", "test-site", "--from", "2020-01-01", "--to", "2020-12-31", "--source",
                    str(synthetic_project.catalog), "--out", str(long), *project],
        "report": ["report", str(tmp_path / "no-such-run"), "--out", f"{long}.html"],
        "recheck": ["recheck", "--store", str(tmp_path / "work" / "s.gpkg"), "--aoi", "test-site", "--source",
                    str(synthetic_project.catalog), "--out", str(long), *project],
    }[command]
    result = run_geo(*args)
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "--out" in result.stderr and "too long" in result.stderr, result.stderr
    assert list((tmp_path / "work").iterdir()) == []


def test_a_folder_that_is_not_a_run_is_refused_untouched(synthetic_project, tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.txt").write_text("precious")
    result = run_geo(*run_args(synthetic_project, out, source=tmp_path / "no-catalog.json"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "--out" in result.stderr and "chapter1.txt" in result.stderr, result.stderr
    assert [p.name for p in out.iterdir()] == ["chapter1.txt"] and (out / "chapter1.txt").read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["thesis"]


def test_a_rerun_keeps_the_files_a_user_added_and_replaces_the_runs_own(synthetic_project, tmp_path):
    out = tmp_path / "out"
    assert run_geo(*run_args(synthetic_project, out)).returncode == 0
    first_report = files(out)["report.html"]
    (out / "notes.txt").write_text("checked by hand")
    (out / "mine").mkdir()
    (out / "mine" / "sketch.geojson").write_text("{}")
    (out / "changes.gpkg-wal").write_bytes(b"QGIS left the old GeoPackage's journal")  # belongs to the old run
    result = run_geo(*run_args(synthetic_project, out, "--claim", "test-construction"))
    assert result.returncode == 0, result.stderr
    assert (out / "notes.txt").read_text() == "checked by hand"
    assert (out / "mine" / "sketch.geojson").read_text() == "{}"
    assert not (out / "changes.gpkg-wal").exists()
    assert files(out)["report.html"] != first_report and claim_ids(out) == ["test-construction"]
    listed = json.loads((out / MARKER).read_text())["files"]
    assert "notes.txt" not in listed and "mine" not in listed and {"report.html", "manifest.json"} <= set(listed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_geo_report_refuses_a_folder_without_the_completion_marker(synthetic_output, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(synthetic_output, folder)
    (folder / "report.html").unlink()
    (folder / MARKER).unlink()
    result = run_geo("report", str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert MARKER in result.stderr and "not a complete run folder" in result.stderr, result.stderr
    assert not (folder / "report.html").exists()


def test_two_reports_of_one_run_written_at_once_both_land_whole(monkeypatch, tmp_path):
    """Two analysts rebuilding one run's report at once (``geo report RUN``, QGIS's *Rebuild report*): both wrote
    through ``.report.tmp.html``, so the second removed and replaced the first's half-written file, which the first
    then renamed into place (a truncated report), and the second's rename failed (an internal error)."""
    from geo.outputs import report

    path = tmp_path / "report.html"
    first, second = "<html>" + "a" * 200_000 + "</html>", "<html>" + "b" * 200_000 + "</html>"
    texts = iter([first, second])
    monkeypatch.setattr(report, "render_report", lambda runs, **kwargs: next(texts))
    real_write = Path.write_text

    def slow_write(self: Path, data: str, *args, **kwargs) -> int:
        if data != first:
            return real_write(self, data, *args, **kwargs)
        with self.open("w", encoding="utf-8") as handle:  # the first is half-way through its file ...
            handle.write(data[:100_000])
            report.write_report(path, [])  # ... when the second report is written whole
            handle.write(data[100_000:])
        return len(data)

    monkeypatch.setattr(Path, "write_text", slow_write)
    report.write_report(path, [])
    assert path.read_text(encoding="utf-8") in (first, second)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
