"""The store's scene ids and passes (geo/recheck/passes.py), and a plan of passes sent to a Dask worker."""

from __future__ import annotations

import pickle
from dataclasses import replace
from types import MappingProxyType

from geo.recheck.passes import is_head, is_recorded, stored_ids
from geo.recheck.plan import AoiPlan
from geo.recheck.process import _transportable
from geo.scenes.model import Asset
from geo.scenes.mosaic import mosaic
from tests.scenes.test_mosaic import AOI, EAST_HALF, WEST_HALF, tile

PASS = mosaic([tile("a-52", WEST_HALF, 32652), tile("b-53", EAST_HALF)])


def test_a_pass_is_recorded_by_its_id_or_all_of_its_tiles():
    assert PASS.id == "a-52+b-53"
    assert stored_ids(["a-52+b-53", "c"]) == {"a-52+b-53", "a-52", "b-53", "c"}
    assert is_recorded(PASS, stored_ids(["a-52+b-53"]))
    assert is_recorded(PASS, stored_ids(["a-52", "b-53"]))  # a store written tile by tile
    assert not is_recorded(PASS, stored_ids(["a-52"]))  # one tile of it recorded: the pass shows more
    assert not is_recorded(tile("c", WEST_HALF), stored_ids(["a-52+b-53"]))


def test_the_head_is_its_own_pass_whichever_tile_of_it_was_stored():
    assert is_head(PASS, "a-52+b-53") and is_head(PASS, "b-53") and is_head(tile("a-52", WEST_HALF), "a-52+b-53")
    assert not is_head(PASS, "c+d") and not is_head(tile("c", WEST_HALF), "a-52+b-53")


def test_a_plan_of_passes_pickles_for_a_dask_worker():
    """A pass's tiles hold read-only mappings too, which do not pickle: the plan sent to a worker failed."""
    asset = Asset("b04", "file:///tiles/b04.tif")
    parts = [replace(tile(name, bounds), assets=MappingProxyType({"b04": asset}))
             for name, bounds in (("a", WEST_HALF), ("b", EAST_HALF))]
    head = mosaic(parts)
    plan = AoiPlan(AOI, (), head, (head,), ())
    sent = pickle.loads(pickle.dumps(_transportable(plan)))
    assert sent.head.id == "a+b" and [p.id for p in sent.head.parts] == ["a", "b"]
    assert sent.head.parts[1].assets["b04"].href == "file:///tiles/b04.tif"
