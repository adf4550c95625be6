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


def test_a_tile_published_again_is_read_from_its_newest_publication_and_is_the_product_recorded():
    """Earth Search re-ingests as ``_1_L2A``; a new processing baseline wins over the id's order; another tile of
    the pass, or the same tile sensed at another time, is not a publication of it."""
    from dataclasses import replace as changed

    from geo.scenes.ids import mgrs_tile
    from geo.scenes.mosaic import newest_products, passes

    old, again = tile("S2A_53TKG_20210601_0_L2A", EAST_HALF), tile("S2A_53TKG_20210601_1_L2A", EAST_HALF)
    left_out: list = []
    kept, = passes([old, again], AOI, left_out)
    assert (kept.id, kept.supersedes, [t.id for t in left_out]) == (again.id, (old.id,), [old.id])
    rebased = changed(old, properties={**old.properties, "s2:processing_baseline": "05.10"})
    assert [s.id for s in newest_products([rebased, changed(again, properties={
        **again.properties, "s2:processing_baseline": "05.00"})])] == [old.id]
    assert mgrs_tile("S2B_MSIL2A_20241010T021649_N0511_R003_T52TGN_20241010T051234") == "52TGN"
    assert mgrs_tile("S1A_IW_GRDH_1SDV_20241010T093015_20241010T093040_055000_06B000_ABCD") is None

    assert is_head(kept, old.id) and is_recorded(kept, stored_ids([old.id]), republished=True)
    assert not is_recorded(kept, stored_ids([old.id]))  # as seen: its own id is recorded too (the quick check)
    # the old item withdrawn: the search finds only the new one, of the head's tile and time
    assert is_head(again, old.id, old.datetime)
    assert not is_head(again, old.id, old.datetime.replace(hour=4))  # another pass of that day
    assert not is_head(tile("S2A_53TKH_20210601_0_L2A", EAST_HALF), old.id, old.datetime)  # another tile
