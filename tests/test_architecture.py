"""The dependency rule of ARCHITECTURE.md: imports point one way.

domain <- store, bus, generators, sources <- engine <- services <- api / web / cli / components
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: generators and sources sit beside the store: nothing above them, and no UI
_PURE = (
    "app.store",
    "app.engine",
    "app.services",
    "app.api",
    "app.web",
    "app.cli",
    "app.container",
    "components",
    "nicegui",
)

#: a package and the bulkdash packages it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "app/domain": (
        "app.store",
        "app.bus",
        "app.generators",
        "app.sources",
        "app.engine",
        "app.services",
        "app.api",
        "app.web",
        "app.cli",
        "app.container",
        "components",
        "nicegui",
    ),
    "app/store": (
        "app.engine",
        "app.services",
        "app.api",
        "app.web",
        "app.cli",
        "app.container",
        "components",
        "app.generators",
        "app.sources",
        "nicegui",
    ),
    "app/generators": _PURE,
    "app/sources": _PURE,
    "app/bus.py": ("app.store", "app.engine", "app.services", "app.api", "app.web", "components", "nicegui"),
    "app/engine": ("app.services", "app.api", "app.web", "app.cli", "app.container", "components", "nicegui"),
    "app/services": ("app.api", "app.web", "app.cli", "components", "nicegui"),
    "components": ("app.store", "app.engine"),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def files(target: str) -> list[Path]:
    path = ROOT / target
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


@pytest.mark.parametrize("target", sorted(FORBIDDEN))
def test_dependency_rule(target: str) -> None:
    broken = []
    for path in files(target):
        for name in imports_of(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[target]):
                broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not broken, "dependency rule broken:\n" + "\n".join(broken)
