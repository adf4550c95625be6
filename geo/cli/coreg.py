"""``geo coreg``: the shift between two rasters of the same place."""

from __future__ import annotations

import json

import click

from geo.align.coreg import estimate_shift
from geo.align.pair import read_pair
from geo.cli import console


@click.command("coreg")
@click.argument("ref", type=click.Path(dir_okay=False))
@click.argument("tgt", type=click.Path(dir_okay=False))
@click.option("--band", default=1, show_default=True, help="Band index (1-based) used in both files.")
@click.option("--json", "as_json", is_flag=True, help="Print the shift as JSON.")
def coreg_command(ref: str, tgt: str, band: int, as_json: bool) -> None:
    """Global sub-pixel shift of TGT relative to REF.

    A feature at (col, row) in REF is at (col + dx_px, row + dy_px) in TGT; columns grow east, rows south.
    dx_m/dy_m are the same shift in map units of REF (east and north positive).
    """
    pair = read_pair(ref, tgt, band)
    shift = estimate_shift(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid)
    result = shift.to_dict(pair.grid)
    if as_json:
        click.echo(json.dumps(result))
        return
    console.stdout.print(
        f"dx = {result['dx_px']:+.4f} px ({result['dx_m']:+.3f} m), dy = {result['dy_px']:+.4f} px "
        f"({result['dy_m']:+.3f} m), quality {result['quality']:.3f} over {result['n_pixels']} pixels"
    )
