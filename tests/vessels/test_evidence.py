"""The evidence statistic on synthetic count series: a rise is significant, a flat series is not, and
under no change the test rejects at its nominal rate (where a Poisson test over-calls)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from geo.claims import Claim, Stance, TimeWindow
from geo.vessels.evidence import EvidenceParams, count_rise_test, evidence_for_claims, poisson_p_value

BASELINE = [3, 2, 4, 5, 1, 3, 2, 6, 3, 2, 5, 3]


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
    out = {e["claim_id"]: e for e in evidence_for_claims(claims, "port", rows)}
    assert out["c"]["verdict"] == "consistent with the claim" and out["c"]["p_value"] < 0.01
    assert "negative-binomial" in out["c"]["rationale"]
    assert out["d"]["verdict"] == "inconsistent with the denial"
    # the window date clouded: not observable; too short a baseline: not tested
    clouded = _rows(BASELINE + [12], observed=[1.0] * 12 + [0.3])
    assert evidence_for_claims(claims[:1], "port", clouded)[0]["verdict"] == "not observable"
    short = _rows([3, 2, 12], start=window_day - timedelta(days=12))
    result = evidence_for_claims(claims[:1], "port", short)[0]
    assert result["verdict"] == "not tested" and "baseline" in result["rationale"]
    # a claim on another signature gets no vessel evidence
    other = Claim("o", "x", "y", "z", date(2021, 7, 1), Stance.ASSERT, ("port",), TimeWindow(window_day, window_day),
                  ("tent_camps",))
    assert evidence_for_claims([other], "port", rows) == []


def test_two_sensors_are_corrected_for_multiple_testing():
    rows = _rows(BASELINE + [9]) + _rows(BASELINE + [3], sensor="s2")
    window_day = date(2021, 4, 1) + timedelta(days=6 * 12)
    single = count_rise_test(BASELINE, [9]).p_value
    result = evidence_for_claims([_claim(window_day, window_day)], "port", rows, EvidenceParams())[0]
    assert result["p_value"] == pytest.approx(min(1.0, 2 * single), rel=1e-3)
    assert "Bonferroni" in result["rationale"]
