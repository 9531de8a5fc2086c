"""The project's import graph: imports run ``tasks -> cms -> (streams, inference)``, no cycles.

Read with ast from the source, so an import inside a function counts as much as one at
the top of a module: a lazy import that closes a cycle is still a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cms", "tasks", "streams", "inference")
# What each layer may import of the project (besides itself).
ALLOWED = {
    "tasks": {"cms", "streams", "inference"},
    "cms": {"streams", "inference"},
    "streams": set(),
    "inference": set(),
}
# Frameworks the Django-free packages must not import.
FRAMEWORKS = {"django", "rest_framework", "celery", "kombu"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Every name an import statement in the file imports, absolute: a module, or a module
    followed by a name defined in it (``from cms.farm import farm_keys`` gives
    ``cms.farm.farm_keys``, ``from streams import Frame`` gives ``streams.Frame``)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports.

    An import names the deepest module it reaches: ``from cms.farm import farm_keys``
    is an edge to cms.farm.farm_keys, not to the package cms.farm (or every package
    whose __init__ imports its modules would be in a cycle with them).
    """
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(path, module):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_the_projects_modules() -> None:
    assert cycles(import_graph()) == []


def test_imports_run_from_tasks_to_cms_to_streams_and_inference() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in targets
        if (layer := module.split(".")[0]) != (other := target.split(".")[0])
        and other not in ALLOWED[layer]
    )
    assert wrong == []


def test_streams_and_inference_know_nothing_of_django_or_celery() -> None:
    modules = project_modules()
    wrong = sorted(
        f"{module} imports {name}"
        for module, path in modules.items()
        if module.split(".")[0] in ("streams", "inference")
        for name in imported_names(path, module)
        if name.split(".")[0] in FRAMEWORKS
    )
    assert wrong == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
