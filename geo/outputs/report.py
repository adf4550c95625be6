"""The evidence report: one self-contained HTML file (jinja2, images as data URIs) per set of runs.

Claim text comes from untrusted documents: the template environment escapes every value, the only
script is the report's own (allowed by its hash in a Content-Security-Policy), and links are kept only
for http(s) URLs.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, SupportsFloat
from urllib.parse import urlparse


from geo import __version__
from geo.link import (
    CONSISTENT,
    INCONSISTENT_WITH_DENIAL,
    NO_EVIDENCE,
    NOT_OBSERVABLE,
    NOT_TESTED,
    VERDICTS,
    WEAK_EVIDENCE,
)
from geo.atomic import replacing
from geo.claim_verdict import DECIDED_BY_NEITHER
from geo.results import cloud_unjudged_on, left_out_share, seen_clear_split
from geo.outputs.layer_metadata import run_days, sentinel_credit
from geo.outputs.not_compared import legend_words
from geo.outputs.palette import VERDICT_COLOURS, change_colour
from geo.outputs.provenance import portable_path, run_folder
from geo.outputs.report_templates import csp_hash, template_asset, template_environment
from geo.outputs.report_views import Pictures, Place, build_pictures, vessel_view
from geo.outputs.run_data import AFTER_RGB, BEFORE_RGB, STATISTIC, RunData, job_timings
from geo.outputs.settings import readable_detector_settings, readable_settings
from geo.outputs.statistic import describe, job_parameters
from geo.scenes.model import Sensor
from geo.vector.feature import ChangeFeature
from geo.verdicts import MIN_EVIDENCE_AREA_M2, MIN_EVIDENCE_STRENGTH
from geo.words import tallied

MAX_TABLE_ROWS = 15
MAX_CHIPS = 6
VERDICT_HELP = {
    CONSISTENT: "changes of the kinds the claim predicts appeared between the two scenes and pass the minimum "
                "evidence rule",
    INCONSISTENT_WITH_DENIAL: "a claim this denial denies has such evidence on the same area",
    WEAK_EVIDENCE: "changes of the predicted kinds appeared, but too small or too faint to pass the minimum "
                   "evidence rule",
    NO_EVIDENCE: "the area was seen clearly and no such change appeared; absence is not disproof",
    NOT_OBSERVABLE: "the predicted signature is below 10 m pixels, or cloud hid the area",
    NOT_TESTED: "the two scenes do not lie on either side of the claim window",
}
# radar sees through cloud: a report of Sentinel-1 runs only says what hides the area from it
RADAR_VERDICT_HELP = {
    NO_EVIDENCE: "the area was seen and no such change appeared; absence is not disproof",
    NOT_OBSERVABLE: "the predicted signature is below the radar's 10-20 m pixels, or too little of the area was "
                    "seen (no data or outside the scenes)",
}
EVIDENCE_RULE = (
    f"Minimum evidence: changes of the predicted kinds count only when at least {MIN_EVIDENCE_STRENGTH:.0%} of "
    "their pixels are far past the change threshold (times how sure their kind is), and together they must cover "
    f"{MIN_EVIDENCE_AREA_M2:,.0f} m² ({MIN_EVIDENCE_AREA_M2 / 100:.0f} pixels of 10 m)."
)
VESSEL_HELP = (
    "For claims that predict ships, large vessels are also counted on every Sentinel-1 and Sentinel-2 date "
    "around the claim window: a significant rise inside the window against the area's own earlier dates "
    "decides; when the counts cannot be tested the change polygons decide. Both judgements are shown."
)


def safe_url(url: str) -> str | None:
    """The URL when it is plain http(s), else None (the text is still shown, not linked)."""
    parsed = urlparse(url.strip())
    return url.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def score_text(value: SupportsFloat | str | None) -> str:
    """A change's mean statistic: two decimals for small values (z-scores), none for large (chi-square)."""
    if value is None or value == "":
        return ""
    number = float(value)
    return f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.2f}"


def area_text(area_m2: float) -> str:
    """An area as the report's tables give it: m² below a square kilometre (a drawn area's 1,100 m² read as
    "0.001 km²"), km² above."""
    return f"{area_m2:,.0f} m²" if area_m2 < 1e6 else f"{area_m2 / 1e6:,.2f} km²"


