"""A claim card's figures read against claims.json: the table of changes of the predicted kinds shows the
score the minimum evidence rule uses (strong pixels x kind confidence) and which changes count; the area's
total is in the unit its tables use."""

from __future__ import annotations

import json
import re


def _evidence_table(html: str) -> str:
    start = html.index(">Changes of the predicted kinds</h4>")
    return html[start:html.index("</table>", start)]


def test_the_predicted_changes_table_shows_the_score_the_rule_counts(demo_output):
    html = (demo_output / "report.html").read_text()
    entry = json.loads((demo_output / "claims.json").read_text())[0]
    features = {f["properties"]["change_id"]: f["properties"]
                for f in json.loads((demo_output / "changes.geojson").read_text())["features"]}
    table = _evidence_table(html)
    assert "<th class=\"num\"" in table and "Evidence score" in table
    rows = re.findall(r'<tr data-change-id="([0-9a-f]+)">(.*?)</tr>', table, flags=re.S)
    assert [r[0] for r in rows] == entry["evidence"]
    counted = []
    for change_id, cells in rows:
        p = features[change_id]
        strength = p["confidence"] * p["type_confidence"]
        cell = re.search(r'<td class="num evidence" data-evidence-score>(.*?)</td>', cells).group(1)
        shown = float(re.match(r"([0-9.]+)%", cell).group(1))
        assert abs(shown - 100 * strength) <= 0.5, (change_id, cell)
        if strength >= entry["minimum_evidence"]["min_strength"]:
            assert cell.endswith("(counts)") and shown >= 25
            counted.append(p["area_m2"])
        else:
            assert cell.endswith("(below 25%)") and shown < 25, cell
    # the rule's figures in claims.json (and the rationale) are the table's
    assert len(counted) == entry["minimum_evidence"]["n_passing"] == 2
    assert round(sum(counted), 1) == entry["minimum_evidence"]["passing_area_m2"]
    # 32% of its pixels strong, but its kind only 76% sure: 24.6%, not counted (the table said 32% alone);
    # whole percent would have read "25% (below 25%)"
    d3 = dict(rows)["d3e78e2d88e8aab6"]
    assert ">32%<" in d3 and ">24.6% (below 25%)<" in d3


def test_an_evidence_score_never_reads_as_the_level_it_misses():
    from geo.outputs.report import evidence_score_text

    assert evidence_score_text(0.68) == "68% (counts)"
    assert evidence_score_text(0.25) == "25% (counts)"
    assert evidence_score_text(0.2496) == "24.9% (below 25%)"
    assert evidence_score_text(0.10) == "10% (below 25%)"


def test_the_areas_total_reads_in_the_unit_of_its_tables(demo_output):
    # "0.200 km²" beside tables in m² (and "0.001 km²" for a drawn area's one change of 1,100 m²)
    html = (demo_output / "report.html").read_text()
    total = sum(f["properties"]["area_m2"]
                for f in json.loads((demo_output / "changes.geojson").read_text())["features"])
    assert f"32 change polygons, {total:,.0f} m² in all;" in html


def test_an_area_reads_in_m2_below_a_square_kilometre():
    from geo.outputs.report import area_text

    assert area_text(1100.0) == "1,100 m²"
    assert area_text(199_695.1) == "199,695 m²"
    assert area_text(2_345_000.0) == "2.35 km²"


def test_a_rationales_dates_are_never_split_across_lines(demo_output):
    # at 1280 px the demo's rationale broke "2015-08-21" after "2015-": "08-21" led the next line
    html = (demo_output / "report.html").read_text()
    rationale = re.search(r'<p class="rationale">(.*?)</p>', html, flags=re.S).group(1)
    assert '<span class="date">2015-08-21</span> and <span class="date">2017-10-14</span>' in rationale
    assert ".date { white-space: nowrap; }" in html
    assert not re.search(r"(?<!>)\d{4}-\d{2}-\d{2}", rationale)  # every date in the rationale kept whole


def test_a_chips_pictures_say_to_a_screen_reader_what_they_show(demo_output):
    # the alt text was "before chip of change e7efb45630bc3ba2": an id, no date, no kind, no size
    html = (demo_output / "report.html").read_text()
    alts = re.findall(r'<div class="frame">\s*<svg class="picture" viewBox="[^"]*" role="img" aria-label="([^"]*)"', html)
    assert alts and len(alts) % 2 == 0
    assert alts[0] == ("before, 2015-08-21: new bright surface of 11,000 m², outlined; 400 m across "
                       "(change e7efb45630bc3ba2)")
    assert alts[1].startswith("after, 2017-10-14: new bright surface of 11,000 m²")
