"""Static typing: mypy over geo/ as pyproject.toml's [tool.mypy] configures it, run by the test suite (so CI runs it).

Every module is checked strictly. The ratchet that let the last modules catch up (an override listing modules
not yet strict, which could only shrink) is retired: no override may relax the strict checks again.

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
ERROR = re.compile(r"^(geo/\S+)\.py:\d+: error: ", re.MULTILINE)


def mypy(*args: str, cache: str = "project") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache" / cache), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def mypy_config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    return config


STRICT_FLAGS = ("disallow_untyped_defs", "disallow_incomplete_defs", "disallow_untyped_calls",
                "disallow_any_generics", "warn_return_any")


def relaxing_overrides() -> list[dict[str, Any]]:
    """The per-module overrides that turn a strict check off (the retired ratchet looked like this)."""
    overrides: list[dict[str, Any]] = mypy_config().get("overrides", [])
    return [o for o in overrides if any(o.get(flag) is False for flag in STRICT_FLAGS)]


def test_geo_passes_mypy() -> None:
    result = mypy()
    success = re.search(r"^Success: no issues found in (\d+) source files$", result.stdout, re.MULTILINE)
    assert success and result.returncode == 0, result.stdout + result.stderr
    assert int(success[1]) >= len(list((ROOT / "geo").rglob("*.py")))  # every module of geo/ was checked


def test_new_code_is_held_to_strict(tmp_path: Path) -> None:
    """A new module gets the strict checks: an unannotated function is an error."""
    module = tmp_path / "new_module.py"
    module.write_text("def double(x):\n    return 2 * x\n")
    result = mypy(str(module))
    assert result.returncode == 1
    assert "new_module.py:1: error: Function is missing a type annotation  [no-untyped-def]" in result.stdout, (
        result.stdout + result.stderr)


def test_no_module_is_exempt_from_strict() -> None:
    assert mypy_config().get("strict") is True
    exempt = relaxing_overrides()
    assert not exempt, f"overrides relax the strict checks for {[o['module'] for o in exempt]}: type the code instead"
