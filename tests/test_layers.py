"""Imports run one way, down the layers of docs/architecture.md's map, and no package imports itself in a circle.

Read from the source (ast), so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assetflow"

# Lowest first: a module may import from its own layer's lower rows and any layer below its own.
LAYERS = [
    {"actor", "errors", "extensions", "metrics", "egress", "ratelimits"},
    {"workflow"},
    {"models"},
    {"events", "list_terms"},
    {"auth"},
    {"services"},
    {"delivery", "realtime"},
    {"channels"},
    {"api", "web", "cli", "admission", "security_headers", "tasks", "__init__"},
]


# extensions.py makes the one JWT manager, whose class lives with the rest of auth and imports nothing of ours.
EXCEPTIONS = {("extensions", "auth.manager")}


def layer_of(unit: str) -> int:
    return next(index for index, names in enumerate(LAYERS) if unit in names)


def unit_of(module: str) -> str:
    """The top-level unit of a dotted module name under assetflow ('services.routing' -> 'services')."""
    return module.split(".")[0] or "__init__"


def imports(path: Path) -> set[str]:
    """The assetflow modules a file imports, as dotted names relative to the package."""
    here = path.relative_to(PACKAGE).with_suffix("").parts
    package = list(here[:-1]) if here[-1] != "__init__" else list(here[:-1])
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            module = [*base, *(node.module.split(".") if node.module else [])]
            names = [module + [alias.name] for alias in node.names] if not node.module else [module]
            found.update(".".join(name) for name in names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("assetflow."):
            found.add(node.module.removeprefix("assetflow."))
    return {name for name in found if name}


def _runtime_nodes(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:` (imports for type hints only never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in _runtime_nodes(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def modules() -> dict[str, set[str]]:
    return {".".join(path.relative_to(PACKAGE).with_suffix("").parts): imports(path)
            for path in PACKAGE.rglob("*.py")}


def test_no_import_runs_back_up_the_layers():
    upward = []
    for module, targets in modules().items():
        mine = layer_of(unit_of(module))
        for target in targets:
            if layer_of(unit_of(target)) > mine and (module, target) not in EXCEPTIONS:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_two_modules_of_a_package_import_each_other():
    graph = modules()
    known = set(graph)

    def resolve(name: str) -> str | None:
        # 'services.routing.ancestry' (a name imported from a module) -> 'services.routing'
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    edges = {module: {target for name in targets if (target := resolve(name)) and target != module
                      and not target.endswith("__init__")}
             for module, targets in graph.items()}
    circles = sorted(f"{a} <-> {b}" for a, targets in edges.items() for b in targets
                     if a < b and a in edges.get(b, set()))
    assert circles == []


def test_the_exceptions_import_nothing_of_ours():
    graph = modules()
    assert all(graph[target] == set() for _, target in EXCEPTIONS)
