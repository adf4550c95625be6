"""QGIS layer styles (QML) for a run's layers, built as XML from the run's own values.

Vector styles carry a categorised renderer, map tips and the layer's temporal settings (features live
from a start to an end DateTime field), so the layer opens styled and the temporal controller works; the
change, claim, vessel and AOI styles also give readable field names (aliases), no labels, and outlines over a
contrasting halo that read on dark and bright imagery alike.
Raster styles fix the renderer and its stretch, so before and after open as true colour and the change
statistic as a ramp that starts at the detection threshold.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from geo.outputs.palette import CHANGE_TYPE_COLOURS, SENSOR_COLOURS, VERDICT_COLOURS, change_colour, rgb_triplet
from geo.outputs.statistic import describe

QGIS_VERSION = "3.22.0"  # the oldest QGIS whose QML these follow (Debian bookworm ships 3.22)
TEMPORAL_FROM_EXPRESSIONS = 4  # QgsVectorLayerTemporalProperties.ModeFeatureDateTimeStartAndEndFromExpressions
TEMPORAL_INCLUDE_END = 1  # Qgis::VectorTemporalLimitMode::IncludeBeginIncludeEnd
GEOMETRY_POLYGON = 2
HALO_WIDTH_FACTOR = 2.0  # the halo line is twice as wide as the coloured outline it sits under
HALO_ALPHA = 190
AOI_COLOUR = "#ffd400"

# Readable field names (QGIS shows them in the attribute table, forms and identify results).
CHANGE_ALIASES = {
    "change_id": "Change id", "id": "Change id (GeoJSON id)", "aoi_id": "Area of interest",
    "claim_ids": "Claims in the area",
    "evidence_for": "Evidence for claims", "before_scene": "Before scene", "after_scene": "After scene",
    "before_date": "Before (acquired, UTC)", "after_date": "After (acquired, UTC)", "area_m2": "Area (m²)",
    "score": "Change score", "confidence": "Confidence", "change_type": "Change type",
    "type_confidence": "Change type confidence", "pixels": "Pixels", "algorithm_version": "Algorithm version",
    "first_seen": "First seen (acquired, UTC)", "run_id": "Re-check run", "recorded_at": "Recorded at (UTC)",
}
CLAIM_ALIASES = {
    "claim_id": "Claim", "aoi_id": "Area of interest", "stance": "Stance", "claimant": "Claimant",
    "statement": "Statement", "source": "Source", "source_url": "Source link", "window_start": "Window start (UTC)",
    "window_end": "Window end (UTC)", "window_time_zone": "Window days' time zone", "verdict": "Verdict", "confidence": "Confidence",
    "confidence_label": "Confidence (in words)", "rationale": "Rationale", "n_changes": "Changes in the area",
    "n_matching": "Changes matching the claim", "clear_fraction": "Clear share of the area",
    "verdict_source": "Verdict decided by", "vessel_verdict": "Vessel verdict", "vessel_p_value": "Vessel p-value",
    "before_scene": "Before scene", "after_scene": "After scene",
}
VESSEL_ALIASES = {
    "detection_id": "Detection id", "id": "Detection id (GeoJSON id)", "aoi_id": "Area of interest",
    "scene": "Scene", "datetime": "Acquired (UTC)", "date": "Date acquired", "sensor": "Sensor",
    "length_m": "Length (m)", "width_m": "Width (m)", "heading_deg": "Heading (°)", "area_m2": "Area (m²)",
    "pixels": "Pixels", "score": "Detection score", "peak": "Peak value", "at_berth": "At berth",
    "lon": "Longitude", "lat": "Latitude", "algorithm_version": "Algorithm version",
}
NOT_COMPARED_ALIASES = {
    "aoi_id": "Area of interest", "reason": "Why not compared", "detail": "Why, in full", "area_m2": "Area (m²)",
    "aoi_fraction": "Share of the area", "before_scene": "Before scene", "after_scene": "After scene",
    "before_date": "Before (acquired, UTC)", "after_date": "After (acquired, UTC)",
}
AOI_ALIASES = {
    "id": "Id", "name": "Name", "country": "Country", "kind": "Kind", "area_km2": "Area (km²)",
    "approximate": "Approximate outline", "source": "Outline source", "clear_fraction": "Clear share in the run",
}


def _option_map(parent: ET.Element, values: dict[str, str]) -> None:
    options = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(options, "Option", name=key, type="QString", value=value)


def _contrasting(colour: str) -> str:
    """White or black, whichever stands out more against ``colour`` (WCAG contrast of relative luminance)."""
    srgb = [c / 255 for c in rgb_triplet(colour)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in srgb]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


def _simple_fill(symbol: ET.Element, colour: str, fill_alpha: int, outline: str, outline_alpha: int,
                 outline_width: float, outline_style: str, brush: str | None = None) -> None:
    """A SimpleFill layer: its fill solid (none when ``fill_alpha`` is 0), or ``brush`` (a hatch: f_diagonal...)."""
    (r, g, b), (outline_r, outline_g, outline_b) = rgb_triplet(colour), rgb_triplet(outline)
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "enabled": "1", "pass": "0", "locked": "0"})
    _option_map(layer, {
        "color": f"{r},{g},{b},{fill_alpha}",
        "style": brush or ("solid" if fill_alpha else "no"),
        "outline_color": f"{outline_r},{outline_g},{outline_b},{outline_alpha}",
        "outline_style": outline_style,
        "outline_width": f"{outline_width}",
        "outline_width_unit": "MM",
        "joinstyle": "miter",
        "offset": "0,0",
        "offset_unit": "MM",
        "border_width_map_unit_scale": "3x:0,0,0,0,0,0",
    })


def _fill_symbol(parent: ET.Element, name: str, colour: str, fill_alpha: int, outline_width: float,
                 outline_style: str = "solid", halo: bool = False) -> None:
    """A polygon symbol: a ``colour`` outline over a ``fill_alpha`` tint (0: no fill); with ``halo``, a line
    twice as wide in the contrasting colour under it, so the outline reads on dark and bright imagery alike."""
    symbol = ET.SubElement(parent, "symbol", type="fill", name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    if halo:
        _simple_fill(symbol, colour, 0, _contrasting(colour), HALO_ALPHA, outline_width * HALO_WIDTH_FACTOR, "solid")
    _simple_fill(symbol, colour, fill_alpha, colour, 255, outline_width, outline_style)


def _document(layer_type: str | None = None) -> ET.Element:
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories")
    if layer_type:
        root.set("type", layer_type)
    return root


def as_datetime(field: str) -> str:
    """A QGIS expression for a DateTime field's value, compared by QGIS itself. On a plain field QGIS 3.22
    hands the time filter to the GeoPackage as text ('2017-10-14T11:09:59.000Z' <= '2017-10-14T11:09:59.000'),
    which is false at the field's own instant; a function call is not handed over."""
    return f'to_datetime("{field}")'


