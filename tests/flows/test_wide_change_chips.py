"""A change kilometres across in a wide area (a flood, a harvested or cleared tract: here a bright 5 km square in
an 8 km AOI): its before/after chips in report.html were read at full resolution, 1.5 times the change's extent
(780 px a side: PNGs of 1.7 and 1.0 MB, a 3.5 MB report; a 22 km flood made a 52 MB report from the 2.6 MB of
2,461 changes); now each chip is averaged down to at most 300 px a side (here 0.31 and 0.19 MB, a 1.2 MB report),
its outline, scale bar and width drawn alike. Driven through ``geo run``
on a loopback archive of synthetic tiles; bytes and pixels counted, not timed."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.tiles import changed_square_pair, lon_lat_aoi, lon_lat_square

LON, LAT, EPSG = 131.95, 43.80, 32652


def square(side_m: float) -> tuple[float, float, float, float]:
    return lon_lat_square(LON, LAT, side_m)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=5).start()
    changed_square_pair(server, tmp_path_factory.mktemp("wide-change-chips"), "S2A_flood", LON, LAT, EPSG,
                        (utc(2021, 7, 1), utc(2021, 7, 11)), 4500, 5000)
    yield server
    server.stop()


def test_the_chips_of_a_change_kilometres_wide_stay_small_pictures(user, archive):
    lon_lat_aoi(user.home / "aoi.geojson", square(8000))
    shell = user("run", "--aoi", "aoi.geojson", "--source", archive.url, "--before", "2021-07-01",
                 "--after", "2021-07-11", "--out", "out")
    assert shell.returncode == 0, shell.stderr
    report = (user.home / "out" / "report.html").read_text()
    figures = re.findall(r'<figure class="chip">.*?</figure>', report, re.S)
    assert figures, "no chips in the report"
    stored = dict(re.findall(r'<image id="([^"]+)"[^>]*href="data:image/png;base64,([A-Za-z0-9+/=]+)"', report))
    for figure in figures:  # each card draws its chip's two pictures from the area's store (<use>)
        pictures = [Image.open(io.BytesIO(base64.b64decode(stored[ref])))
                    for ref in re.findall(r'<use href="#([^"]+)"', figure)]
        assert len(pictures) == 2 and all(max(p.size) <= 300 for p in pictures), [p.size for p in pictures]
        side = int(re.search(r'<svg viewBox="0 0 (\d+) \1"', figure).group(1))
        assert all(p.size == (side, side) for p in pictures)  # the outline drawn in the chip's own pixels
    largest = figures[0]
    across = float(re.search(r"· ([\d,]+) m across", largest).group(1).replace(",", ""))
    assert across > 5000  # the chip still shows the whole change and its surroundings, at 10 m over 300 px
    assert len(report) < 2_000_000, len(report)  # was 3.5 MB, growing as the square of the change's side
