"""``geo eval``: score the change methods against labelled data."""

from __future__ import annotations

from pathlib import Path

import click

from geo.atomic import check_output_file, write_json
from geo.change.detectors import DEFAULT_METHOD, DETECTORS, build_detector
from geo.cli import console
from geo.cli.options import choice
from geo.errors import DatasetError


@click.group("eval")
def eval_group() -> None:
    """Score change detection against labelled datasets."""


def _cities(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [c.strip() for c in value.split(",") if c.strip()]
    if not names:
        raise click.BadParameter("give one or more city names separated by commas", param_hint="--cities")
    return names


@eval_group.command("oscd")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="OSCD folder with one sub-folder per city [default: shared/data/oscd beside or above the "
                   "checkout geo runs from, or $GEO_SHARED_DATA/oscd].")
@click.option("--labels", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder of the labels when they are not in ROOT's city folders: the OSCD download's Train (or "
                   "Test) Labels, <city>/cm/<city>-cm.tif [default: ROOT].")
@click.option("--cities", default=None, help="Comma-separated city names [default: every city under ROOT].")
@click.option("--method", "methods", type=choice(DETECTORS), multiple=True,
              help=f"Change method (repeatable) [default: {DEFAULT_METHOD}].")
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write per-city and mean scores to this JSON file.")
def oscd_command(root: Path | None, labels: Path | None, cities: str | None, methods: tuple[str, ...],
                 json_out: Path | None) -> None:
    """Precision, recall, F1 and IoU of the change class, and seconds, per OSCD city and their means.

    ROOT holds a folder per city with imgs_1/, imgs_2/ and dates.txt (the OSCD download's Images), and its
    labels: cm.tif or cm/<city>-cm.tif, there or under --labels. The labels (1 = no change, 2 = change) are
    read only to score; nothing is tuned in the run.
    """
    from geo.eval.oscd import default_root, evaluate

    if root is None:
        root = default_root()
        if not root.is_dir():  # an installed geo has no checkout to find the shared data beside
            raise DatasetError(f"no OSCD data at {root} (the default: shared/data/oscd beside or above the checkout "
                               "geo runs from, or $GEO_SHARED_DATA/oscd); give the OSCD folder with --root DIR")
    chosen = [build_detector(m) for m in methods or (DEFAULT_METHOD,)]
    if json_out is not None:  # before the run: a path it cannot write failed only once every city was scored
        check_output_file(json_out, "--json")
        if not json_out.absolute().parent.is_dir():
            raise click.BadParameter(f"folder {json_out.parent} does not exist", param_hint="'--json'")
    with console.progress("OSCD evaluation") as step:
        result = evaluate(root, _cities(cities), chosen, progress=step, labels=labels)
    if json_out is not None:
        write_json(json_out, result)
    out = console.stdout
    for method, summary in result["methods"].items():
        out.print(f"[bold]{console.esc(method)}[/]", markup=True)
        out.print(f"  {'city':<14}{'precision':>10}{'recall':>8}{'F1':>8}{'IoU':>8}{'seconds':>9}")
        for row in [*summary["cities"], {"city": "mean", **summary["mean"]}]:
            out.print(f"  {row['city']:<14}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}"
                      f"{row['iou']:>8.3f}{row['seconds']:>9.1f}")
    if json_out is not None:
        out.print(f"scores: {json_out}")
