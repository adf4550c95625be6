"""``geo coreg`` given one file twice: ``--apply`` naming REF or TGT (by the same name, another spelling, a
symbolic or a hard link) would overwrite an input with its own resampling, and REF = TGT measured a shift of 0
that says nothing; both ran without a word. Refused in one line naming the path, exit 1, the inputs untouched."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.flows.conftest import DEMO_CATALOG

RED_2015 = DEMO_CATALOG.parent / "S2A_30TXT_20150821_L1C_nantes" / "red.tif"
RED_2017 = DEMO_CATALOG.parent / "S2_30TXT_20171014_L1C_nantes" / "red.tif"


@pytest.fixture
def pair(user):
    shutil.copyfile(RED_2015, user.home / "ref.tif")
    shutil.copyfile(RED_2017, user.home / "tgt.tif")
    (user.home / "link.tif").symlink_to("tgt.tif")
    os.link(user.home / "ref.tif", user.home / "hard.tif")
    return {name: (user.home / name).read_bytes() for name in ("ref.tif", "tgt.tif")}


@pytest.mark.parametrize(("apply_to", "role", "named"), [("tgt.tif", "TGT", "tgt.tif"), ("./tgt.tif", "TGT", "tgt.tif"),
                                                         ("link.tif", "TGT", "tgt.tif"), ("ref.tif", "REF", "ref.tif"),
                                                         ("hard.tif", "REF", "ref.tif")])
def test_apply_onto_an_input_is_refused(user, pair, apply_to, role, named):
    result = user("coreg", "ref.tif", "tgt.tif", "--apply", apply_to)
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line == (f"Error: --apply {apply_to}: is {role} ({named}); writing there would overwrite an input "
                    "(name a new file)")
    assert result.stdout == ""
    assert {name: (user.home / name).read_bytes() for name in pair} == pair


@pytest.mark.parametrize("tgt", ["ref.tif", "./ref.tif", "hard.tif"])
def test_the_same_file_twice_is_refused(user, pair, tgt):
    result = user("coreg", "ref.tif", tgt)
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line == f"Error: {tgt}: REF and TGT are the same file; a shift needs two different rasters"
    assert "dx =" not in result.stdout


def test_apply_to_a_new_file_still_writes_it(user, pair):
    result = user("coreg", "ref.tif", "tgt.tif", "--apply", "out.tif")
    assert result.returncode == 0, result.output
    assert "wrote out.tif" in result.stdout and (user.home / "out.tif").stat().st_size > 1000
    assert (user.home / "tgt.tif").read_bytes() == pair["tgt.tif"]


@pytest.mark.parametrize(("apply_to", "instead"), [("out.jp2", "out.tif"), ("out.png", "out.tif"),
                                                   ("sub/out.vrt", "sub/out.tif"), ("out", "out.tif")])
def test_apply_to_a_name_that_is_not_a_geotiff_is_refused(user, pair, apply_to, instead):
    """Before: --apply out.jp2 (.png, .vrt) wrote a GeoTIFF under that name, which other programs then misread."""
    (user.home / "sub").mkdir()
    before = sorted(p.name for p in user.home.rglob("*"))
    result = user("coreg", "ref.tif", "tgt.tif", "--apply", apply_to)
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line == (f"Error: --apply {apply_to}: the corrected raster is written as a GeoTIFF; name it .tif or .tiff "
                    f"(e.g. {instead})")
    assert result.stdout == ""
    assert sorted(p.name for p in user.home.rglob("*")) == before


@pytest.mark.parametrize("apply_to", ["out.tiff", "OUT.TIF"])
def test_apply_to_either_geotiff_extension_in_any_case_writes_it(user, pair, apply_to):
    result = user("coreg", "ref.tif", "tgt.tif", "--apply", apply_to)
    assert result.returncode == 0, result.output
    assert f"wrote {apply_to}" in result.stdout
    assert (user.home / apply_to).read_bytes()[:4] in (b"II*\x00", b"MM\x00*")  # a TIFF's magic number
