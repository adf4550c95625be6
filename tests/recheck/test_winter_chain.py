"""A scheduled re-check through a winter: the site's Sentinel-2 scenes after its autumn head lie under snow (SCL
class 11, the bands snow's), then one after the melt. Known truth: each snowy pair is skipped with a snow reason,
the chain stays on its autumn head, the Sentinel-1 chain starts (--sensor auto, a source holding Sentinel-1) as
for a clouded pair, and the mail cron sends ($GEO_RECHECK_TEXT) says which sensor judged each claim: its lines
read "claim sar-build on sar-site: consistent with the claim", the terminal's "(Sentinel-1)" left out, so a
Sentinel-2 and a Sentinel-1 verdict on one claim read as two contradicting lines. After the melt the
Sentinel-2 chain pairs the autumn head with the first clear scene."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pystac
import rasterio

from tests import synthetic
from tests.change import sar_scenes as sim
from tests.recheck.conftest import ALGORITHM_VERSION, SHAPE, build_series
from tests.recheck.test_sar_chain import AOI_PIXELS, LATE_OTHER, S1_IDS, _sar_items

AUTUMN, SNOWED, SNOWED_AGAIN, MELTED = "S2A_SYN_20220301", "S2A_SYN_20220405", "S2A_SYN_20220420", "S2A_SYN_20220501"
SNOW = np.array([0.85, 0.82, 0.79, 0.70, 0.12, 0.09])[:, None, None]  # blue ... swir22: NDSI 0.74
WHY = "snow or ice on one date only, a season's change"
MAIL = 'printf "%s\\n" "$GEO_RECHECK_TEXT" >> mail.txt'


def _snowed_scene(series, scene_id: str, when) -> None:
    rng = np.random.default_rng(when.day)
    series.add_scene(scene_id, when, SNOW + rng.normal(scale=0.004, size=(6, *SHAPE)))  # all of the grid
    folder = series.scenes_dir / "data" / scene_id
    with rasterio.open(folder / "blue.tif") as ref:
        profile = {**ref.profile, "dtype": "uint8", "nodata": 0}
    with rasterio.open(folder / "scl.tif", "w", **profile) as dst:
        dst.write(np.full(SHAPE, 11, np.uint8), 1)
    item = series.item(scene_id)
    item.add_asset("scl", pystac.Asset(href=str(folder / "scl.tif"), media_type=pystac.MediaType.GEOTIFF,
                                       roles=["data"]))
    (series.scenes_dir / "items" / f"{scene_id}.json").write_text(json.dumps(item.to_dict()))


def _s2_pairs(store) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return list(conn.execute("SELECT before_scene, after_scene, status FROM pairs WHERE algorithm_version = ? "
                                 "ORDER BY fid", (ALGORITHM_VERSION,)))


def test_a_winter_keeps_the_autumn_head_starts_sentinel1_and_the_mail_names_the_sensor(tmp_path, geo_cli):
    series = build_series(tmp_path / "project", aois={"sar-site": AOI_PIXELS}, claims=sim.CLAIMS)
    series.add_scene(AUTUMN, synthetic.utc(2022, 3, 1), synthetic.make_series(SHAPE, ((0.0, 0.0),), {})[0])
    _snowed_scene(series, SNOWED, synthetic.utc(2022, 4, 5))
    _snowed_scene(series, SNOWED_AGAIN, synthetic.utc(2022, 4, 20))
    series.add_scene(MELTED, synthetic.utc(2022, 5, 1), synthetic.make_series(SHAPE, ((0.0, 0.0), (0.1, 0.2)), {})[1])
    s1 = [i for i in _sar_items(tmp_path / "sar") if i.id != LATE_OTHER]
    store = tmp_path / "s.gpkg"

    synthetic.write_catalog(series.scenes_dir, [*(series.item(i) for i in (AUTUMN, SNOWED, SNOWED_AGAIN)), *s1])
    first = geo_cli(*series.args(store, "--aoi", "sar-site", "--json", "--on-new", MAIL), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    s2, sar = json.loads(first.stdout)["aois"]
    assert (s2["sensor"], s2["head_scene"]) == ("s2", AUTUMN)
    assert [(p["after_scene"], p["status"], p["reason"]) for p in s2["pairs"]] == [
        (scene, "skipped", f"only 0% of the AOI clear on both dates and compared (need 50%; 100% had {WHY})")
        for scene in (SNOWED, SNOWED_AGAIN)]
    assert (sar["sensor"], sar["head_scene"]) == ("s1", S1_IDS[4])  # started by the snow, as by cloud
    mail = (tmp_path / "mail.txt").read_text()
    assert "• claim sar-build on sar-site (Sentinel-1): consistent with the claim (first verdict)" in mail, mail
    assert "• claim sar-denial on sar-site (Sentinel-1): inconsistent with the denial (first verdict)" in mail, mail

    synthetic.write_catalog(series.scenes_dir, [*(series.item(i) for i in (AUTUMN, SNOWED, SNOWED_AGAIN, MELTED)),
                                                *s1])
    melted = geo_cli(*series.args(store, "--aoi", "sar-site", "--json"), cwd=tmp_path)
    assert melted.returncode == 0, melted.stderr[-3000:]
    assert _s2_pairs(store) == [(AUTUMN, SNOWED, "skipped"), (AUTUMN, SNOWED_AGAIN, "skipped"),
                                (AUTUMN, MELTED, "done")]
