"""Map furniture and coordinates in the report: scale bars that match the grid, a north arrow pointing to
true north, and each change's centroid (as in changes.geojson) with links to open it on a web map."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

import pytest
from pyproj import Proj, Transformer
from shapely.geometry import shape


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside scale bars."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.texts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict((k, v or "") for k, v in attrs)))

    def handle_data(self, data):
        self.texts.append(data)

    def having(self, attribute: str) -> list[dict[str, str]]:
        return [attrs for _, attrs in self.tags if attribute in attrs]


def _width_percent(attrs):
    return float(re.search(r"width: ([0-9.]+)%", attrs["style"]).group(1))


@pytest.fixture(scope="module")
def page(synthetic_output):
    html = (synthetic_output / "report.html").read_text()
    return html, Elements(html)


def test_swipe_view_scale_bar_matches_the_grid(page, synthetic_output):
    html, elements = page
    manifest = json.loads((synthetic_output / "manifest.json").read_text())
    rows, cols = manifest["grid"]["shape"]
    width_m = cols * manifest["grid"]["transform"][0]  # 10 m pixels across the grid
    swipe_bar = elements.having("data-scale-m")[0]  # the swipe view comes before the chips
    metres = float(swipe_bar["data-scale-m"])
    assert 0.1 * width_m <= metres <= 0.25 * width_m  # a round length, a quarter of the view at most
    assert metres / 10 ** math.floor(math.log10(metres)) in (1, 2, 5)
    # its drawn length is that many metres of the picture (ground and grid metres agree to < 0.1% in UTM)
    assert _width_percent(swipe_bar) == pytest.approx(100 * metres / width_m, rel=1e-3)
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    assert f'data-scale-m="{metres:g}"' in html and f"<span>{label}</span>" in html


def test_chips_have_scale_bars_of_their_own_size(page, synthetic_output):
    html, elements = page
    chips = re.findall(r'<svg viewBox="0 0 (\d+) \1" aria-hidden="true"><path class="change"', html)
    bars = elements.having("data-scale-m")[1:]
    assert len(chips) >= 3 and len(bars) == len(chips)
    for side, bar in zip(chips, bars):
        chip_m = int(side) * 10.0
        assert _width_percent(bar) == pytest.approx(100 * float(bar["data-scale-m"]) / chip_m, rel=1e-3)


def test_north_arrow_points_to_true_north(demo_output):
    # Nantes lies 1.4° east of its UTM zone's central meridian: true north is ~1° left of the grid's up.
    elements = Elements((demo_output / "report.html").read_text())
    manifest = json.loads((demo_output / "manifest.json").read_text())
    grid = manifest["grid"]
    a, _, left, _, e, top = grid["transform"]
    rows, cols = grid["shape"]
    lon, lat = Transformer.from_crs(grid["crs"], "EPSG:4326", always_xy=True).transform(
        left + a * cols / 2, top + e * rows / 2)
    convergence = Proj(grid["crs"]).get_factors(lon, lat).meridian_convergence  # grid north east of true north
    arrows = elements.having("data-north-deg")
    assert len(arrows) >= 4  # the view's and the chips'
    assert float(arrows[0]["data-north-deg"]) == pytest.approx(-convergence, abs=0.05)
    assert convergence > 0.5  # so the arrow has to turn
    assert all(a["aria-label"].startswith("north arrow") for a in arrows)


def test_each_change_row_has_its_geojson_centroid_and_map_links(page, synthetic_output):
    html, elements = page
    features = json.loads((synthetic_output / "changes.geojson").read_text())["features"]
    centroids = {f["properties"]["change_id"]: shape(f["geometry"]).centroid for f in features}
    rows = re.findall(r'<tr data-change-id="([0-9a-f]+)">.*?data-lat="([-0-9.]+)" data-lon="([-0-9.]+)"', html)
    assert {change_id for change_id, _, _ in rows} == set(centroids)
    for change_id, lat, lon in rows:
        centre = centroids[change_id]
        assert (float(lat), float(lon)) == (round(centre.y, 6), round(centre.x, 6))
        osm = f"https://www.openstreetmap.org/?mlat={lat}&amp;mlon={lon}#map=17/{lat}/{lon}"
        assert f'href="{osm}"' in html and f'href="geo:{lat},{lon}"' in html


def test_swipe_view_states_its_corners(page, synthetic_output):
    html, elements = page
    stage = elements.having("data-swipe")[0]
    manifest = json.loads((synthetic_output / "manifest.json").read_text())
    a, _, left, _, e, top = manifest["grid"]["transform"]
    rows, cols = manifest["grid"]["shape"]
    lon, lat = Transformer.from_crs(manifest["grid"]["crs"], "EPSG:4326", always_xy=True).transform(left, top)
    nw = tuple(map(float, stage["data-nw"].split(",")))
    assert nw == pytest.approx((lat, lon), abs=1e-9)
    assert f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.4f}° {'E' if lon >= 0 else 'W'}" in html
