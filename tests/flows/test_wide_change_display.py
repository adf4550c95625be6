"""A change wider than 2 % of the AOI (a camp, a cleared tract: here a bright 1.5 km square in a 3 km AOI) set
the after date's display stretch: its true-colour COG opened in QGIS, and the report's pictures, showed the
unchanged fields darker than before. Driven through ``geo run`` on a loopback archive of synthetic tiles."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.tiles import changed_square_pair, lon_lat_aoi, lon_lat_square

LON, LAT, EPSG = 131.95, 43.80, 32652


def square(side_m: float) -> tuple[float, float, float, float]:
    return lon_lat_square(LON, LAT, side_m)


def stretch(qml) -> list[tuple[float, float]]:
    renderer = ET.parse(qml).getroot().find(".//rasterrenderer")
    assert renderer is not None
    return [(float(renderer.findtext(f"{c}ContrastEnhancement/minValue")),
             float(renderer.findtext(f"{c}ContrastEnhancement/maxValue"))) for c in ("red", "green", "blue")]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=5).start()
    changed_square_pair(server, tmp_path_factory.mktemp("wide-change"), "S2A_wide", LON, LAT, EPSG,
                        (utc(2021, 6, 1), utc(2021, 6, 11)), 2500, 1500)
    yield server
    server.stop()


def test_a_wide_bright_change_leaves_the_unchanged_ground_stretched_alike(user, archive):
    lon_lat_aoi(user.home / "aoi.geojson", square(3000))
    shell = user("run", "--aoi", "aoi.geojson", "--source", archive.url, "--before", "2021-06-01",
                 "--after", "2021-06-11", "--out", "out")
    assert shell.returncode == 0, shell.stderr
    before, after = stretch(user.home / "out" / "before_rgb.qml"), stretch(user.home / "out" / "after_rgb.qml")
    # the planted square is DN 6000 (0.6) in every band; the fields are under 0.3. Before: the after date's
    # highs were the square's 0.6 (the fields shown at half their brightness); now the fields' own
    for (low_b, high_b), (low_a, high_a) in zip(before, after):
        assert high_b < 0.35 and high_a == pytest.approx(high_b, rel=0.03), (before, after)
        assert low_a == pytest.approx(low_b, rel=0.03, abs=0.002)
    # the report's two views (the first two JPEGs): the fields in a corner, away from the square, alike
    report = (user.home / "out" / "report.html").read_text()
    views = [pixels(uri) for uri in re.findall(r'data:image/jpeg;base64,[A-Za-z0-9+/=]+', report)[:2]]
    corners = [view[: view.shape[0] // 5, : view.shape[1] // 5].mean() for view in views]
    assert abs(corners[0] - corners[1]) < 2.0, corners  # of 255: was ~40 % darker after
    assert "2nd–98th percentile of reflectance outside the changes" in report  # the provenance says how


def pixels(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("L"), dtype=float)
