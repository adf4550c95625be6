"""The report's template is compiled once and then read from jinja2's cache of compiled templates (in the
user's folder of the temporary folder): the same report from a fresh compile, from the cache, from a damaged
cache file and without a usable cache folder."""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import jinja2

from geo.outputs.report_templates import template_environment
from tests.conftest import run_geo

STAMP = re.compile(r"Generated [0-9-]+ [0-9:]+ UTC")


def test_the_template_is_compiled_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # jinja2's folder is made in the temporary folder
    compiled: list[str] = []
    compile_source = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, *args: object, **kwargs: object):
        compiled.append(str(name))
        return compile_source(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    first = template_environment().get_template("report.html.j2")
    cached = list((tmp_path / f"_jinja2-cache-{os.getuid()}").glob("__jinja2_*.cache"))
    second = template_environment().get_template("report.html.j2")  # a new environment: a new run's
    assert compiled == ["report.html.j2"] and len(cached) == 1
    assert first.root_render_func.__code__.co_code == second.root_render_func.__code__.co_code


def test_the_same_report_from_the_cache_a_damaged_cache_and_no_cache(synthetic_output, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(synthetic_output, run)
    original = STAMP.sub("", (run / "report.html").read_text())
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    folder = temporary / f"_jinja2-cache-{os.getuid()}"

    def rebuilt() -> str:
        (run / "report.html").unlink()
        result = run_geo("report", str(run), env={"TMPDIR": str(temporary)})
        assert result.returncode == 0, result.stderr
        return STAMP.sub("", (run / "report.html").read_text())

    assert rebuilt() == original  # compiled, and the cache written
    (cache,) = folder.glob("__jinja2_*.cache")
    assert rebuilt() == original  # read from the cache
    cache.write_bytes(cache.read_bytes()[:100] + b"\x00garbage")
    assert rebuilt() == original  # a damaged cache file: compiled again
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    assert rebuilt() == original  # no cache folder it may use
