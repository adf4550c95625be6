"""The README and docs/*.md name a command for each benchmark table (``python benchmarks/oscd.py --no-typing``):
each script they name must exist and accept every option they show it with, so a renamed option cannot leave
a contributor a command that argparse refuses. The options are read from the scripts' source (every
``add_argument`` names its flags literally), not by running ``--help``: importing 20 scripts' numpy, rasterio
and geo takes a minute on a loaded machine."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import REPO

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# A backticked span naming a script (it may wrap over lines), its options after the name.
COMMAND = re.compile(r"`(?:python )?(benchmarks/[a-z0-9_]+\.py)((?:[^`])*)`")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def documented_commands() -> list[tuple[str, str, set[str]]]:
    """(document, script, options shown) for every benchmark command the documents give in backticks."""
    found = []
    for document in DOCUMENTS:
        for match in COMMAND.finditer(document.read_text(encoding="utf-8")):
            # quoted arguments (--only "fusion: min ...") are values, not options
            rest = re.sub(r'"[^"]*"', "", match.group(2))
            found.append((document.name, match.group(1), set(OPTION.findall(rest))))
    return found


def accepted_options(script: Path) -> set[str]:
    """The flags the script's argparse parser declares: the string arguments of its ``add_argument`` calls."""
    options: set[str] = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            options |= {arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return options | {"--help"}


def test_the_documents_name_benchmark_commands_with_options():
    commands = documented_commands()
    scripts = {script for _, script, _ in commands}
    # the README's tables: change detection, co-registration, vessels, large AOIs, re-checks, start-up
    assert {"benchmarks/oscd.py", "benchmarks/coreg.py", "benchmarks/vessels.py", "benchmarks/scale.py",
            "benchmarks/recheck.py", "benchmarks/start_up.py"} <= scripts
    assert ("README.md", "benchmarks/recheck.py", {"--noop-only"}) in commands


def test_every_documented_benchmark_command_names_a_script_and_options_it_has():
    wrong = []
    for document, script, options in documented_commands():
        path = REPO / script
        if not path.is_file():
            wrong.append(f"{document}: {script} does not exist")
            continue
        if unknown := options - accepted_options(path):
            wrong.append(f"{document}: {script} has no {', '.join(sorted(unknown))}")
    assert not wrong, "\n".join(wrong)


def test_an_option_the_script_lacks_is_caught():
    script = REPO / "benchmarks" / "recheck.py"
    assert {"--noop-only", "--aois", "--runs"} <= accepted_options(script)
    assert "--noop" not in accepted_options(script)  # argparse would take the prefix; a document should not