def evidence_score_text(strength: float) -> str:
    """A change's evidence score and whether it counts towards the minimum evidence: "68% (counts)",
    "24% (below 25%)"; a decimal where whole percent would cross the rule's level (0.2448 -> "24.5%", never
    "25% (below 25%)")."""
    counts = strength >= MIN_EVIDENCE_STRENGTH
    text = f"{strength:.0%}"
    if (round(100 * strength) >= round(100 * MIN_EVIDENCE_STRENGTH)) != counts:
        text = f"{math.floor(1000 * strength) / 10:.1f}%"  # floored: 24.96% must not read as 25.0%
    return f"{text} (counts)" if counts else f"{text} (below {MIN_EVIDENCE_STRENGTH:.0%})"


def _change_row(feature: ChangeFeature, expected: set[str]) -> dict[str, Any]:
    kind = feature.change_type
    return {
        "id": feature.change_id, "type": kind, "label": kind.replace("_", " "),
        "colour": change_colour(kind), "predicted": kind in expected,
        "area_m2": feature.area_m2, "confidence": feature.confidence,
        "type_confidence": feature.type_confidence, "score": score_text(feature.score),
        "place": Place.of(feature.geometry), "evidence_score": evidence_score_text(feature.strength),
    }


def badge(verdict: str, label: str | None, key: bool = False) -> dict[str, str]:
    """A verdict badge: its colour, and its confidence both written and drawn (solid for high, hatched for
    medium, outlined for low, dotted for none), so a weak verdict never looks like a strong one. ``key``: a
    plain solid badge for the legend of verdicts."""
    level = "key" if key else label if label in ("low", "medium", "high") else "none"
    return {"verdict": verdict, "colour": VERDICT_COLOURS.get(verdict, "#555555"), "level": level,
            "label": "" if level in ("none", "key") else f"{level} confidence"}


UNTESTED_BY_EITHER = "neither the change polygons nor the vessel counts could test the claim"


def decided_by(verdict_source: str | None) -> str | None:
    """Which line of evidence decided a merged verdict (its ``verdict_source``), or None when none did."""
    return None if verdict_source in (None, DECIDED_BY_NEITHER) else verdict_source


def largest_first(features: Sequence[ChangeFeature]) -> list[ChangeFeature]:
    return sorted(features, key=lambda f: -f.area_m2)


def _claim_card(entry: dict[str, Any], run: RunData, pictures: Pictures) -> dict[str, Any]:
    expected = set(entry.get("expected_change_types", []))
    claim_id = entry["claim_id"]
    linked = [f for f in run.features if claim_id in f.claim_ids]
    evidence_ids = list(entry.get("evidence", []))
    by_id = {f.change_id: f for f in linked}
    by_id.update({f.change_id: f for f in run.features if f.change_id in evidence_ids})
    evidence = [by_id[c] for c in evidence_ids if c in by_id]
    if evidence:
        chip_title = "Strongest changes of the predicted kinds"
        chip_features = evidence[:MAX_CHIPS]
    else:
        chip_title = "Largest changes linked to the claim"
        chip_features = largest_first(linked)[:3]
    counts = Counter(f.change_type for f in linked)
    areas: defaultdict[str, float] = defaultdict(float)
    for f in linked:
        areas[f.change_type] += f.area_m2
    by_type = [
        {"type": t, "label": t.replace("_", " "), "colour": change_colour(t), "count": n, "area_m2": areas[t],
         "predicted": t in expected}
        for t, n in sorted(counts.items(), key=lambda kv: (kv[0] not in expected, -areas[kv[0]]))
    ]
    table_source = evidence if evidence else largest_first(linked)
    claim = entry.get("claim", {})
    source_url = str(claim.get("source_url", ""))
    return {
        "entry": entry,
        "claim": claim,
        "source_link": safe_url(source_url),
        "source_url": source_url,
        "verdict_colour": VERDICT_COLOURS.get(entry["verdict"], "#555555"),
        "badge": badge(entry["verdict"], entry.get("confidence_label")),
        "positive": entry["verdict"] in (CONSISTENT, INCONSISTENT_WITH_DENIAL),
        "confidence_pct": None if entry.get("confidence") is None else round(100 * float(entry["confidence"])),
        "by_type": by_type,
        "rows": [_change_row(f, expected) for f in table_source[:MAX_TABLE_ROWS]],
        "more_rows": max(0, len(table_source) - MAX_TABLE_ROWS),
        "table_title": "Changes of the predicted kinds" if evidence else "Changes linked to the claim, largest first",
        # the rule's score beside its two factors: a change with 32% strong pixels may score 24% and not count
        "evidence_scores": bool(evidence),
        "chip_title": chip_title,
        "chips": pictures.chips(chip_features),
        "expected": sorted(t.replace("_", " ") for t in expected),
        "vessel": entry.get("vessel_evidence"),
        "vessel_badge": badge((entry.get("vessel_evidence") or {}).get("verdict", ""),
                              (entry.get("vessel_evidence") or {}).get("confidence_label")),
        "change_judgement": entry.get("change_verdict"),
        "decided_by": decided_by(entry.get("verdict_source")) or f"nothing: {UNTESTED_BY_EITHER}",
    }


