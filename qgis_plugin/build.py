"""Build the installable QGIS plugin zip: ``python qgis_plugin/build.py [--out DIR]`` writes
``DIR/geo_workbench-<version>.zip`` (default DIR: ``dist/``), the layout QGIS's *Plugins > Manage and Install
Plugins > Install from ZIP* takes: one top folder ``geo_workbench/`` with ``metadata.txt`` and the code.
The entries are sorted and dated from the version, so the same sources make the same bytes."""

from __future__ import annotations

import argparse
import configparser
import sys
import zipfile
from pathlib import Path

PLUGIN = Path(__file__).resolve().parent / "geo_workbench"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def plugin_version(plugin: Path = PLUGIN) -> str:
    metadata = configparser.ConfigParser()
    metadata.read(plugin / "metadata.txt", encoding="utf-8")
    return metadata["general"]["version"]


def plugin_files(plugin: Path = PLUGIN) -> list[Path]:
    return sorted(p for p in plugin.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix not in (".pyc", ".pyo"))


def build(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{PLUGIN.name}-{plugin_version()}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in plugin_files():
            entry = zipfile.ZipInfo(f"{PLUGIN.name}/{path.relative_to(PLUGIN).as_posix()}", FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, path.read_bytes())
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the QGIS plugin zip of the geo workbench.")
    parser.add_argument("--out", type=Path, default=Path("dist"), help="folder for the zip [default: dist]")
    target = build(parser.parse_args(argv).out)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
