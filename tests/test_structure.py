"""The package's structure: its import graph has no cycle and no arrow from a lower stage up to a higher one,
and modules and classes have names that say which one they are.

The graph is read from the source with ``ast``: every ``import`` and ``from ... import`` anywhere in a module,
inside functions and ``if TYPE_CHECKING:`` blocks too (an import deferred for speed is still a dependency).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "geo"

# The stages, low to high: a module may import its own stage and the stages below it, never one above.
# A module is in the stage of the longest prefix that names it; a new top-level module or folder is placed here.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("geo", "geo.errors", "geo.paths", "geo.grid", "geo.geometry", "geo.atomic", "geo.output_kinds", "geo.rename_exchange",
     "geo.text_files"),
    ("geo.aoi", "geo.claims", "geo.claim_files", "geo.claim_syntax", "geo.claim_days"),
    ("geo.scenes",),
    ("geo.align",),
    ("geo.change",),
    ("geo.vector",),
    ("geo.link", "geo.claim_verdict", "geo.verdicts", "geo.results"),
    ("geo.outputs",),
    ("geo.store",),
    ("geo.jobs", "geo.vessels"),  # the jobs (both folders whole)
    ("geo.recheck", "geo.eval"),
    ("geo.cli", "geo.__main__"),
)

# Module names that each stage has its own of, for its part of one concern (``store/vessels.py`` holds the
# store's vessel tables, ``recheck/vessels.py`` the re-check's vessel step); the folder says which. Command
# modules (``geo/cli/``) are named after their command and are not counted.
SHARED_MODULE_NAMES = frozenset({"gpkg", "local", "model", "vessels"})


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(root: Path) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def imported(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: set[str]) -> set[str]:
    """The package's modules that one import statement loads (``from a import b`` loads ``a.b`` when that is
    a module, else ``a``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = importer.split(".")[: len(importer.split(".")) - node.level + is_package]
            base = ".".join([*anchor, *([base] if base else [])])
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    found = set()
    for name in names:
        while name and name not in modules:  # ``import a.b.c`` of a name inside a module: the module
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in its body."""
    modules = package_modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets |= imported(node, name, path.name == "__init__.py", set(modules))
        graph[name] = targets - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return list(error.args[1])
    return None


def stage(module: str, layers: tuple[tuple[str, ...], ...] = LAYERS) -> int | None:
    """Index in ``layers`` of the longest prefix naming ``module``."""
    best: tuple[int, int] | None = None
    for index, prefixes in enumerate(layers):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), index)
    return None if best is None else best[1]


def upward_imports(graph: dict[str, set[str]], layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    """``importer -> imported`` for each import of a higher stage than the importer's."""
    found = []
    for importer, targets in graph.items():
        for target in targets:
            low, high = stage(importer, layers), stage(target, layers)
            if low is not None and high is not None and low < high:
                found.append(f"{importer} -> {target}")
    return sorted(found)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(PACKAGE)


def test_the_graph_holds_known_imports(graph):
    # at the top of a module; inside a function only (window verdicts, imported when a pair was processed);
    # a submodule named by ``from geo import paths``; a package's ``__init__`` handing names on
    assert "geo.errors" in graph["geo.aoi"]
    assert "geo.recheck.window_verdicts" in graph["geo.recheck.record"]
    assert "geo.paths" in graph["geo.scenes.cache"]
    assert "geo.store.store" in graph["geo.store"]


def test_the_graph_sees_imports_inside_functions_and_finds_their_cycle(tmp_path):
    root = tmp_path / "pkg"
    (root / "low").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "low" / "__init__.py").write_text("")
    (root / "low" / "a.py").write_text("def f():\n    from pkg.high import b\n    return b\n")
    (root / "high.py").write_text("from .low.a import f\nimport pkg.low.a as again\n")
    graph = import_graph(root)
    assert graph == {"pkg": set(), "pkg.low": set(), "pkg.low.a": {"pkg.high"}, "pkg.high": {"pkg.low.a"}}
    cycle = find_cycle(graph) or []
    assert len(cycle) == 3 and cycle[0] == cycle[-1] and set(cycle) == {"pkg.high", "pkg.low.a"}
    assert upward_imports(graph, (("pkg", "pkg.low"), ("pkg.high",))) == ["pkg.low.a -> pkg.high"]


def test_no_import_cycles(graph):
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"


def test_every_module_has_a_stage(graph):
    unplaced = [m for m in graph if stage(m) is None]
    assert unplaced == [], f"not in any stage of LAYERS: {', '.join(unplaced)}"


def test_no_stage_imports_a_higher_one(graph):
    upward = upward_imports(graph)
    assert upward == [], "imports of a higher stage (LAYERS):\n" + "\n".join(upward)


def test_module_names_say_which_module():
    by_name: dict[str, list[str]] = defaultdict(list)
    for module, path in package_modules(PACKAGE).items():
        if path.name != "__init__.py" and not module.startswith("geo.cli."):
            by_name[path.stem].append(module)
    shared = {name: modules for name, modules in by_name.items() if len(modules) > 1}
    clashes = {name: modules for name, modules in shared.items() if name not in SHARED_MODULE_NAMES}
    assert clashes == {}, f"modules of one name: {clashes}"
    assert sorted(SHARED_MODULE_NAMES - shared.keys()) == [], "no longer shared: take it off SHARED_MODULE_NAMES"


def test_class_names_are_unique():
    where: dict[str, list[str]] = defaultdict(list)
    for name, path in package_modules(PACKAGE).items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                where[node.name].append(name)
    clashes = {cls: modules for cls, modules in where.items() if len(modules) > 1}
    assert clashes == {}, f"classes of one name: {clashes}"
