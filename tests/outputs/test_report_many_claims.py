"""A report on an area named by many claims: each change's chips are read and encoded once, however many claim
cards show them (a port named by 40 claims took 4.6 s of a 7.5 s `geo report` re-reading the same windows)."""

from __future__ import annotations

import copy
import dataclasses

from geo.outputs import report_views
from geo.outputs.report import render_report
from geo.outputs.run_data import load_run


def test_each_changes_chips_are_read_once_for_all_the_claim_cards(demo_output, monkeypatch):
    run = load_run(demo_output)
    entry, = run.claims
    assert entry["evidence"], entry  # the demo's claim shows chips of its evidence
    claims = []
    for i in range(20):  # twenty claims on the area, judged on the same changes
        twin = copy.deepcopy(entry)
        twin["claim_id"] = f"{entry['claim_id']}-{i}"
        claims.append(twin)
    many = dataclasses.replace(run, claims=claims)
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
    assert html.count("<img") >= 20 * 2 * shown  # every card still shows them
