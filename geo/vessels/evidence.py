"""Vessel counts as claim evidence: is large-vessel presence inside a claim's window higher than the AOI's
own baseline (the dates before the window)?

The test: a one-sided **negative-binomial posterior-predictive test** of the window's total count.

* Counts of ships in a port are over-dispersed: arrivals cluster, and the variance across dates is
  usually well above the mean. A Poisson test would call ordinary busy days significant.
* The window of a claim is short (days), so it holds one to three scenes. A rank test (Mann-Whitney)
  cannot then reach significance at all: with one window scene and n baseline scenes its smallest
  p-value is 1 / (n + 1).
* So the baseline counts fix a negative binomial: dispersion ``r`` by moments (variance = m + m^2 / r;
  Poisson when the baseline is not over-dispersed), and the uncertainty of its mean from only n dates
  is integrated out with a Beta(1/2, 1/2) prior on the NB probability. The window's sum over k scenes
  then has a beta-negative-binomial predictive distribution, and the p-value is its upper tail at the
  observed sum. Under no change the p-value is (conservatively) uniform; the tests check that on
  simulated series.

What is counted: ships >= 100 m (``n_100m``: the class troop transport turns on), and, where the land model
sees ships at berth (a time-series median, or objects on the water in a single scene), also those at berth
(``n_100m_at_berth``) as a second test; every sensor x count is one test of one hypothesis (Bonferroni).
Series without these columns (stores written before them) fall back to ``n_large``. Each test reports
the uncertainty with the counts: a 95 % interval of the window's and of the baseline's mean count per
scene (Garwood's exact Poisson interval, widened by the baseline's over-dispersion variance / mean), the
95 % range of the window sum the baseline predicts, and the share of the AOI's water the dates saw.

Each verdict carries a confidence (0..1, labelled like ``geo.verdicts``): a significant rise, 1 - p; no rise,
the share of the AOI's water the window's scenes saw, capped like the change verdicts (ships shorter than
the large-vessel length, or hidden among others, are not counted); a window clouded over, how far its view
fell short of the needed share; a denial, that of the denied claim it contradicts (0.2 when none: absence
cannot confirm a denial).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special, stats

from geo.claim_days import DayZone, claim_zone
from geo.claims import VESSEL_SIGNATURE, Claim, Stance, TimeWindow
from geo.link import CONSISTENT, INCONSISTENT_WITH_DENIAL, NO_EVIDENCE, NOT_OBSERVABLE, NOT_TESTED
from geo.verdicts import NO_EVIDENCE_CAP, WEAK_EVIDENCE_CAP, confidence_label
from geo.vessels.period import BASELINE_DAYS
from geo.vessels.series import known_modes, mode_unknown, row_day, series_namer
from geo.words import counted

if TYPE_CHECKING:
    from geo.aoi import AOI

METHOD = "negative-binomial posterior-predictive test (one-sided, window sum vs AOI baseline)"
PRIOR = 0.5  # Beta(1/2, 1/2) on the NB probability (Jeffreys for a Poisson rate in the limit)


@dataclass(frozen=True)
class EvidenceParams:
    alpha: float = 0.05
    min_baseline_dates: int = 4
    min_observed_fraction: float = 0.8  # a date counts only if this share of the AOI's sea was seen
    large_length_m: float = 50.0
    count: str = "n_100m"  # the count tested (series column), everywhere the land model allows
    berth_count: str = "n_100m_at_berth"  # tested too where the land model sees ships at berth
    fallback_count: str = "n_large"  # series stored before the size-class columns
    interval: float = 0.95


BERTH_AWARE_LAND = ("temporal-median", "objects-on-water")  # land_mask methods that keep berthed ships as sea
COUNT_NAMES = {"n_100m": "ships >= 100 m", "n_100m_at_berth": "ships >= 100 m at berth"}


@dataclass(frozen=True)
class CountTest:
    baseline: tuple[int, ...]
    window: tuple[int, ...]
    baseline_mean: float
    baseline_variance: float
    dispersion_r: float | None  # None: Poisson (baseline not over-dispersed)
    expected_window_sum: float
    observed_window_sum: int
    p_value: float
    # uncertainty (``interval``, e.g. 95 %): the window's and the baseline's mean count per scene, and the
    # range of the window sum the baseline predicts
    window_mean_interval: tuple[float, float] = (0.0, 0.0)
    baseline_mean_interval: tuple[float, float] = (0.0, 0.0)
    predicted_window_sum_interval: tuple[int, int] = (0, 0)
    interval: float = 0.95
    count: str = "n_large"  # the series column tested
    window_observed_fraction: float | None = None  # mean share of the AOI's water the dates saw
    baseline_observed_fraction: float | None = None
    method: str = METHOD

    @property
    def window_mean(self) -> float:
        return self.observed_window_sum / len(self.window)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["baseline"], out["window"] = list(self.baseline), list(self.window)
        out["window_mean"] = round(self.window_mean, 4)
        for key in ("window_mean_interval", "baseline_mean_interval"):
            out[key] = [round(v, 3) for v in out[key]]
        out["predicted_window_sum_interval"] = list(self.predicted_window_sum_interval)
        for key in ("baseline_mean", "baseline_variance", "expected_window_sum"):
            out[key] = round(out[key], 4)
        out["dispersion_r"] = None if self.dispersion_r is None else round(self.dispersion_r, 4)
        out["p_value"] = float(f"{self.p_value:.4g}")
        return out


def _bnb_log_pmf(s: np.ndarray, n: float, a: float, b: float) -> np.ndarray:
    """Beta-negative-binomial log pmf (real ``n``): NB(n, p) with p ~ Beta(a, b)."""
    return (special.gammaln(n + s) - special.gammaln(s + 1) - special.gammaln(n)
            + special.betaln(a + n, b + s) - special.betaln(a, b))


def mean_interval(counts: Sequence[int], level: float, dispersion: float = 1.0) -> tuple[float, float]:
    """Interval of the mean count per date: Garwood's exact Poisson interval on the total, widened for an
    over-dispersed series (quasi-Poisson: the total divided by ``dispersion`` = variance / mean >= 1)."""
    n, total = len(counts), float(sum(counts))
    phi = max(1.0, dispersion)
    tail = (1.0 - level) / 2
    low = 0.0 if total == 0 else stats.chi2.ppf(tail, 2 * total / phi) / 2
    high = stats.chi2.ppf(1.0 - tail, 2 * total / phi + 2) / 2
    return float(low * phi / n), float(high * phi / n)


def _central(pmf: np.ndarray, level: float) -> tuple[int, int]:
    cdf = np.cumsum(pmf)
    tail = (1.0 - level) / 2
    return int(np.searchsorted(cdf, tail)), int(np.searchsorted(cdf, 1.0 - tail))


def count_rise_test(baseline: Sequence[int], window: Sequence[int], level: float = 0.95) -> CountTest:
    """P(window sum >= observed | baseline) under the NB predictive; small means a significant rise. With
    ``level`` intervals of the window's and the baseline's mean and of the predicted window sum."""
    if len(baseline) < 2 or len(window) == 0:
        raise ValueError("need at least 2 baseline counts and 1 window count")
    x = np.asarray(baseline, dtype=float)
    n, k, total = len(x), len(window), float(x.sum())
    observed = int(sum(window))
    mean, variance = float(x.mean()), float(x.var(ddof=1))
    support = np.arange(int(max(observed, k * mean) * 10 + 100))  # the predictive's mass lies far below
    if variance > mean > 0:
        r = mean * mean / (variance - mean)
        pmf = np.exp(_bnb_log_pmf(support, k * r, PRIOR + n * r, PRIOR + total))
        p_value = float(max(0.0, 1.0 - pmf[:observed].sum())) if observed > 0 else 1.0
        dispersion: float | None = r
    else:
        # Poisson rate with a Jeffreys Gamma(T + 1/2, n) posterior -> the window sum is NB(T + 1/2, n/(n+k)).
        pmf = stats.nbinom.pmf(support, total + 0.5, n / (n + k))
        p_value = float(stats.nbinom.sf(observed - 1, total + 0.5, n / (n + k))) if observed > 0 else 1.0
        dispersion = None
    phi = variance / mean if mean > 0 else 1.0
    return CountTest(tuple(int(v) for v in baseline), tuple(int(v) for v in window), mean, variance, dispersion,
                     k * mean, observed, min(max(p_value, 0.0), 1.0),
                     mean_interval(window, level, phi), mean_interval(baseline, level, phi), _central(pmf, level), level)


Rows = list[Mapping[str, Any]]


def _split(rows: Sequence[Mapping[str, Any]], window: TimeWindow, zone: DayZone, p: EvidenceParams,
           series: str, series_name: Callable[[Mapping[str, Any]], str]) -> tuple[Rows, Rows, Rows]:
    seen = [r for r in rows if series_name(r) == series]
    usable = [r for r in seen if r["observed_fraction"] >= p.min_observed_fraction]
    baseline = [r for r in usable if row_day(r, zone) < window.start]
    inside = [r for r in usable if window.start <= row_day(r, zone) <= window.end]
    inside_seen = [r for r in seen if window.start <= row_day(r, zone) <= window.end]
    return baseline, inside, inside_seen


def vessel_evidence(
    claim: Claim, aoi: AOI, rows: Sequence[Mapping[str, Any]], params: EvidenceParams = EvidenceParams()
) -> dict[str, Any] | None:
    """The vessel evidence for an asserting ``claim`` on ``aoi`` from the AOI's time-series ``rows``
    (see ``series.series_rows``), or None when the claim does not predict vessels there. A row is in the
    window, or in the baseline before it, by the window's days (``geo.claim_days``)."""
    aoi_id = aoi.id
    if VESSEL_SIGNATURE not in claim.signatures or aoi_id not in claim.aoi_ids or claim.stance is not Stance.ASSERT:
        return None
    start, zone = claim.window.start, claim_zone(claim, aoi)
    days = f", {zone.label()}" if zone.label() else ""
    # Rows of unknown mode among a sensor's several modes (``series.place_unknown_modes``): in no series
    unknown = [r for r in rows if mode_unknown(r)]
    rows = [r for r in rows if not mode_unknown(r)]
    # A series per sensor, and per instrument mode where a sensor was seen in several: like is compared with
    # like (EW's 40 m pixels do not count what IW's 10 m count, so mixed dates read as a drop or a rise)
    series_name = series_namer(rows)
    sensors = sorted({series_name(r) for r in rows})
    tests: dict[str, CountTest] = {}
    reasons: list[str] = []
    window_clouded = False
    seen: dict[str, list[float]] = {"tested": [], "clouded": []}  # observed fractions of the window's dates
    for sensor in sensors:
        baseline, window, window_seen = _split(rows, claim.window, zone, params, sensor, series_name)
        if not window:
            series = [r for r in rows if series_name(r) == sensor]
            if window_seen:
                window_clouded = True
                seen["clouded"] += [float(r["observed_fraction"]) for r in window_seen]
                # no date saw water at all: more likely no water to see (an AOI on land) than cloud on each
                # optical: ice (a harbour frozen over, pack ice) is bright in the visible and left out as cloud is;
                # radar sees through cloud, and leaves out ice fields (geo.vessels.ice)
                hidden = "cloud, ice" if sensor.startswith("s2") else "sea ice"
                reasons.append(
                    f"{sensor}: none of its {counted(len(series), 'scene')} saw any water in the AOI: the land mask leaves "
                    f"none (an AOI on land?) or no date was clear of {hidden} and nodata"
                    if all(r.get("observed_km2") == 0 for r in series) else
                    f"{sensor}: the {counted(len(window_seen), 'scene')} in the window saw less than "
                    f"{params.min_observed_fraction:.0%} of the AOI's water ({hidden} or nodata)")
            else:
                reasons.append(f"{sensor}: no scene inside the window {start}..{claim.window.end}{days}")
            continue
        if len(baseline) < params.min_baseline_dates:
            reasons.append(f"{sensor}: only {counted(len(baseline), 'usable baseline date')} of the "
                           f"{params.min_baseline_dates} needed before {start}{days}: start the period earlier (geo vessels "
                           f"--from; geo run and geo recheck count from {BASELINE_DAYS} days before the window)")
            continue
        for name, column in _counts(baseline + window, params).items():
            test = count_rise_test([r[column] for r in baseline], [r[column] for r in window], params.interval)
            tests[f"{sensor}{name}"] = replace(
                test, count=column, window_observed_fraction=_mean_seen(window),
                baseline_observed_fraction=_mean_seen(baseline))
        seen["tested"] += [float(r["observed_fraction"]) for r in window]
    result: dict[str, Any] = {
        "claim_id": claim.id, "aoi_id": aoi_id, "signature": VESSEL_SIGNATURE,
        "window": claim.window.to_dict(), "window_time_zone": zone.name, "large_length_m": params.large_length_m,
        "alpha": params.alpha,
        "count": params.count,
        "tests": {s: t.to_dict() for s, t in tests.items()},
    }
    reasons += (_other_modes(rows, claim.window.end, zone, set(tests), series_name)
                + _unknown_modes(rows, unknown, claim.window.end, zone))
    if not tests:
        verdict = NOT_OBSERVABLE if window_clouded and not any("no scene" in r for r in reasons) else NOT_TESTED
        confidence = None
        if verdict == NOT_OBSERVABLE:
            shortfall = 1.0 - float(np.mean(seen["clouded"])) / params.min_observed_fraction
            confidence = round(0.5 + 0.5 * max(0.0, shortfall), 3)
        return {**result, "verdict": verdict, "p_value": None, **_confidence(confidence),
                "rationale": "; ".join(reasons) or "no scenes"}
    # Several sensors and counts are several tests of one hypothesis: Bonferroni.
    name, best = min(tests.items(), key=lambda item: item[1].p_value)
    sensor = name.split(" ")[0]
    p_value = min(1.0, best.p_value * len(tests))
    window_mean = best.window_mean
    summary = f"{_describe(name, best, params)}; {METHOD}: p = {p_value:.3g}" + (
        f" (Bonferroni over {len(tests)} tests: {', '.join(tests)})" if len(tests) > 1 else "")
    if p_value < params.alpha and window_mean > best.baseline_mean:
        verdict, rationale = CONSISTENT, f"significant rise at alpha {params.alpha}: {summary}"
        confidence = 1.0 - p_value
    else:
        verdict, rationale = NO_EVIDENCE, f"no significant rise at alpha {params.alpha}: {summary}"
        confidence = min(NO_EVIDENCE_CAP, float(np.mean(seen["tested"])))
        if not any(sum(t.baseline) + t.observed_window_sum for t in tests.values()):
            # nothing of the class on any date: an empty port, or ships the detector cannot see (moored through the
            # period, so part of a time-series land mask; painted land by a single scene's): no confident "no"
            what = COUNT_NAMES.get(best.count, f"large vessels (>= {params.large_length_m:.0f} m)")
            rationale += (f"; the detector found no {what.replace('ships', 'ship', 1)} on any of the "
                          f"{len(best.baseline) + len(best.window)} dates: an empty port and ships it does not see look "
                          "alike (a ship moored through most of the period is part of a time-series land mask)")
            confidence = min(confidence, WEAK_EVIDENCE_CAP)
    if reasons:
        rationale += "; " + "; ".join(reasons)
    return {**result, "verdict": verdict, "p_value": float(f"{p_value:.4g}"), "sensor": sensor,
            **_confidence(round(confidence, 3)), "rationale": rationale}


