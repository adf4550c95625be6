"""The store keys pairs and chains by the change detector's algorithm version, which digests its effective
parameters: re-learnt parameters shipped in the package (``geo/change/params/local_fusion.json``, the default's)
start new chains from the baseline and leave the old ones as they were, as a new version does; the
unchanged package still finds nothing new on its own chains."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import geo
from geo.change.detectors import build_detector
from geo.change.detectors.local_fusion import PARAMS_RESOURCE, LocalFusion
from geo.store import Store
from tests.recheck.conftest import AOIS, SCENE_IDS, SINCE, dump_store
from tests.recheck.test_recheck import RUN1_PAIRS, assert_planted_roofs_found

KEPT = ("pairs", "changes", "chains", "verdicts")  # run 1's rows of these stay as they were


def package_with_threshold(folder: Path, threshold: float) -> Path:
    """A copy of the ``geo`` package under ``folder`` whose learnt local-fusion threshold is ``threshold``,
    as ``benchmarks/oscd_statistics.py --write`` would write it; returns the folder to put on ``PYTHONPATH``."""
    shutil.copytree(Path(geo.__file__).parent, folder / "geo", ignore=shutil.ignore_patterns("__pycache__"))
    learnt = folder / "geo" / "change" / "params" / PARAMS_RESOURCE
    data = json.loads(learnt.read_text())
    data["parameters"]["threshold"] = threshold
    learnt.write_text(json.dumps(data, indent=2))
    return folder


def test_relearnt_parameters_start_new_chains(first_run, tmp_path, geo_cli):
    series, store = first_run
    shipped = build_detector()
    relearnt = LocalFusion(replace(shipped.params, threshold=shipped.params.threshold + 0.2))
    assert relearnt.algorithm_version != shipped.algorithm_version
    before = dump_store(store)
    site = package_with_threshold(tmp_path / "site", relearnt.params.threshold)
    args = series.args(store, "--since", SINCE)
    result = geo_cli(*args, env={"PYTHONPATH": str(site)}, cwd=tmp_path)  # not the checkout: ``-m`` looks there first
    assert result.returncode == 0, result.stderr[-3000:]
    assert "nothing new" not in result.stdout
    with Store.open(store, create=False) as opened:
        assert opened.run_ids() == [1, 2]
        assert opened.run_summary(2)["algorithm_version"] == relearnt.algorithm_version
        for aoi_id in AOIS:  # the whole series again, on chains of their own
            for version in (shipped.algorithm_version, relearnt.algorithm_version):
                assert [(p.before.id, p.after.id) for p in opened.pairs(aoi_id, version)] == RUN1_PAIRS
                assert opened.chain(aoi_id, version).head.id == SCENE_IDS[2]
        new = opened.changes(run_id=2)
        assert {f.algorithm_version for f in new} == {relearnt.algorithm_version}
        assert_planted_roofs_found(new, upto=2)  # the planted roofs are strong enough for either threshold
    after = dump_store(store)
    for table in KEPT:
        assert after[table][:len(before[table])] == before[table], table
        assert len(after[table]) > len(before[table]), table
    # the package as shipped: its chains are where run 1 left them
    result = geo_cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "nothing new: 4 AOIs checked" in result.stdout
    assert dump_store(store) == after
