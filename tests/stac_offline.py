"""pystac's JSON-schema validation with no network: the STAC core schemas come with pystac (its
``validation/jsonschemas``), the processing and projection extensions' from ``tests/stac_schemas/``; any other schema a
document names fails the test instead of being fetched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pystac
import pystac.validation
from pystac.validation.stac_validator import JsonSchemaSTACValidator

from geo.outputs.stac_item import PROCESSING_EXTENSION, PROJECTION_EXTENSION

SCHEMAS = Path(__file__).with_name("stac_schemas")


class OfflineValidator(JsonSchemaSTACValidator):
    def __init__(self) -> None:
        super().__init__()
        self.schema_cache[PROCESSING_EXTENSION] = json.loads((SCHEMAS / "processing-v1.1.0.json").read_text())
        self.schema_cache[PROJECTION_EXTENSION] = json.loads((SCHEMAS / "projection-v2.0.0.json").read_text())
        self.fetched: list[str] = []

    def _get_schema(self, schema_uri: str) -> dict[str, Any]:
        if schema_uri not in self.schema_cache:
            self.fetched.append(schema_uri)
            raise AssertionError(f"schema {schema_uri} is not available offline")
        return super()._get_schema(schema_uri)


@contextmanager
def offline_validation() -> Iterator[OfflineValidator]:
    """pystac's registered validator swapped for the offline one while the block runs."""
    validator = OfflineValidator()
    previous = pystac.validation.RegisteredValidator.get_validator()
    pystac.validation.set_validator(validator)
    try:
        yield validator
    finally:
        pystac.validation.set_validator(previous)
