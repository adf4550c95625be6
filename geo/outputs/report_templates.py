"""The report's template environment: jinja2 with every value escaped, its templates compiled once per user and
kept (``_CompiledTemplates``), its filters (``pct``, ``whole_dates``), the files beside the template read as text,
and the hash by which the Content-Security-Policy allows the report's one script."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources
from typing import SupportsFloat

import jinja2
from markupsafe import Markup, escape


ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def whole_dates(text: str) -> Markup:
    """``text`` escaped, its ISO dates kept whole on a line: a browser breaks "2015-08-21" after "2015-"."""
    return Markup(ISO_DATE.sub(lambda m: f'<span class="date">{m.group(0)}</span>', str(escape(text))))


def percent(value: object) -> str:
    """0.864 -> '86%'; blanks for missing values."""
    if value is None or value == "":
        return ""
    try:
        return f"{100 * float(value):.0f}%" if isinstance(value, (SupportsFloat, str)) else str(value)
    except ValueError:
        return str(value)


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """jinja2's cache of compiled templates (in the user's own folder of the system's temporary folder, keyed
    by each template's name and source: an edited template is compiled anew): compiling the report's template
    cost every run ~0.1 s. A cache that cannot be read or written is passed over, never fails a report."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):  # unreadable or damaged: compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full or read-only temporary folder: this run's template is compiled all the same
            pass


def _compiled_templates() -> jinja2.BytecodeCache | None:
    try:
        return _CompiledTemplates()
    except (OSError, RuntimeError):  # no temporary folder of this user's that is safe to use
        return None


def template_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("geo.outputs", "templates"),
        bytecode_cache=_compiled_templates(),
        autoescape=True,  # every value, including claim text, is HTML-escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["pct"] = percent
    environment.filters["whole_dates"] = whole_dates
    return environment


def template_asset(name: str) -> str:
    return resources.files("geo.outputs").joinpath("templates", name).read_text(encoding="utf-8")


def csp_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