def _sensor(manifest: dict[str, Any]) -> Sensor:
    """The run's sensor; Sentinel-2 for a manifest from before runs named it."""
    return Sensor.named(manifest.get("sensor")) or Sensor.S2


def _cloud_unjudged(manifest: dict[str, Any]) -> str | None:
    """The optical scenes of the run whose cloud was not judged (no SCL: the demo's L1C scenes), in words; None
    when both were, or for radar (no cloud to judge)."""
    return cloud_unjudged_on(manifest.get("cloud_masked") or {}) if _sensor(manifest).sees_cloud else None


def seen_clear(manifest: dict[str, Any]) -> str:
    """How a share of the area seen on a date is said: 'clear' of cloud (Sentinel-2), or just 'seen' (radar, and
    a pair whose cloud was not judged)."""
    return "seen" if _cloud_unjudged(manifest) else _sensor(manifest).clear_word


def unseen_causes(manifest: dict[str, Any]) -> str:
    """What leaves part of the area unseen on a date, in the report's words: radar (Sentinel-1) sees through
    cloud, so its runs name no cloud."""
    causes = "cloud, no data or outside the scenes" if _sensor(manifest).sees_cloud else "no data or outside the scenes"
    left_out = manifest.get("not_compared")
    return f"{causes}; or seen but not compared: {left_out['why']}" if left_out else causes


def nothing_found(clear_fraction: float, dates: Sequence[str], causes: str) -> str:
    """The empty state of a claim-free run, in words: where no change was found, and where none could be."""
    seen = round(100 * clear_fraction)
    when = f"on both dates ({dates[0]} and {dates[1]})"
    if seen >= 100:
        return f"No change was found in the area, all of it seen {when}."
    if seen <= 0:
        return f"No change could be found: none of the area was seen {when} ({causes})."
    return (f"No change was found in the {seen}% of the area seen {when}; the other {100 - seen}% was not seen "
            f"({causes}), so no change can be found there.")


def _overview(run: RunData, pictures: Pictures, dates: Sequence[str]) -> dict[str, Any]:
    """A claim-free run's own changes, largest first: chips and a table like a claim card's (or, with none,
    the words saying so)."""
    largest = largest_first(run.features)
    if not largest:
        return {"empty": nothing_found(float(run.manifest.get("clear_fraction") or 0.0), dates,
                                       unseen_causes(run.manifest))}
    return {
        "empty": "", "chip_title": "Largest changes", "chips": pictures.chips(largest[:MAX_CHIPS]),
        "table_title": "Change polygons, largest first", "evidence_scores": False,  # no claim, no rule
        "rows": [_change_row(f, set()) for f in largest[:MAX_TABLE_ROWS]],
        "more_rows": max(0, len(largest) - MAX_TABLE_ROWS),
    }


