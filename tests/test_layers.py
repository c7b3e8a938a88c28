"""The plan of the house: every module sits in one layer, imports only its own layer or lower ones, and no
imports run in a circle. Function-level (deferred) imports count like any other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import PROJECT

# Bottom first. A module may import modules of its own layer and of the layers below it, never above.
# The layout table of docs/development.md lists the same layers in the same order.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("errors", ("errors.py",)),
    ("basics", ("basics",)),
    ("claims", ("claims",)),
    ("store", ("store",)),
    ("domain", ("domain",)),
    ("inference", ("inference",)),
    ("runs", ("runs",)),
    ("scoring", ("scoring",)),
    ("io", ("io",)),
    ("report", ("report",)),
    ("interfaces", ("api.py", "cli", "web", "__init__.py", "__main__.py")),
]
TOP_LEVEL_FILES = {"__init__.py", "__main__.py", "api.py", "errors.py", "py.typed"}


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package under ``root``, by dotted name."""
    return {module_name(root, path): path for path in sorted(root.rglob("*.py")) if "_data" not in path.parts}


def imports(root: Path, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's own modules that ``path`` imports (``from PKG import SUBMODULE`` names the submodule)."""
    package = module_name(root, path) if path.name == "__init__.py" else module_name(root, path).rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            target = ".".join(part for part in (base, node.module) if part)
            submodules = {f"{target}.{alias.name}" for alias in node.names} & known.keys()
            found.update(submodules)
            if target in known and len(submodules) < len(node.names):
                found.add(target)
    found.discard(module_name(root, path))
    return found


def layer_of(root: Path, name: str, layers: list[tuple[str, tuple[str, ...]]]) -> int | None:
    relative = name.split(".")[1:]
    for rank, (_, places) in enumerate(layers):
        for place in places:
            place_parts = place.removesuffix(".py").split(".") if place.endswith(".py") else [place]
            if place == "__init__.py" and not relative:
                return rank
            if place != "__init__.py" and relative[: len(place_parts)] == place_parts:
                return rank
    return None


def graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(root, path, known) for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def upward(root: Path, edges: dict[str, set[str]], layers: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """Each import from a lower layer to a higher one, as 'importer (layer) -> imported (layer)'."""
    names = [name for name, _ in layers]
    problems = []
    for importer, targets in sorted(edges.items()):
        low = layer_of(root, importer, layers)
        for target in sorted(targets):
            high = layer_of(root, target, layers)
            if low is not None and high is not None and high > low:
                problems.append(f"{importer} ({names[low]}) -> {target} ({names[high]})")
    return problems


PACKAGE = PROJECT / "forecast"


def test_every_module_has_a_layer() -> None:
    unplaced = [name for name in modules(PACKAGE) if layer_of(PACKAGE, name, LAYERS) is None]
    assert unplaced == [], "add the module's folder to LAYERS (and the layout table of docs/development.md)"


def test_no_import_runs_up_a_layer() -> None:
    assert upward(PACKAGE, graph(PACKAGE), LAYERS) == []


def test_no_import_circles() -> None:
    assert circles(graph(PACKAGE)) == []


def test_the_top_level_holds_only_the_entry_points() -> None:
    files = {path.name for path in PACKAGE.iterdir() if path.is_file()}
    assert files <= TOP_LEVEL_FILES, sorted(files - TOP_LEVEL_FILES)
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name not in ("__pycache__", "_data")}
    placed = {place for _, places in LAYERS for place in places if not place.endswith(".py")}
    assert folders <= placed


def test_the_documented_layout_lists_the_layers_in_order() -> None:
    text = (PROJECT / "docs" / "development.md").read_text(encoding="utf-8")
    table = text[text.index("## Layout"):]
    positions = [table.index(f"| {rank + 1} |") for rank in range(len(LAYERS))]
    assert positions == sorted(positions)
    for rank, (name, _) in enumerate(LAYERS):
        row = table[positions[rank]:].split("\n", 1)[0]
        assert f"`{name}`" in row, row


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "forecast"
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for folder in {p.parent for p in root.rglob("*.py")} | {root}:
        (folder / "__init__.py").touch()
    return root


@pytest.mark.parametrize("files, expected_circle, expected_upward", [
    ({"domain/a.py": "from . import b\n", "domain/b.py": "def f():\n    from .a import x\n"},
     [["forecast.domain.a", "forecast.domain.b"]], []),
    ({"store/t.py": "from ..domain.evidence import log\n", "domain/evidence.py": "from ..store import t\n"},
     [["forecast.domain.evidence", "forecast.store.t"]], ["forecast.store.t (store) -> forecast.domain.evidence (domain)"]),
    ({"inference/model.py": "def fit():\n    from ..report import render\n", "report/render.py": ""},
     [], ["forecast.inference.model (inference) -> forecast.report.render (report)"]),
    ({"report/render.py": "from ..inference.model import fit\n", "inference/model.py": "def fit(): ...\n"}, [], []),
], ids=["circle-deferred", "circle-and-upward", "deferred-upward", "downward-is-fine"])
def test_the_checks_catch_planted_faults(tmp_path, files, expected_circle, expected_upward) -> None:
    root = _plant(tmp_path, files)
    edges = graph(root)
    assert circles(edges) == expected_circle
    assert upward(root, edges, LAYERS) == expected_upward
