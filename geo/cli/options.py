"""Options shared by several commands (one definition, as in rasterio's rio/options.py)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from geo import paths
from geo.errors import GeoError
from geo.scenes.model import Sensor

Command = TypeVar("Command", bound=Callable[..., object])


def choice(names: Iterable[str]) -> click.Choice[str]:
    """The one way a CLI option takes a name from a fixed set: in any case (``--sort DATE``, ``--method
    Local-Fusion``, ``--sensor S2``), handed on in its canonical spelling, a wrong one refused naming the choices."""
    return click.Choice(tuple(names), case_sensitive=False)


class NonEmptyPath(click.Path):
    """``click.Path`` refusing an empty value, which it would take for the current folder (``--out "$OUT"`` unset)."""

    def convert(self, value: str | os.PathLike[str], param: click.Parameter | None, ctx: click.Context | None
                ) -> str | bytes | os.PathLike[str]:
        if isinstance(value, str) and not value.strip():
            self.fail("empty (a shell variable not set?)", param, ctx)
        return super().convert(value, param, ctx)


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` refusing nan, which passes every bound (a comparison with it is false), and inf,
    which passes an open one: ``--pfa nan`` counted no vessel, ``--read-budget inf`` was an internal error."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.types.FLOAT.convert(value, param, ctx)  # the float, before the bounds
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number", param, ctx)
        return super().convert(value, param, ctx)


aoi_dir_option = click.option(
    "--aoi-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Folder of AOI GeoJSON files [default: $GEO_ROOT/aoi, else aoi/ of the checkout geo runs from, else "
         "the AOIs installed with geo].",
)
seeds_dir_option = click.option(
    "--seeds-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Folder of claims files [default: $GEO_ROOT/seeds, else seeds/ of the checkout geo runs from, else "
         "the claims installed with geo].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
OUT_HELP = "Output folder (created, or replaced whole by the new run in one step if this command wrote it; see README)."
out_option = click.option("--out", type=NonEmptyPath(path_type=Path), required=True, help=OUT_HELP)


def _sensor(_context: click.Context, _param: click.Parameter, value: str | None) -> Sensor | None:
    return Sensor(value) if value is not None else None


def sensor_option(default: Sensor | None, help: str) -> Callable[[Command], Command]:
    """``--sensor s1|s2`` (``S2`` too: papers write it so), handed to the command as a ``Sensor`` (None when not
    given and no default)."""
    return click.option("--sensor", type=choice(s.value for s in Sensor),
                        callback=_sensor, default=default.value if default else None,
                        show_default=default is not None, help=help)


COLLECTION_HELP = ("STAC collection to search (repeatable) [default: the archive's for the sensor, e.g. "
                   "sentinel-2-l2a; Earth Search's Collection 1: sentinel-2-c1-l2a]")


def collection_option(more: str = "") -> Callable[[Command], Command]:
    """``--collection C`` (repeatable), handed to the command as a tuple; ``more`` ends its help."""
    return click.option("--collection", "collections", multiple=True, callback=not_empty, metavar="C",
                        help=f"{COLLECTION_HELP}{more}.")


def workers_count(_context: click.Context, param: click.Parameter, value: str) -> int | None:
    """``--workers``: ``auto`` (None: the job decides from its grid and the machine) or a count of at least 1."""
    text = value.strip().lower()
    if text == "auto":
        return None
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise click.BadParameter(f"{value!r} is neither 'auto' nor a whole number of at least 1", param=param)


def scheduler_option(help: str) -> Callable[[Command], Command]:
    """``--scheduler ADDR``: an existing Dask cluster instead of ``--workers`` (``one_cluster`` refuses both)."""
    return click.option("--scheduler", default=None, metavar="ADDR", callback=not_empty, help=help)


def one_cluster(scheduler: str | None) -> None:
    """Refuse ``--workers`` given with ``--scheduler``: the blocks run on the scheduler's workers, and the
    count given was silently ignored."""
    from click.core import ParameterSource

    given = click.get_current_context().get_parameter_source("workers")
    if scheduler is not None and given not in (None, ParameterSource.DEFAULT):
        raise click.UsageError(f"--workers and --scheduler {scheduler}: give one (with --scheduler the work runs on "
                               "the workers of that cluster)")


def claim_list(context: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """``--claim``, repeatable, each value also a comma-separated list (``--claim a,b``, as ``geo eval oscd
    --cities a,b`` takes them; no claim id holds a comma): it was one unknown id 'a,b'."""
    not_empty(context, param, value)
    return tuple(part.strip() for item in value for part in item.split(",") if part.strip())


def not_empty(_context: click.Context, param: click.Parameter, value: object) -> object:
    """Refuse an empty value (``--source "$SRC"`` with SRC unset): read as no option, or as a path, it
    silently meant the default archive, './catalog.json' or the current folder."""
    values = value if isinstance(value, tuple) else (value,)
    if any(isinstance(item, str) and not item.strip() for item in values):
        raise click.BadParameter("empty (a shell variable not set?)", param=param)
    return value


DEMO_SOURCE = "demo"


def scene_source(_context: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--source demo``: the demo scenes that come with geo (``scenes/demo`` of the checkout, or of the installed
    package), from any folder; a registered name in any case (``Demo``, ``Earth-Search``: as ``choice`` takes them)
    unless a file or folder is so named; any other value as given."""
    not_empty(_context, _param, value)
    if value is not None and not Path(value).exists():
        from geo.scenes.source import ARCHIVES

        value = {name.casefold(): name for name in (*ARCHIVES, DEMO_SOURCE)}.get(value.casefold(), value)
    if value != DEMO_SOURCE:
        return value
    catalog = paths.demo_catalog()
    if not catalog.is_file():  # said so here: the scene source would only call the path "not a catalog"
        root = os.environ.get("GEO_ROOT")
        why = (f"GEO_ROOT={root} moves scenes/ too: link or copy the checkout's scenes/demo there" if root
               else "this installation of geo lacks its demo scenes")
        raise GeoError(f"--source demo: no demo scenes at {catalog} ({why})")
    return str(catalog)


def aoi_folder(value: Path | None) -> Path:
    return value if value is not None else paths.aoi_dir()


def seeds_folder(value: Path | None, needed: bool = False) -> Path:
    """The claims folder; ``needed`` (claims asked for by id), a missing one is named, not each claim 'unknown'."""
    if needed:
        return listed_folder(value, paths.seeds_dir(), "--seeds-dir")
    return value if value is not None else paths.seeds_dir()


def listed_folder(given: Path | None, default: Path, option: str) -> Path:
    """The folder a listing reads: a missing one is a user error naming it and where its path came from (an
    empty listing would read as "nothing defined")."""
    if given is not None:
        if given.is_dir():
            return given
        raise GeoError(f"{option} {given}: no such folder")
    if default.is_dir():
        return default
    root = os.environ.get("GEO_ROOT")
    where = f"GEO_ROOT={root} names the folder holding aoi/ and seeds/" if root else "the default"
    raise GeoError(f"{default}: no such folder ({where}; give the folder with {option} DIR)")
