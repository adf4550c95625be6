"""What a run's layers say of themselves in QGIS (*Properties > Metadata*: title, abstract, rights): above all
the credit the Copernicus Sentinel data licence asks of whatever is made of the data, with its years.

The same ``<resourceMetadata>`` element goes into the project's and a ``.qlr``'s layers; a GeoPackage layer
carries it as QGIS itself stores it there (a ``gpkg_metadata`` record in QGIS's XML, referenced to the layer's
table), so the layer opened alone (drag and drop, *Add Vector Layer*) shows it too. A COG carries the credit
as GDAL's ``TIFFTAG_COPYRIGHT`` (``COPYRIGHT_TAG``), which QGIS lists in the layer's *Information*.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.outputs.run_data import RunData

COPERNICUS = "Contains modified Copernicus Sentinel data"
COPYRIGHT_TAG = "TIFFTAG_COPYRIGHT"
QGIS_METADATA_STANDARD = "http://mrcc.com/qgis.dtd"  # the md_standard_uri QGIS reads its own records by
_METADATA_EXTENSION = "http://www.geopackage.org/spec120/#extension_metadata"


def sentinel_credit(days: Iterable[date | str]) -> str:
    """The credit for data acquired on ``days`` (dates, or ISO text): 'Contains modified Copernicus Sentinel
    data 2015–2017' (one year: '... data 2020'; no day known: without years)."""
    years = sorted({day.year if isinstance(day, date) else int(str(day)[:4]) for day in days if day})
    if not years:
        return COPERNICUS
    return f"{COPERNICUS} {years[0]}" if years[0] == years[-1] else f"{COPERNICUS} {years[0]}–{years[-1]}"


def with_caveats(abstract: str, caveats: Sequence[str], command: str = "geo run") -> str:
    """``abstract`` followed by what ``command`` warned of the run (``geo.results.run_caveats``; ``geo vessels``:
    its manifest's ``warnings``), one a line, for a QGIS user who opens only the project or a layer (its *Metadata*,
    the GeoPackage's table description) and never saw the terminal or the report; ``abstract`` as it is when there
    is none."""
    if not caveats:
        return abstract
    return abstract + f"\n\nCaveats (what {command} warned of):\n" + "\n".join(f"- {caveat}" for caveat in caveats)


def runs_caveats(runs: Iterable[RunData]) -> list[str]:
    """The runs' caveats (``geo.results.run_caveats``), each named by its AOI when there are several runs."""
    from geo.results import run_caveats

    runs = list(runs)
    return [caveat if len(runs) == 1 else f"{run.aoi_id}: {caveat}" for run in runs for caveat in run_caveats(run.manifest)]


def _no_tags(text: str) -> str:
    """``text`` with look-alikes of its angle brackets: QGIS 3.22 shows a layer's title and abstract in HTML as
    they are (*Properties > Information*), where an area named ``<img src=x onerror=...>`` would be markup."""
    return text.replace("<", "‹").replace(">", "›")


def resource_metadata(title: str, abstract: str, credit: str) -> ET.Element:
    """``<resourceMetadata>`` as QGIS 3.22 writes it in a project or ``.qlr`` layer (the fields left empty
    in the order QGIS reads them)."""
    root = ET.Element("resourceMetadata")
    for tag, text in (("identifier", ""), ("parentidentifier", ""), ("language", ""), ("type", "dataset"),
                      ("title", _no_tags(title)), ("abstract", _no_tags(abstract))):
        ET.SubElement(root, tag).text = text
    ET.SubElement(root, "links")
    ET.SubElement(root, "fees").text = ""
    ET.SubElement(root, "rights").text = credit
    ET.SubElement(root, "encoding").text = ""
    return root


def run_days(runs: Iterable[RunData]) -> list[date]:
    """The days of the Sentinel data the runs are made of: their scenes' and their vessel series'."""
    days = [run.scene_datetime(role).date() for run in runs for role in ("before", "after")]
    return days + [when.date() for run in runs if run.vessels is not None for when in run.vessels.datetimes()]


def _areas(runs: Iterable[RunData]) -> str:
    return ", ".join(f"{run.aoi.get('name', run.aoi_id)} ({run.aoi_id})" for run in runs)


def _pairs(runs: Iterable[RunData]) -> str:
    return "; ".join(" and ".join(f"{run.manifest['scenes'][role]['id']} ({run.manifest['scenes'][role]['datetime'][:10]})"
                                  for role in ("before", "after")) for run in runs)