def _temporal(root: ET.Element, start_field: str, end_field: str) -> None:
    """Features live from ``start_field`` to ``end_field``, both instants included (the same field twice: an
    instant). Expressions rather than the field modes: see ``as_datetime``."""
    temporal = ET.SubElement(root, "temporal", {
        "enabled": "1", "mode": str(TEMPORAL_FROM_EXPRESSIONS), "startField": start_field,
        "endField": end_field, "limitMode": str(TEMPORAL_INCLUDE_END), "accumulate": "0", "durationUnit": "d",
        "fixedDuration": "0", "durationField": "", "startExpression": as_datetime(start_field),
        "endExpression": as_datetime(end_field),
    })
    fixed = ET.SubElement(temporal, "fixedRange")
    ET.SubElement(fixed, "start")
    ET.SubElement(fixed, "end")


def _categorised(root: ET.Element, field: str, categories: Sequence[tuple[str, str, str]], fill_alpha: int,
                 outline_width: float, catch_all: str | None, halo: bool = False) -> None:
    renderer = ET.SubElement(root, "renderer-v2", {
        "type": "categorizedSymbol", "attr": field, "forceraster": "0", "symbollevels": "0",
        "enableorderby": "0", "referencescale": "-1",
    })
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    rows = list(categories) + ([("", "other values", catch_all)] if catch_all else [])
    for index, (value, label, colour) in enumerate(rows):
        ET.SubElement(cats, "category", render="true", symbol=str(index), value=value, label=label, type="string")
        _fill_symbol(symbols, str(index), colour, fill_alpha, outline_width, halo=halo)


