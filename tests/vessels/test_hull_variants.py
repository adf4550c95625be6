"""The hull-model variants of ``benchmarks/vessel_hull_variants.py``: per-scene self-normalisation on tables of
known numbers (two ports whose measures differ by a scale and an offset come out the same), the open-water
rule and the default land model's open-water detections on drawn candidates, and on a crop of a REAL port
(sen2ships Algiers, cut at test time): a ship alone in the outer harbour, which ``--berthed``'s shipped hull
model drops, is kept when open water is left to the detector."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from benchmarks.vessel_hull_variants import (
    kept_by_place, median_centred, ranks, robust_z, scene_normalised, with_default_open_water)
from benchmarks.vessel_ports import Truth
from benchmarks.vessel_ship_model import PortCandidates, collect, fit_hull_model
from geo.vessels.candidates import FEATURES
from geo.vessels.job import VesselParams
from geo.vessels.ship_model import shipped_model
from tests.vessels import sen2ships


def test_robust_z_and_ranks_on_known_numbers():
    x = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])  # median 3, MAD 1
    assert median_centred(x)[:, 0].tolist() == [-2.0, -1.0, 0.0, 1.0, 97.0]
    np.testing.assert_allclose(robust_z(x)[:, 0], np.array([-2.0, -1.0, 0.0, 1.0, 97.0]) / 1.4826)
    np.testing.assert_allclose(ranks(np.array([[0.3], [0.1], [0.3], [0.9]]))[:, 0], [0.5, 0.125, 0.5, 0.875])


def _part(name: str, table: np.ndarray, at_berth: list[bool], points: list[tuple[float, float]] | None = None,
          truth: Truth | None = None) -> PortCandidates:
    n = len(table)
    truth = truth or Truth([], np.zeros(0, bool), np.zeros(0), 1.0)
    return PortCandidates(name, points or [(float(i), 0.0) for i in range(n)], table, np.zeros(n, bool), truth,
                          np.array(at_berth))


def test_scene_normalisation_removes_a_ports_own_scale_and_offset_from_the_named_columns_only():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(9, len(FEATURES)))
    shifted = base * 3.0 + 0.5  # another port: the same candidates measured 3x larger and 0.5 higher
    parts = [_part("a", base, [True] * 9), _part("b", shifted, [True] * 9)]
    spectral = [FEATURES.index("mndwi"), FEATURES.index("swir_over_nir")]
    other = FEATURES.index("log_elongation")
    for normaliser in (robust_z, ranks):
        a, b = scene_normalised(parts, normaliser, ("mndwi", "swir_over_nir"))
        np.testing.assert_allclose(a.table[:, spectral], b.table[:, spectral])
        assert not np.allclose(parts[0].table[:, spectral], a.table[:, spectral])
        assert a.table[:, other].tolist() == base[:, other].tolist()  # not named: as measured
        assert b.table[:, other].tolist() == shifted[:, other].tolist()
    a, _ = scene_normalised(parts, robust_z, ("mndwi",))
    assert abs(float(np.median(a.table[:, FEATURES.index("mndwi")]))) < 1e-12


def test_open_water_candidates_follow_their_own_threshold():
    part = _part("p", np.zeros((4, len(FEATURES))), [True, True, False, False])
    probability = np.array([0.1, 0.3, 0.1, 0.3])
    assert kept_by_place(part, probability, 0.2, 0.2).tolist() == [False, True, False, True]
    assert kept_by_place(part, probability, 0.2, 0.0).tolist() == [False, True, True, True]
    assert kept_by_place(part, probability, 0.5, 0.05).tolist() == [False, False, True, True]


def test_default_open_water_detections_join_unless_a_candidate_is_there_or_they_are_at_berth():
    truth = Truth([(0, 0, 4, 4), (20, 20, 24, 24), (40, 40, 44, 44)], np.array([False, False, True]),
                  np.array([100.0, 100.0, 100.0]), 1.0)
    table = np.arange(2 * len(FEATURES), dtype=float).reshape(2, -1)
    berthed = _part("p", table, [False, True], [(2.0, 2.0), (41.0, 41.0)], truth)
    default = _part("p", table[::-1] + 100.0, [False, False], [(3.0, 4.0), (22.0, 22.0)], truth)
    default = replace(default, points=default.points + [(42.0, 43.0)], table=np.vstack([default.table, table[:1]]),
                      hit=np.zeros(3, bool), at_berth=np.array([False, False, True]))
    (union,) = with_default_open_water([berthed], [default])
    # (3, 4) lies 2.2 px from the candidate at (2, 2); (42, 43) is at berth by the default land model
    assert union.points == [(2.0, 2.0), (41.0, 41.0), (22.0, 22.0)]
    assert union.at_berth.tolist() == [False, True, False]
    assert union.hit.tolist() == [True, True, True]
    assert union.table[2].tolist() == default.table[1].tolist()


# A 180 m ship alone in Algiers' outer harbour, centre at row 437, col 948 of the port
ALGIERS_SHIP = (437, 948)


@pytest.mark.skipif(not sen2ships.available(), reason="no sen2ships ports in ../shared/data")
def test_on_a_real_crop_an_open_water_ship_the_hull_model_drops_is_kept_when_open_water_is_left_to_the_detector():
    row, col = ALGIERS_SHIP
    crop = sen2ships.load_port("algiers").crop(slice(row - 60, row + 60), slice(col - 60, col + 60))
    _, labels = np.unique(crop.ships, return_inverse=True)  # the crop's ships numbered 1.. again
    crop = replace(crop, ships=labels.reshape(crop.ships.shape).astype(np.int32))
    (part,) = collect([crop])
    (default,) = collect([crop], VesselParams())
    assert len(part.points) == 1 and math.dist(part.points[0], (60, 60)) < 1.0
    assert part.hit.tolist() == [True] and part.at_berth.tolist() == [False]
    model = shipped_model()
    probability = model.probability(part.table)
    assert 0.1 < probability[0] < model.threshold  # --berthed drops it
    assert kept_by_place(part, probability, model.threshold, model.threshold).tolist() == [False]
    assert kept_by_place(part, probability, model.threshold, 0.0).tolist() == [True]
    # the default land model finds it too, at the same place: nothing is added twice
    assert len(default.points) == 1 and not default.at_berth[0]
    (union,) = with_default_open_water([part], [default])
    assert union.points == part.points


def test_a_scene_rank_is_fitted_on_each_ports_own_ranks():
    """Two ports, one measuring everything 10x higher: pooled, its candidates would hold every top rank;
    ranked per port, each port's ranks are 1/8 .. 7/8 and their mean is 0.5."""
    table = np.zeros((4, len(FEATURES)))
    table[:, FEATURES.index("mndwi")] = [0.1, 0.2, 0.3, 0.4]
    parts = [replace(_part(name, t, [True] * 4), hit=np.array([False, True, False, True]))
             for name, t in (("a", table), ("b", table * 10.0))]
    model = fit_hull_model(parts, ("mndwi", "scene_rank:mndwi"))
    assert model.mean[1] == pytest.approx(0.5)
    assert model.scale[1] == pytest.approx(float(np.std([0.125, 0.375, 0.625, 0.875])), abs=1e-6)
    assert model.mean[0] == pytest.approx(1.375)  # the plain measure pooled: (1 + 10) x 0.25 / 2
