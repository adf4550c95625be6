"""The Onera Satellite Change Detection (OSCD) evaluation: the pipeline's own stages on each city, scored
against its labels.

Layout of ``<root>/<city>/``: ``imgs_1/`` and ``imgs_2/`` hold one GeoTIFF per Sentinel-2 L1C band
(``*_B04.tif`` …, uint16 TOA DN = 10000·reflectance, EPSG:4326, 10/20/60 m bands on different grids),
``dates.txt`` the two dates and ``cm.tif`` the labels: **1 = no change, 2 = change**, no georeference, on the
grid of ``imgs_1/*_B04.tif``. Some ``imgs_2`` bands are a few pixels smaller than ``imgs_1``. The dataset's own
archives keep the labels apart ("Train Labels", "Test Labels": ``<city>/cm/<city>-cm.tif``, the same values):
they are read from a labels root of their own, or from the city folder when unpacked into it.

Per city: every band of both dates is read onto the label grid through the pipeline's reader (cubic), the
second date co-registered on the red band and re-read (``geo.align.stack``), clouds screened with the
cirrus band (L1C has no SCL), then each detector (``geo.change.detectors``) and the job's own region step
(sieve, trim mixed edges: ``geo.change.threshold.change_regions``) — the mask scored is the one a job would
polygonise.
Pixels without data on both dates are predicted "no change" but still scored. The labels are read after
detection, for scoring only.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from shapely.geometry import box

from geo.align.stack import AlignedPair, read_aligned
from geo.change.detectors import Detector, build_detector
from geo.change.threshold import change_regions
from geo.errors import DatasetError
from geo.eval.scoring import Confusion, mean_metrics
from geo.geometry import WGS84, reproject
from geo.grid import Grid
from geo.jobs.optical_kit import Params, local_coreg
from geo.scenes.cirrus import cirrus_cloud_mask
from geo.scenes.model import Asset, Scene
from geo.scenes.read import read_stack
from geo.scenes.warp import open_raster
from geo.slips import closest

log = logging.getLogger(__name__)

# Earth Search asset name -> Sentinel-2 band file suffix; the same bands the pipeline uses, plus cirrus.
BANDS = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir16": "B11", "swir22": "B12"}
CIRRUS = ("cirrus", "B10")
JOB = Params()  # what a job does: its co-registration band and quality, local step and sieve
L1C_SCALE = 1e-4  # L1C before processing baseline 04.00: reflectance = DN / 10000
MIN_REGION_PX = JOB.min_area_px
METRICS = ("precision", "recall", "f1", "iou", "seconds")


@dataclass(frozen=True)
class City:
    name: str
    folder: Path
    before: Scene
    after: Scene
    grid: Grid  # the label grid (imgs_1 B04)
    labels: Path  # its cm.tif (or the download's cm/<city>-cm.tif)


@dataclass(frozen=True)
class CityScore:
    city: str
    method: str
    confusion: Confusion
    seconds: float
    extra: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        m = self.confusion.metrics()
        return {"city": self.city, **{k: round(v, 4) for k, v in m.items()}, "seconds": round(self.seconds, 2),
                "tp": self.confusion.tp, "fp": self.confusion.fp, "fn": self.confusion.fn, **self.extra}


def default_root() -> Path:
    from geo.paths import shared_data

    return shared_data() / "oscd"


def label_candidates(labels: Path, name: str) -> tuple[Path, Path]:
    """Where a city's labels may be: the shared data's ``<city>/cm.tif``, the download's
    ``<city>/cm/<city>-cm.tif``."""
    return labels / name / "cm.tif", labels / name / "cm" / f"{name}-cm.tif"


def label_file(labels: Path, name: str) -> Path | None:
    return next((path for path in label_candidates(labels, name) if path.is_file()), None)


def discover(root: Path, labels: Path | None = None) -> list[str]:
    """City folders under ``labels`` (default ``root``) holding a city's labels, and under ``root`` its images,
    sorted; those with images but no labels (the test cities of a download with only the train labels), or
    labels but no images, are skipped with a warning."""
    labels = root if labels is None else labels
    for option, folder in (("root", root), ("labels", labels)):
        if not folder.is_dir():
            raise DatasetError(f"OSCD {option} {folder} is not a folder")
    labelled = sorted(p.name for p in labels.iterdir() if p.is_dir() and label_file(labels, p.name))
    cities = [name for name in labelled if labels == root or (root / name).is_dir()]
    unlabelled = sorted(p.name for p in root.iterdir() if (p / "imgs_1").is_dir() and p.name not in cities)
    if imageless := sorted(set(labelled) - set(cities)):
        log.warning("%d labelled cit%s without images under %s skipped: %s", len(imageless),
                    "y" if len(imageless) == 1 else "ies", root, ", ".join(imageless))
    if not cities:
        where = f"OSCD root {root}" if labels == root else f"OSCD labels folder {labels}"
        message = f"{where} holds no city folder with labels (<city>/cm.tif or <city>/cm/<city>-cm.tif)"
        if (root / "imgs_1").is_dir():
            message += (f"; it is a city's own folder: give the folder above it (--root {root.parent} --cities "
                        f"{root.name})")
        elif unlabelled and labels == root:
            message += (f"; its {len(unlabelled)} city folders ({', '.join(unlabelled)}) have images only: the OSCD "
                        "labels come in archives of their own (Train Labels, Test Labels): give their folder with "
                        "--labels DIR")
        raise DatasetError(message)
    if unlabelled:
        log.warning("%d city folder%s without labels skipped: %s", len(unlabelled), "" if len(unlabelled) == 1
                    else "s", ", ".join(unlabelled))
    return cities


def _band_file(folder: Path, suffix: str) -> Path:
    matches = sorted(folder.glob(f"*_{suffix}.tif"))
    if len(matches) != 1:
        found = "none" if not matches else ", ".join(m.name for m in matches)
        raise DatasetError(f"{folder}: expected one *_{suffix}.tif, found {found}")
    return matches[0]


def _dates(folder: Path) -> tuple[datetime, datetime]:
    path = folder / "dates.txt"
    try:
        text = path.read_text()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    found = dict(re.findall(r"date_([12])\s*:\s*(\d{8})", text))
    if set(found) != {"1", "2"}:
        raise DatasetError(f"{path}: expected lines 'date_1: YYYYMMDD' and 'date_2: YYYYMMDD'")
    try:
        first, second = (datetime.strptime(found[k], "%Y%m%d").replace(tzinfo=timezone.utc) for k in "12")
    except ValueError:
        raise DatasetError(f"{path}: not a valid date: {found}") from None
    return first, second


def _scene(city: str, folder: Path, date: datetime, geometry: Any) -> Scene:
    assets = {name: Asset(name, str(_band_file(folder, suffix)), L1C_SCALE, 0.0, 0)
              for name, suffix in (*BANDS.items(), CIRRUS)}
    return Scene(f"oscd-{city}-{folder.name}-{date:%Y%m%d}", date, geometry, MappingProxyType(assets),
                 collection="oscd", properties=MappingProxyType({"s2:product_type": "S2MSI1C"}))


def load_city(root: Path, name: str, labels: Path | None = None) -> City:
    """A city's scenes, label grid and label file, everything checked to be there before any pixel is read."""
    labels = root if labels is None else labels
    folder = root / name
    if not folder.is_dir():
        have = discover(root, labels)
        close = closest(name, have)
        meant = f"did you mean {close!r}? " if close else ""
        raise DatasetError(f"OSCD city {name!r} not found under {root} ({meant}have: {', '.join(have)})")
    label_path = label_file(labels, name)
    if label_path is None:
        cm_tif, download = label_candidates(labels, name)
        raise DatasetError(f"OSCD city {name!r} has no labels: neither {cm_tif} nor {download}")
    if not (folder / "imgs_1").is_dir():
        raise DatasetError(f"OSCD city {name!r}: no images folder {folder / 'imgs_1'} (give the images' folder with "
                           "--root and the labels' with --labels)")
    first, second = _dates(folder)
    with open_raster(str(_band_file(folder / "imgs_1", "B04"))) as src:
        grid = Grid(src.crs, src.transform, (src.height, src.width))
    footprint = reproject(box(*grid.bounds), grid.crs.to_string(), WGS84)
    return City(name, folder, _scene(name, folder / "imgs_1", first, footprint),
                _scene(name, folder / "imgs_2", second, footprint), grid, label_path)