def _aliases(root: ET.Element, aliases: dict[str, str]) -> None:
    element = ET.SubElement(root, "aliases")
    for field, alias in aliases.items():
        ET.SubElement(element, "alias", field=field, name=alias)


def _text(expression: str) -> str:
    """A map tip's ``[% expression %]`` whose text value shows as text: QGIS puts map tip values into a web
    view running JavaScript as they are (QgsMapTip), so an area's name ``<img src=x onerror=...>`` ran; QGIS
    3.22 has no function to escape HTML."""
    return f"[% replace(replace(replace({expression}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;') %]"


CHANGE_TYPE_WORDS = """replace("change_type", '_', ' ')"""  # new_bright_surface: new bright surface


def _field(name: str) -> str:
    """A field's text value in a map tip (``_text``)."""
    return _text(f'"{name}"')


def _common_tail(root: ET.Element, display_field: str, map_tip: str, aliases: dict[str, str] | None = None) -> None:
    """What every vector style ends with: no labels (map tips instead), field aliases, blending, map tip."""
    root.set("labelsEnabled", "0")
    if aliases:
        _aliases(root, aliases)
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "previewExpression").text = f'"{display_field}"'
    ET.SubElement(root, "mapTip").text = map_tip
    ET.SubElement(root, "layerGeometryType").text = str(GEOMETRY_POLYGON)


def to_qml(root: ET.Element) -> str:
    """A style as QML text (a copy is indented, the element is left as it was)."""
    root = copy.deepcopy(root)
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"


# A change's claim ids as words: a list in the GeoJSON (QGIS: StringList), JSON text in the GeoPackage (as in the store)
CLAIM_IDS_TEXT = """try(array_to_string("claim_ids", ', '), array_to_string(from_json("claim_ids"), ', '))"""


def changes_style(types_present: Iterable[str] = ()) -> ET.Element:
    """Change polygons outlined in the colour of their ``change_type`` over a contrasting halo, lightly
    tinted, no labels; alive from ``before_date`` to ``after_date``."""
    types = list(CHANGE_TYPE_COLOURS) + sorted(set(types_present) - set(CHANGE_TYPE_COLOURS))
    root = _document()
    _temporal(root, "before_date", "after_date")
    _categorised(root, "change_type", [(t, t.replace("_", " "), change_colour(t)) for t in types],
                 fill_alpha=40, outline_width=0.6, catch_all=change_colour("__unknown__"), halo=True)
    _common_tail(root, "change_type", (
        f'<b>{_text(CHANGE_TYPE_WORDS)}</b><br>[% format_number("area_m2", 0) %] m²,'
        ' confidence [% "confidence" %]<br>[% "before_date" %] → [% "after_date" %]<br>'
        f'claims: [% {CLAIM_IDS_TEXT} %]'
    ), CHANGE_ALIASES)
    return root


def claims_style() -> ET.Element:
    """Claim x AOI rows coloured by verdict, alive during the claim window."""
    root = _document()
    _temporal(root, "window_start", "window_end")
    _categorised(root, "verdict", [(v, v, c) for v, c in VERDICT_COLOURS.items()],
                 fill_alpha=40, outline_width=0.6, catch_all=None, halo=True)
    _common_tail(root, "claim_id", (
        f'<b>{_field("claim_id")}</b> on {_field("aoi_id")}<br><i>{_field("verdict")}</i> '
        f'({_field("confidence_label")})<br>{_field("rationale")}'
    ), CLAIM_ALIASES)
    return root


