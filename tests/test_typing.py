"""Static typing: mypy over geo/ as pyproject.toml's [tool.mypy] configures it, run by the test suite (so CI runs it).

Every module is checked strictly except those on the ratchet, the override listing modules not yet strict. The
ratchet may only shrink: a listed module that passes the strict checks must leave the list, and the list may not
grow (``NOT_YET_STRICT`` below is its length; lower it with the list, never raise it).

mypy keeps its cache in the checkout's .mypy_cache (ignored by git): a warm run takes about a second.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOT_YET_STRICT = 3
ERROR = re.compile(r"^(geo/\S+)\.py:\d+: error: ", re.MULTILINE)


def mypy(*args: str, cache: str = "project") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache" / cache), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def mypy_config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    return config


def is_ratchet(override: dict[str, Any]) -> bool:
    return override.get("disallow_untyped_defs") is False


def ratchet() -> list[str]:
    (override,) = [o for o in mypy_config()["overrides"] if is_ratchet(o)]
    modules: list[str] = override["module"]
    return modules


def ini_value(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def strict_everywhere_ini(path: Path) -> Path:
    """pyproject's mypy settings without the ratchet, as a mypy.ini."""
    config = mypy_config()
    lines = ["[mypy]", *(f"{k} = {ini_value(v)}" for k, v in config.items() if k != "overrides")]
    for override in config["overrides"]:
        if not is_ratchet(override):
            lines += [f"[mypy-{ini_value(override['module'])}]",
                      *(f"{k} = {ini_value(v)}" for k, v in override.items() if k != "module")]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_geo_passes_mypy() -> None:
    result = mypy()
    success = re.search(r"^Success: no issues found in (\d+) source files$", result.stdout, re.MULTILINE)
    assert success and result.returncode == 0, result.stdout + result.stderr
    assert int(success[1]) >= len(list((ROOT / "geo").rglob("*.py")))  # every module of geo/ was checked


def test_new_code_is_held_to_strict(tmp_path: Path) -> None:
    """A module not on the ratchet gets the strict checks: an unannotated function is an error."""
    module = tmp_path / "new_module.py"
    module.write_text("def double(x):\n    return 2 * x\n")
    result = mypy(str(module))
    assert result.returncode == 1
    assert "new_module.py:1: error: Function is missing a type annotation  [no-untyped-def]" in result.stdout, (
        result.stdout + result.stderr)


def test_ratchet_only_shrinks(tmp_path: Path) -> None:
    listed = ratchet()
    assert len(listed) == len(set(listed)) == NOT_YET_STRICT, (
        f"the not-yet-strict list holds {len(listed)} module(s), NOT_YET_STRICT says {NOT_YET_STRICT}: lower it "
        "when a module leaves the list; a module never joins it (fix the new code instead)")
    result = mypy("--config-file", str(strict_everywhere_ini(tmp_path / "mypy.ini")), cache="strict-everywhere")
    failing = {path.replace("/", ".").removesuffix(".__init__") for path in ERROR.findall(result.stdout)}
    assert failing, result.stdout + result.stderr
    passing = sorted(set(listed) - failing)
    assert not passing, f"strict checks pass (or no such module): take {passing} off the ratchet in pyproject.toml"