def _other_modes(rows: Sequence[Mapping[str, Any]], end: date, zone: DayZone, tested: set[str],
                 series_name: Callable[[Mapping[str, Any]], str]) -> list[str]:
    """For a sensor seen in several instrument modes, a sentence per mode whose scenes up to the window's end
    no test used: they were not compared with the other modes' counts."""
    by_sensor: dict[str, set[str]] = {}  # each sensor's series
    for row in rows:
        by_sensor.setdefault(str(row["sensor"]), set()).add(series_name(row))
    sentences = []
    for name, others in ((n, sorted(names - {n})) for _, names in sorted(by_sensor.items()) for n in sorted(names)):
        if not others or any(t.removesuffix(" at berth") == name for t in tested):
            continue
        mine = [r for r in rows if series_name(r) == name and row_day(r, zone) <= end]
        if mine:
            mode = mine[0].get("instrument_mode") or "unsaid"
            sentences.append(
                f"{counted(len(mine), name + ' scene')} left out ({', '.join(r['scene'] for r in mine)}): instrument mode "
                f"{mode} is not compared with {', '.join(others)} (pixel size differs: IW 10 m, EW 40 m, which "
                f"misses small ships)")
    return sentences


def _unknown_modes(rows: Sequence[Mapping[str, Any]], unknown: Sequence[Mapping[str, Any]], end: date,
                   zone: DayZone) -> list[str]:
    """A sentence per sensor whose scenes of unknown mode up to the window's end were left out (``unknown``) or
    taken to be of the mode of all the others (``mode_assumed``)."""
    sentences = []
    modes = known_modes(rows)
    for sensor in sorted({str(r["sensor"]) for r in (*rows, *unknown)}):
        left = [r["scene"] for r in unknown if r["sensor"] == sensor and row_day(r, zone) <= end]
        if left:
            seen = " and ".join(sorted(m or "unsaid" for m in modes.get(sensor, ())))
            sentences.append(
                f"{counted(len(left), sensor + ' scene')} of unknown instrument mode left out ({', '.join(left)}): counted "
                f"before the store kept the mode" + (f", and {sensor} was seen in {seen}" if seen else ""))
        taken = [r for r in rows if r["sensor"] == sensor and r.get("mode_assumed") and row_day(r, zone) <= end]
        if taken:
            sentences.append(
                f"{counted(len(taken), sensor + ' scene')} counted before the store kept the instrument mode taken as "
                f"{taken[0]['instrument_mode']}, the mode of every {sensor} scene that says it "
                f"({', '.join(r['scene'] for r in taken)})")
    return sentences


