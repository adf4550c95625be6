"""A run folder's layers loaded into the project the Processing way (``addLayerToLoadOnCompletion``), and
set up when they arrive (``RunLayerSetup``, a layer post-processor): the run's own styles (QML sidecars of
the COGs, the GeoPackage's default styles), the time slider as in the run's ``project.qgz`` (the before image
until the after scene, the after image for a day from it, the changes over both), a stacking order that
shows the change outlines over the imagery, and the project CRS (the job's UTM grid) when the project has
none yet."""

import json
import os
import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta

from qgis.core import (
    QgsDateTimeRange,
    QgsLayerDefinition,
    QgsLayerTreeLayer,
    QgsPathResolver,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsRasterLayerTemporalProperties,
    QgsReadWriteContext,
    QgsVectorLayer,
    QgsVectorLayerTemporalProperties,
)
from qgis.PyQt.QtCore import QDateTime, Qt
from qgis.PyQt.QtXml import QDomDocument

RANK = "geo_workbench/rank"  # top to bottom in the layer tree
RUN = "geo_workbench/run"
# Processing runs a copy of the algorithm and deletes it before it loads the layers: the post-processors
# must outlive it (each one leaves this list once it has run).
_PENDING = []


def _qtime(moment):
    return QDateTime.fromString(moment.strftime("%Y-%m-%dT%H:%M:%S"), Qt.ISODate).toUTC()


def _parse(text):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class RunLayerSetup(QgsProcessingLayerPostProcessorInterface):
    """Applied to each layer of a run when QGIS has added it to the project."""

    def __init__(self, run_folder, rank, time_range, style=None, checked=True, styled=False):
        super().__init__()
        self.run_folder = run_folder
        self.rank = rank
        self.time_range = time_range  # (start, end) datetimes, or None: no time filter
        self.style = style  # a QML file to apply, or None: the layer's default style
        self.checked = checked  # unchecked: in the Layers panel, not drawn until ticked
        self.styled = styled  # the layer came with its style (a layer definition's): kept as it is

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS's name)
        if self in _PENDING:
            _PENDING.remove(self)
        if self.style:
            layer.loadNamedStyle(self.style)
        elif not self.styled:
            layer.loadDefaultStyle()
        layer.setCustomProperty(RANK, self.rank)
        layer.setCustomProperty(RUN, self.run_folder)
        if self.time_range is not None:
            start, end = (_qtime(t) for t in self.time_range)
            properties = layer.temporalProperties()
            properties.setIsActive(True)
            if isinstance(layer, QgsRasterLayer):
                properties.setMode(QgsRasterLayerTemporalProperties.ModeFixedTemporalRange)
            else:
                properties.setMode(QgsVectorLayerTemporalProperties.ModeFixedTemporalRange)
            properties.setFixedTemporalRange(QgsDateTimeRange(start, end))
        project = context.project()
        if project is not None:
            _drop_earlier_load(project, layer, self.run_folder, self.rank)
            _name_apart(project, layer, self.run_folder)
            node = project.layerTreeRoot().findLayer(layer.id())
            if node is not None and not self.checked:
                node.setItemVisibilityChecked(False)
            if not project.crs().isValid() and isinstance(layer, QgsRasterLayer):
                project.setCrs(layer.crs())  # the job's UTM grid: the COGs are on it
            _restack(project, self.run_folder)
        layer.triggerRepaint()


def _drop_earlier_load(project, layer, run_folder, rank):
    """A run into a folder already loaded replaces its files: the layers of the earlier load (same folder, same
    rank) leave the project, so a re-run shows each layer once, and on the new files."""
    earlier = [other.id() for other in project.mapLayers().values()
               if other.id() != layer.id() and _same_folder(other.customProperty(RUN), run_folder)
               and str(other.customProperty(RANK)) == str(rank)]
    if earlier:
        project.removeMapLayers(earlier)


