"""The evidence statistic on synthetic count series: a rise is significant, a flat series is not, and
under no change the test rejects at its nominal rate (where a Poisson test over-calls)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from shapely.geometry import box

from geo.aoi import AOI
from geo.claims import Claim, Stance, TimeWindow
from geo.vessels.evidence import EvidenceParams, count_rise_test, evidence_for_claims, mean_interval, poisson_p_value
from geo.vessels.series import one_row_per_day, place_unknown_modes, series_zones

BASELINE = [3, 2, 4, 5, 1, 3, 2, 6, 3, 2, 5, 3]
PORT = AOI("port", "Port", "FR", "port", box(-1.56, 47.19, -1.49, 47.215), "test")


def test_rise_is_significant_flat_is_not():
    assert count_rise_test(BASELINE, [11, 12]).p_value < 1e-4
    assert count_rise_test(BASELINE, [9]).p_value < 0.05
    assert count_rise_test(BASELINE, [3, 4]).p_value > 0.3
    assert count_rise_test(BASELINE, [0]).p_value == 1.0
    flat = [4] * 12
    assert count_rise_test(flat, [4, 4]).p_value > 0.3


@pytest.mark.parametrize("mean,r,n,k", [(3.0, 4.0, 12, 2), (8.0, 2.0, 20, 1), (1.0, None, 10, 2)])
def test_null_rejection_rate_is_nominal(mean, r, n, k):
    rng = np.random.default_rng(1)
    p_nb, p_poisson = [], []
    for _ in range(1500):
        x = rng.poisson(mean, n + k) if r is None else rng.negative_binomial(r, r / (r + mean), n + k)
        p_nb.append(count_rise_test(x[:n], x[n:]).p_value)
        p_poisson.append(poisson_p_value(x[:n], x[n:]))
    rate = np.mean(np.array(p_nb) < 0.05)
    assert rate < 0.065, rate
    if r is not None and r < 3:
        # over-dispersed ports: the naive Poisson test calls ordinary days significant
        assert np.mean(np.array(p_poisson) < 0.05) > 0.12


def _claim(start: date, end: date, stance=Stance.ASSERT, cid="c", denies=()):
    return Claim(cid, "x", "y", "z", date(2021, 7, 1), stance, ("port",), TimeWindow(start, end),
                 ("large_vessels_at_berth",), denies=denies)


def _rows(counts, observed=None, start=date(2021, 4, 1), sensor="s1"):
    return [{"date": (start + timedelta(days=6 * i)).isoformat(), "sensor": sensor, "n_large": c,
             "observed_fraction": 1.0 if observed is None else observed[i]} for i, c in enumerate(counts)]


def test_claim_verdicts():
    rows = _rows(BASELINE + [12])
    window_day = date(2021, 4, 1) + timedelta(days=6 * 12)
    claims = [_claim(window_day, window_day), _claim(window_day, window_day, Stance.DENY, "d", ("c",))]
    out = {e["claim_id"]: e for e in evidence_for_claims(claims, PORT, rows)}
    assert out["c"]["verdict"] == "consistent with the claim" and out["c"]["p_value"] < 0.01
    assert "negative-binomial" in out["c"]["rationale"]
    assert out["d"]["verdict"] == "inconsistent with the denial"
    # the window date clouded: not observable; too short a baseline: not tested
    clouded = _rows(BASELINE + [12], observed=[1.0] * 12 + [0.3])
    assert evidence_for_claims(claims[:1], PORT, clouded)[0]["verdict"] == "not observable"
    short = _rows([3, 2, 12], start=window_day - timedelta(days=12))
    result = evidence_for_claims(claims[:1], PORT, short)[0]
    assert result["verdict"] == "not tested" and "baseline" in result["rationale"]
    # a claim on another signature gets no vessel evidence
    other = Claim("o", "x", "y", "z", date(2021, 7, 1), Stance.ASSERT, ("port",), TimeWindow(window_day, window_day),
                  ("tent_camps",))
    assert evidence_for_claims([other], PORT, rows) == []


def test_two_sensors_are_corrected_for_multiple_testing():
    rows = _rows(BASELINE + [9]) + _rows(BASELINE + [3], sensor="s2")
    window_day = date(2021, 4, 1) + timedelta(days=6 * 12)
    single = count_rise_test(BASELINE, [9]).p_value
    result = evidence_for_claims([_claim(window_day, window_day)], PORT, rows, EvidenceParams())[0]
    assert result["p_value"] == pytest.approx(min(1.0, 2 * single), rel=1e-3)
    assert "Bonferroni" in result["rationale"]


def test_counts_of_unknown_mode_are_tested_with_one_mode_and_left_out_beside_two():
    """A re-check store's rows counted before it kept the mode (None), then new ones: with every new s1 row in IW,
    the old baseline is IW's; with IW and EW rows, the old ones are of no known series and named as left out."""
    window_day = date(2021, 4, 1) + timedelta(days=6 * 12)
    def stored(row: dict, scene: str, mode: str | None) -> dict:
        return {**row, "scene": scene, "instrument_mode": mode, "datetime": f"{row['date']}T06:00:00+00:00"}

    old = [stored(r, f"old{i}", None) for i, r in enumerate(_rows(BASELINE))]
    window = stored(_rows([12], start=window_day)[0], "new", "IW")
    claim = _claim(window_day, window_day)

    [joined] = evidence_for_claims([claim], PORT, one_row_per_day(place_unknown_modes([*old, window]), series_zones([claim], PORT)))
    assert joined["verdict"] == "consistent with the claim" and set(joined["tests"]) == {"s1"}
    assert joined["tests"]["s1"]["baseline"] == BASELINE
    assert (f"12 s1 scenes counted before the store kept the instrument mode taken as IW, the mode of every s1 "
            f"scene that says it ({', '.join(f'old{i}' for i in range(12))})") in joined["rationale"]

    ew = stored(_rows([30], start=window_day - timedelta(days=2))[0], "ew", "EW")
    [apart] = evidence_for_claims([claim], PORT, one_row_per_day(place_unknown_modes([*old, ew, window]), series_zones([claim], PORT)))
    assert apart["verdict"] == "not tested" and apart["tests"] == {}
    assert "s1 IW: only 0 usable baseline dates" in apart["rationale"]
    assert (f"12 s1 scenes of unknown instrument mode left out ({', '.join(f'old{i}' for i in range(12))}): "
            "counted before the store kept the mode, and s1 was seen in EW and IW") in apart["rationale"]


