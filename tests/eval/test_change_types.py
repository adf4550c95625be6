"""The typing set and its confusion matrix (``geo.eval.change_types``) on scenes with known regions."""

from __future__ import annotations

import numpy as np

from geo.change.classify import scene_levels
from geo.eval.change_types import TILE_PX, confusion_matrix, reference_regions, type_reference
from tests.change.scenes import BANDS, URBAN, VEGETATION, WATER

BARE = np.array([0.12, 0.15, 0.18, 0.24, 0.32, 0.28])
ROOF = np.array([0.25, 0.27, 0.30, 0.33, 0.38, 0.33])


def test_confusion_matrix_counts_rows_by_class_and_scores_the_right_types():
    kinds = ["construction"] * 4 + ["water_surface"] * 2 + ["shadow"]
    types = ["new_bright_surface", "darkening", "other", "vegetation_gain", "water_change", "vessel", "shadow"]
    result = confusion_matrix(kinds, types)
    assert result["matrix"]["construction"]["other"] == 1 and result["matrix"]["construction"]["darkening"] == 1
    assert result["regions"] == {"construction": 4, "water_surface": 2, "vegetation_gain": 0,
                                 "vegetation_loss": 0, "shadow": 1}
    assert result["accuracy"]["construction"] == 0.5 and result["accuracy"]["water_surface"] == 0.5
    assert result["accuracy"]["vegetation_gain"] is None  # no region of that class: not scored
    assert result["mean_class_accuracy"] == round((0.5 + 0.5 + 1.0) / 3, 4)
    assert result["overall_accuracy"] == round(4 / 7, 4)


def _scene():
    """96 × 96 px: urban land, a river (rows 0–31, turbid after), a field greening (rows 64–79, cols 0–31),
    two labelled construction sites (bare ground → roof), every band with a little noise."""
    rng = np.random.default_rng(3)
    shape = (96, 96)
    before = np.broadcast_to(URBAN[:, None, None], (6, *shape)).copy()
    before[:, :32] = WATER[:, None, None]
    before[:, 64:80, :32] = BARE[:, None, None]
    after = before.copy()
    after[:, :32] = (WATER + np.array([0.02, 0.04, 0.06, 0.04, 0.01, 0.01]))[:, None, None]
    after[:, 64:80, :32] = VEGETATION[:, None, None]
    truth = np.zeros(shape, bool)
    for r, c in ((40, 40), (44, 70)):
        before[:, r:r + 6, c:c + 8] = BARE[:, None, None]
        after[:, r:r + 6, c:c + 8] = ROOF[:, None, None]
        truth[r:r + 6, c:c + 8] = True
    before += rng.normal(scale=0.002, size=before.shape)
    after += rng.normal(scale=0.002, size=after.shape)
    return before, after, np.ones(shape, bool), truth


def test_reference_regions_of_a_known_scene():
    before, after, valid, truth = _scene()
    refs = reference_regions("test", before, after, valid, truth, BANDS)
    kinds = [r.kind for r in refs]
    assert kinds.count("construction") == 2 and {r.pixels for r in refs if r.kind == "construction"} == {48}
    # The river, eroded by 2 px (from the image's edges too), holds more tiles than the 12 wanted.
    assert kinds.count("water_surface") == 12
    assert all(TILE_PX**2 // 2 <= r.pixels <= TILE_PX**2 for r in refs if r.kind == "water_surface")
    # The greening field (16 × 32, eroded by 1 px) holds tiles of at least half their area.
    assert 2 <= kinds.count("vegetation_gain") <= 8 and kinds.count("vegetation_loss") == 0
    assert kinds.count("shadow") == 12
    levels = scene_levels(before, after, valid, BANDS)
    typed = {(r.kind, type_reference(r, levels)) for r in refs}
    assert {t for k, t in typed if k == "construction"} == {"new_bright_surface"}
    assert {t for k, t in typed if k == "water_surface"} == {"water_change"}
    assert {t for k, t in typed if k == "vegetation_gain"} == {"vegetation_gain"}


def test_simulated_shadow_darkens_every_band_and_the_long_wavelengths_most():
    before, after, valid, truth = _scene()
    refs = [r for r in reference_regions("test", before, after, valid, truth, BANDS) if r.kind == "shadow"]
    into = refs[0]  # even tiles: shadow on the after date
    ratios = np.array([into.after[b] / into.before[b] for b in BANDS])
    assert (ratios < 1).all() and ratios[0] > ratios[3] > ratios[5]
    out = refs[1]  # odd tiles: shadow on the before date
    assert all(out.before[b] < out.after[b] for b in BANDS)
