"""What the workbench's algorithms share: a name in the ``geo`` provider, the scene source and date
parameters, and one way to run ``geo``."""

import datetime

from qgis.core import QgsProcessingAlgorithm, QgsProcessingParameterString
from qgis.PyQt.QtCore import QDate, QDateTime, Qt

from ..runner import run_geo

SOURCE = "SOURCE"


class GeoAlgorithm(QgsProcessingAlgorithm):
    NAME = ""
    TITLE = ""
    HELP = ""
    SHORT = ""  # the Processing Toolbox's tooltip

    def createInstance(self):  # noqa: N802 (QGIS's names)
        return type(self)()

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802
        return self.TITLE

    def group(self):
        return "Change workbench"

    def groupId(self):  # noqa: N802
        return "workbench"

    def shortHelpString(self):  # noqa: N802
        return self.HELP

    def shortDescription(self):  # noqa: N802
        return self.SHORT

    def source_parameter(self):
        return QgsProcessingParameterString(
            SOURCE, "Scene source: earth-search, planetary-computer, cdse (Copernicus Data Space: S3 keys in the "
                    "environment), a STAC API URL or a local STAC catalog",
            defaultValue="earth-search")

    def text(self, parameters, name, context):
        return (self.parameterAsString(parameters, name, context) or "").strip()

    def date_text(self, parameters, name, context):
        """A date parameter as ``geo`` takes it (YYYY-MM-DD): typed text, or a date value as a console script or a
        model gives it (a ``datetime.date``/``datetime``, a QDate, a QDateTime: its calendar day), which
        parameterAsString turns into '' or '2015-08-21T00:00:00.000'."""
        value = parameters.get(name)
        if isinstance(value, QDateTime):
            value = value.date()
        if isinstance(value, QDate):
            return value.toString(Qt.ISODate) if value.isValid() else ""
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return value.isoformat()
        return self.text(parameters, name, context)

    def labels(self, options):
        """geo's options (``--after``) said in its messages -> the parameters the dialog shows for them ('After'):
        ``options`` maps each option to its parameter's name. A label is the description up to its ':' or '('."""
        labels = {}
        for option, name in options.items():
            parameter = self.parameterDefinition(name)
            if parameter is not None:
                labels[option] = "'" + parameter.description().split(":")[0].split(" (")[0].strip() + "'"
        return labels

    def geo(self, args, feedback, expected_steps=1, aliases=None, summary=True, options=None):
        """Run ``geo ARGS``; returns its stdout, which is also logged line by line when it is ``geo``'s summary
        (the scenes taken, the changes, where the report is), not data the algorithm reads (``--json``).
        ``options``: geo's options -> the parameters given as them, named so in geo's messages (``labels``)."""
        aliases = {**(aliases or {}), **self.labels(options or {})}
        out = run_geo(args, feedback, expected_steps, aliases=aliases)
        if summary:
            for line in out.splitlines():
                if line.strip():
                    feedback.pushInfo(line.rstrip())
        return out
