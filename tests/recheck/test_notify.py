"""``geo recheck --notify URL`` against a loopback webhook receiver: what arrives (new changes with
centroids and types, changed verdicts, files, Slack-compatible text), retries with backoff, and a receiver
that is down — the re-check is recorded and exits 0 all the same, with a warning."""

from __future__ import annotations

import json
import re
import socket
import sqlite3

import pytest
from shapely.geometry import Point

from tests.archive_server import ArchiveServer
from tests.conftest import REPO
from tests.recheck.conftest import PLANTS, rect_lonlat

SECRET = "/services/T000/B000/s3cr3t-token"


@pytest.fixture
def receiver():
    """The loopback server as a Slack-like incoming webhook at SECRET (200 "ok"), faults injectable."""
    server = ArchiveServer(webhooks={SECRET}).start()
    yield server
    server.stop()


def _posts(server: ArchiveServer) -> list:
    return [r for r in server.log if r.method == "POST"]


def down_url() -> str:
    """A loopback URL nobody listens on (a port bound, then closed): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _run_count(store) -> int:
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0]


def test_an_alert_with_the_new_changes_and_changed_verdicts_arrives(first_run, receiver, geo_cli):
    series, store = first_run
    series.publish(4)  # the June scene: roofs on site B and site D
    result = geo_cli(*series.args(store, "--notify", receiver.url + SECRET, "--json"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [(r.path, r.status) for r in _posts(receiver)] == [(SECRET, 200)]  # one POST, to the URL given
    body = json.loads(_posts(receiver)[0].received)
    assert body["run_id"] == summary["run_id"] == 2
    changes = body["new_changes"]
    assert len(changes) == body["n_new_changes"] == summary["n_new_changes"] == 2
    # each centroid lies on a roof planted at that date, in its AOI
    planted = {aoi: [rect_lonlat(r) for r in rects] for aoi, rects in PLANTS[3].items()}
    for change in changes:
        at = Point(change["centroid"]["lon"], change["centroid"]["lat"])
        assert any(roof.contains(at) for roof in planted[change["aoi_id"]]), change
        assert change["after_scene"] == "S2A_SYN_20210601"
    assert sorted(c["aoi_id"] for c in changes) == ["site-b", "site-d"]
    types = {}
    for change in changes:
        types[change["change_type"]] = types.get(change["change_type"], 0) + 1
    assert body["new_changes_by_type"] == types == summary["new_changes_by_type"]
    changed = [(v["claim_id"], v["verdict"], v["previous_verdict"]) for v in summary["verdicts"] if v["changed"]]
    assert changed and [(v["claim_id"], v["verdict"], v["previous_verdict"]) for v in body["verdicts_changed"]] == changed
    assert changed == [("d-build", "consistent with the claim", None)]  # its first verdict: the window is covered
    # links to the run's files: absolute paths on this machine, the summary as the run wrote it
    assert json.loads(open(body["files"]["summary"]).read()) == summary
    assert body["file_uris"]["changes"].startswith("file:///") and body["files"]["changes"].endswith("changes.geojson")
    # Slack-compatible text: plain lines, the counts, each change with its place, each changed verdict
    text = body["text"]
    assert text.startswith("geo recheck run 2: 2 new changes")
    assert all(f"{c['centroid']['lat']:.5f}, {c['centroid']['lon']:.5f}" in text for c in changes)
    assert "claim d-build on site-d: consistent with the claim (first verdict)" in text
    assert "<" not in text.replace("&lt;", "")
    # every key of the body, of a new change and of a changed verdict is named in the README's paragraph on it
    # (finished_at and algorithm_version were not, nor a change's before_scene / after_scene)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("**Alerts to a webhook"):readme.index("**The store as a STAC Collection")]
    named = set(re.findall(r"`([a-z0-9_]+)`", paragraph))
    keys = set(body) | {k for c in changes for k in c} | {k for v in body["verdicts_changed"] for k in v}
    assert keys - named == set()


def test_a_failing_receiver_is_retried_with_backoff(first_run, receiver, geo_cli):
    series, store = first_run
    series.publish(4)
    receiver.inject("status", match=SECRET, methods=("POST",), status=503, times=2)
    result = geo_cli(*series.args(store, "--notify", receiver.url + SECRET))
    assert result.returncode == 0, result.stderr
    assert [r.status for r in _posts(receiver)] == [503, 503, 200]
    assert json.loads(_posts(receiver)[2].received)["run_id"] == 2
    assert "not delivered" not in result.stderr


def test_a_receiver_that_is_down_warns_and_the_recheck_stands(first_run, geo_cli):
    series, store = first_run
    series.publish(4)
    url = down_url() + SECRET
    result = geo_cli(*series.args(store, "--notify", url, "--notify-retries", "2", "--json"))
    assert result.returncode == 0, result.stderr
    assert "--notify: run 2 not delivered" in result.stderr and "ConnectionError after 3 attempts" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout  # the token in the URL's path is never shown
    summary = json.loads(result.stdout)
    assert summary["run_id"] == 2 and summary["n_new_changes"] == 2
    assert _run_count(store) == 2  # committed
    assert (store.with_name("s-outputs") / "runs" / "000002" / "changes.geojson").is_file()


def test_a_receiver_answering_errors_to_the_end_warns(first_run, receiver, geo_cli):
    series, store = first_run
    series.publish(4)
    receiver.inject("status", match=SECRET, methods=("POST",), status=500, times=-1)
    result = geo_cli(*series.args(store, "--notify", receiver.url + SECRET, "--notify-retries", "1"))
    assert result.returncode == 0, result.stderr
    assert [r.status for r in _posts(receiver)] == [500, 500]
    assert "not delivered" in result.stderr and _run_count(store) == 2


def test_nothing_new_sends_nothing(first_run, receiver, geo_cli):
    series, store = first_run
    result = geo_cli(*series.args(store, "--notify", receiver.url + SECRET))
    assert result.returncode == 0 and "nothing new" in result.stdout
    assert _posts(receiver) == []


@pytest.mark.parametrize("url", ["hooks.example.org/T0", "ftp://example.org/x", "https:///nohost"])
def test_a_bad_url_is_refused_before_anything_is_created(series, tmp_path, geo_cli, url):
    store = tmp_path / "new.gpkg"
    result = geo_cli(*series.args(store, "--aoi", "site-a", "--since", "2021-03-01", "--notify", url))
    assert result.returncode == 1
    assert "--notify" in result.stderr and "not an http(s) URL" in result.stderr and "Traceback" not in result.stderr
    assert not store.exists() and not store.with_name("new-outputs").exists()


def _pending(store) -> list[int]:
    with sqlite3.connect(store) as conn:
        return [r[0] for r in conn.execute("SELECT run_id FROM runs WHERE alert_pending ORDER BY run_id")]


def test_an_alert_not_delivered_is_sent_at_the_next_recheck_and_only_once(first_run, receiver, geo_cli):
    series, store = first_run
    series.publish(4)
    missed = geo_cli(*series.args(store, "--notify", down_url() + SECRET, "--notify-retries", "0"))
    assert missed.returncode == 0 and "--notify: run 2 not delivered" in missed.stderr
    assert "sent again at the next re-check" in missed.stderr
    assert _pending(store) == [2]
    # The next re-check finds nothing new, the webhook is back: run 2's alert arrives, marked late.
    later = geo_cli(*series.args(store, "--notify", receiver.url + SECRET))
    assert later.returncode == 0 and "nothing new" in later.stdout, later.stderr
    assert "store unchanged but for run 2's --notify delivery recorded" in later.stdout, later.stdout  # it is cleared
    assert [(r.path, r.status) for r in _posts(receiver)] == [(SECRET, 200)]
    body = json.loads(_posts(receiver)[0].received)
    assert (body["run_id"], body["late"], body["n_new_changes"]) == (2, True, 2)
    assert sorted(c["aoi_id"] for c in body["new_changes"]) == ["site-b", "site-d"]
    assert body["text"].startswith("(late: not delivered when the run was recorded)\ngeo recheck run 2: 2 new changes")
    assert "delivered the alert of earlier run 2 (late)" in later.stderr
    assert _pending(store) == []
    again = geo_cli(*series.args(store, "--notify", receiver.url + SECRET))
    assert again.returncode == 0 and len(_posts(receiver)) == 1  # delivered once: not sent again


def test_a_run_without_notify_leaves_no_alert_pending(first_run, receiver, geo_cli):
    series, store = first_run
    series.publish(4)
    result = geo_cli(*series.args(store))
    assert result.returncode == 0 and _pending(store) == []
    later = geo_cli(*series.args(store, "--notify", receiver.url + SECRET))
    assert later.returncode == 0 and _posts(receiver) == []  # nobody asked for run 2's alert


def test_a_pending_alert_refused_again_stays_pending_until_the_webhook_takes_it(first_run, receiver, geo_cli):
    series, store = first_run
    down = down_url() + SECRET
    series.publish(4)
    assert geo_cli(*series.args(store, "--notify", down, "--notify-retries", "0")).returncode == 0
    assert _pending(store) == [2]
    # the webhook answers an error: the alert stays pending, tried once more at the next re-check
    receiver.inject("status", match=SECRET, methods=("POST",), status=500, times=1)
    failing = geo_cli(*series.args(store, "--notify", receiver.url + SECRET, "--notify-retries", "0"))
    assert failing.returncode == 0 and [r.status for r in _posts(receiver)] == [500]
    assert _pending(store) == [2]
    healthy = geo_cli(*series.args(store, "--notify", receiver.url + SECRET))
    assert healthy.returncode == 0 and [r.status for r in _posts(receiver)] == [500, 200]
    assert json.loads(_posts(receiver)[1].received)["run_id"] == 2 and _pending(store) == []
