"""``geo demo``: the whole job on the shipped real Sentinel-2 pair over Nantes, offline."""

from __future__ import annotations

from pathlib import Path

import click

from geo import paths
from geo.cli.options import OUT_HELP, NonEmptyPath
from geo.cli.run import want_quick_end

DEMO_AOI = "demo-nantes-port"
DEMO_CLAIM = "demo-nantes-construction"


@click.command("demo")
@click.option("--out", type=NonEmptyPath(path_type=Path), default=Path("demo-output"), show_default=True,
              help=OUT_HELP)
def demo_command(out: Path) -> None:
    """Run the change job on the embedded demo scenes (Nantes, 2015 -> 2017; no network)."""
    from geo.cli.start_up import job_imports

    with job_imports():
        from geo.cli.change_job import execute, load_job_inputs
    aoi, claims = load_job_inputs(DEMO_AOI, [DEMO_CLAIM], paths.aoi_dir(), paths.seeds_dir())
    execute(aoi, claims, str(paths.demo_catalog()), None, None, out)
    want_quick_end()
