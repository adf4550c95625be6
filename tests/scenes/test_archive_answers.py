"""An archive's answers in words (geo/scenes/archive_answers.py) and a saved SAS token's expiry (geo/scenes/remote.py):
the pages real servers send instead of JSON, named by their title."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from geo.scenes.archive_answers import describe_failure, web_page
from geo.scenes.remote import signature_expired

NGINX = ("<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out"
         "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


@pytest.mark.parametrize("text, said", [
    (NGINX, "an HTML page ('504 Gateway Time-out')"),
    ("<!doctype html><html lang=en><head><meta charset=utf-8><title>Sign in &amp; go</title>", "an HTML page ('Sign in & go')"),
    ("<body><h1>Service <b>Unavailable</b></h1></body>", "an HTML page ('Service Unavailable')"),
    ("<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>", "markup"),
    ('{"type": "FeatureCollection"}', None),
    ("[]", None),
])
def test_a_web_page_is_named_by_its_title(text, said):
    assert web_page(text) == said


def test_a_json_error_on_a_page_names_the_page_not_the_parser():
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads(NGINX)
    assert describe_failure(caught.value) == "the server answered with an HTML page ('504 Gateway Time-out'), not STAC JSON"
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads("OK")
    assert describe_failure(caught.value) == "the server answered with no JSON ('OK'...: Expecting value)"


NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("query, expired", [
    ("st=2024-01-01T00%3A00%3A00Z&se=2024-01-02T00%3A00%3A00Z&sp=rl&sig=x", "2024-01-02T00:00:00Z"),
    ("se=2025-12-31T23:59:59&sig=x", "2025-12-31T23:59:59Z"),  # no zone: UTC
    ("X-Amz-Date=20251231T230000Z&X-Amz-Expires=3600&X-Amz-Signature=x", "2026-01-01T00:00:00Z"),
    ("X-Amz-Date=20251231T230000Z&X-Amz-Expires=3601&X-Amz-Signature=x", None),
    ("st=2025-12-31T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=rl&sig=x", None),  # still valid
    ("se=soon&sig=x", None),  # unreadable: left as it is
    ("", None),
])
def test_a_saved_signature_is_expired_once_its_end_has_passed(query, expired):
    assert signature_expired(f"https://acct.blob.core.windows.net/c/b04.tif?{query}", NOW) == expired