def read_labels(city: City) -> np.ndarray:
    """The change mask (True = change) from ``cm.tif`` (1 = no change, 2 = change) on the label grid."""
    path = city.labels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                values: np.ndarray = src.read(1)
    except (RasterioError, OSError) as exc:
        raise DatasetError(f"{path}: cannot read labels ({exc})") from None
    if values.shape != city.grid.shape:
        raise DatasetError(f"{path}: labels are {values.shape} but imgs_1 B04 is {city.grid.shape}")
    unexpected = np.setdiff1d(np.unique(values), [1, 2])
    if unexpected.size:
        raise DatasetError(f"{path}: label values must be 1 (no change) or 2 (change), found {unexpected.tolist()}")
    changed: np.ndarray = values == 2
    return changed


def read_city(city: City) -> tuple[AlignedPair, np.ndarray]:
    """The co-registered pair on the label grid, and the validity mask with clouds removed."""
    pair = read_aligned(city.before, city.after, tuple(BANDS), city.grid, JOB.coreg_band, JOB.min_coreg_quality,
                        local=local_coreg(JOB))
    valid = pair.before.valid & pair.after.valid
    for scene in (city.before, city.after):
        cirrus = read_stack(scene, (CIRRUS[0],), city.grid)
        valid &= ~cirrus_cloud_mask(cirrus.data[0], cirrus.valid)
    return pair, valid