def test_intervals_of_known_counts():
    # Garwood's exact 95 % interval for 10 events: 4.795 .. 18.390; over-dispersion (variance = 2 x mean) widens it
    assert mean_interval([10], 0.95) == pytest.approx((4.7954, 18.3904), abs=1e-3)
    low, high = mean_interval([10], 0.95, dispersion=2.0)
    assert low < 4.0 and high > 22.0
    assert mean_interval([0, 0], 0.95)[0] == 0.0
    # a flat baseline of 4 per date predicts one window date at 1..9; 12 lies outside
    test = count_rise_test([4] * 12, [12])
    assert test.predicted_window_sum_interval == (1, 9) and test.p_value < 0.005
    assert test.baseline_mean_interval[0] < 4 < test.baseline_mean_interval[1]
    assert test.window_mean_interval[0] > test.baseline_mean_interval[1]


@pytest.mark.parametrize("mean,r", [(8.0, 2.0), (3.0, None)])
def test_intervals_cover_at_their_level(mean, r):
    """On simulated port series (over-dispersed NB, and Poisson) the baseline-mean interval covers the true
    mean and the predicted range holds the next date about 95 % of the time."""
    rng = np.random.default_rng(2)
    covered, predicted = [], []
    for _ in range(600):
        x = rng.poisson(mean, 13) if r is None else rng.negative_binomial(r, r / (r + mean), 13)
        test = count_rise_test(x[:12], x[12:])
        covered.append(test.baseline_mean_interval[0] <= mean <= test.baseline_mean_interval[1])
        predicted.append(test.predicted_window_sum_interval[0] <= x[12] <= test.predicted_window_sum_interval[1])
    assert np.mean(covered) > 0.88 and np.mean(predicted) > 0.92


