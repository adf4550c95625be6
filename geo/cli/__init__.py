"""The ``geo`` command: a click group, one module per command (like rasterio's ``rio``).

Exit codes: 0 ok, 1 user error (a one-line message naming the bad input), 2 internal error.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Sequence

import click

from geo import __version__
from geo.errors import GeoError

log = logging.getLogger("geo")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="geo")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Satellite-imagery change-detection workbench: claims + AOIs -> Sentinel scenes -> change polygons."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _register() -> None:
    from geo.cli.catalog import aoi_group, claims_group
    from geo.cli.coreg import coreg_command
    from geo.cli.demo import demo_command
    from geo.cli.eval import eval_group
    from geo.cli.report import report_command
    from geo.cli.run import run_command
    from geo.cli.vessels import vessels_command

    for command in (demo_command, run_command, coreg_command, aoi_group, claims_group, report_command):
        cli.add_command(command)
    cli.add_command(vessels_command)
    cli.add_command(eval_group)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: map errors to exit codes, never show a traceback for user errors."""
    from geo.cli.console import stderr

    warnings.filterwarnings("ignore", category=UserWarning, module="rasterio")
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="geo", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        stderr.print("Aborted.")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(1)
    except GeoError as exc:
        stderr.print(f"[bold red]Error:[/] {exc}", markup=True, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        stderr.print("Interrupted.")
        sys.exit(130)
    except Exception as exc:  # a bug, not bad input: exit 2, traceback only on request
        if os.environ.get("GEO_DEBUG"):
            raise
        log.debug("internal error", exc_info=True)
        stderr.print(f"internal error: {type(exc).__name__}: {exc} (set GEO_DEBUG=1 for the traceback)", markup=False)
        sys.exit(2)
    sys.exit(0)