def evaluate_city(city: City, detectors: Sequence[Detector[Any]]) -> list[CityScore]:
    """Scores of each detector on one city. ``seconds`` is reading + co-registration + that detector."""
    name = city.name
    start = time.perf_counter()
    pair, valid = read_city(city)
    read_seconds = time.perf_counter() - start
    truth = read_labels(city)
    scores = []
    for detector in detectors:
        t0 = time.perf_counter()
        result = detector.detect(pair.before.data, pair.after.data, valid, pair.before.bands)
        min_area = max(MIN_REGION_PX, result.min_area_px)
        predicted = change_regions(result.mask, result.after_normalised.materialise() - pair.before.data, min_area,
                                   result.edge_px) > 0
        seconds = read_seconds + time.perf_counter() - t0
        extra = {
            "shift_px": [round(pair.shift.dx_px, 3), round(pair.shift.dy_px, 3)] if pair.shift else None,
            "coregistration_applied": pair.applied,
            "cloud_fraction": round(float(1 - valid.mean()), 4),
            "changed_fraction": round(float(predicted.mean()), 4),
            "labelled_fraction": round(float(truth.mean()), 4),
        }
        scores.append(CityScore(name, detector.name, Confusion.of(predicted, truth), seconds, extra))
        log.info("%s %s: F1 %.3f in %.1f s", name, detector.name, scores[-1].confusion.f1, seconds)
    return scores


def summary(scores: Sequence[CityScore], detector: Detector[Any]) -> dict[str, Any]:
    rows = [s.to_dict() for s in scores if s.method == detector.name]
    pooled = Confusion(0, 0, 0, 0)
    for s in scores:
        if s.method == detector.name:
            pooled = pooled + s.confusion
    return {
        "method": detector.name,
        "algorithm_version": detector.algorithm_version,
        "cities": rows,
        "mean": {k: round(v, 4) for k, v in mean_metrics(rows, METRICS).items()},
        "pooled": {k: round(v, 4) for k, v in pooled.metrics().items()},
    }


def evaluate(
    root: Path, cities: Sequence[str] | None = None, detectors: Sequence[Detector[Any]] = (),
    progress: Callable[[str], None] | None = None, labels: Path | None = None,
) -> dict[str, Any]:
    """Per-city and mean scores of each detector (default: the default one): {"dataset", "root", "labels",
    "methods": {name: summary}, "parameters": {name: its parameters}}. ``labels``: the folder of the
    labels (default ``root``)."""
    detectors = list({d.name: d for d in detectors}.values()) or [build_detector()]  # each named once
    labels = root if labels is None else labels
    names = list(dict.fromkeys(cities)) if cities else discover(root, labels)
    loaded = [load_city(root, name, labels) for name in names]  # every name checked before any work
    scores: list[CityScore] = []
    for city in loaded:
        if progress:
            progress(city.name)
        scores.extend(evaluate_city(city, detectors))
    return {
        "dataset": "oscd",
        "root": str(root),
        "labels": str(labels),
        "cities": names,
        "methods": {d.name: summary(scores, d) for d in detectors},
        "parameters": {d.name: d.parameters() for d in detectors},
    }