def _size_rows(all_100m, at_berth, land_mask="sar-temporal-median/13 scenes", start=date(2021, 4, 1)):
    return [{"date": (start + timedelta(days=6 * i)).isoformat(), "sensor": "s1", "n_large": a + 5,
             "n_100m": a, "n_100m_at_berth": b, "observed_fraction": 0.97, "land_mask": land_mask}
            for i, (a, b) in enumerate(zip(all_100m, at_berth))]


WINDOW_DAY = date(2021, 4, 1) + timedelta(days=6 * 12)


def test_counts_tested_are_ships_of_100_m_and_at_berth_where_the_land_model_sees_berths():
    anchorage = [3, 2, 4, 5, 1, 3, 2, 6, 3, 2, 5, 3]
    berth = [1, 0, 1, 2, 0, 1, 1, 1, 0, 1, 2, 1]
    claim = _claim(WINDOW_DAY, WINDOW_DAY)
    # the ships >= 100 m at berth rise (6 against about 1), all ships >= 100 m not significantly (6 against about 3)
    [result] = evidence_for_claims([claim], PORT, _size_rows(anchorage + [6], berth + [6]))
    assert set(result["tests"]) == {"s1", "s1 at berth"} and result["count"] == "n_100m"
    at_berth = count_rise_test(berth, [6])
    assert result["verdict"] == "consistent with the claim" and result["sensor"] == "s1"
    assert result["p_value"] == pytest.approx(2 * at_berth.p_value, rel=1e-3)  # Bonferroni over two counts
    assert "ships >= 100 m at berth" in result["rationale"] and "Bonferroni over 2 tests" in result["rationale"]
    details = result["tests"]["s1 at berth"]
    assert details["count"] == "n_100m_at_berth" and details["window"] == [6] and details["baseline"] == berth
    assert details["window_observed_fraction"] == 0.97 and details["baseline_observed_fraction"] == 0.97
    assert details["predicted_window_sum_interval"][1] < 6 and len(details["window_mean_interval"]) == 2
    # a land model that masks berthed ships (size rule): only all ships >= 100 m are tested, and 6 is no rise
    [blind] = evidence_for_claims([claim], PORT, _size_rows(anchorage + [6], berth + [6], "sar-single-scene"))
    assert set(blind["tests"]) == {"s1"} and blind["tests"]["s1"]["count"] == "n_100m"
    assert blind["verdict"] == "no evidence found" and blind["p_value"] > 0.05
    assert "ships >= 100 m in the window 6.0 per scene (95% " in blind["rationale"]
    # series stored before the size classes: the large-vessel count
    legacy = [{k: v for k, v in row.items() if k not in ("n_100m", "n_100m_at_berth")}
              for row in _size_rows(anchorage + [6], berth + [6])]
    [old] = evidence_for_claims([claim], PORT, legacy)
    assert set(old["tests"]) == {"s1"} and old["tests"]["s1"]["count"] == "n_large"
    assert old["tests"]["s1"]["window"] == [11]


def test_a_not_tested_reason_names_the_windows_zone_in_one_parenthesis():
    """The zone was put in parentheses before the parenthesis of what was needed: "before 2017-10-01 (local days
    (Europe/Paris)) (need 4; start the period earlier)"."""
    import dataclasses

    window_day = date(2021, 4, 1) + timedelta(days=6 * 2)
    claim = dataclasses.replace(_claim(window_day, window_day), time_zone="Europe/Paris")
    [few] = evidence_for_claims([claim], PORT, _rows([3, 2, 12]))
    assert few["verdict"] == "not tested"
    assert few["rationale"] == (f"s1: only 2 usable baseline dates of the 4 needed before {window_day}, local "
                                "days (Europe/Paris): start the period earlier (geo vessels --from; geo run and "
                                "geo recheck count from 180 days before the window)")
    [gap] = evidence_for_claims([claim], PORT, _rows([3, 2]))
    assert gap["rationale"] == f"s1: no scene inside the window {window_day}..{window_day}, local days (Europe/Paris)"


