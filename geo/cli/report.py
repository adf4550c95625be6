"""``geo report``: rebuild the evidence report from the output folder(s) of earlier runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from geo.atomic import MARKER, check_output_file
from geo.cli import console
from geo.errors import OutputError


# the help names geo.outputs.run_data.REPORT without importing it (numpy, geopandas...: a second); a test keeps
# the two the same
@click.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="HTML file to write [default: RUN_DIR/report.html for one run; required for several].")
def report_command(run_dirs: tuple[Path, ...], out: Path | None) -> None:
    """Write the evidence report (one self-contained HTML file) from the output folder of `geo run`/`geo demo`.

    Several RUN_DIRs (one per AOI) make one report with a section per area.
    """
    from geo.cli.start_up import collector_paused

    with collector_paused():  # numpy, rasterio, geopandas...: here, so that --help stays light
        from geo.outputs.rebuild import rebuild_report
        from geo.outputs.run_data import REPORT, RunData, RunFolderError, pictures_gone, refuse_file
    for folder in run_dirs:
        refuse_file(folder)
    # a folder named twice ('run ./run', a shell glob and a name) is one run: its report, not "several folders"
    unique: dict[Path, Path] = {}
    for folder in run_dirs:
        unique.setdefault(folder.resolve(), folder)
    run_dirs = tuple(unique.values())
    defaulted = out is None
    if out is None:
        if len(run_dirs) > 1:
            raise click.UsageError("several run folders: say where the combined report goes with --out FILE")
        out = run_dirs[0] / REPORT
    if out.suffix.lower() not in (".html", ".htm"):  # '--out run/changes.geojson' wrote over the run's own layer
        raise OutputError(f"--out {out}: the report is an HTML file; name it .html or .htm (e.g. report.html)")
    own_report = out.resolve().parent
    if out.name == REPORT and (own_report / MARKER).is_file() and [f.resolve() for f in run_dirs] != [own_report]:
        # a run folder's own report.html: the run's evidence, listed in its item.json and project, not other areas'
        raise OutputError(f"--out {out}: that run folder's own evidence report, which would show other areas; write "
                          "this one elsewhere (e.g. --out claim.html)")
    elsewhere = "write the report elsewhere with --out FILE.html"
    try:
        check_output_file(out, unique=True)
    except OutputError as exc:  # a folder unzipped read-only: it named an --out never given
        if not defaulted:
            raise
        raise OutputError(f"{str(exc).removeprefix('--out ')}; {elsewhere}") from None
    for folder in run_dirs:
        # a folder sent without its true-colour images: its own report, pictures inlined, is the evidence received
        own = folder / REPORT
        if own.is_file() and out.resolve() == own.resolve() and (gone := pictures_gone(folder)):
            raise RunFolderError(f"{folder / gone[0]}: missing from the run folder (left out of a copy, or removed "
                                 f"since the run wrote it); {own} shows it and is kept: {elsewhere} (without the "
                                 f"pictures), or put {' and '.join(gone)} back")

    def one_run_per_aoi(dirs: Sequence[Path], runs: list[RunData]) -> None:
        folders: dict[str, list[str]] = {}
        for folder, run in zip(dirs, runs):
            folders.setdefault(run.aoi_id, []).append(str(folder))
        for aoi_id, named in folders.items():
            if len(named) > 1:  # a section per AOI: which run would it show?
                raise OutputError(f"{' and '.join(named)}: runs of the same AOI {aoi_id!r}; give one run per AOI "
                                  "(a drawn area's id is its file name or its 'id' property)")

    runs = rebuild_report(run_dirs, out, one_run_per_aoi)  # (a folder a new run replaces meanwhile: read again)
    n_claims = sum(len(r.claims) for r in runs)
    areas = f"{len(runs)} area{'' if len(runs) == 1 else 's'}"
    console.stdout.print(f"report: {out} ({areas}, {n_claims} claim verdict{'' if n_claims == 1 else 's'})")