def _counts(rows: Rows, p: EvidenceParams) -> dict[str, str]:
    """The columns to test for one sensor's rows, by test-name suffix: ``count`` (or ``fallback_count`` in
    series stored without it) and, where every row's land model keeps berthed ships as sea, ``berth_count``."""
    if not all(p.count in r for r in rows):
        return {"": p.fallback_count}
    berths = all(p.berth_count in r and any(m in str(r.get("land_mask", "")) for m in BERTH_AWARE_LAND)
                 for r in rows)
    return {"": p.count, " at berth": p.berth_count} if berths else {"": p.count}


def _mean_seen(rows: Rows) -> float:
    return round(float(np.mean([float(r["observed_fraction"]) for r in rows])), 4)


def _describe(name: str, t: CountTest, p: EvidenceParams) -> str:
    what = COUNT_NAMES.get(t.count, f"large vessels (>= {p.large_length_m:.0f} m)")
    level = f"{t.interval:.0%}"
    return (f"{name}: {what} in the window {t.window_mean:.1f} per scene ({level} {t.window_mean_interval[0]:.1f}-"
            f"{t.window_mean_interval[1]:.1f}) over {counted(len(t.window), 'scene')} seeing {t.window_observed_fraction:.0%} "
            f"of the water vs baseline {t.baseline_mean:.1f} per scene ({level} {t.baseline_mean_interval[0]:.1f}-"
            f"{t.baseline_mean_interval[1]:.1f}; variance {t.baseline_variance:.1f}) over {len(t.baseline)} dates "
            f"seeing {t.baseline_observed_fraction:.0%}; the baseline predicts a window sum of "
            f"{t.predicted_window_sum_interval[0]}-{t.predicted_window_sum_interval[1]} ({level}), observed "
            f"{t.observed_window_sum}")


