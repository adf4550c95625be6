"""Options shared by several commands (one definition, as in rasterio's rio/options.py)."""

from __future__ import annotations

from pathlib import Path

import click

from geo import paths

aoi_dir_option = click.option(
    "--aoi-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Folder of AOI GeoJSON files [default: aoi/ of the project, or $GEO_ROOT/aoi].",
)
seeds_dir_option = click.option(
    "--seeds-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Folder of claims files [default: seeds/ of the project, or $GEO_ROOT/seeds].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
out_option = click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Output folder (created, or replaced whole by the new run in one step; see README)."
)


def aoi_folder(value: Path | None) -> Path:
    return value if value is not None else paths.aoi_dir()


def seeds_folder(value: Path | None) -> Path:
    return value if value is not None else paths.seeds_dir()