def test_an_aoi_whose_scenes_never_saw_water_is_not_blamed_on_cloud():
    """An AOI drawn on land (or a land layer covering it): every date saw 0 m2 of water. The claim's rationale
    said its window scenes 'saw less than 80% of the AOI's water (cloud or nodata)', true of no scene: there
    was no water to see. A series that saw water on other dates still names what hides it: for radar, which sees
    through cloud, sea ice or nodata."""
    window_day = date(2021, 4, 1) + timedelta(days=6 * 12)
    dry = [{**row, "observed_km2": 0.0} for row in _rows([0] * 13, observed=[0.0] * 13)]
    result, = evidence_for_claims([_claim(window_day, window_day)], PORT, dry)
    assert result["verdict"] == "not observable"
    assert result["rationale"] == ("s1: none of its 13 scenes saw any water in the AOI: the land mask leaves none "
                                   "(an AOI on land?) or no date was clear of sea ice and nodata")
    clouded = [{**row, "observed_km2": 0.0 if i == 12 else 3.2}
               for i, row in enumerate(_rows(BASELINE + [0], observed=[1.0] * 12 + [0.0]))]
    result, = evidence_for_claims([_claim(window_day, window_day)], PORT, clouded)
    assert result["rationale"] == "s1: the 1 scene in the window saw less than 80% of the AOI's water (sea ice or nodata)"


def test_a_denial_of_a_claim_no_date_could_check_is_not_observable_either():
    """A harbour frozen over (or clouded) on the window's date: the claim that ships came read 'not observable',
    and its denial 'no evidence found: no significant vessel rise', as if the water had been seen without ships.
    The change verdicts' denial reads 'the denied claims cannot be checked here'; so does the vessels' now, and
    a Sentinel-2 date names ice with cloud (ice is bright in the visible, left out of the water seen as cloud is)."""
    window_day = date(2021, 4, 1) + timedelta(days=6 * 12)
    frozen = [{**row, "observed_km2": 0.0 if i == 12 else 3.2}
              for i, row in enumerate(_rows(BASELINE + [0], observed=[1.0] * 12 + [0.0], sensor="s2"))]
    claims = [_claim(window_day, window_day), _claim(window_day, window_day, Stance.DENY, "d", ("c",))]
    out = {e["claim_id"]: e for e in evidence_for_claims(claims, PORT, frozen)}
    reason = "s2: the 1 scene in the window saw less than 80% of the AOI's water (cloud, ice or nodata)"
    assert out["c"]["verdict"] == "not observable" and out["c"]["rationale"] == reason, out["c"]
    assert out["d"]["verdict"] == "not observable", out["d"]
    assert out["d"]["rationale"] == f"the denied claims cannot be checked here: {reason}", out["d"]
    assert out["d"]["confidence"] == out["c"]["confidence"], out["d"]


def test_a_series_that_found_no_ship_of_the_class_on_any_date_is_no_confident_no():
    """Algiers (sen2ships) given as six dates of one scene: 15 ships >= 100 m at berth on every date, each part of the
    time-series land mask (present on every date), so ``n_100m`` 0 and ``n_100m_at_berth`` 0 everywhere; the claim of
    large ships at berth read "no evidence found, high confidence (80%)", "0.0 per scene", as if the quays were empty."""
    claim = _claim(WINDOW_DAY, WINDOW_DAY)
    [result] = evidence_for_claims([claim], PORT, _size_rows([0] * 13, [0] * 13, "water-index-temporal-median/13 scenes"))
    assert result["verdict"] == "no evidence found"
    assert result["confidence_label"] == "low", result["confidence"]
    assert "found no ship >= 100 m on any of the 13 dates" in result["rationale"]
    assert "ships it does not see" in result["rationale"] and "land mask" in result["rationale"]
    # a series that did count ships of the class keeps its confidence
    [counted_some] = evidence_for_claims([claim], PORT, _size_rows([1] * 13, [0] * 13, "water-index-temporal-median/13"))
    assert counted_some["confidence_label"] == "high" and "on any of" not in counted_some["rationale"]
