"""A report on an area named by many claims: each change's chips are read and encoded once, however many claim
cards show them (a port named by 40 claims took 4.6 s of a 7.5 s `geo report` re-reading the same windows), and
written into the file once (40 claims on the demo's area made a 3 MB report, 2.2 MB of it the same 18 chips
written 322 times: mail systems cap attachments at 10-25 MB)."""

from __future__ import annotations

import copy
import dataclasses
import re

from geo.outputs import report_views
from geo.outputs.report import render_report
from geo.outputs.run_data import load_run


def claimed(run, n):
    """``run`` as if ``n`` claims named its area, each judged on the same changes as its one claim."""
    entry, = run.claims
    assert entry["evidence"], entry  # the demo's claim shows chips of its evidence
    claims = []
    for i in range(n):
        twin = copy.deepcopy(entry)
        twin["claim_id"] = f"{entry['claim_id']}-{i}"
        claims.append(twin)
    return dataclasses.replace(run, claims=claims)


def test_each_changes_chips_are_read_once_for_all_the_claim_cards(demo_output, monkeypatch):
    run = load_run(demo_output)
    entry, = run.claims
    many = claimed(run, 20)  # twenty claims on the area, judged on the same changes
    reads: list[tuple[int, ...]] = []
    original = report_views.TrueColour.chip

    def counted(self, window):
        reads.append(tuple(window))
        return original(self, window)

    monkeypatch.setattr(report_views.TrueColour, "chip", counted)
    html = render_report([many])
    shown = min(len(entry["evidence"]), 6)
    assert len(reads) == 2 * shown, len(reads)  # a before and an after chip per change, once
    assert html.count('class="panel claim"') == 20
    assert len(re.findall(r'<use href="#[^"]+"', html)) == 20 * 2 * shown  # every card still shows them


def test_each_chip_is_written_once_however_many_cards_show_it(demo_output):
    run = load_run(demo_output)
    one, forty = render_report([claimed(run, 1)]), render_report([claimed(run, 40)])
    uris = re.findall(r"data:image/png;base64,[A-Za-z0-9+/=]+", forty)
    assert uris and len(uris) == len(set(uris)), f"{len(uris)} chips written, {len(set(uris))} of them different"
    per_claim = (len(forty) - len(one)) / 39
    assert per_claim < 40_000, f"each claim adds {per_claim:,.0f} bytes"  # its words and tables: ~102,000 with its chips
    # each reference names a picture the file holds: the report stays one file, nothing fetched
    ids = set(re.findall(r'<image id="([^"]+)"', forty))
    assert set(re.findall(r'<use href="#([^"]+)"', forty)) == ids
