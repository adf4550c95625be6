"""``geo coreg --json`` gives the same keys whichever way the shift was measured: `blocks_decoded` and
`pixels_decoded` were there only when windows were read (a large overlap), so a script reading them failed with
a KeyError on small files and with --local; they are null when the whole overlap was read."""

from __future__ import annotations

import json

from tests.conftest import REPO

DEMO = REPO / "scenes" / "demo"
REF = str(DEMO / "S2_30TXT_20171014_L1C_nantes" / "red.tif")
TGT = str(DEMO / "S2A_30TXT_20150821_L1C_nantes" / "red.tif")
KEYS = {"dx_px", "dy_px", "dx_m", "dy_m", "quality", "sigma_px", "n_windows", "spread_px", "n_pixels", "iterations",
        "method", "blocks_decoded", "pixels_decoded", "applied_model", "warnings"}


def test_the_same_keys_on_a_small_overlap_with_and_without_local(user):
    plain = json.loads(user("coreg", REF, TGT, "--json").stdout)
    local = json.loads(user("coreg", REF, TGT, "--json", "--local", "--window", "64", "--spacing", "64").stdout)
    assert set(plain) == KEYS
    assert set(local) == KEYS | {"local"}
    assert plain["blocks_decoded"] is None and plain["pixels_decoded"] is None  # read whole, not in windows
    assert local["applied_model"] in ("affine", "smooth") and local["pixels_decoded"] is None
