"""Scratch arrays must be on disk: a scratch folder in memory (tmpfs) is said, once, in a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from geo.scenes import scratch
from geo.scenes.scratch import file_system_of, scratch_array

MOUNTS = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683664k
40 27 0:40 / /srv/big\\040disk rw,relatime - xfs /dev/vdb rw
41 27 0:41 / /scratch rw,relatime - ext4 /dev/vdc rw
42 27 0:42 / /scratch rw,relatime - tmpfs tmpfs rw
"""


@pytest.mark.parametrize(
    ("folder", "kind"),
    [
        ("/dev/shm/geo", "tmpfs"),  # longest mount point holding the folder
        ("/dev/shmem", "ext4"),  # a name that merely starts like a mount point is not under it
        ("/home/analyst/scratch", "ext4"),
        ("/srv/big disk/geo", "xfs"),  # spaces are escaped in the table
        ("/scratch/job", "tmpfs"),  # mounted over: the last mount wins
    ],
)
def test_the_file_system_of_a_folder_comes_from_the_mount_table(folder, kind):
    assert file_system_of(Path(folder), MOUNTS) == kind


def in_memory(folder: Path) -> bool:
    return file_system_of(folder) in scratch.MEMORY_FILE_SYSTEMS


@pytest.fixture(autouse=True)
def fresh_warnings():
    scratch._warn_if_in_memory.cache_clear()
    yield
    scratch._warn_if_in_memory.cache_clear()


def test_a_scratch_folder_in_memory_is_said_once(caplog):
    folder = Path("/dev/shm")
    if not folder.is_dir() or not in_memory(folder):
        pytest.skip("no tmpfs at /dev/shm on this machine")
    with caplog.at_level(logging.WARNING, logger="geo.scenes.scratch"):
        first = scratch_array((64, 64), np.float32, folder)
        second = scratch_array((8,), np.uint8, folder)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "/dev/shm" in warnings[0] and "tmpfs" in warnings[0] and "GEO_SCRATCH" in warnings[0]
    assert first.shape == (64, 64) and not first.any() and second.size == 8


def test_a_scratch_folder_on_disk_is_not_warned_about(tmp_path, caplog):
    if in_memory(tmp_path):
        pytest.skip("the test's temporary folder is itself in memory here")
    with caplog.at_level(logging.WARNING, logger="geo.scenes.scratch"):
        array = scratch_array((16, 16), np.float32, tmp_path)
        array[:] = 2.0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert float(array.sum()) == 512.0


@pytest.mark.parametrize("in_order", [True, False])
def test_pixels_of_a_stack_are_those_of_fancy_indexing_sorted_or_not(tmp_path, in_order):
    """``take_pixels`` reads a scratch stack in strips (an array in memory by ``take``); indices already in order (a sorted sample, a mask's
    ``flatnonzero``) skip the sort: either way the values are ``stack[:, pixels]``'s, in the order asked."""
    rng = np.random.default_rng(11)
    stack = scratch_array((3, 50, 40), np.float32, folder=tmp_path)
    stack[:] = rng.random(stack.shape, dtype=np.float32)
    pixels = rng.integers(0, 50 * 40, 700)  # with repeats
    pixels = np.sort(pixels) if in_order else pixels
    for source in (stack, np.array(stack)):  # on scratch, in strips; in memory
        taken = scratch.take_pixels(source, pixels, strip_rows=7)
        assert np.array_equal(taken, np.asarray(stack).reshape(3, -1)[:, pixels])
        assert taken.dtype == np.float32 and taken.shape == (3, 700)
