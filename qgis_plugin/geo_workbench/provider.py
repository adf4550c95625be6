"""The ``geo`` Processing provider: its algorithms and its one setting, where the ``geo`` command is."""

from qgis.core import QgsProcessingProvider

from .runner import GEO_COMMAND_SETTING

PROVIDER_ID = "geo"


class GeoWorkbenchProvider(QgsProcessingProvider):
    def id(self):
        return PROVIDER_ID

    def name(self):
        return "Geo change workbench"

    def longName(self):  # noqa: N802
        return "Geo change workbench (runs the installed geo command)"

    def load(self):
        from processing.core.ProcessingConfig import ProcessingConfig, Setting

        ProcessingConfig.addSetting(Setting(
            self.name(), GEO_COMMAND_SETTING, "geo command (empty: geo on PATH; e.g. /home/me/venv/bin/geo)", "",
            valuetype=Setting.STRING))
        ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self):
        from processing.core.ProcessingConfig import ProcessingConfig

        ProcessingConfig.removeSetting(GEO_COMMAND_SETTING)

    def loadAlgorithms(self):  # noqa: N802
        from .algorithms.change_job import ChangeJobAlgorithm
        from .algorithms.coregistration import CoregistrationAlgorithm
        from .algorithms.rebuild_report import RebuildReportAlgorithm
        from .algorithms.vessel_counts import VesselCountsAlgorithm

        for algorithm in (ChangeJobAlgorithm(), CoregistrationAlgorithm(), VesselCountsAlgorithm(),
                          RebuildReportAlgorithm()):
            self.addAlgorithm(algorithm)
