"""Start-up of ``geo coreg`` on a small pair against ``geo --version`` (goal: at most 3x), and what it is made of.

    python benchmarks/start_up.py [--runs 9] [--json OUT] [--reference DIR]
    (default OUT: benchmarks/results/start_up.json)

Writes the 512 x 512 pair of the start-up test (a crop of the shared ``coreg-pair`` REF and its copy moved by
a known sub-pixel shift, GeoTIFF) to a temporary folder, then times whole processes, each against
``geo --version`` started in turn with it, the ratio taken pair by pair (``benchmarks.recheck.paired_wall_s``;
the interpreter is this one, ``sys.executable``, not a launcher such as a pyenv shim, whose own ~0.05 s would
be added to both sides and flatter the ratio):

* ``geo coreg ref.tif tgt.tif --json``;
* the floor of its imports: what ``--version`` imports (click, rich), then numpy and rasterio as ``geo coreg``
  imports them (``geo.cli.start_up.light_start``), and nothing else;
* that floor and the first read: both files opened and one window read (GDAL registers its drivers).

Also the measurement alone, in-process (median of 9 after a first call). With ``--reference DIR`` (another
checkout of the project, e.g. ``git worktree add DIR main``), in the same run: its ``geo coreg`` against its own
``geo --version``, and the two ``geo coreg`` paired (each started in its checkout, whose ``geo`` it imports).
Prints JSON and writes it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.recheck import paired_wall_s, print_and_write  # noqa: E402
from tests.align.crops import COREG_PAIR_512, write_pair  # noqa: E402
from tests.conftest import SHARED_DATA  # noqa: E402

LIBRARIES = "import geo.cli.console\nfrom geo.cli.start_up import light_start\nlight_start()\nimport numpy, rasterio\n"
FIRST_READ = (LIBRARIES + "from rasterio.windows import Window\n"
              "for name in ('ref.tif', 'tgt.tif'):\n"
              "    with rasterio.open(name) as src:\n"
              "        src.read(1, window=Window(0, 0, 256, 256))\n")
EXIT = "import gc\ngc.freeze()\n"  # as geo's main() ends: the floors exit as the command does


def in_process_s(folder: Path) -> float:
    from geo.align.files import coregister_files

    os.chdir(folder)
    coregister_files("ref.tif", "tgt.tif")
    times = []
    for _ in range(9):
        start = time.process_time()
        coregister_files("ref.tif", "tgt.tif")
        times.append(time.process_time() - start)
    return round(statistics.median(times), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "start_up.json")
    parser.add_argument("--reference", type=Path, help="another checkout, timed side by side")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="geo-start-up-"))
    write_pair(folder, SHARED_DATA, COREG_PAIR_512)
    geo = [sys.executable, "-m", "geo"]
    version = geo + ["--version"]
    os.chdir(folder)  # the commands read ref.tif and tgt.tif from here
    result = {
        "pair": f"{COREG_PAIR_512.name} (float32 GeoTIFF, 512 x 512)",
        "interpreter": sys.executable,
        "coreg_vs_geo_version": paired_wall_s(geo + ["coreg", "ref.tif", "tgt.tif", "--json"], version, args.runs),
        "floor_libraries_vs_geo_version": paired_wall_s([sys.executable, "-c", LIBRARIES + EXIT], version, args.runs),
        "floor_first_read_vs_geo_version": paired_wall_s([sys.executable, "-c", FIRST_READ + EXIT], version,
                                                         args.runs),
        "measurement_in_process_cpu_s": in_process_s(folder),
        "goal_ratio_at_most": 3.0,
        "boto3_installed": importlib.util.find_spec("boto3") is not None,  # not imported by geo coreg either way
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
    }
    if args.reference:
        reference = args.reference.resolve()
        pair = [str(folder / "ref.tif"), str(folder / "tgt.tif")]
        result["reference"] = {
            "checkout": str(reference),
            "reference_coreg_vs_its_geo_version": paired_wall_s(geo + ["coreg", *pair, "--json"], version,
                                                                args.runs, reference, reference),
            "coreg_vs_reference_coreg": paired_wall_s(geo + ["coreg", *pair, "--json"],
                                                      geo + ["coreg", *pair, "--json"], args.runs, folder, reference),
        }
    print_and_write(result, args.json)


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["coreg-pair"])
