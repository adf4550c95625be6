"""Pair selection: clear AOI first, then closest to the window, same relative orbit preferred; overrides by
id or date; the choice explained. Scenes carry planted SCL clouds, so the right answer is known."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from geo.claims import TimeWindow
from geo.claim_files import load_claims
from geo.errors import DateError, SceneError
from geo.scenes.cache import SceneCache
from geo.scenes.pairs import ORBIT_PENALTY_DAYS, select_pair
from geo.scenes.source import LocalCatalog, StacApi
from tests import archive_data
from tests.archive_data import CLOUD_EVERYWHERE, CLOUD_OVER_AOI, S2Spec, utc
from tests.conftest import REPO


@pytest.fixture(scope="module")
def demo_claim():
    return load_claims(REPO / "seeds")["demo-nantes-construction"]  # window 2016-01-01 .. 2017-06-30


def select(loopback, aoi, claims, tmp_path, **kwargs):
    return select_pair(StacApi(loopback.url), aoi, claims, cache=SceneCache(tmp_path / "c"), **kwargs)


def test_automatic_pair_brackets_the_window_with_clear_same_orbit_scenes(loopback, nantes_aoi, demo_claim, tmp_path):
    pair = select(loopback, nantes_aoi, [demo_claim], tmp_path)
    # B1 (4 days) is clouded over the AOI; B2 (11 days) is clear although its tile is 85 % cloudy.
    # A1 (1 day) is clear but on orbit 94; A2 (4 days) is clear on B2's orbit 51: 11 + 4 < 11 + 1 + 10.
    assert (pair.before.id, pair.after.id) == ("S2A_T30TXT_20151221_B2", "S2A_T30TXT_20170704_A2")
    reason = pair.reason
    assert reason["method"] == "automatic" and reason["same_relative_orbit"] is True
    assert reason["anchors"] == {"before": "2016-01-01", "after": "2017-06-30", "from": "claim windows",
                                 "time_zone": "UTC-00:06"}  # Nantes: mean solar time at lon -1.5
    assert reason["before"]["gap_days"] == 11 and reason["after"]["gap_days"] == 4
    assert reason["before"]["clear_fraction"] == 1.0 and reason["before"]["relative_orbit"] == 51
    assert "closest clear scene on or before 2016-01-01" in reason["before"]["why"]
    assert "as the other scene" in reason["after"]["why"]
    judged = {c["id"]: c for side in reason["candidates"].values() for c in side}
    assert judged["S2A_T30TXT_20151228_B1"]["clear_fraction"] < 0.5
    assert judged["S2A_T30TXT_20170701_A1"]["clear_fraction"] == 1.0  # clear, lost on orbit alone
    assert judged["S2A_T30TXT_20170702_A3"]["cloud_fraction"] == 1.0
    assert reason["warnings"] == [] and reason["searched_days"] == {"before": 30, "after": 30}


def test_overrides_by_id_and_by_date(loopback, nantes_aoi, demo_claim, tmp_path):
    pair = select(loopback, nantes_aoi, [demo_claim], tmp_path,
                  before="S2A_T30TXT_20151216_B3", after="S2A_T30TXT_20170701_A1")
    assert (pair.before.id, pair.after.id) == ("S2A_T30TXT_20151216_B3", "S2A_T30TXT_20170701_A1")
    assert pair.reason["method"] == "named by id" and pair.reason["before"]["why"] == "named by id"
    pair = select(loopback, nantes_aoi, [], tmp_path, before="2015-12-20", after="2017-07-01")
    # before 12-20: B3 (4 days, orbit 94); after 07-01: A1 (0 days, 94) beats A2 (3 days, 51)
    assert (pair.before.id, pair.after.id) == ("S2A_T30TXT_20151216_B3", "S2A_T30TXT_20170701_A1")
    assert pair.reason["anchors"]["from"] == "--before/--after"
    mixed = select(loopback, nantes_aoi, [demo_claim], tmp_path, before="S2A_T30TXT_20151228_B1")
    assert mixed.before.id == "S2A_T30TXT_20151228_B1"  # named, even though clouded
    assert mixed.after.id == "S2A_T30TXT_20170701_A1"  # the clear one on B1's orbit 94
    assert mixed.reason["method"] == "automatic" and mixed.reason["before"]["clear_fraction"] < 0.5


def test_bad_windows_and_empty_archives(loopback, nantes_aoi, tmp_path):
    with pytest.raises(DateError, match="--after 2015-01-01 is before --before 2016-01-01"):
        select(loopback, nantes_aoi, [], tmp_path, before="2016-01-01", after="2015-01-01")
    with pytest.raises(DateError, match="no --before given"):
        select(loopback, nantes_aoi, [], tmp_path, after="2017-07-01")
    with pytest.raises(SceneError, match="no scene over AOI 'demo-nantes-port' on or before 2014-06-01 within 365 days"):
        select(loopback, nantes_aoi, [], tmp_path, before="2014-06-01", after="2017-07-01")


def test_search_widens_only_when_needed_and_falls_back_to_the_clearest(tmp_path, nantes_aoi):
    specs = [
        S2Spec("L_B_CLOUDY_NEAR", utc(2020, 2, 25), 51, "2015", CLOUD_EVERYWHERE),
        S2Spec("L_B_HALF_FAR", utc(2020, 1, 20), 51, "2015", CLOUD_OVER_AOI),
        S2Spec("L_A_CLEAR_FAR", utc(2020, 5, 30), 51, "2017"),
    ]
    source = LocalCatalog(archive_data.local_catalog(tmp_path / "cat", specs))
    pair = select_pair(source, nantes_aoi, [], before="2020-03-01", after="2020-04-01")
    assert (pair.before.id, pair.after.id) == ("L_B_HALF_FAR", "L_A_CLEAR_FAR")
    assert pair.reason["searched_days"] == {"before": 365, "after": 90}
    assert any("only 33% of the AOI is clear" in w for w in pair.reason["warnings"]), pair.reason["warnings"]
    assert "the clearest on or before" in pair.reason["before"]["why"]


def test_same_orbit_partner_is_looked_for_beyond_the_first_batch(tmp_path, nantes_aoi):
    specs = [S2Spec("L_B_51", utc(2021, 3, 1), 51, "2015")]
    specs += [S2Spec(f"L_A_94_{day}", utc(2021, 4, day), 94, "2017") for day in range(1, 8)]
    specs += [S2Spec("L_A_51_DAY8", utc(2021, 4, 8), 51, "2017")]
    source = LocalCatalog(archive_data.local_catalog(tmp_path / "cat", specs))
    pair = select_pair(source, nantes_aoi, [], before="2021-03-01", after="2021-04-01")
    # nearest after-scene costs 0 + 0 + 10 (other orbit); the orbit-51 scene 7 days out costs 7
    assert 7 < ORBIT_PENALTY_DAYS
    assert (pair.before.id, pair.after.id) == ("L_B_51", "L_A_51_DAY8")
    assert len(pair.reason["candidates"]["after"]) == 7  # the first batch of 6 + the orbit-51 one


def test_the_manifest_says_the_local_day_each_gap_counts_from(tmp_path, nantes_aoi, demo_claim):
    """A claim dated in UTC+14:00's days: a scene taken at 11:00 UTC is dated the next day there, and its gap to
    the window counts from that day. The manifest listed the UTC ``date`` alone beside ``gap_days``, which then
    read one day off (2021-02-27 "1 day" before a window from 2021-03-01)."""
    specs = [S2Spec("L_B", utc(2021, 2, 27), 51, "2015"), S2Spec("L_A", utc(2021, 4, 2), 51, "2017")]
    source = LocalCatalog(archive_data.local_catalog(tmp_path / "cat", specs))
    claim = replace(demo_claim, window=TimeWindow(date(2021, 3, 1), date(2021, 4, 1)), time_zone="+14:00")
    reason = select_pair(source, nantes_aoi, [claim]).reason
    assert reason["anchors"]["time_zone"] == "UTC+14:00"
    seen = [(c["id"], c["date"], c["local_date"], c["gap_days"]) for side in ("before", "after")
            for c in [reason[side], *reason["candidates"][side]]]
    assert seen == [("L_B", "2021-02-27", "2021-02-28", 1)] * 2 + [("L_A", "2021-04-02", "2021-04-03", 2)] * 2


def test_a_local_catalog_says_which_dates_it_holds_or_where_its_scenes_are(nantes_aoi):
    """The shipped demo catalog (two real scenes over Nantes): a date out of its range names the dates it
    has; an AOI drawn beside its scenes names where both are, so nobody goes looking for other dates."""
    from dataclasses import replace

    from shapely.affinity import translate

    demo = LocalCatalog(REPO / "scenes" / "demo")
    with pytest.raises(SceneError, match=r"on or before 2014-06-01 within 365 days in .*catalog\.json; Sentinel-2's "
                                         r"first satellite was launched on 2015-06-23: no scene of it is older; "
                                         r"the catalog's 2 dates over the AOI: 2015-08-21, 2017-10-14$"):
        select_pair(demo, nantes_aoi, [], before="2014-06-01", after="2017-07-01")
    beside = replace(nantes_aoi, id="beside", geometry=translate(nantes_aoi.geometry, xoff=-0.2))  # 15 km west
    with pytest.raises(SceneError, match=r"no scene of the catalog touches the AOI on any date \(the AOI: lon "
                                         r"-1\.7700\.\.-1\.7200, lat 47\.1850\.\.47\.2250; the catalog's 2 scenes: "
                                         r"lon -1\.5774\.\.-1\.5122, lat 47\.1756\.\.47\.2341\)"):
        select_pair(demo, beside, [], before="2016-01-01", after="2017-01-01")
