"""The display stretch and the written geometry, each computed once from what is passed on: the stretch's
strip-wise sample is the whole band's, the snapped polygons are shared by a run's files."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity
from shapely.geometry import Polygon, mapping, shape

from geo.change.sampling import sample_index
from geo.geometry import right_handed
from geo.outputs.geojson import COORDINATE_PRECISION, lonlat_as_written, rfc7946_geometry
from geo.outputs.kml import kml_document
from geo.outputs.render import PERCENTILES, display_stretch
from geo.scenes.scratch import scratch_array


def whole_band_stretch(band: np.ndarray) -> tuple[float, float]:
    """The stretch as computed before: the finite values of the whole band, sampled by ``sample_index``."""
    finite = band[np.isfinite(band)]
    pick = sample_index(finite.size)
    values = finite if pick is None else finite[pick]
    low, high = np.percentile(values, PERCENTILES)
    return float(low), float(max(high, low + 1e-4))


# all pixels (the second: 0.83 M finite) / a million sampled of 1.08 M finite, read strip by strip in index order
@pytest.mark.parametrize("shape", [(300, 200), (1300, 900), (1500, 1000)])
def test_the_stretch_read_in_strips_is_the_whole_bands(shape, tmp_path):
    rng = np.random.default_rng(3)
    band = scratch_array(shape, np.float32, tmp_path)
    band[:] = rng.gamma(2.0, 0.05, shape).astype(np.float32)
    band[rng.random(shape) < 0.2] = np.nan
    band[:150] = np.nan  # whole strips without a valid pixel
    stretch = display_stretch([band, np.full(shape, np.nan, np.float32)])
    assert stretch[0] == whole_band_stretch(np.asarray(band))
    assert stretch[1] == (0.0, 0.3)  # no valid pixel


def test_a_polygon_is_snapped_once_for_all_the_files_of_a_run():
    ring = [(-1.55 + 1e-9 * i, 47.2 + 0.013 * (i % 2) + 3.3e-9 * i) for i in range(4)]
    polygon = Polygon([ring[0], ring[1], (-1.5, 47.3), ring[3]][::-1])  # clockwise, off the 1e-7 grid
    written = lonlat_as_written(polygon)
    assert written.equals_exact(right_handed(shapely.set_precision(polygon, COORDINATE_PRECISION)), 0.0)
    assert lonlat_as_written(Polygon(polygon.exterior.coords)) is written  # the same value: not snapped again
    assert rfc7946_geometry(polygon) == mapping(written)
    # what is computed from it is what is computed from the file's geometry (no snapping precision kept)
    assert written.centroid.equals_exact(shape(mapping(written)).centroid, 0.0)
    assert shapely.get_precision(written) == 0.0
    coordinates = written.exterior.coords
    assert " ".join(f"{x:.7f},{y:.7f}" for x, y in coordinates) in kml_document([(polygon, {})], "t")


def test_a_change_across_180_is_written_cut_there_and_drawn_whole():
    """A change polygon on a zone 60 grid across 180, back in lon/lat, jumps from 179.99 to -179.99: it was
    written so, a polygon round the globe; it is cut at 180 (RFC 7946) and the report draws it as one ring."""
    from affine import Affine
    from rasterio.crs import CRS

    from geo.geometry import WGS84, reproject
    from geo.grid import Grid
    from geo.outputs.render import PixelFrame

    x, y = reproject(shapely.Point(180.0, 68.915), WGS84, "EPSG:32660").coords[0]
    change = shapely.box(x - 500, y - 300, x + 500, y + 300)  # 1 x 0.6 km, half on each side of 180
    lonlat = reproject(change, "EPSG:32660", WGS84)
    written = lonlat_as_written(lonlat)
    assert written.geom_type == "MultiPolygon" and -180 <= written.bounds[0] and written.bounds[2] <= 180
    assert sorted(round(abs(p.bounds[0] if p.bounds[0] < 0 else p.bounds[2]), 6) for p in written.geoms) == [180, 180]
    grid = Grid(CRS.from_epsg(32660), Affine(10, 0, x - 1000, 0, -10, y + 1000), (200, 200))
    path = PixelFrame(grid).svg_path(written)
    assert path.count("M") == 1, path  # one ring: the cut is not drawn as an edge
    xs = [float(p.split(",")[0]) for p in path.replace("M", "").replace("Z", "").replace("L", "").split()]
    assert min(xs) == pytest.approx(50, abs=0.2) and max(xs) == pytest.approx(150, abs=0.2)


def test_a_wide_bright_change_does_not_set_its_dates_stretch(tmp_path):
    """A bright change over 40 % of the image set the after date's 98th percentile: the unchanged ground,
    equal on both dates, showed darker after. Stretched on the pixels outside the changes, it shows alike."""
    rng = np.random.default_rng(5)
    shape = (300, 200)
    ground = rng.gamma(2.0, 0.04, shape).astype(np.float32)
    changed = np.zeros(shape, bool)
    changed[:, :80] = True
    after = scratch_array(shape, np.float32, tmp_path)  # out of core, as a large job's bands are
    after[:] = np.where(changed, np.float32(0.6), ground)
    assert display_stretch([after])[0][1] == pytest.approx(0.6)  # the change set it
    assert display_stretch([after], changed)[0] == whole_band_stretch(ground[:, 80:])
    assert display_stretch([ground], changed) == display_stretch([after], changed)
    # a change over nearly everything leaves too little ground to stretch on: all valid pixels, as before
    almost_all = np.ones(shape, bool)
    almost_all[:5] = False
    assert display_stretch([after], almost_all) == display_stretch([after])


def test_the_share_left_by_the_changes_is_counted_not_sampled(monkeypatch, tmp_path):
    """The fallback to all pixels compares the pixels the changes leave with all valid ones, not the sample of
    them (at most a million): at a whole tile 5 % of the valid pixels are 6 million, and a sample's million
    would always have fallen back."""
    from geo.outputs import render

    shape = (1300, 900)  # 1.17 M valid pixels: the stretch samples a million of those left
    rng = np.random.default_rng(6)
    band = scratch_array(shape, np.float32, tmp_path)
    band[:] = rng.gamma(2.0, 0.04, shape).astype(np.float32)
    changed = np.zeros(shape, bool)
    changed[:90] = True  # 93 % of the pixels are left, more than a sample holds
    band[:90] = 0.9
    monkeypatch.setattr(render, "MIN_UNCHANGED_SHARE", 0.9)
    assert display_stretch([band], changed)[0] == whole_band_stretch(np.asarray(band)[90:])


def test_an_outline_in_a_wide_view_draws_no_vertex_the_view_cannot_show():
    """A polygonised change (a staircase of 10 m pixel corners) drawn on a view averaging 8 x 8 pixels into one:
    each corner was a path point, so a report of thousands of changes was half outline text. Its drawn
    outline stays within the tolerance of the polygon, with a fraction of the points."""
    from affine import Affine
    from rasterio.crs import CRS
    from shapely.geometry import Polygon

    from geo.geometry import WGS84, reproject
    from geo.grid import Grid
    from geo.outputs.render import OUTLINE_TOLERANCE_PX, PixelFrame

    grid = Grid(CRS.from_epsg(32630), Affine(10, 0, 600_000, 0, -10, 5_200_000), (4000, 4000))
    steps = [(600_000 + 10 * i, 5_199_000 - 10 * (i + (i % 2))) for i in range(0, 200)]  # 10 m stairs down a slope
    ring = [(600_000, 5_199_000), *steps, (602_000, 5_196_000), (600_000, 5_196_000)]
    change = Polygon(ring)
    frame = PixelFrame(grid, 1 / 8)
    path = frame.svg_path(reproject(change, "EPSG:32630", WGS84))
    points = [tuple(map(float, p.split(","))) for p in path.replace("M", "").replace("Z", "").replace("L", "").split()]
    assert path.count("M") == 1 and len(points) < len(ring) / 10, (len(points), len(ring))
    drawn = Polygon(points)
    in_view = shapely.affinity.affine_transform(change, [1 / 80, 0, 0, -1 / 80, -600_000 / 80, 5_200_000 / 80])
    assert drawn.hausdorff_distance(in_view) < OUTLINE_TOLERANCE_PX + 0.1  # (0.1: the path's rounding, reprojection)
    assert drawn.area == pytest.approx(in_view.area, rel=0.01)
    small = shapely.box(600_100, 5_199_900, 600_104, 5_199_904)  # under a view pixel: still drawn
    assert frame.svg_path(reproject(small, "EPSG:32630", WGS84)).startswith("M")
