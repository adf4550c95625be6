"""Items as the Copernicus Data Space Ecosystem (CDSE) publishes them, over the synthetic tiles of
tests/flows/tiles.py: its STAC API's ``sentinel-2-l2a`` items are STAC 1.1 (one band per asset under ``bands`` with
``eo:common_name``; ``raster:scale``, ``raster:offset``, ``nodata`` on the asset), keyed by band and resolution
(``B04_10m``, ``B04_20m``, ``B04_60m``, ``SCL_20m``), their files the SAFE product's JPEG 2000 in the ``eodata``
bucket (``s3://eodata/Sentinel-2/...jp2``), read with S3 keys at the endpoint the item's ``storage:schemes`` name
(CDSE's is https://eodata.dataspace.copernicus.eu; here the loopback server stands in for it, path-style)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling

from tests.archive_server import ArchiveServer

# Earth Search key -> (Sentinel-2 band, common name)
BANDS = {"blue": ("B02", "blue"), "green": ("B03", "green"), "red": ("B04", "red"), "nir": ("B08", "nir"),
         "swir16": ("B11", "swir16"), "swir22": ("B12", "swir22")}
S3_KEYS = {"AWS_ACCESS_KEY_ID": "loopback-key", "AWS_SECRET_ACCESS_KEY": "loopback-secret"}


def _jp2(source: Path, target: Path, factor: int = 1) -> Path:
    """``source`` as a lossless JPEG 2000 (as the SAFE product's), ``factor`` times coarser (block average)."""
    with rasterio.open(source) as src:
        height, width = src.height // factor, src.width // factor
        data = src.read(1, out_shape=(height, width), resampling=Resampling.average if factor > 1 else
                        Resampling.nearest)
        profile = dict(driver="JP2OpenJPEG", width=width, height=height, count=1, dtype=data.dtype, crs=src.crs,
                       transform=src.transform @ Affine.scale(factor, factor), nodata=src.nodata,
                       QUALITY=100, REVERSIBLE="YES", RESOLUTIONS=1)
    target.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(np.asarray(data), 1)
    return target


def cdse_item(server: ArchiveServer, folder: Path, earth_search: dict[str, Any], product: str) -> dict[str, Any]:
    """The CDSE item of the same pixels as the Earth Search-style item ``earth_search`` (of tiles.tile_item, written
    with ``dn_offset=1000``: baseline 05.10's DN), under the product name ``product``; registered in ``server``
    in place of nothing (the caller chooses which to add)."""
    item = copy.deepcopy(earth_search)
    tile = product.split("_")[5][1:]
    safe = f"Sentinel-2/MSI/L2A_N0500/{product[11:15]}/{product[15:17]}/{product[17:19]}/{product}.SAFE"
    assets: dict[str, Any] = {}
    local = folder / item["id"]
    for key, asset in earth_search["assets"].items():
        src = local / f"{key}.tif"
        name, common = BANDS.get(key, ("SCL", None))
        copies = ((20, 1), (60, 3)) if key == "scl" else ((10, 1), (20, 2), (60, 6))
        for gsd, factor in copies:
            stem = f"{name}_{gsd}m"
            path = _jp2(src, folder / "cdse" / product / f"T{tile}_{stem}.jp2", factor)
            bucket_path = f"eodata/{safe}/GRANULE/IMG_DATA/R{gsd}m/T{tile}_{stem}.jp2"
            server.add_file(bucket_path, path)
            sampling = "original" if factor == 1 else "downsampled"
            fields: dict[str, Any] = {
                "href": f"s3://{bucket_path}", "type": "image/jp2", "gsd": gsd, "nodata": 0,
                "roles": ["data", f"sampling:{sampling}", f"gsd:{gsd}m"], "storage:refs": ["cdse-s3"],
                "auth:refs": ["s3"],
                "alternate": {"https": {"href": f"https://zipper.example.invalid/odata/{stem}", "auth:refs": ["oidc"]}}}
            if common is None:
                fields["data_type"] = "uint8"
            else:
                fields.update({"roles": ["data", "reflectance", *fields["roles"][1:]], "data_type": "uint16",
                               "bands": [{"name": name, "eo:common_name": common}],
                               "raster:scale": 0.0001, "raster:offset": -0.1})
            assets[stem] = fields
    assets["thumbnail"] = {"href": "https://datahub.example.invalid/preview.jpg", "type": "image/jpeg",
                           "roles": ["thumbnail"]}
    properties = {key: value for key, value in item["properties"].items()
                  if key not in ("s2:processing_baseline", "proj:epsg")}
    properties.update({"platform": f"sentinel-2{product[2].lower()}", "processing:version": "05.10",
                       "grid:code": f"MGRS-{tile}", "product:type": "S2MSI2A",
                       "storage:schemes": {"cdse-s3": {"type": "custom-s3", "platform": server.url,
                                                       "requester_pays": False}},
                       "auth:schemes": {"s3": {"type": "s3"}}})
    item.update({"stac_version": "1.1.0", "id": product, "properties": properties, "assets": assets})
    return item


def grd_cog_items(catalog: Path, folder: Path, server: ArchiveServer, encode) -> Path:
    """The synthetic port's Sentinel-1 series (tests/vessels/port.py) as CDSE publishes GRD: collection
    ``sentinel-1-grd``, assets ``vv``/``vh`` of amplitude DN (``encode``: power -> (DN, dtype, nodata)) georeferenced
    only by ground control points, STAC 1.1 (``data_type``, ``nodata`` on the asset), in the ``eodata`` bucket; each
    pass twice, as the SAFE product (``..._6EE4``) and its COG conversion (``..._6EE4_COG``). A local catalog of
    them is written in ``folder``; its path is returned."""
    import pystac
    from rasterio.control import GroundControlPoint

    from geo.scenes.source import LocalCatalog
    from tests.archive_data import write_cog

    out = pystac.Catalog("cdse-grd", "the port's Sentinel-1 series as the Copernicus Data Space publishes GRD")
    for scene in LocalCatalog(catalog, "s1").all():
        assert scene.stac is not None
        product = f"S1A_IW_GRDH_1SDV_{scene.datetime:%Y%m%dT%H%M%S}_{scene.datetime:%Y%m%dT%H%M%S}_054210_0697DA_6EE4"
        for suffix, kind in (("", "IW_GRDH_1S"), ("_COG", "IW_GRDH_1S-COG")):
            assets: dict[str, Any] = {}
            for pol in ("vv", "vh"):
                with rasterio.open(scene.asset(pol).href) as src:
                    power, transform, crs, (height, width) = src.read(1), src.transform, src.crs, src.shape
                dn, dtype, nodata = encode(power)
                corners = [(0, 0), (0, width), (height, 0), (height, width), (height // 2, width // 2)]
                gcps = [GroundControlPoint(row=r, col=c, x=(transform @ (c, r))[0], y=(transform @ (c, r))[1])
                        for r, c in corners]
                name = f"{product}{suffix}.SAFE/measurement/s1a-iw-grd-{pol}{suffix.lower()}.tiff"
                path = write_cog(folder / "files" / name, dn.astype(dtype), None, None, nodata, overviews=False,
                                 gcps=(gcps, crs))
                bucket_path = f"eodata/Sentinel-1/SAR/{kind}/{scene.datetime:%Y/%m/%d}/{name}"
                server.add_file(bucket_path, path)
                assets[pol] = {"href": f"s3://{bucket_path}", "roles": ["data"], "data_type": dtype, "nodata": nodata,
                               "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                               "sar:polarizations": [pol.upper()], "proj:code": None, "storage:refs": ["cdse-s3"]}
            properties = {key: value for key, value in scene.properties.items() if key != "datetime"}
            properties.update({"platform": "sentinel-1a", "constellation": "sentinel-1", "product:type": kind,
                               "processing:version": "01.00", "sar:instrument_mode": "IW",
                               "sar:polarizations": ["VV", "VH"],
                               "storage:schemes": {"cdse-s3": {"type": "custom-s3", "platform": server.url}}})
            item = pystac.Item(product + suffix, scene.stac["geometry"], list(scene.geometry.bounds), scene.datetime,
                               properties, collection="sentinel-1-grd")
            for pol, fields in assets.items():
                href = fields.pop("href")
                item.add_asset(pol, pystac.Asset(href, media_type=fields.pop("type"), roles=fields.pop("roles"),
                                                 extra_fields=fields))
            out.add_item(item)
    out.normalize_hrefs(str(folder / "catalog"))
    out.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return folder / "catalog" / "catalog.json"