def _confidence(value: float | None) -> dict[str, Any]:
    return {"confidence": value, "confidence_label": confidence_label(value)}


def evidence_for_claims(
    claims: Sequence[Claim], aoi: AOI, rows: Sequence[Mapping[str, Any]], params: EvidenceParams = EvidenceParams()
) -> list[dict[str, Any]]:
    """Vessel evidence for every claim naming ``aoi`` with the vessel signature; a denial of such claims
    is inconsistent with the imagery when a claim it denies found a significant rise here."""
    aoi_id = aoi.id
    asserted = {c.id: e for c in claims if (e := vessel_evidence(c, aoi, rows, params)) is not None}
    out = list(asserted.values())
    for claim in claims:
        if claim.stance is Stance.DENY and aoi_id in claim.aoi_ids and VESSEL_SIGNATURE in claim.signatures:
            supported = [d for d in claim.denies if asserted.get(d, {}).get("verdict") == CONSISTENT]
            tested = [asserted[d] for d in claim.denies if d in asserted]
            if not supported and tested and all(e["verdict"] in (NOT_OBSERVABLE, NOT_TESTED) for e in tested):
                # nothing seen in what it denies (a frozen or clouded window): not "no vessel rise", as the change
                # verdicts' denials say
                worst = tested[0]
                out.append({"claim_id": claim.id, "aoi_id": aoi_id, "signature": VESSEL_SIGNATURE,
                            "window": claim.window.to_dict(), "window_time_zone": claim_zone(claim, aoi).name,
                            "verdict": worst["verdict"], "p_value": None, **_confidence(worst["confidence"]),
                            "rationale": "the denied claims cannot be checked here: " + worst["rationale"][0].lower()
                            + worst["rationale"][1:]})
                continue
            verdict = INCONSISTENT_WITH_DENIAL if supported else NO_EVIDENCE
            confidence = max(asserted[d]["confidence"] for d in supported) if supported else 0.2
            rationale = (f"a significant rise in large vessels on {aoi_id} supports the denied "
                         f"claim{'s' if len(supported) > 1 else ''} {', '.join(supported)}" if supported else
                         f"no significant vessel rise on {aoi_id} for the denied claims; imagery cannot confirm a denial")
            out.append({"claim_id": claim.id, "aoi_id": aoi_id, "signature": VESSEL_SIGNATURE,
                        "window": claim.window.to_dict(), "window_time_zone": claim_zone(claim, aoi).name,
                        "verdict": verdict, "p_value": None,
                        **_confidence(confidence), "rationale": rationale})
    return out


def poisson_p_value(baseline: Sequence[int], window: Sequence[int]) -> float:
    """The naive alternative (equal Poisson rates, conditional binomial test), for comparison only."""
    n, k = len(baseline), len(window)
    total = int(sum(baseline)) + int(sum(window))
    return float(stats.binomtest(int(sum(window)), total, k / (n + k), alternative="greater").pvalue) if total else 1.0
