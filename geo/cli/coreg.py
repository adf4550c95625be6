"""``geo coreg``: the shift (or local displacement model) between two rasters of the same place."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from geo.cli import console
from geo.cli.options import FiniteFloatRange
from geo.errors import CoregError, OutputError

GEOTIFF_SUFFIXES = (".tif", ".tiff")
MIN_WINDOW = 16  # geo.align.local.MIN_WINDOW, not imported: --help stays light (geo.cli.start_up)
MIN_AFFINE_POINTS = 3  # an affine displacement has 6 unknowns: 3 points of 2 numbers


@click.command("coreg")
@click.argument("ref", type=click.Path(dir_okay=False))
@click.argument("tgt", type=click.Path(dir_okay=False))
@click.option("--band", default="1", show_default=True,
              help="Band measured: its number (1-based) or its description (e.g. B04), in both files.")
@click.option("--tgt-band", default=None, help="TGT's band when it is not REF's (number or description).")
@click.option("--local", "local", is_flag=True, help="Also fit a local model from a grid of tie points.")
# checked here, before the whole overlap is read for the tie points (seconds to minutes on a large pair)
@click.option("--window", default=128, show_default=True, type=click.IntRange(min=MIN_WINDOW),
              help="Tie-point window size (px of REF).")
@click.option("--spacing", default=128, show_default=True, type=click.IntRange(min=1),
              help="Tie-point grid spacing (px of REF).")
@click.option("--min-points", default=8, show_default=True, type=click.IntRange(min=MIN_AFFINE_POINTS),
              help="Fewest reliable tie points for a local model (an affine one needs 3).")
@click.option("--read-budget", default=4.2, show_default=True, type=FiniteFloatRange(min=0, min_open=True),
              help="Global shift without --local: millions of pixels it may decode in both files together "
                   "(its windows are chosen inside few blocks/tiles; more budget spreads them wider).")
@click.option("--strict", is_flag=True, help="Fail (exit 1) instead of falling back to the global shift.")
@click.option("--apply", "apply_to", type=click.Path(dir_okay=False), default=None,
              help="Write TGT corrected, resampled once onto REF's grid over the overlap (a GeoTIFF: .tif or .tiff).")
@click.option("--keep-grid", is_flag=True,
              help="With --apply and no --local: keep TGT's own pixels and correct its geotransform instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def coreg_command(
    ref: str, tgt: str, band: str, tgt_band: str | None, local: bool, window: int, spacing: int, min_points: int,
    read_budget: float, strict: bool, apply_to: str | None, keep_grid: bool, as_json: bool,
) -> None:
    """Sub-pixel shift of TGT relative to REF; with --local, a displacement model from tie points.

    A feature at (col, row) in REF is at (col + dx_px, row + dy_px) in TGT; columns grow east, rows south.
    dx_m/dy_m are the same shift in metres on the ground, east and north positive (a REF in degrees or in Web
    Mercator too). REF and TGT may differ in CRS, pixel size, extent and data type.
    """
    if keep_grid and (local or not apply_to):
        raise click.UsageError("--keep-grid needs --apply and applies only the global translation (no --local)")
    if apply_to:
        _refuse_other_formats(apply_to)
    _refuse_same_files(ref, tgt, apply_to)
    from geo.cli.start_up import collector_paused, light_start, want_quick_end

    with collector_paused():
        light_start()  # numpy and rasterio, imported for a short command (geo.cli.start_up)
        # imported here: the global path needs neither the tie-point nor the resampling modules (start-up time)
        from geo.align.files import LocalSettings, coregister_files

    settings = LocalSettings(window, spacing, min_points, strict) if local else None
    try:
        result = coregister_files(ref, tgt, band, settings, int(read_budget * 1e6), apply_to, keep_grid,
                                  tgt_band).record
    except CoregError as exc:  # the estimate's reasons speak of "the overlap", "the images": say which files
        raise type(exc)(f"{ref} and {tgt}: {exc}") from None
    if as_json:
        console.echo(json.dumps(result))
    else:
        _print(result)
    want_quick_end()  # its files are closed and its read thread joined: nothing is left for the teardown


def _same_file(first: str, second: str) -> bool:
    """One file under two names: the same resolved path, or (both existing) the same inode via a link."""
    if Path(first).resolve() == Path(second).resolve():
        return True
    return os.path.exists(first) and os.path.exists(second) and os.path.samefile(first, second)


def _refuse_other_formats(apply_to: str) -> None:
    """--apply writes a GeoTIFF whatever the name says: a .jp2, .png or .vrt name would be a GeoTIFF in disguise."""
    if Path(apply_to).suffix.lower() not in GEOTIFF_SUFFIXES:
        raise OutputError(f"--apply {apply_to}: the corrected raster is written as a GeoTIFF; name it .tif or .tiff "
                          f"(e.g. {Path(apply_to).with_suffix('.tif')})")


def _refuse_same_files(ref: str, tgt: str, apply_to: str | None) -> None:
    """A file measured against itself gives a shift of 0 that says nothing; --apply onto an input would
    overwrite what is being read (and lose the original)."""
    if _same_file(ref, tgt):
        raise CoregError(f"{tgt}: REF and TGT are the same file; a shift needs two different rasters")
    for role, path in (("TGT", tgt), ("REF", ref)):
        if apply_to and _same_file(apply_to, path):
            raise OutputError(f"--apply {apply_to}: is {role} ({path}); writing there would overwrite an input "
                              "(name a new file)")


def _print(result: dict[str, Any]) -> None:
    out = console.stdout
    out.print(
        f"global: dx = {result['dx_px']:+.4f} px ({result['dx_m']:+.3f} m), dy = {result['dy_px']:+.4f} px "
        f"({result['dy_m']:+.3f} m) ± {result['sigma_px']:.4f} px, quality {result['quality']:.3f}, "
        f"{result['n_windows']} windows agreeing to {result['spread_px']:.3f} px"
    )
    if "local" in result:
        loc = result["local"]
        out.print(
            f"local ({loc['model']}): {loc['n_inliers']} of {loc['n_points']} tie points used, "
            f"residual {loc['rmse_px']:.3f} px (cross-validated {loc['cv_rmse_px']:.3f}); "
            f"dx {loc['range_dx_px'][0]:+.3f}..{loc['range_dx_px'][1]:+.3f}, "
            f"dy {loc['range_dy_px'][0]:+.3f}..{loc['range_dy_px'][1]:+.3f} px"
        )
    console.print_warnings(result["warnings"])  # not those the log already showed on stderr
    if "output" in result:
        out.print(f"wrote {result['output']}")
