"""Mechanical checks of rules that hassfest, HACS and the quality scale apply to the repository."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "ksem_zaptec"
PLATFORMS = ("sensor", "binary_sensor", "switch", "button", "number", "update")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("side", ["ksem", "zaptec"])
def test_protocol_clients_import_no_home_assistant(side: str) -> None:
    """The api/ packages are plain Python: they could be published as their own library."""
    files = sorted((INTEGRATION / side / "api").rglob("*.py"))
    assert files, f"{side}/api has no modules"
    for path in files:
        offending = {n for n in _imports(path) if n.split(".")[0] == "homeassistant"}
        assert not offending, f"{path.relative_to(ROOT)} imports {offending}"
        # Relative imports must stay inside api/ (no `from ...` into the HA side).
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                depth = len(path.relative_to(INTEGRATION / side / "api").parts) - 1
                assert node.level <= depth + 1, f"{path.relative_to(ROOT)} imports outside api/"


def test_manifest_follows_hassfest_rules() -> None:
    """Domain and name first, then sorted keys; the keys a custom integration needs."""
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "manifest keys are not sorted"
    assert manifest["domain"] == INTEGRATION.name
    for key in ("codeowners", "documentation", "issue_tracker", "version", "iot_class"):
        assert manifest.get(key), f"manifest lacks {key}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["config_flow"] is True
    assert "home-assistant.io" not in manifest["documentation"]


def test_hacs_json_has_only_allowed_keys() -> None:
    """HACS rejects any key it does not know."""
    hacs = json.loads((ROOT / "hacs.json").read_text())
    allowed = {
        "name",
        "content_in_root",
        "zip_release",
        "filename",
        "hide_default_branch",
        "country",
        "homeassistant",
        "hacs",
        "persistent_directory",
        "render_readme",
    }
    assert set(hacs) <= allowed
    assert hacs["name"]
    # The declared minimum is the HA the --min-ha test run installs.
    assert hacs["homeassistant"] in (ROOT / "requirements_test_min_ha.txt").read_text()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platforms_declare_parallel_updates(platform: str) -> None:
    """Quality scale (silver) parallel-updates: every platform module sets PARALLEL_UPDATES."""
    tree = ast.parse((INTEGRATION / f"{platform}.py").read_text())
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "PARALLEL_UPDATES" in assigned


def test_icons_are_not_set_in_code() -> None:
    """Quality scale (gold) icon-translations: icons live in icons.json, not in Python."""
    for path in INTEGRATION.rglob("*.py"):
        text = path.read_text()
        assert "_attr_icon" not in text, path
        assert not re.search(r"\bicon=\"mdi:", text), path


def test_brand_images_exist() -> None:
    """HACS' brands check and HA >= 2026.3 read brand/icon.png (+ @2x and dark variants)."""
    for name in ("icon.png", "icon@2x.png", "dark_icon.png", "dark_icon@2x.png"):
        assert (INTEGRATION / "brand" / name).is_file(), name
