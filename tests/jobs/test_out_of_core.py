"""A grid larger than one block runs out of core: both scenes read by blocks into scratch stacks on disk,
the normalised stack and the statistic there too. With the same blocks its run folder is the in-memory
job's, and no scratch file outlives the job, whether it ends or fails."""

from __future__ import annotations

import gc
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from geo.aoi import load_aoi
from geo.change import tiling
from geo.change.detectors.base import Decision, NormalisedPair
from geo.errors import ChangeError, ScratchError
from geo.jobs.kit import ChangeJob
from geo.jobs.optical_kit import OpticalKit
from geo.jobs.spine import run_job
from geo.outputs.writers import write_run
from geo.scenes.scratch import SCRATCH_ENV, is_scratch, scratch_array
from geo.scenes.source import LocalCatalog
from tests.change.toy_detector import Brighter


@pytest.fixture
def job(synthetic_project):
    aoi = load_aoi(synthetic_project.aoi_dir / "test-site.geojson")
    source = LocalCatalog(synthetic_project.catalog)
    return ChangeJob(aoi, (), source.get("S2A_TEST_20200301"), source.get("S2A_TEST_20200801"))


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """Tiny blocks (96 px: the synthetic grid is several), scratch files in a folder of the test's own."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setenv(SCRATCH_ENV, str(folder))
    monkeypatch.setattr(tiling, "CORE_PX", 96)
    return folder


def mapped_from(folder: Path) -> list[str]:
    """This process's memory mappings of files in ``folder`` (a nameless file shows as ``#N (deleted)``)."""
    return [line for line in Path("/proc/self/maps").read_text().splitlines() if str(folder) in line]


def test_out_of_core_job_writes_the_in_memory_jobs_run_folder(job, scratch, tmp_path):
    in_memory = run_job(job, OpticalKit(out_of_core=False))
    on_disk = run_job(job, OpticalKit())
    assert len(tiling.layout(on_disk.mask.shape, 0, tiling.CORE_PX)) > 4
    assert not is_scratch(in_memory.before.data) and not is_scratch(in_memory.statistic)
    assert all(is_scratch(a) for a in (on_disk.before.data, on_disk.after.data, on_disk.statistic))
    assert mapped_from(scratch) and not os.listdir(scratch)  # on disk, yet no file has a name
    assert np.array_equal(on_disk.statistic, in_memory.statistic, equal_nan=True)
    assert np.array_equal(on_disk.after.data, in_memory.after.data, equal_nan=True)
    assert len(in_memory.features) >= 3
    write_run(in_memory, tmp_path / "memory")
    write_run(on_disk, tmp_path / "disk")
    for name in ("changes.geojson", "claims.json", "change_statistic.tif", "before_rgb.tif", "after_rgb.tif"):
        assert (tmp_path / "disk" / name).read_bytes() == (tmp_path / "memory" / name).read_bytes(), name
    del on_disk
    gc.collect()
    assert not mapped_from(scratch) and not os.listdir(scratch)


class FailingDetector(Brighter):
    """Fails once both scenes are on disk, as a detector meeting a pair it cannot handle does."""

    def decide(self, pair: NormalisedPair) -> Decision:
        assert is_scratch(pair.after_normalised.after)
        raise ChangeError("no change statistic on this pair")


def test_a_failing_out_of_core_job_leaves_no_scratch_behind(job, scratch):
    try:
        run_job(job, OpticalKit(detector=FailingDetector(FailingDetector.default_params())))
    except ChangeError as exc:
        message = str(exc)
    gc.collect()
    assert message == "no change statistic on this pair"
    assert not mapped_from(scratch) and not os.listdir(scratch)


def test_a_scratch_folder_that_cannot_hold_the_job_is_a_clear_error(job, scratch, monkeypatch):
    """A missing scratch folder, or one on a disk without room for the stacks, fails before any pixel is read
    into it (the file's blocks are reserved up front: a sparse file on a full disk would crash the process
    with SIGBUS at the first page written through the mapping)."""
    missing = scratch / "not-there"
    monkeypatch.setenv(SCRATCH_ENV, str(missing))
    with pytest.raises(ScratchError, match=rf"^{re.escape(str(missing))}: cannot hold a \d+ MiB scratch array of "
                                           r"this large job \(No such file or directory\); set GEO_SCRATCH to a "
                                           r"folder on a disk with room"):
        run_job(job, OpticalKit())
    free = shutil.disk_usage(scratch).free
    with pytest.raises(ScratchError, match=r"No space left on device"):
        scratch_array((free // 4 + 2**30,), np.float32, folder=scratch)  # 4 GiB more than the disk has
    gc.collect()
    assert not mapped_from(scratch) and not os.listdir(scratch)
    before = shutil.disk_usage(scratch).free
    reserved = scratch_array((32, 1024, 1024), np.float32, folder=scratch)  # 128 MiB
    assert before - shutil.disk_usage(scratch).free >= 100 * 2**20  # its blocks given now: not a sparse file
    del reserved


def test_a_date_showing_nothing_of_a_large_grid_is_read_by_blocks_onto_disk_too(synthetic_project, scratch,
                                                                                 tmp_path):
    """The pair of a scene all nodata (its claims not observable, ``geo.jobs.unseen``): the other date read as
    ``align`` reads a large grid, by blocks into a scratch stack, and the empty one on disk too: read whole into
    memory, a tile's pair took ~6 GB where its job keeps within 2 GiB."""
    import rasterio

    from geo.results import NOT_COMPUTED

    root = tmp_path / "project"
    shutil.copytree(synthetic_project.root, root)
    for path in (root / "scenes").rglob("*.json"):
        path.write_text(path.read_text().replace(str(synthetic_project.root), str(root)))
    for path in (root / "scenes" / "after").glob("*.tif"):
        with rasterio.open(path, "r+") as dst:
            dst.write(np.zeros((1, dst.height, dst.width), dtype=dst.dtypes[0]))
    source = LocalCatalog(root / "scenes" / "catalog.json")
    job = ChangeJob(load_aoi(root / "aoi" / "test-site.geojson"), (), source.get("S2A_TEST_20200301"),
                    source.get("S2A_TEST_20200801"))
    result = run_job(job, OpticalKit())
    assert result.features == [] and result.manifest.statistic["name"] == NOT_COMPUTED
    assert result.before.valid.mean() > 0.9 and not result.after.valid.any()
    assert all(is_scratch(a) for a in (result.before.data, result.before.valid, result.after.data, result.after.valid))
    assert result.after.data.shape == result.before.data.shape
