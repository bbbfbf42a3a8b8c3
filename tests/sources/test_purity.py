"""The sources layer depends only on the domain (ARCHITECTURE: domain <- sources <- engine <- ...)."""

from __future__ import annotations

import ast
from pathlib import Path

import app.sources

FORBIDDEN = ("app.store", "app.engine", "app.services", "app.api", "app.ws", "app.cli", "components", "nicegui")


def test_sources_import_nothing_above_them() -> None:
    for path in Path(app.sources.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad = [n for n in names if n.startswith(FORBIDDEN)]
            assert not bad, f"{path.name} imports {bad}"
