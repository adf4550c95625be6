"""Archives whose answers are broken one item at a time, driven through the CLI against loopback archives: an
item that is no valid STAC (null datetime without start/end), one missing a band, one whose band href cannot
be fetched from the archive (relative, or a local path). One bad item costs its own scene, named with why,
never the whole search; a job that needs it fails naming it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import archive_data
from tests.archive_data import S2Spec, utc
from tests.archive_server import ArchiveServer

BEFORE, BROKEN, LATER = "S2A_T30TXT_20151216_B", "S2A_T30TXT_20170701_X", "S2A_T30TXT_20170704_C"
SEARCH = ("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2015-12-01", "--to", "2017-12-31", "--json")


def broken_archive(folder: Path, breaks: Callable[[dict[str, Any]], None]) -> ArchiveServer:
    """Three clear scenes over Nantes; the middle one (``BROKEN``) is handed to ``breaks``."""
    server = ArchiveServer(page_size=2).start()
    archive_data.s2_item(server, folder, S2Spec(BEFORE, utc(2015, 12, 16), 94, "2015"))
    breaks(archive_data.s2_item(server, folder, S2Spec(BROKEN, utc(2017, 7, 1), 94, "2017")))
    archive_data.s2_item(server, folder, S2Spec(LATER, utc(2017, 7, 4), 94, "2017"))
    return server


def _timeless(item: dict[str, Any]) -> None:
    item["properties"]["start_datetime"] = item["properties"]["datetime"]  # the loopback API still files it
    item["properties"]["datetime"] = None  # and no end_datetime: not valid STAC


@pytest.fixture(scope="module")
def timeless(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = broken_archive(tmp_path_factory.mktemp("timeless"), _timeless)
    yield server
    server.stop()


def test_an_item_that_is_not_valid_stac_is_skipped_by_a_search_naming_it(geo, timeless, tmp_path):
    result = geo(*SEARCH, "--source", timeless.url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [s["id"] for s in json.loads(result.stdout)["scenes"]] == [BEFORE, LATER]  # the others are kept
    warnings = [line for line in result.stderr.splitlines() if BROKEN in line]
    assert len(warnings) == 1 and "skipped 1 item(s) that are not valid STAC" in warnings[0]
    assert "start_datetime and end_datetime must be supplied" in warnings[0] and "Traceback" not in result.stderr


def test_a_run_pairs_around_an_invalid_item_and_refuses_it_by_id(geo, timeless, tmp_path):
    around = geo("run", "--aoi", "demo-nantes-port", "--source", timeless.url, "--before", "2015-12-16",
                 "--after", "2017-07-01", "--out", "around", cwd=tmp_path)
    assert around.returncode == 0, around.stderr
    scenes = json.loads((tmp_path / "around" / "manifest.json").read_text())["scenes"]
    assert (scenes["before"]["id"], scenes["after"]["id"]) == (BEFORE, LATER)
    named = geo("run", "--aoi", "demo-nantes-port", "--source", timeless.url, "--before", BEFORE, "--after", BROKEN,
                "--out", "named", cwd=tmp_path)
    assert named.returncode == 1 and "Traceback" not in named.stderr
    assert named.stderr.count("\n") == 1, named.stderr
    assert f"item '{BROKEN}' is not valid STAC (Invalid Item: If datetime is None" in named.stderr
    assert not (tmp_path / "named").exists()


def _bandless(item: dict[str, Any]) -> None:
    del item["assets"]["red"]


def _relative(item: dict[str, Any]) -> None:
    item["assets"]["red"]["href"] = "red.tif"  # and no self link to resolve it against


def _local(item: dict[str, Any]) -> None:
    item["assets"]["red"]["href"] = "file:///etc/hostname"


@pytest.mark.parametrize("breaks, problem", [
    (_bandless, "no asset 'red' (Sentinel-2 B04; has blue, green, nir, scl, swir16, swir22): the change step reads "
                "it for the change statistic, the co-registration and the true-colour layers (an asset keyed B04 gives "
                "it)"),
    (_relative, "asset 'red': href 'red.tif' is relative and the item has no self link to resolve it against"),
    (_local, "asset 'red': href 'file:///etc/hostname' is a local path, not a file of the archive http://127.0.0.1:"),
])
def test_a_run_on_a_scene_whose_band_cannot_be_fetched_fails_naming_scene_and_band(geo, tmp_path, breaks, problem):
    server = broken_archive(tmp_path / "archive", breaks)
    (tmp_path / "red.tif").write_bytes(b"not the archive's file")  # what a relative href would have read
    try:
        result = geo("run", "--aoi", "demo-nantes-port", "--source", server.url, "--before", BEFORE, "--after", BROKEN,
                      "--out", "out", cwd=tmp_path)
    finally:
        server.stop()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and f"Error: scene {BROKEN}: {problem}" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("breaks, why", [(_bandless, "no readable red asset"), (_relative, "no readable red asset")])
def test_vessels_leave_out_a_scene_whose_band_cannot_be_fetched_naming_it(geo, tmp_path, breaks, why):
    # The optical vessel reader reads blue, green, red, nir and swir16: a scene lacking one is left out of the
    # series with a warning, not the whole job failing (it did, on red), and not read from the working folder.
    server = broken_archive(tmp_path / "archive", breaks)
    (tmp_path / "red.tif").write_bytes(b"not the archive's file")
    try:
        result = geo("vessels", "--aoi", "demo-nantes-port", "--source", server.url, "--from", "2015-12-01",
                     "--to", "2017-07-31", "--sensor", "s2", "--out", "ships", cwd=tmp_path)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert (f"warning: 1 scene without the assets a vessel detector reads, left out: {BROKEN} ({why})"
            in result.stderr)
    rows = json.loads((tmp_path / "ships" / "timeseries.json").read_text())["rows"]
    assert [(r["scene"], r["observed_fraction"]) for r in rows] == [(BEFORE, 1.0), (LATER, 1.0)]


def test_an_item_time_without_a_zone_is_taken_as_utc(geo, tmp_path):
    # "2017-07-01T11:00:00" (no Z): STAC's times are UTC. Compared with the zoned times of the other items it
    # was an internal error (exit 2) in every command.
    def zoneless(item: dict[str, Any]) -> None:
        item["properties"]["datetime"] = item["properties"]["datetime"].rstrip("Z")

    server = broken_archive(tmp_path / "archive", zoneless)
    try:
        result = geo(*SEARCH, "--source", server.url, cwd=tmp_path)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    found = {s["id"]: s["datetime"] for s in json.loads(result.stdout)["scenes"]}
    assert found == {BEFORE: "2015-12-16T11:00:00+00:00", BROKEN: "2017-07-01T11:00:00+00:00",
                     LATER: "2017-07-04T11:00:00+00:00"}


def test_a_bucket_href_without_credentials_is_one_error_with_the_way_out_not_retried(geo, tmp_path):
    # s3:// with no credentials: waiting will not bring them (it was retried, a warning each time), and a public
    # bucket needs only AWS_NO_SIGN_REQUEST. The environment is emptied of credentials: nothing leaves the machine.
    def in_a_bucket(item: dict[str, Any]) -> None:
        item["assets"]["red"]["href"] = "s3://geo-loopback-no-such-bucket/red.tif"

    nowhere = tmp_path / "empty-aws-file"
    nowhere.write_text("")
    no_credentials = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
                      "AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_NO_SIGN_REQUEST": "NO",
                      "CPL_AWS_CREDENTIALS_FILE": str(nowhere), "AWS_CONFIG_FILE": str(nowhere), "CPL_AWS_AUTODETECT_EC2": "NO"}
    server = broken_archive(tmp_path / "archive", in_a_bucket)
    try:
        result = geo("run", "--aoi", "demo-nantes-port", "--source", server.url, "--before", BEFORE, "--after", BROKEN,
                     "--out", "out", cwd=tmp_path, **no_credentials)
    finally:
        server.stop()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # no retry warnings
    assert (f"Error: scene {BROKEN} asset 'red' (s3://geo-loopback-no-such-bucket/red.tif): no credentials for this "
            "bucket: give them in the environment (AWS_ACCESS_KEY_ID ...), or AWS_NO_SIGN_REQUEST=YES for a public "
            "S3 bucket (") in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_aws_profile_that_does_not_exist_is_one_error_naming_it(geo, tmp_path):
    # AWS_PROFILE left over from another project: boto3's ProfileNotFound, raised as rasterio opens an s3://
    # href, was an internal error (exit 2). A run stops with one line naming the profile; a re-check fails the
    # AOI with that reason (the next run, with the profile fixed, retries it).
    def in_a_bucket(item: dict[str, Any]) -> None:
        item["assets"]["red"]["href"] = "s3://geo-loopback-no-such-bucket/red.tif"

    config = tmp_path / "aws-config"
    config.write_text("[profile work]\nregion = eu-west-3\n")
    env = {"AWS_PROFILE": "old-job", "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(config),
           "CPL_AWS_CREDENTIALS_FILE": str(config), "CPL_AWS_AUTODETECT_EC2": "NO"}
    why = (f"scene {BROKEN} asset 'red' (s3://geo-loopback-no-such-bucket/red.tif): AWS_PROFILE=old-job: no such "
           f"profile in {config} or the credentials file; set AWS_PROFILE to one of their profiles, or unset it")
    server = broken_archive(tmp_path / "archive", in_a_bucket)
    try:
        run = geo("run", "--aoi", "demo-nantes-port", "--source", server.url, "--before", BEFORE, "--after", BROKEN,
                  "--out", "out", cwd=tmp_path, **env)
        recheck = geo("recheck", "--store", "s.gpkg", "--aoi", "demo-nantes-port", "--source", server.url,
                      "--since", "2015-12-01", "--json", cwd=tmp_path, **env)
    finally:
        server.stop()
    assert run.returncode == 1 and run.stderr == f"Error: {why}\n", run.stderr
    assert not (tmp_path / "out").exists()
    assert recheck.returncode == 4, recheck.stderr
    assert "Traceback" not in recheck.stderr and "internal error" not in recheck.stdout + recheck.stderr
    summary = json.loads(recheck.stdout)
    assert summary["failed_aois"] == [{"aoi_id": "demo-nantes-port", "error": f"{BROKEN}: {why}"}]


@pytest.mark.parametrize("message", [
    "AWS_SECRET_ACCESS_KEY and AWS_NO_SIGN_REQUEST configuration options not defined, and /root/.aws/credentials "
    "not filled",  # GDAL 3.10 (rasterio 1.4's wheels, CI)
    "InvalidCredentials: No valid AWS credentials found. For authenticated requests, you need to set "
    "AWS_SECRET_ACCESS_KEY, AWS_ACCESS_KEY_ID or other configuration options, or create a /root/.aws/credentials "
    "file. Consult https://gdal.org/en/stable/user/virtual_file_systems.html#vsis3-aws-s3-files for more details. "
    "For unauthenticated requests on public resources, set the AWS_NO_SIGN_REQUEST configuration option to YES.",
    # GDAL 3.12 (rasterio 1.5's wheels, Python 3.12+): read three times, then its own words, not geo's one line
], ids=["gdal-3.10", "gdal-3.12"])
def test_gdals_words_for_a_bucket_without_credentials_are_known_in_either_release(message):
    from geo.scenes.remote import lacks_credentials

    assert lacks_credentials(message)
    assert not lacks_credentials("HTTP response code: 503")


@pytest.mark.parametrize(("href", "options", "env", "url"), [
    ("s3://sentinel-cogs/a/B04.tif", {}, {}, "https://sentinel-cogs.s3.amazonaws.com/a/B04.tif"),  # AWS's
    ("s3://eodata/S2/x.jp2", {"AWS_S3_ENDPOINT": "eodata.example", "AWS_VIRTUAL_HOSTING": "FALSE"}, {},
     "https://eodata.example/eodata/S2/x.jp2"),  # the endpoint the item names, path-style
    ("/vsis3/eodata/S2/x.jp2", {"AWS_S3_ENDPOINT": "eodata.example", "AWS_VIRTUAL_HOSTING": "FALSE"},
     {"AWS_S3_ENDPOINT": "127.0.0.1:9000", "AWS_HTTPS": "NO"}, "http://127.0.0.1:9000/eodata/S2/x.jp2"),  # user's
    ("https://host/x.tif", {}, {}, None),
])
def test_a_bucket_file_is_asked_about_at_the_url_gdal_reads_it_from(monkeypatch, href, options, env, url):
    """GDAL 3.12 reports a refused bucket read without its HTTP status; the storage is asked at this URL."""
    from geo.scenes.remote import s3_http_url

    for name in ("AWS_S3_ENDPOINT", "AWS_HTTPS", "AWS_VIRTUAL_HOSTING"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert s3_http_url(href, options) == url
