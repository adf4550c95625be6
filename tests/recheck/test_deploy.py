"""The scheduling examples in deploy/ are real: their ``geo recheck`` command lines parse with the real
command, the crontab line is well formed, and systemd accepts the units."""

from __future__ import annotations

import json
import re
import shlex
import sys
import shutil
import subprocess
from pathlib import Path

import pytest

from geo.cli.recheck import recheck_command
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
DATE_LINE = re.compile(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}")  # date -u


def recheck_args(command: str) -> list[str]:
    words = shlex.split(command)
    start = words.index("recheck")
    assert words[start - 1].endswith("/geo"), words
    end = next((i for i, w in enumerate(words) if i > start and w in (">>", ">", "|", "&&")), len(words))
    return words[start + 1:end]


def parse(args: list[str]) -> dict:
    context = recheck_command.make_context("recheck", list(args))  # raises on an unknown or malformed option
    return context.params


def test_crontab_line_runs_a_valid_recheck():
    lines = [line for line in (DEPLOY / "cron" / "geo-recheck.crontab").read_text().splitlines()
             if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    minute, hour = fields[0], fields[1]
    assert minute.isdigit() and all(h.isdigit() for h in hour.split(","))
    params = parse(recheck_args(fields[5]))
    assert params["store"] == Path("/srv/geo/recheck.gpkg") and params["wait_s"] == 600 and params["on_new"]
    assert params["all_aois"] and not params["aoi_refs"]  # an AOI added to aoi/ later is re-checked too


def test_systemd_service_runs_a_valid_recheck():
    service = (DEPLOY / "systemd" / "geo-recheck.service").read_text()
    [exec_start] = [line.split("=", 1)[1] for line in service.splitlines() if line.startswith("ExecStart=")]
    params = parse(recheck_args(exec_start))
    assert params["store"] == Path("/srv/geo/recheck.gpkg") and params["on_new"] == "/srv/geo/bin/notify-analysts"
    assert params["all_aois"] and not params["aoi_refs"]
    # 3 (the store refused: the next run picks the work up) is quiet; 6 (refused for a day) is a failure
    assert [line for line in service.splitlines() if line.startswith("SuccessExitStatus=")] == ["SuccessExitStatus=3"]


def test_systemd_accepts_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    # the example's paths and user do not exist here: point them at ones that do
    service = (DEPLOY / "systemd" / "geo-recheck.service").read_text()
    service = (service.replace("/srv/geo/venv/bin/geo", "/bin/true").replace("User=geo", "User=root")
               .replace("Group=geo", "Group=root").replace("WorkingDirectory=/srv/geo", f"WorkingDirectory={tmp_path}"))
    (tmp_path / "geo-recheck.service").write_text(service)
    shutil.copy(DEPLOY / "systemd" / "geo-recheck.timer", tmp_path)
    proc = subprocess.run([analyze, "verify", str(tmp_path / "geo-recheck.timer"), str(tmp_path / "geo-recheck.service")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    calendar = subprocess.run([analyze, "calendar", "*-*-* 06,18:15:00 UTC"], capture_output=True, text=True, timeout=60)
    assert calendar.returncode == 0 and "OnCalendar=*-*-* 06,18:15:00 UTC" in (DEPLOY / "systemd" / "geo-recheck.timer").read_text()


def _crontab_command() -> str:
    [line] = [line for line in (DEPLOY / "cron" / "geo-recheck.crontab").read_text().splitlines()
              if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    return line.split(None, 5)[5]


def _cron_machine(first_run, tmp_path) -> tuple[str, dict[str, str], Path]:
    """The crontab's command, its environment and /srv/geo, moved into ``tmp_path``: ``./venv/bin/geo`` this checkout
    over the test's catalog, ``mail`` a stand-in that keeps what it is given in ``mailbox.*``."""
    series, store = first_run
    srv = tmp_path / "srv"
    (srv / "venv" / "bin").mkdir(parents=True)
    shutil.copy(store, srv / "recheck.gpkg")
    shutil.copytree(store.with_name("s-outputs"), srv / "recheck-outputs")
    geo = srv / "venv" / "bin" / "geo"  # the installed command, over the test's archive and registry
    geo.write_text(f'#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m geo "$@" --source {series.catalog} '
                   f'--aoi-dir {series.aoi_dir} --seeds-dir {series.seeds_dir}\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mail").write_text('#!/bin/sh\n{ echo "mail $*"; cat; } > "$MAILBOX.$$"\n')
    for script in (geo, bin_dir / "mail"):
        script.chmod(0o755)
    command = _crontab_command().replace("/srv/geo", str(srv))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh", "LANG": "C.UTF-8",
           "MAILBOX": str(tmp_path / "mailbox")}
    return command, env, srv


def test_the_crontab_command_run_by_hand_on_a_fresh_machine(first_run, tmp_path):
    """The crontab's command line as cron runs it (``sh -c``, cron's PATH) in a fresh /srv/geo (no log folder
    yet), the paths moved into a temporary folder, ``./venv/bin/geo`` this checkout over the test's catalog and
    ``mail`` a stand-in that keeps what it is given: new results are logged and mailed, nothing new is not."""
    series, _ = first_run
    command, env, srv = _cron_machine(first_run, tmp_path)
    series.publish(4)
    first = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0 and first.stderr == "" and first.stdout == "", first.stdout + first.stderr  # cron mails nothing
    log = (srv / "log" / "recheck.log").read_text()
    assert DATE_LINE.fullmatch(log.splitlines()[0]), log  # when the run started: the log has no other time
    assert "\nrun 2: 4 new pairs, 2 new changes (2 new_bright_surface)" in log
    [mail] = list(tmp_path.glob("mailbox.*"))
    subject, *body = mail.read_text().splitlines()
    assert subject == ("mail -s geo recheck run 2: 2 new changes (2 new_bright_surface), 1 verdict changed "
                       "analysts@example.org")  # the text's first line: what is new
    # a body to read, not the summary JSON: the counts, each change with its place, the verdict, the file
    assert body[0] == "geo recheck run 2: 2 new changes (2 new_bright_surface), 1 verdict changed"
    changes = [line for line in body if line.startswith("• new_bright_surface in ")]
    assert sorted(line.split()[3] for line in changes) == ["site-b:", "site-d:"]
    place = re.compile(r": \d+ m² at -?\d+\.\d{5}, -?\d+\.\d{5} \(first seen 2021-06-01\)$")
    assert all(place.search(line) for line in changes)
    assert "• claim d-build on site-d: consistent with the claim (first verdict)" in body
    assert body[-1] == f"summary: {srv / 'recheck-outputs' / 'runs' / '000002' / 'summary.json'}"
    assert len(body) == 5 and not any("{" in line for line in body)
    again = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and again.stderr == "" and again.stdout == ""
    logged = (srv / "log" / "recheck.log").read_text()
    date, nothing = logged[len(log):].splitlines()
    assert logged.startswith(log) and DATE_LINE.fullmatch(date) and nothing.startswith("nothing new: 4 AOIs checked")
    assert len(list(tmp_path.glob("mailbox.*"))) == 1  # nothing new: no mail
    # A run that fails (a stored AOI's file redrawn into a bow-tie: exit 4) was logged and nothing more: cron, which
    # ignores exit codes, mailed nobody, however many runs failed. Now its lines escape the log: cron mails them.
    path = series.aoi_dir / "site-a.geojson"
    data = json.loads(path.read_text())
    ring = (data["features"][0] if "features" in data else data)["geometry"]["coordinates"][0]
    ring[1], ring[2] = ring[2], ring[1]
    path.write_text(json.dumps(data))
    failed = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=env, timeout=600)
    assert failed.stderr == "", failed.stderr
    logged_before, logged = logged, (srv / "log" / "recheck.log").read_text()
    assert logged.startswith(logged_before)
    run_lines = logged[len(logged_before):].splitlines()
    assert failed.stdout.splitlines()[-len(run_lines):] == run_lines, failed.stdout  # this run's lines, all mailed
    assert DATE_LINE.fullmatch(run_lines[0]) and any(
        f"failed site-a: {path}: invalid polygon" in line for line in run_lines), run_lines


def test_a_run_that_only_retired_an_aoi_is_mailed_as_such(first_run, tmp_path):
    """A run that retires an AOI is news (the --on-new command runs), but the crontab's mail was titled 'geo re-check:
    new changes' for it, none found; the subject is now the text's first line, saying what is new."""
    series, _ = first_run
    command, env, _srv = _cron_machine(first_run, tmp_path)
    (series.aoi_dir / "site-c.geojson").unlink()
    run = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0 and run.stdout == "" and run.stderr == "", run.stdout + run.stderr
    [mail] = list(tmp_path.glob("mailbox.*"))
    subject, first, *_ = mail.read_text().splitlines()
    assert subject == ("mail -s geo recheck run 2: 0 new changes (none), 0 verdicts changed, 1 AOI retired "
                       "analysts@example.org")
    assert first == subject[len("mail -s "):-len(" analysts@example.org")]


def test_the_scheduled_commands_read_the_aoi_and_seeds_of_their_folder(first_run, tmp_path):
    """Cron's and systemd's geo read aoi/ and seeds/ of the folder they run in (/srv/geo), as the analyst edits
    them there: a geo installed with `pip install .` or from a wheel read the copies packed into it instead
    (README, *Your own claims and AOIs*), so cron judged the claims as packed at install time, not as the
    analyst wrote or corrected them (the AOIs stood, the store keeping them)."""
    series, store = first_run
    srv = tmp_path / "srv"
    (srv / "venv" / "bin").mkdir(parents=True)
    shutil.copy(store, srv / "recheck.gpkg")
    shutil.copytree(series.aoi_dir, srv / "aoi")
    shutil.copytree(series.seeds_dir, srv / "seeds")
    geo = srv / "venv" / "bin" / "geo"  # as installed: not a checkout's, so aoi/ and seeds/ are the packed copies
    geo.write_text(f'#!/bin/sh\nGEO_ROOT="${{GEO_ROOT:-{tmp_path / "packed"}}}" PYTHONPATH={REPO} '
                   f'exec {sys.executable} -m geo "$@" --source {series.catalog}\n')
    geo.chmod(0o755)
    (tmp_path / "packed" / "aoi").mkdir(parents=True)
    (tmp_path / "packed" / "seeds").mkdir()
    command = _crontab_command().replace("/srv/geo", str(srv)).replace(" --on-new ", " --json --on-new ")
    shutil.copytree(store.with_name("s-outputs"), srv / "recheck-outputs")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "mail").write_text("#!/bin/sh\ncat > /dev/null\n")
    (tmp_path / "bin" / "mail").chmod(0o755)
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh", "LANG": "C.UTF-8"}
    series.publish(4)
    run = subprocess.run(["/bin/sh", "-c", command.split(" || ")[0]], capture_output=True, text=True, env=env,
                         timeout=600)
    log = (srv / "log" / "recheck.log").read_text()
    assert run.returncode == 0, log
    summary = json.loads(log[log.index("{"):])
    assert summary["failed_aois"] == [] and summary["n_new_changes"] == 2, log
    # the claim of srv/seeds judged (the packed seeds hold none: cron judged no claim)
    assert [(v["claim_id"], v["verdict"]) for v in summary["verdicts"]] == [("d-build", "consistent with the claim")]
    service = (DEPLOY / "systemd" / "geo-recheck.service").read_text()
    assert "WorkingDirectory=/srv/geo" in service and "Environment=GEO_ROOT=/srv/geo" in service.splitlines()


HOLD_LOCK = """
import sys
from pathlib import Path
from geo.store import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_the_crontab_mails_a_store_refused_to_every_run_for_a_day_and_not_one_refused_once(first_run, tmp_path):
    """A hung re-check holding the store's lock (a QGIS edit left open, the same) refused every cron run with exit 3,
    which the crontab takes quietly: for days, nobody was told. Refused for a day (--blocked-alert), a run exits 6,
    which the crontab mails as any failure."""
    command, env, srv = _cron_machine(first_run, tmp_path)
    command = command.replace(" --wait 600 ", " --wait 0.5 ")  # the holder never lets go: no need to wait 10 min
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(srv / "recheck.gpkg")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        quiet = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=env, timeout=600)
        assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == "", quiet.stdout + quiet.stderr
        assert "\nLocked: " in (srv / "log" / "recheck.log").read_text()
        note = json.loads((srv / "recheck.gpkg.blocked").read_text())
        assert note["runs"] == 1 and note["holder"]["pid"] == holder.pid
        note["since"] = "2026-01-01T06:15:00Z"  # the first refused run, long ago
        (srv / "recheck.gpkg.blocked").write_text(json.dumps(note))
        loud = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=env, timeout=600)
        mailed = loud.stdout.splitlines()  # what cron mails
        assert loud.returncode == 0 and loud.stderr == "" and mailed, loud.stdout + loud.stderr
        assert mailed[-1].startswith(f"Blocked: {srv / 'recheck.gpkg'}: every re-check for ") and (
            " days was refused the store (2 runs in a row since 2026-01-01 06:15 UTC, nothing recorded; "
            f"--blocked-alert 24 h): another re-check holds its lock, pid {holder.pid} on ") in mailed[-1], mailed
        assert f"(kill {holder.pid})" in mailed[-1]
    finally:
        holder.communicate("\n", timeout=60)
    got = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=env, timeout=600)
    assert got.returncode == 0 and got.stdout == "" and got.stderr == "", got.stdout + got.stderr
    assert not (srv / "recheck.gpkg.blocked").exists()
