"""One verdict vocabulary everywhere: the GeoPackage claims style has a category per verdict in its palette
colour, the report explains each, and a badge shows its confidence so weak evidence never looks strong."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET

from geo.link import VERDICTS
from geo.outputs.palette import VERDICT_COLOURS, rgb_triplet
from tests.conftest import run_geo


def test_claims_style_has_one_category_per_verdict(synthetic_output):
    with sqlite3.connect(synthetic_output / "changes.gpkg") as db:
        [qml] = db.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'claims'").fetchone()
    root = ET.fromstring(qml.split("\n", 1)[1])
    categories = [(c.get("value"), c.get("symbol")) for c in root.iter("category")]
    assert [value for value, _ in categories] == list(VERDICTS)
    assert "weak evidence" in VERDICTS
    # Each symbol draws a contrasting halo under the outline: the outline is its top (last) symbol layer.
    colours = {s.get("name"): [o.get("value") for o in s.iter("Option") if o.get("name") == "outline_color"][-1]
               for s in root.iter("symbol")}
    for value, symbol in categories:
        assert colours[symbol] == ",".join(map(str, rgb_triplet(VERDICT_COLOURS[value]))) + ",255"


def test_badges_show_confidence_and_weak_evidence_reads_low(synthetic_output, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(synthetic_output, folder)
    claims = json.loads((folder / "claims.json").read_text())
    [construction] = [c for c in claims if c["claim_id"] == "test-construction"]
    assert (construction["verdict"], construction["minimum_evidence"]["met"]) == ("consistent with the claim", True)
    construction.update(verdict="weak evidence", confidence=0.12, confidence_label="low")
    (folder / "claims.json").write_text(json.dumps(claims))
    (folder / "report.html").unlink()
    result = run_geo("report", str(folder))
    assert result.returncode == 0, result.stderr
    html = (folder / "report.html").read_text()
    card = html[html.index('id="claim-test-site:test-construction"'):]
    header_badge = re.search(r'<span class="badge conf-(\w+)" style="--c: (#\w+)">([^<]*)<span', card)
    assert header_badge.groups() == ("low", VERDICT_COLOURS["weak evidence"], "weak evidence ")
    assert "●○○</span> low confidence" in card[:2000]
    later = html[html.index('id="claim-test-site:test-later"'):]
    assert re.search(r'<span class="badge conf-none" style="--c: #\w+">not tested</span>', later)  # no confidence
    for verdict in VERDICTS:  # the legend explains every verdict
        assert f'<span class="badge conf-key" style="--c: {VERDICT_COLOURS[verdict]}">{verdict}</span>' in html
    assert "Minimum evidence: changes of the predicted kinds count only when at least 25%" in html