def vessels_style() -> ET.Element:
    """Vessel detections coloured by sensor, each shown at its scene's acquisition time (an instant)."""
    root = _document()
    _temporal(root, "datetime", "datetime")
    _categorised(root, "sensor", [(s, f"{s.upper()} detection", c) for s, c in SENSOR_COLOURS.items()],
                 fill_alpha=150, outline_width=0.4, catch_all=None)
    _common_tail(root, "detection_id", (
        '<b>vessel</b> ([% upper("sensor") %]) [% format_number("length_m", 0) %] m long, '
        f'[% format_number("area_m2", 0) %] m², score [% "score" %]<br>[% "datetime" %]<br>scene {_field("scene")}'
    ), VESSEL_ALIASES)
    return root


NOT_COMPARED_GREY = "#4d4d4d"
# the areas not compared's ``reason`` -> (its legend label, in QGIS and the report; its hatch): grey hatching, a
# pattern per reason, over a light veil greying the imagery
NOT_COMPARED_CATEGORIES = {
    "cloud": ("cloud or cloud shadow", "f_diagonal"),
    "no data": ("no data (outside a scene, or a gap in it)", "diagonal_x"),
    "snow": ("snow or ice on one date only", "b_diagonal"),
    "left out": ("left out of the comparison", "horizontal"),
}


