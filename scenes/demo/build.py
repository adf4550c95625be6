"""Rebuild the shipped demo scenes from the OSCD Nantes pair (../shared/data/oscd/nantes, or $GEO_SHARED_DATA/oscd).

Cuts the 10 m and 20 m bands the pipeline uses into Cloud-Optimised GeoTIFFs (pixels unchanged) and writes
a self-contained pystac catalog beside them.  Run from the repository root:

    python scenes/demo/build.py [--oscd ../shared/data/oscd]

Contains modified Copernicus Sentinel data 2015-2017.
"""

from __future__ import annotations

import argparse
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pystac
import rasterio
from rasterio.shutil import copy as rio_copy
from shapely.geometry import box, mapping

HERE = Path(__file__).resolve().parent
BANDS = {  # Earth Search asset name -> (Sentinel-2 band, centre wavelength um, gsd m)
    "blue": ("B02", 0.490, 10), "green": ("B03", 0.560, 10), "red": ("B04", 0.665, 10),
    "nir": ("B08", 0.842, 10), "swir16": ("B11", 1.610, 20), "swir22": ("B12", 2.190, 20),
}
SCENES = [
    ("S2A_30TXT_20150821_L1C_nantes", "imgs_1", datetime(2015, 8, 21, 11, 0, tzinfo=timezone.utc), "sentinel-2a"),
    ("S2_30TXT_20171014_L1C_nantes", "imgs_2", datetime(2017, 10, 14, 11, 9, 59, tzinfo=timezone.utc), None),
]
ATTRIBUTION = "Contains modified Copernicus Sentinel data 2015-2017 (crop of the OSCD Nantes pair)"


def band_files(oscd: Path) -> dict[tuple[str, str], Path]:
    """Each scene's OSCD file of each band, found before anything is removed (a missing pair ends the script in one
    line; it removed the first scene's folder, then stopped in an IndexError)."""
    found: dict[tuple[str, str], Path] = {}
    for item_id, folder, _, _ in SCENES:
        for name, (band, _, _) in BANDS.items():
            matches = sorted((oscd / "nantes" / folder).glob(f"*_{band}.tif"))
            if not matches:
                raise SystemExit(f"error: no OSCD Nantes band {band} in {oscd / 'nantes' / folder} (give the OSCD "
                                 "folder with --oscd DIR, or set $GEO_SHARED_DATA): the demo scenes were left as they are")
            found[item_id, name] = matches[0]
    return found


def build(oscd: Path) -> None:
    sources = band_files(oscd)
    catalog = pystac.Catalog(
        id="demo", description=f"Demo Sentinel-2 L1C pair over Nantes. {ATTRIBUTION}.", title="Workbench demo scenes"
    )
    for item_id, _, when, platform in SCENES:
        out_dir = HERE / item_id
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
        footprint = None
        assets: dict[str, pystac.Asset] = {}
        for name, (band, wavelength, gsd) in BANDS.items():
            src = sources[item_id, name]
            dst = out_dir / f"{name}.tif"
            rio_copy(src, dst, driver="COG", compress="DEFLATE", predictor=2, blocksize=256, overview_resampling="average")
            with rasterio.open(dst) as ds:
                footprint = footprint or box(*ds.bounds)
                epsg = ds.crs.to_epsg()
            assets[name] = pystac.Asset(
                href=f"./{name}.tif",
                media_type=pystac.MediaType.COG,
                roles=["data", "reflectance"],
                title=f"{band} ({wavelength} um)",
                extra_fields={
                    "eo:bands": [{"name": band, "center_wavelength": wavelength}],
                    "gsd": gsd,
                    # L1C before processing baseline 04.00: reflectance = DN / 10000, no offset.
                    "raster:bands": [{"data_type": "uint16", "scale": 0.0001, "offset": 0.0, "nodata": 0}],
                },
            )
        properties = {
            "constellation": "sentinel-2",
            "instruments": ["msi"],
            "s2:product_type": "S2MSI1C",
            "s2:mgrs_tile": "30TXT",
            "proj:epsg": epsg,
            "eo:cloud_cover": 0.0,
            "attribution": ATTRIBUTION,
        }
        if platform:
            properties["platform"] = platform
        item = pystac.Item(
            id=item_id, geometry=mapping(footprint), bbox=list(footprint.bounds), datetime=when,
            properties=properties, collection=None,
        )
        for name, asset in assets.items():
            item.add_asset(name, asset)
        catalog.add_item(item)
    catalog.normalize_hrefs(str(HERE))
    catalog.make_all_asset_hrefs_relative()
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(os.environ["GEO_SHARED_DATA"]) if os.environ.get("GEO_SHARED_DATA") else HERE.parents[2] / "shared" / "data"
    parser.add_argument("--oscd", type=Path, default=shared / "oscd")
    build(parser.parse_args().oscd)
