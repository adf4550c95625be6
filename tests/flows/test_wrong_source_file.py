"""A file given as ``--source`` that is JSON but no STAC catalog (the AOI file itself, one of the catalog's items):
refused in one line naming it, exit 1, nothing written; it was an internal error (exit 2)."""

from __future__ import annotations

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi

ITEM = DEMO_CATALOG.parent / "S2A_30TXT_20150821_L1C_nantes" / "S2A_30TXT_20150821_L1C_nantes.json"


@pytest.mark.parametrize(("source", "kind"), [
    ("harbour.geojson", "not a readable STAC catalog (JSON (id = unknown) does not represent a STACObject instance. "
                        "'type' attribute is FeatureCollection)"),
    (str(ITEM), f"a STAC Item (S2A_30TXT_20150821_L1C_nantes), not a catalog: give the catalog or collection that "
                f"links it ({DEMO_CATALOG})")])
def test_a_json_file_that_is_no_catalog_is_refused_naming_it(user, source, kind):
    drawn_aoi(user.home / "harbour.geojson")
    for command in (("scenes", "search", "--from", "2015-01-01", "--to", "2018-01-01"),
                    ("run", "--before", "2015-08-21", "--after", "2017-10-14", "--out", "out")):
        result = user(*command, "--aoi", "harbour.geojson", "--source", source)
        assert result.returncode == 1, result.output
        line, = result.stderr.strip().splitlines()
        assert line == f"Error: {source}: {kind}"
        assert not (user.home / "out").exists()