def _section(run: RunData, out: Path | None = None) -> dict[str, Any]:
    pictures = build_pictures(run)
    types = Counter(f.change_type for f in run.features)
    manifest = run.manifest
    selected = manifest["scenes"].get("selection") or {}
    scenes = [dict(s) for s in run.claims[0]["scenes"]] if run.claims and run.claims[0].get("scenes") else [
        # No claim: the manifest's scene summaries (acquisition ``datetime``) and the share of the AOI each
        # scene showed clear as its selection judged it (none for scenes named by id)
        {"role": r, **manifest["scenes"][r], "date": str(manifest["scenes"][r]["datetime"])[:10],
         "clear_fraction": (selected.get(r) or {}).get("clear_fraction")} for r in ("before", "after")
    ]
    for scene in scenes:  # each scene's part of the AOI outside it, as the per-area line names it
        scene["seen"] = None if scene["clear_fraction"] is None else seen_clear_split(
            float(scene["clear_fraction"]), manifest["scenes"], scene["role"])
    return {
        "run": run,
        "aoi": run.aoi,
        "folder": run_folder(run.folder, out),
        "manifest": manifest,
        "statistic": describe(manifest["statistic"]),
        "job_parameters": readable_settings(job_parameters(manifest), _sensor(manifest)),
        "detector_settings": readable_detector_settings(manifest["statistic"].get("parameters") or {}),
        "timings": job_timings(manifest.get("timings_s", {})),
        "scene_source": portable_path(str(manifest["scenes"].get("selection", {}).get("source", ""))),
        "pictures": pictures,
        "unseen_causes": unseen_causes(manifest),
        "clear_word": seen_clear(manifest),
        "cloud_unjudged": _cloud_unjudged(manifest),
        "legend": [{"type": t, "label": t.replace("_", " "), "colour": change_colour(t), "count": n}
                   for t, n in types.most_common()],
        "not_compared": legend_words(run.not_compared),
        "n_changes": len(run.features),
        "area_text": area_text(sum(f.area_m2 for f in run.features)),
        "cards": [_claim_card(e, run, pictures) for e in run.claims],
        "overview": None if run.claims else _overview(run, pictures, [s["date"] for s in scenes]),
        "vessels": vessel_view(run.vessels),
        "scenes": scenes,
        # a local catalog's items often name no collection: then the scene table has no column for it
        "scene_collections": any(scene.get("collection") for scene in scenes),
        "seen": seen_clear_split(float(manifest.get("clear_fraction") or 0.0), manifest["scenes"],
                                 left_out=left_out_share(manifest)),
    }


def verdict_help(runs: Sequence[RunData]) -> dict[str, str]:
    """What each verdict means, in the words of the runs' sensors: a report of radar runs only names no cloud."""
    radar = bool(runs) and all(not _sensor(run.manifest).sees_cloud for run in runs)
    return {v: (RADAR_VERDICT_HELP.get(v) if radar else None) or VERDICT_HELP[v] for v in VERDICTS}


def render_report(runs: Sequence[RunData], generated: datetime | None = None, out: Path | None = None) -> str:
    """The report's HTML for one or more runs (one section per AOI, one card per claim); written to ``out``, it
    names the run folders other than its own (each area's files: a combined report lies outside them)."""
    environment = template_environment()
    script, style = template_asset("report.js"), template_asset("report.css")
    sections = [_section(run, out) for run in runs]
    if all(s["folder"] is None or s["folder"]["href"] == "./" for s in sections):  # a run's report in its folder
        sections = [{**s, "folder": None} for s in sections]
    summary = [
        {"claim_id": c["entry"]["claim_id"], "aoi_id": s["aoi"]["id"], "badge": c["badge"],
         "label": c["entry"].get("confidence_label", ""), "confidence": c["entry"].get("confidence"),
         "anchor": f"claim-{s['aoi']['id']}:{c['entry']['claim_id']}"}
        for s in sections for c in s["cards"]
    ]
    # the verdicts at a glance, most frequent first: a report of ten areas may hold a hundred
    tally = tallied(c["entry"]["verdict"] for s in sections for c in s["cards"])
    return environment.get_template("report.html.j2").render(
        sections=sections,
        rasters=[name for name in (BEFORE_RGB, AFTER_RGB, STATISTIC) if any(run.raster(name) for run in runs)],
        summary=summary,
        tally=tally,
        verdict_help=[(badge(v, None, key=True), help) for v, help in verdict_help(runs).items()],
        confidence_examples=[badge(CONSISTENT, level) for level in ("high", "medium", "low")],
        evidence_rule=EVIDENCE_RULE,
        min_strength=MIN_EVIDENCE_STRENGTH,
        vessel_help=VESSEL_HELP if any(s["vessels"] for s in sections) else "",
        script=script,
        style=style,
        script_hash=csp_hash(script),
        version=__version__,
        credit=sentinel_credit(run_days(runs)),
        generated=(generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_report(path: Path, runs: Sequence[RunData]) -> Path:
    """Render and write the report through a temporary file of its own and a rename (two reports written into one
    file at once each land whole: the last one stays)."""
    return write_html(Path(path), render_report(runs, out=Path(path)))


def write_html(path: Path, html: str) -> Path:
    """``html`` written to ``path`` through a temporary file of its own and a rename."""
    with replacing(path, unique=True) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