def _hatched_symbol(parent: ET.Element, name: str, hatch: str) -> None:
    symbol = ET.SubElement(parent, "symbol", type="fill", name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    _simple_fill(symbol, "#ffffff", 110, "#ffffff", 0, 0.0, "no")  # the veil: the imagery seen through, paler
    _simple_fill(symbol, NOT_COMPARED_GREY, 255, NOT_COMPARED_GREY, 255, 0.4, "solid", hatch)


def not_compared_style() -> ET.Element:
    """The AOI's areas not compared: grey hatching over a light veil, a pattern per ``reason``, so the ground nobody
    saw reads apart from the ground seen without change; drawn over the imagery, under the changes."""
    root = _document()
    renderer = ET.SubElement(root, "renderer-v2", {
        "type": "categorizedSymbol", "attr": "reason", "forceraster": "0", "symbollevels": "0",
        "enableorderby": "0", "referencescale": "-1",
    })
    cats, symbols = ET.SubElement(renderer, "categories"), ET.SubElement(renderer, "symbols")
    rows = [*((value, label, hatch) for value, (label, hatch) in NOT_COMPARED_CATEGORIES.items()),
            ("", "other reasons", "dense6")]
    for index, (value, label, hatch) in enumerate(rows):
        ET.SubElement(cats, "category", render="true", symbol=str(index), value=value, label=label, type="string")
        _hatched_symbol(symbols, str(index), hatch)
    _common_tail(root, "reason", (
        f'<b>not compared: {_field("reason")}</b><br>{_field("detail")}<br>[% format_number("area_m2", 0) %] m², '
        '[% format_number(100 * "aoi_fraction", 1) %]% of the area: no change could be found here'
    ), NOT_COMPARED_ALIASES)
    return root


def aois_style() -> ET.Element:
    """Areas of interest: a dashed outline over a contrasting halo, no fill, so the imagery stays visible."""
    root = _document()
    renderer = ET.SubElement(root, "renderer-v2", {
        "type": "singleSymbol", "forceraster": "0", "symbollevels": "0", "enableorderby": "0",
        "referencescale": "-1",
    })
    symbols = ET.SubElement(renderer, "symbols")
    _fill_symbol(symbols, "0", AOI_COLOUR, 0, 0.6, outline_style="dash", halo=True)
    _common_tail(root, "name", f'<b>{_field("name")}</b> ({_field("id")})<br>{_field("source")}', AOI_ALIASES)
    return root


def _pipe(root: ET.Element) -> ET.Element:
    pipe = ET.SubElement(root, "pipe")
    provider = ET.SubElement(pipe, "provider")
    ET.SubElement(provider, "resampling", enabled="false", maxOversampling="2",
                  zoomedInResamplingMethod="nearestNeighbour", zoomedOutResamplingMethod="nearestNeighbour")
    return pipe


def _min_max_origin(renderer: ET.Element) -> None:
    origin = ET.SubElement(renderer, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Estimated"),
                      ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(origin, tag).text = text


def _raster_tail(pipe: ET.Element, root: ET.Element) -> None:
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", colorizeOn="0", colorizeStrength="100",
                  colorizeRed="255", colorizeGreen="128", colorizeBlue="128")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(root, "blendMode").text = "0"


def true_colour_style(stretch: Sequence[tuple[float, float]]) -> ET.Element:
    """Bands 1-3 as red, green, blue, each stretched linearly over its (low, high) reflectance."""
    root = _document("raster")
    pipe = _pipe(root)
    renderer = ET.SubElement(pipe, "rasterrenderer", type="multibandcolor", redBand="1", greenBand="2",
                             blueBand="3", opacity="1", alphaBand="-1", nodataColor="")
    ET.SubElement(renderer, "rasterTransparency")
    _min_max_origin(renderer)
    for colour, (low, high) in zip(("red", "green", "blue"), stretch):
        enhancement = ET.SubElement(renderer, f"{colour}ContrastEnhancement")
        ET.SubElement(enhancement, "minValue").text = f"{low:.6g}"
        ET.SubElement(enhancement, "maxValue").text = f"{high:.6g}"
        ET.SubElement(enhancement, "algorithm").text = "StretchToMinimumMaximum"
    _raster_tail(pipe, root)
    return root


LEVEL_COLOURS = ("#fecc5c", "#fd8d3c", "#f66a2a", "#f03b20")  # the detector's levels, lowest first
CLEAR = "#ffffff"  # the colour of the statistic's transparent classes


def statistic_style(statistic: Mapping[str, Any]) -> ET.Element:
    """The change statistic of the detector that ran (``manifest["statistic"]``): transparent below its
    lowest level, then yellow to dark red, a class at each level it applied, labelled in its own unit."""
    view = describe(statistic)
    top = view.top
    levels = sorted({level.value: level for level in reversed(view.levels)}.values(), key=lambda level: level.value)
    unit = f" {view.unit}" if view.unit else ""
    # the transparent classes white: a print layout's legend draws swatches opaque (pale yellow, a colour the
    # map never shows, where the imagery shows through)
    stops = [(view.grow, CLEAR, 0, f"below the {levels[0].label}")]
    for index, level in enumerate(levels):
        value = level.value * 1.0001 if index == 0 else level.value  # just above: the level itself is clear
        colour = LEVEL_COLOURS[min(index, len(LEVEL_COLOURS) - 1)]
        stops.append((value, colour, 200 if index == 0 else 230, f"{level.value:.3g}{unit}: {level.label}"))
    stops.append((top, "#bd0026", 255, f"{top:.3g}{unit} and above"))
    root = _document("raster")
    pipe = _pipe(root)
    renderer = ET.SubElement(pipe, "rasterrenderer", type="singlebandpseudocolor", band="1", opacity="1",
                             alphaBand="-1", nodataColor="", classificationMin="0", classificationMax=f"{top:.6g}")
    ET.SubElement(renderer, "rasterTransparency")
    _min_max_origin(renderer)
    shader = ET.SubElement(ET.SubElement(renderer, "rastershader"), "colorrampshader", colorRampType="INTERPOLATED",
                           classificationMode="2", minimumValue="0", maximumValue=f"{top:.6g}", clip="0",
                           labelPrecision="2")
    ET.SubElement(shader, "item", value="0", color=CLEAR, alpha="0", label="no change")
    for value, colour, alpha, label in stops:
        ET.SubElement(shader, "item", value=f"{value:.6g}", color=colour, alpha=str(alpha), label=label)
    # QGIS draws an interpolated ramp's legend as one gradient from 0 to the top by default, hiding the
    # levels' labels; a legend of the classes lists each level in the detector's unit.
    ET.SubElement(shader, "rampLegendSettings", useContinuousLegend="0", minimumLabel="", maximumLabel="",
                  prefix="", suffix="", direction="0", orientation="2")
    _raster_tail(pipe, root)
    return root
