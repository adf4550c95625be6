"""QGIS plugin of the geo change-detection workbench: a Processing provider (``geo``) whose algorithms run the
installed ``geo`` command in a subprocess and load what it writes into the project."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    from .plugin import GeoWorkbenchPlugin

    return GeoWorkbenchPlugin(iface)
