"""The columns a sensor adds to a run's changes, read from its manifest."""

from geo.vector.sensor_columns import extra_columns


def test_sentinel_2_adds_none_and_sentinel_1_its_polarisations_and_dating():
    assert extra_columns({"sensor": "s2"}) == {} == extra_columns({})
    undated = extra_columns({"sensor": "s1", "polarisations": ["hh"], "omnibus": {"run": False}})
    assert undated == {"sensor": str, "backscatter": str, "db_change_hh": float, "water_share": float}
    dated = extra_columns({"sensor": "s1", "polarisations": ["vv", "vh"], "omnibus": {"run": True}})
    assert list(dated) == ["sensor", "backscatter", "db_change_vv", "db_change_vh", "water_share", "omnibus_share",
                           "change_first_seen", "change_first_scene", "change_last_unchanged",
                           "change_date_agreement"]
    assert dated["change_first_seen"] is str and dated["change_date_agreement"] is float
