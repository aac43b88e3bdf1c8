"""The Zaptec client and the simulator stay independent of Home Assistant and each other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_zaptec_api_has_no_home_assistant_imports() -> None:
    files = list((ROOT / "custom_components/ksem_zaptec/zaptec/api").glob("*.py"))
    assert files
    for path in files:
        assert not [n for n in _imports(path) if n.split(".")[0] == "homeassistant"], path


def test_zaptec_simulator_does_not_import_the_integration() -> None:
    for path in (ROOT / "simulator").glob("zaptec*.py"):
        bad = [n for n in _imports(path) if n.startswith(("custom_components", "homeassistant"))]
        assert not bad, path