def vector_metadata(runs: Iterable[RunData]) -> dict[str, ET.Element]:
    """The metadata of the runs' vector layers (their GeoPackage tables: changes, not_compared, aois, claims,
    vessels)."""
    runs = list(runs)
    areas, pairs, days = _areas(runs), _pairs(runs), run_days(runs)
    layers = {
        "changes": (f"Changes over {areas}", f"Change polygons geo workbench found over {areas} between the Sentinel "
                    f"scenes {pairs}: each with its kind, area, score, confidence and the claims it bears on."),
        "not_compared": (f"Not compared over {areas}", f"The parts of {areas} the Sentinel scenes {pairs} did not "
                         "both show clear, or that were left out of the comparison (cloud, no data, snow on one date "
                         "only), one polygon per reason: no change could be found there, nothing is known of them."),
        "aois": ("Areas of interest", f"The areas of interest {areas}, with the share of each seen clear in the run."),
        "claims": (f"Claim verdicts over {areas}", f"Each claim on {areas} with its verdict, confidence and "
                   f"rationale from the changes between the Sentinel scenes {pairs}, drawn over its area."),
    }
    caveats = runs_caveats(runs)
    about = {name: resource_metadata(title, with_caveats(abstract, caveats), sentinel_credit(days))
             for name, (title, abstract) in layers.items()}
    if any(run.vessels is not None for run in runs):
        about["vessels"] = vessel_metadata(f"Vessel detections over {areas}", areas, days, caveats)
    return about


def raster_metadata(run: RunData, role: str | None, title: str) -> ET.Element:
    """The metadata of a run's image (``role``: before or after) or of its change statistic (None)."""
    scenes, caveats = run.manifest["scenes"], runs_caveats([run])
    if role is None:
        return resource_metadata(title, with_caveats(f"The change statistic geo workbench computed over "
                                                     f"{_areas([run])} between the Sentinel scenes {_pairs([run])}.",
                                                     caveats), sentinel_credit(run_days([run])[:2]))
    scene = scenes[role]
    return resource_metadata(title, with_caveats(f"The {role} Sentinel scene {scene['id']} ({scene['datetime'][:10]}) "
                                                 f"over {_areas([run])}, on the run's grid, for display.", caveats),
                             sentinel_credit([scene["datetime"]]))


def project_metadata(run: RunData) -> ET.Element:
    """``<projectMetadata>`` of a run's project (*Project > Properties > Metadata*) as QGIS 3.22 writes it: its
    title, an abstract naming the area, the scenes with their dates, what the run warned of (its caveats, one a
    line) and the data's credit, and the author."""
    areas, caveats = _areas([run]), runs_caveats([run])
    about = with_caveats(f"Changes geo workbench found over {areas} between the Sentinel scenes {_pairs([run])}, and "
                         "the verdicts of the claims on it.", caveats)
    separator = "\n\n" if caveats else " "  # the credit last, a paragraph of its own after the caveats
    abstract = f"{about}{separator}{sentinel_credit(run_days([run]))}."
    root = ET.Element("projectMetadata")
    for tag, text in (("identifier", ""), ("parentidentifier", ""), ("language", ""), ("type", ""),
                      ("title", _no_tags(f"Changes over {run.aoi.get('name', run.aoi_id)}")),
                      ("abstract", _no_tags(abstract))):
        ET.SubElement(root, tag).text = text
    ET.SubElement(root, "links")
    ET.SubElement(root, "author").text = "geo workbench"
    return root


def vessel_metadata(title: str, area: str, days: Iterable[date], caveats: Sequence[str] = (),
                    command: str = "geo run") -> ET.Element:
    """The metadata of a layer of vessel detections over ``area`` in the scenes of ``days`` (``caveats``: what
    ``command`` warned of the run, ``with_caveats``)."""
    return resource_metadata(title, with_caveats(f"Vessels geo workbench detected in Sentinel scenes over {area}, "
                                                 "each at its scene's acquisition time.", caveats, command),
                             sentinel_credit(days))


def _qgis_document(metadata: ET.Element, qgis_version: str) -> str:
    """The record as QGIS stores it in a GeoPackage: the metadata's fields under a ``<qgis>`` root."""
    root = ET.Element("qgis", version=qgis_version)
    root.extend(metadata)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def write_geopackage_metadata(path: Path, layers: Mapping[str, ET.Element], qgis_version: str) -> None:
    """Each layer's metadata into the GeoPackage at ``path`` (its tables written): a QGIS record in
    ``gpkg_metadata`` referenced to the table (the GeoPackage metadata extension, registered), and the
    abstract as the table's description (QGIS's browser shows it)."""
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,"
                   " md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL,"
                   " mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '')")
        db.execute("CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope TEXT NOT NULL,"
                   " table_name TEXT, column_name TEXT, row_id_value INTEGER, timestamp DATETIME NOT NULL DEFAULT"
                   " (strftime('%Y-%m-%dT%H:%M:%fZ','now')), md_file_id INTEGER NOT NULL, md_parent_id INTEGER,"
                   " CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),"
                   " CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))")
        for table in ("gpkg_metadata", "gpkg_metadata_reference"):
            if not db.execute("SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = "
                              "'gpkg_metadata'", (table,)).fetchone():
                db.execute("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)"
                           " VALUES (?, NULL, 'gpkg_metadata', ?, 'read-write')", (table, _METADATA_EXTENSION))
        for table, metadata in layers.items():
            record = db.execute("INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) VALUES"
                                " ('dataset', ?, 'text/xml', ?)",
                                (QGIS_METADATA_STANDARD, _qgis_document(metadata, qgis_version))).lastrowid
            db.execute("INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id) VALUES"
                       " ('table', ?, ?)", (table, record))
            db.execute("UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                       (metadata.findtext("abstract", ""), table))