def _name_apart(project, layer, run_folder):
    """A layer named as one of another run folder's (its AOI and dates the same: another sensor, other claims) gets
    its folder's name too ('Changes (harbour-east 2015-08-21→2017-10-14, quay-run)'), and a number if still taken."""
    taken = {other.name() for other in project.mapLayers().values()
             if other.id() != layer.id() and not _same_folder(other.customProperty(RUN), run_folder)}
    name = layer.name()
    if name not in taken:
        return
    if name.endswith(")"):
        name = f"{name[:-1]}, {os.path.basename(os.path.normpath(str(run_folder)))})"
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} #{number}", number + 1
    layer.setName(candidate)


def _same_folder(one, other):
    return bool(one) and bool(other) and os.path.normpath(str(one)) == os.path.normpath(str(other))


def _restack(project, run_folder):
    """Order the run's layers in their group by rank (change outlines on top, imagery at the bottom): clones are
    inserted in order before the originals are removed (a layer left in no node would leave the project)."""
    for group in {id(n.parent()): n.parent() for n in project.layerTreeRoot().findLayers()}.values():
        ours = [c for c in group.children() if isinstance(c, QgsLayerTreeLayer) and c.layer() is not None
                and c.layer().customProperty(RUN) == run_folder]
        ordered = sorted(ours, key=lambda node: int(node.layer().customProperty(RANK)))
        if ordered == ours:
            continue
        first = min(group.children().index(n) for n in ours)
        group.insertChildNodes(first, [n.clone() for n in ordered])
        for node in ours:
            group.removeChildNode(node)


COPERNICUS = "Contains modified Copernicus Sentinel data"  # worded as geo words it (geo.outputs.layer_metadata)


def sentinel_credit(*moments):
    """'Contains modified Copernicus Sentinel data 2015–2017': the years of ``moments``."""
    years = sorted({moment.year for moment in moments})
    return f"{COPERNICUS} {years[0]}" if years[0] == years[-1] else f"{COPERNICUS} {years[0]}–{years[-1]}"


def credited(layer, credit):
    """``layer`` with ``credit`` as its metadata's rights unless it has some (a GeoPackage layer's come from
    the GeoPackage; a COG has none QGIS reads: Properties > Metadata was blank)."""
    metadata = layer.metadata()
    if not metadata.rights():
        metadata.setRights([credit])
        layer.setMetadata(metadata)
    return layer


def run_name(folder, file, first, last):
    """What tells a run's layers from another run's in the Layers panel: its AOI (as ``file`` of the folder names
    it: a change run's manifest, a vessel run's time series) and its dates ('harbour-east 2015-08-21→2017-10-14');
    the names alone ('Changes') were the same for every run."""
    with open(os.path.join(folder, file), encoding="utf-8") as source:
        data = json.load(source)
    return f"{data['aoi']['id'] if 'aoi' in data else data['aoi_id']} {first}→{last}"


def named(name, run):
    """A layer's name with its run's: 'Changes (harbour-east 2015-08-21→2017-10-14)'."""
    return f"{name} ({run})"


def pair_times(folder):
    """(before, after) acquisition times from the run's manifest."""
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as source:
        scenes = json.load(source)["scenes"]
    return _parse(scenes["before"]["datetime"]), _parse(scenes["after"]["datetime"])


class LayerLoader:
    """Checks a run's layers valid and has Processing load them into the project when the algorithm
    finishes; keeps the post-processors alive until then."""

    def __init__(self, context, output_name):
        self.context = context
        self.output_name = output_name

    def add(self, layer, run_folder, rank, time_range=None, style=None, checked=True, styled=False):
        if not layer.isValid():
            raise QgsProcessingException(f"QGIS cannot open {layer.source()} (layer {layer.name()})")
        self.context.temporaryLayerStore().addMapLayer(layer)
        details = QgsProcessingContext.LayerDetails(layer.name(), self.context.project(), self.output_name)
        setup = RunLayerSetup(run_folder, rank, time_range, style, checked, styled)
        _PENDING.append(setup)
        details.setPostProcessor(setup)
        self.context.addLayerToLoadOnCompletion(layer.id(), details)
        return layer


