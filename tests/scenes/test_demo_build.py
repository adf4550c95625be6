"""`python scenes/demo/build.py` (the README's way to rebuild the shipped demo scenes), run on a copy of the checkout's
scenes/demo so the real ones are never touched."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_DATA


def _copy_of_the_demo(tmp_path: Path) -> Path:
    demo = tmp_path / "checkout" / "scenes" / "demo"
    shutil.copytree(REPO / "scenes" / "demo", demo)
    return demo


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("how", ["--oscd", "GEO_SHARED_DATA"])
def test_without_the_oscd_data_it_says_so_and_leaves_the_demo_scenes(tmp_path, how):
    # It removed the first scene's folder (its six COGs and item) before looking for the data, then stopped in an
    # IndexError traceback: the checkout's `geo demo` had no scenes left.
    demo = _copy_of_the_demo(tmp_path)
    before = _files(demo)
    nowhere = tmp_path / "nowhere"
    args, env = ([], {"GEO_SHARED_DATA": str(nowhere)}) if how == "GEO_SHARED_DATA" else (["--oscd", str(nowhere / "oscd")], {})
    env = {**{k: v for k, v in os.environ.items() if k != "GEO_SHARED_DATA"}, **env}
    result = subprocess.run([sys.executable, str(demo / "build.py"), *args], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line == (f"error: no OSCD Nantes band B02 in {nowhere}/oscd/nantes/imgs_1 (give the OSCD folder with "
                    "--oscd DIR, or set $GEO_SHARED_DATA): the demo scenes were left as they are")
    assert _files(demo) == before


@pytest.mark.skipif(not (SHARED_DATA / "oscd" / "nantes").is_dir(), reason="no OSCD Nantes pair in shared/data")
def test_with_the_oscd_data_it_rebuilds_the_shipped_scenes_byte_for_byte(tmp_path):
    demo = _copy_of_the_demo(tmp_path)
    for item in [p for p in demo.iterdir() if p.is_dir()]:
        shutil.rmtree(item)
    (demo / "catalog.json").unlink()
    result = subprocess.run([sys.executable, str(demo / "build.py"), "--oscd", str(SHARED_DATA / "oscd")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    comparison = filecmp.dircmp(REPO / "scenes" / "demo", demo)
    assert _files(demo) == _files(REPO / "scenes" / "demo"), comparison.report()
