"""The floors of ARCHITECTURE.md, checked on the source: imports point down only, the domain knows no HTTP server,
services are typed (no lookups by name), and no module imports itself in a circle."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PACKAGE = ROOT / "emulator"

#: The floors, top first: a module may import its own floor and those below, never one above. The first prefix
#: that names a module decides its floor.
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry", ("emulator.cli", "emulator.__main__", "emulator.testing", "emulator.pytest_plugin", "emulator.probe",
               "emulator.client", "emulator.openapi.__main__")),
    ("wiring", ("emulator.app", "emulator.proxy.app")),
    ("handlers", ("emulator.admin", "emulator.openapi", "emulator.gateway.responses", "emulator.gateway.urls",
                  "emulator.sessions.responses", "emulator.sessions.urls", "emulator.plugin.responses",
                  "emulator.plugin.urls", "emulator.proxy.server")),
    ("edge", ("emulator.web",)),
    ("settings", ("emulator.settings",)),
    ("domain", ("emulator.auth", "emulator.gateway", "emulator.sessions", "emulator.plugin", "emulator.webhooks",
                "emulator.scenarios", "emulator.waits", "emulator.findings", "emulator.tenants", "emulator.stories",
                "emulator.snapshots", "emulator.proxy", "emulator.readiness")),
    ("foundation", ("emulator.core", "emulator.store", "emulator")),
)
RANK = {name: len(FLOORS) - index for index, (name, _) in enumerate(FLOORS)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def floor_of(module: str) -> str:
    for name, prefixes in FLOORS:
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return name
    raise AssertionError(f"{module} is on no floor: add it to FLOORS (and to ARCHITECTURE.md)")


def is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return ((PACKAGE.parent / relative).with_suffix(".py").is_file()
            or (PACKAGE.parent / relative / "__init__.py").is_file())


@cache
def sources() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text(encoding="utf-8"), str(path))
            for path in sorted(PACKAGE.rglob("*.py"))}


@cache
def imports() -> dict[str, set[str]]:
    """Each module's imports of the package's modules, wherever they are written (lazy ones included)."""
    found: dict[str, set[str]] = {}
    for module, tree in sources().items():
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    names.add(candidate if is_module(candidate) else node.module)
        found[module] = {name for name in names if name == "emulator" or name.startswith("emulator.")}
    return found


def test_every_module_is_on_a_floor():
    for module in sources():
        floor_of(module)


def test_imports_point_down_only():
    upward = sorted(f"{module} ({floor_of(module)}) imports {target} ({floor_of(target)})"
                    for module, targets in imports().items() for target in targets
                    if RANK[floor_of(target)] > RANK[floor_of(module)])
    assert upward == []


def test_settings_import_only_the_foundation():
    assert {floor_of(target) for target in imports()["emulator.settings"]} <= {"foundation"}


@pytest.mark.parametrize("floor", ["domain", "foundation", "settings"])
def test_below_the_edge_nothing_serves_http(floor):
    serving = sorted(module for module, tree in sources().items() if floor_of(module) == floor
                     for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module == "aiohttp"
                     and any(alias.name == "web" for alias in node.names)
                     or isinstance(node, ast.Import) and any(a.name.startswith("aiohttp.web") for a in node.names))
    assert serving == [], "the domain returns models; only the edge and the handlers speak aiohttp.web"


def test_no_module_imports_itself_in_a_circle():
    graph = imports()
    cycles = [component for component in strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def test_services_are_typed_attributes_not_looked_up_by_name():
    lookups = sorted(f"{path.relative_to(PACKAGE.parent)}:{number}"
                     for path in PACKAGE.rglob("*.py")
                     for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                     if re.search(r"services\s*(\[|\.get\()", line))
    assert lookups == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph``, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def test_the_endpoint_names_scenarios_match_on_are_the_routes_names():
    from emulator.app import ROUTES
    from emulator.scenarios.schema import ENDPOINTS

    assert {route.spec.endpoint for route in ROUTES if route.spec.endpoint} == set(ENDPOINTS)
