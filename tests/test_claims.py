from __future__ import annotations

from datetime import date

import pytest

from geo.aoi import load_aois
from geo.claims import Stance
from geo.claim_files import load_claims, load_claims_file
from geo.errors import ClaimError
from tests.conftest import REPO

GOOD = """
[document]
title = "doc"

[[claim]]
id = "c1"
claimant = "someone"
statement = "something"
date_stated = 2024-10-18
stance = "assert"
aoi_ids = ["{aoi}"]
window = {{ start = {start}, end = {end} }}
signatures = ["{signature}"]
"""


def write(tmp_path, **kw):
    values = {"aoi": "vladivostok-port", "start": "2024-10-08", "end": "2024-10-13", "signature": "vehicle_parks", **kw}
    path = tmp_path / "c.toml"
    path.write_text(GOOD.format(**values))
    return path


def test_project_claims_cover_the_article():
    claims = load_claims(REPO / "seeds", load_aois(REPO / "aoi"))
    arrival = claims["nis-arrival-vladivostok"]
    assert arrival.window.start == date(2024, 10, 8) and arrival.window.end == date(2024, 10, 13)
    assert arrival.aoi_ids == ("vladivostok-port",)
    embark = claims["nis-embarkation"]
    assert set(embark.aoi_ids) == {"chongjin-port", "hungnam-port", "musudan"}
    denial = claims["kremlin-denial"]
    assert denial.stance is Stance.DENY and "nis-arrival-vladivostok" in denial.denies
    assert set(denial.aoi_ids) >= set(embark.aoi_ids) | set(arrival.aoi_ids)
    assert "10,000" in claims["zelensky-10000-prepared"].statement
    flags = claims["pokrovsk-flags-photo"]
    assert not flags.observable and flags.aoi_ids == ("pokrovsk",)
    assert "sergeevka-training-ground" in claims["nis-onward-bases"].aoi_ids


def test_window_end_before_start_is_refused(tmp_path):
    with pytest.raises(ClaimError, match=r"c.toml claim 'c1': window end 2024-10-01 is before its start 2024-10-13"):
        load_claims_file(write(tmp_path, start="2024-10-13", end="2024-10-01"))


def test_unknown_aoi_is_refused_naming_claim_and_aoi(tmp_path):
    write(tmp_path, aoi="atlantis")
    with pytest.raises(ClaimError, match="claim 'c1' names unknown AOI 'atlantis'"):
        load_claims(tmp_path, load_aois(REPO / "aoi"))


def test_unknown_signature_and_bad_dates(tmp_path):
    with pytest.raises(ClaimError, match="unknown signature"):
        load_claims_file(write(tmp_path, signature="telepathy"))
    with pytest.raises(ClaimError, match="malformed TOML"):
        load_claims_file(write(tmp_path, start="2024-13-45"))


def test_denial_must_name_what_it_denies(tmp_path):
    path = write(tmp_path)
    path.write_text(path.read_text().replace('stance = "assert"', 'stance = "deny"'))
    with pytest.raises(ClaimError, match="must list the claim ids it denies"):
        load_claims_file(path)


def test_window_bracketing():
    claims = load_claims(REPO / "seeds")
    window = claims["nis-arrival-vladivostok"].window
    assert window.bracketed_by(date(2024, 10, 5), date(2024, 10, 15))
    assert not window.bracketed_by(date(2024, 10, 9), date(2024, 10, 15))
    assert not window.bracketed_by(date(2024, 10, 5), date(2024, 10, 12))


def test_a_misspelt_optional_field_is_refused_not_dropped(tmp_path):
    path = write(tmp_path)
    path.write_text(path.read_text() + 'note = "satellite photos shown to the press"\n')
    with pytest.raises(ClaimError) as caught:
        load_claims_file(path)
    assert str(caught.value).startswith(f"{path} claim 'c1': unknown field(s) 'note' (did you mean 'notes'?); known: id,")


def test_a_claim_without_source_or_document_title_says_where_either_goes(tmp_path):
    path = write(tmp_path)
    path.write_text(path.read_text().replace('title = "doc"', 'url = ""'))
    with pytest.raises(ClaimError) as caught:
        load_claims_file(path)
    assert str(caught.value) == f"{path} claim 'c1': needs a 'source', or a 'title' in the file's [document] table"
    path.write_text(path.read_text().replace('stance = "assert"', 'stance = "assert"\nsource = "NIS briefing"'))
    assert load_claims_file(path)[0].source == "NIS briefing"
