"""Changes wider than the change statistic's window: bright squares of 200 m to 2 km planted in the synthetic
fields of ``tests/flows/tiles.py`` (DN 6000, centred in a 10 × 10 km AOI at 43.8°N, on a loopback archive),
each found by one ``geo run``: the area planted against the area found (README: *Changes wider than the
window*). Each size without noise (the two dates' unchanged pixels equal) and with sensor-like noise (Gaussian,
``--noise-dn`` per pixel, band and date); the largest square also in an AOI only 1.5 times its side.

    python benchmarks/large_changes.py [--sizes 200,500,1000,2000] [--noise-dn 50]
                                       [--out benchmarks/results/large_changes.json]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.atomic import write_json  # noqa: E402

from tests.archive_data import utc  # noqa: E402
from tests.archive_server import ArchiveServer  # noqa: E402
from tests.flows.tiles import Tile, lon_lat_aoi, tile_item, utm_box  # noqa: E402

LON, LAT, EPSG = 131.95, 43.80, 32652
TILE_HALF_M, AOI_M = 6_000, 10_000  # a 12 km tile, a 10 km AOI


def square(side_m: float) -> tuple[float, float, float, float]:
    """The lon/lat box of a square of ``side_m`` centred on (LON, LAT)."""
    half_lat, half_lon = side_m / 2 / 111_320, side_m / 2 / (111_320 * math.cos(math.radians(LAT)))
    return LON - half_lon, LAT - half_lat, LON + half_lon, LAT + half_lat


def km2(geometry: object) -> float:
    from pyproj import Geod
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geometry)[0]) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,500,1000,2000", help="sides of the planted squares, metres")
    parser.add_argument("--noise-dn", type=float, default=50.0, help="noise of the second series, DN (1e-4 reflectance)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "large_changes.json")
    args = parser.parse_args()
    from shapely.geometry import box, shape
    from shapely.ops import unary_union

    rows = []
    sizes = [int(s) for s in args.sizes.split(",")]
    cases = [(noise, side, AOI_M) for noise in (0.0, args.noise_dn) for side in sizes]
    cases += [(noise, max(sizes), round(1.5 * max(sizes))) for noise in (0.0, args.noise_dn)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = ArchiveServer(page_size=5).start()
        try:
            for index, (noise, side, aoi_m) in enumerate(cases):
                planted, year, month = square(side), 2019 + index // 12, index % 12 + 1
                for day, changed in ((1, None), (11, planted)):
                    tile_item(server, work, Tile(f"S2A_square{side}_{year}{month:02d}{day:02d}", utc(year, month, day),
                                                 EPSG, utm_box(EPSG, LON, LAT, TILE_HALF_M, TILE_HALF_M),
                                                 changed=changed, noise_dn=noise))
                aoi = lon_lat_aoi(work / f"aoi-{aoi_m}.geojson", square(aoi_m))
                out = work / f"run-{year}-{month}"
                subprocess.run([sys.executable, "-m", "geo", "run", "--aoi", str(aoi), "--source", server.url,
                                "--before", f"{year}-{month:02d}-01", "--after", f"{year}-{month:02d}-11",
                                "--out", str(out)], check=True, capture_output=True)
                found = [shape(f["geometry"]) for f in json.loads((out / "changes.geojson").read_text())["features"]]
                union = unary_union(found)
                west, south, east, north = union.bounds
                metres_lon = 111_320 * math.cos(math.radians(LAT))
                rows.append({"noise_dn": noise, "side_m": side, "aoi_side_m": aoi_m,
                             "planted_km2": round(km2(box(*planted)), 4), "found_km2": round(km2(union), 4),
                             "found_inside_planted_km2": round(km2(union.intersection(box(*planted))), 4),
                             "polygons": len(found),
                             "overreach_m": {"west": round((planted[0] - west) * metres_lon),
                                             "south": round((planted[1] - south) * 111_320),
                                             "east": round((east - planted[2]) * metres_lon),
                                             "north": round((north - planted[3]) * 111_320)}})
                print(rows[-1], flush=True)
        finally:
            server.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"lon": LON, "lat": LAT, "rows": rows})


if __name__ == "__main__":
    main()
