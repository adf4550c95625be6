"""The plugin object QGIS creates: it only registers the Processing provider (QGIS calls initProcessing at
start-up for plugins with hasProcessingProvider=yes, also without a GUI)."""

from qgis.core import QgsApplication


class GeoWorkbenchPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        from .provider import GeoWorkbenchProvider

        if self.provider is None:
            self.provider = GeoWorkbenchProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
