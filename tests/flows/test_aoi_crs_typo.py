"""An AOI file whose ``crs`` member has a typo that still names a CRS: ``EPSG:4362`` for ``EPSG:4326`` is NAD83(HARN)
geocentric (X, Y, Z from the Earth's centre). The lon/lat corners were taken as metres from the Earth's centre and the
re-check (or run) said "invalid polygon: it encloses no area (its corners lie on one line): draw the area's outline",
sending the user to redraw a good polygon. Now the CRS is named as the fault, nothing created."""

from __future__ import annotations

from tests.flows.conftest import drawn_aoi


def test_a_crs_member_naming_no_map_crs_is_refused_naming_it(user):
    drawn_aoi(user.home / "port.geojson", crs="urn:ogc:def:crs:EPSG::4362")
    shell = user("recheck", "--store", "s.gpkg", "--aoi", "port.geojson", "--source", "demo", "--since", "2015-08-01")
    assert shell.returncode == 1, shell.output
    assert "Traceback" not in shell.output and "encloses no area" not in shell.output, shell.output
    assert ("port.geojson: CRS 'urn:ogc:def:crs:EPSG::4362' in the 'crs' member is NAD83(HARN) (geocentric), not "
            "one of map coordinates (lon/lat or a projection)") in shell.stderr, shell.stderr
    assert sorted(p.name for p in user.home.iterdir()) == ["port.geojson"]
    run = user("run", "--aoi", "port.geojson", "--source", "demo", "--out", "out")
    assert run.returncode == 1 and "is NAD83(HARN) (geocentric)" in run.stderr, run.output