def definition_layers(path):
    """The layers a layer definition file (``.qlr``, as ``geo`` writes them: ``geo.outputs.qlr``) shows (ticked
    in its tree), top first, each as the file defines it: its data source typed (a polygon layer also when the
    GeoJSON has no feature, which QGIS alone opens as a table without geometry or CRS), CRS, style and time
    settings. Each gets a new layer id: the file's ids are the same in every run folder."""
    tree = ET.parse(path).getroot()
    nodes = list(tree.iter("layer-tree-layer"))
    renamed = {node.get("id"): f"{node.get('id')}_{uuid.uuid4().hex}" for node in nodes}
    shown = [renamed[node.get("id")] for node in nodes if node.get("checked") == "Qt::Checked"]
    for node in nodes:
        node.set("id", renamed[node.get("id")])
    for maplayer in tree.iter("maplayer"):
        ident = maplayer.find("id")
        ident.text = renamed.get(ident.text, ident.text)
    document = QDomDocument()
    document.setContent(ET.tostring(tree, encoding="unicode"))
    context = QgsReadWriteContext()
    context.setPathResolver(QgsPathResolver(path))  # the sources are relative to the file
    layers = {layer.id(): layer for layer in QgsLayerDefinition.loadLayerDefinitionLayers(document, context)}
    return [layers[ident] for ident in shown if ident in layers]


def _claims_tested(folder):
    with open(os.path.join(folder, "claims.json"), encoding="utf-8") as source:
        return len(json.load(source))


def load_change_run(loader, folder, feedback):
    """The change job's layers: changes and AOI from the GeoPackage, with the claim verdicts (unchecked, as in
    the run's project: they fill the area) when claims were tested and the vessel detections when ships were
    counted, the statistic and the two true-colour COGs (each with its QML sidecar)."""
    before, after = pair_times(folder)
    run = run_name(folder, "manifest.json", before.date(), after.date())
    day = timedelta(days=1)
    gpkg = os.path.join(folder, "changes.gpkg")
    layers = [
        (QgsVectorLayer(f"{gpkg}|layername=changes", named("Changes", run), "ogr"), 0, (before, after + day), True),
        (QgsVectorLayer(f"{gpkg}|layername=aois", named("Area of interest", run), "ogr"), 3, None, True),
        (credited(QgsRasterLayer(os.path.join(folder, "change_statistic.tif"), named("Change statistic", run)),
                  sentinel_credit(before, after)), 4, (before, after + day), True),
        (credited(QgsRasterLayer(os.path.join(folder, "after_rgb.tif"), named(f"After {after.date()}", run)),
                  sentinel_credit(after)), 5, (after, after + day), True),
        (credited(QgsRasterLayer(os.path.join(folder, "before_rgb.tif"), named(f"Before {before.date()}", run)),
                  sentinel_credit(before)), 6, (before, after), True),
    ]
    if os.path.exists(os.path.join(folder, "vessels.geojson")):  # the run counted ships: its GeoPackage has them
        layers.insert(1, (QgsVectorLayer(f"{gpkg}|layername=vessels", named("Vessel detections", run), "ogr"), 1,
                          None, True))
    if _claims_tested(folder):  # the layer's default style times each claim by its window
        layers.insert(-4, (QgsVectorLayer(f"{gpkg}|layername=claims", named("Claim verdicts", run), "ogr"), 2, None,
                           False))
    for layer, rank, time_range, checked in layers:
        if isinstance(layer, QgsRasterLayer) and not os.path.exists(layer.source()):
            feedback.pushWarning(f"{os.path.basename(layer.source())} not written by the run: not loaded")
            continue
        loader.add(layer, folder, rank, time_range, checked=checked)
    return [layer for layer, _, _, _ in layers]
