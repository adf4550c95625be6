"""Run by Debian's /usr/bin/python3 (PyQGIS), not the project's interpreter: what an analyst does to a re-check
store in QGIS, through the layers' editing sessions (commitChanges), and JSON of what QGIS answered.

usage: qgis_store_edits.py STORE triage       columns of their own, values, an edit of geo's, a deletion, a
                                              polygon drawn by hand, a layer of their own, a style and a project
                                              saved in the GeoPackage
       qgis_store_edits.py STORE index        Layer Properties > Source > Create Spatial Index, on both layers
       qgis_store_edits.py STORE delete-aoi ID  the AOI's feature deleted in the aois layer
       qgis_store_edits.py STORE draw-aoi     a new area drawn in the aois layer
       qgis_store_edits.py STORE hold SECONDS an edit kept uncommitted in a transaction group for SECONDS
       qgis_store_edits.py STORE look         the layers as QGIS reads them
"""

import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication, QgsCoordinateTransformContext, QgsFeature, QgsFeatureRequest, QgsField, QgsGeometry, QgsPointXY,
    QgsProject, QgsRectangle, QgsVectorFileWriter, QgsVectorLayer,
)
from qgis.PyQt.QtCore import QVariant  # noqa: E402


def layer(store, name):
    return QgsVectorLayer(f"{store}|layername={name}", name, "ogr")


def triage(store, false_alarm, confirmed, deleted):
    out = {}
    changes = layer(store, "changes")
    changes.startEditing()
    changes.addAttribute(QgsField("status", QVariant.String))
    changes.addAttribute(QgsField("note", QVariant.String))
    out["columns"] = changes.commitChanges()
    ids = {f["change_id"]: f.id() for f in changes.getFeatures()}
    fields = changes.fields()
    changes.startEditing()
    changes.changeAttributeValue(ids[confirmed], fields.indexOf("status"), "confirmed")
    changes.changeAttributeValue(ids[confirmed], fields.indexOf("note"), "new roofs, seen on a VHR image")
    # linked by hand to the claim it bears on, and one of the analyst's, typed as the cell reads
    changes.changeAttributeValue(ids[confirmed], fields.indexOf("claim_ids"), "a-build, my-claim")
    changes.changeAttributeValue(ids[false_alarm], fields.indexOf("status"), "false alarm")
    changes.changeAttributeValue(ids[false_alarm], fields.indexOf("change_type"), "false_alarm")
    changes.deleteFeature(ids[deleted])
    out["edits"] = changes.commitChanges()
    # drawn by hand; QGIS's form insists on the columns the store declares NOT NULL, the rest stay empty
    extent = changes.extent()
    drawn = QgsFeature(changes.fields())
    drawn.setGeometry(QgsGeometry.fromRect(QgsRectangle(extent.xMinimum(), extent.yMinimum(),
                                                        extent.xMinimum() + 0.0005, extent.yMinimum() + 0.0005)))
    for key, value in {"change_id": "hand-1", "aoi_id": "site-a", "before_scene": "-", "after_scene": "-",
                       "first_seen": "2021-04-15T00:00:00Z", "algorithm_version": "by hand", "run_id": 2,
                       "recorded_at": "2021-06-10T00:00:00Z", "change_type": "vehicles", "status": "mine"}.items():
        drawn[key] = value
    changes.startEditing()
    changes.addFeature(drawn)
    out["drawn"] = [changes.commitChanges(), changes.commitErrors()]
    mine = QgsVectorLayer("Point?crs=EPSG:4326&field=label:string", "analyst_points", "memory")
    point = QgsFeature(mine.fields())
    point.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(extent.center())))
    point["label"] = "look here"
    mine.dataProvider().addFeatures([point])
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName, options.layerName = "GPKG", "analyst_points"
    options.actionOnExistingFile = QgsVectorFileWriter.CreateOrOverwriteLayer
    out["own_layer"] = int(QgsVectorFileWriter.writeAsVectorFormatV2(mine, store, QgsCoordinateTransformContext(),
                                                                      options)[0])
    styled = layer(store, "changes")
    styled.loadDefaultStyle()
    out["style_saved"] = styled.saveStyleToDatabase("analyst triage", "mine", True, "") == ""
    project = QgsProject.instance()
    project.addMapLayer(styled)
    out["project_saved"] = project.write(f"geopackage:{store}?projectName=triage")
    return out


def look(store):
    changes = layer(store, "changes")
    changes.loadDefaultStyle()
    out = {"valid": changes.isValid(), "fields": changes.fields().names(),
           "rows": {f["change_id"]: {k: f[k] for k in ("change_type", "status", "note", "run_id", "claim_ids")
                                     if changes.fields().indexOf(k) >= 0}
                    for f in changes.getFeatures()},
           "temporal": changes.temporalProperties().isActive()}
    for key in ("status", "note", "claim_ids"):  # QGIS hands NULL as a QVariant
        for row in out["rows"].values():
            if key in row and not isinstance(row[key], str):
                row[key] = None
    extent = changes.extent()
    out["in_extent"] = sorted(f["change_id"] for f in changes.getFeatures(QgsFeatureRequest().setFilterRect(extent)))
    out["aois_valid"] = layer(store, "aois").isValid()
    return out


def main():
    store, action = sys.argv[1], sys.argv[2]
    if action == "triage":
        out = triage(store, *sys.argv[3:6])
    elif action == "index":
        layers = {name: layer(store, name) for name in ("changes", "aois")}
        out = {name: lay.dataProvider().createSpatialIndex() for name, lay in layers.items()}
    elif action == "delete-aoi":  # the AOI's feature deleted in the aois layer
        aois = layer(store, "aois")
        aois.startEditing()
        aois.deleteFeatures([f.id() for f in aois.getFeatures() if f["aoi_id"] == sys.argv[3]])
        out = {"deleted": aois.commitChanges()}
    elif action == "draw-aoi":  # a new area drawn in the aois layer, the form's NOT NULL columns typed in
        aois = layer(store, "aois")
        extent = aois.extent()
        drawn = QgsFeature(aois.fields())
        drawn.setGeometry(QgsGeometry.fromRect(QgsRectangle(extent.xMinimum(), extent.yMinimum(),
                                                            extent.xMinimum() + 0.002, extent.yMinimum() + 0.002)))
        for key, value in {"aoi_id": "my-area", "name": "my area", "feature": "drawn in QGIS", "first_run": 2,
                           "updated_run": 2}.items():
            drawn[key] = value
        aois.startEditing()
        aois.addFeature(drawn)
        out = {"drawn": aois.commitChanges()}
    elif action == "hold":
        project = QgsProject.instance()
        project.setAutoTransaction(True)  # Project Properties > Data Sources: automatic transaction groups
        changes = layer(store, "changes")
        project.addMapLayer(changes)
        changes.startEditing()
        first = next(changes.getFeatures())
        changes.changeAttributeValue(first.id(), changes.fields().indexOf("change_type"), "held")
        print("EDITING", flush=True)
        time.sleep(float(sys.argv[3]))
        out = {"committed": changes.commitChanges()}
    else:
        out = look(store)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    main()
    os._exit(0)  # QGIS 3.22 can crash in its exit handlers after the work is done
