"""What a benchmark script needs before it starts: the shared data and its benchmark-only packages.

Without them the README's ``python benchmarks/<name>.py`` ended in a traceback (FileNotFoundError, IndexError,
StopIteration, RasterioIOError ...) on a fresh clone. ``run(main, data=[...])`` checks first and ends in one line
naming what is missing, where it looked and how to give it, exit 1, as ``geo eval oscd`` and
``scenes/demo/build.py`` do; ``--help`` works without the data.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from geo import paths
from geo.errors import DatasetError

# module -> (pip package, the pyproject extra that installs it)
PACKAGES = {"arosics": ("arosics", "bench-arosics"), "sklearn": ("scikit-learn", "bench"),
            "odc.stac": ("odc-stac", "bench")}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package (odc of odc.stac) is absent
        return False


def missing(data: Sequence[str], option: str | None = None, packages: Sequence[str] = (),
            shared: Path | None = None) -> str | None:
    """The line saying what is missing (the first folder or file of ``data``, relative to ``shared``
    (default: the shared data), not there, then the first of ``packages`` not installed), or None. ``option`` is how the script
    is given the data elsewhere: a flag (``--root``), or ``DATA``, its argument naming the shared data folder."""
    shared = paths.shared_data() if shared is None else shared
    for part in data:
        where = shared / part
        if not where.exists():
            how = ("give the shared data folder as DATA, or set $GEO_SHARED_DATA" if option == "DATA" else
                   f"give it with {option} DIR, or set $GEO_SHARED_DATA" if option else "set $GEO_SHARED_DATA")
            return (f"no {part.split('/')[0]} data at {where} (the shared data: shared/data beside or above the "
                    f"checkout, or $GEO_SHARED_DATA); {how}")
    for module in packages:
        if not _installed(module):
            package, extra = PACKAGES[module]
            return f"{package} is not installed: this benchmark needs it (pip install -e '.[{extra}]')"
    return None


def _given(option: str, args: Sequence[str]) -> bool:
    return any(arg == option or arg.startswith(f"{option}=") for arg in args)


def run(main: Callable[[], None], data: Sequence[str] = (), option: str | None = None,
        packages: Sequence[str] = ()) -> None:
    """``main()`` once ``data`` (under the shared data; not checked when ``option`` names another place) and
    ``packages`` are there; else, and when a folder given with ``option`` holds no data, one line, exit 1."""
    args = sys.argv[1:]
    if not {"-h", "--help"} & set(args):
        positional = [arg for arg in args if not arg.startswith("-")]
        shared = Path(positional[0]) if option == "DATA" and positional else None
        given = option is not None and option != "DATA" and _given(option, args)
        if message := missing(() if given else data, option, packages, shared):
            raise SystemExit(f"error: {message}")
    try:
        main()
    except DatasetError as error:  # a folder of the user's (--root DIR) without the data
        raise SystemExit(f"error: {error}") from None


def shared_data_argument(doc: str | None) -> Path:
    """The script's one argument, DATA: the shared data folder (default: shared/data above the checkout, or
    ``$GEO_SHARED_DATA``)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("data", metavar="DATA", type=Path, nargs="?", default=paths.shared_data(),
                        help="the shared data folder [default: shared/data above the checkout, or $GEO_SHARED_DATA]")
    data: Path = parser.parse_args().data
    return data
