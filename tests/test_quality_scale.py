"""quality_scale.yaml is complete, in core's format, and its checkable `done` rules are backed.

Hassfest does not read this file for custom integrations, so this test is the only gate: every
rule of the Integration Quality Scale must be listed; `exempt` needs a reason; and each `done`
rule that a machine can check names the check that backs it (a test here or a step of
scripts/test). Removing the check makes this test fail.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "ksem_zaptec"
RULES = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]

# Core's ALL_RULES (script/hassfest/quality_scale.py), 54 rules in 2026.
ALL_RULES = {
    # bronze
    "action-setup", "appropriate-polling", "brands", "common-modules", "config-flow",
    "config-flow-test-coverage", "dependency-transparency", "docs-actions", "docs-conditions",
    "docs-high-level-description", "docs-installation-instructions", "docs-removal-instructions",
    "docs-triggers", "entity-event-setup", "entity-unique-id", "has-entity-name", "runtime-data",
    "test-before-configure", "test-before-setup", "unique-config-entry",
    # silver
    "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
    "docs-installation-parameters", "entity-unavailable", "integration-owner",
    "log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage",
    # gold
    "devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update",
    "docs-examples", "docs-known-limitations", "docs-supported-devices",
    "docs-supported-functions", "docs-troubleshooting", "docs-use-cases", "dynamic-devices",
    "entity-category", "entity-device-class", "entity-disabled-by-default", "entity-translations",
    "exception-translations", "icon-translations", "reconfiguration-flow", "repair-issues",
    "stale-devices",
    # platinum
    "async-dependency", "inject-websession", "strict-typing",
}  # fmt: skip

# `done` rules a machine can check -> the test (file::name) or script step that checks them.
EVIDENCE = {
    "brands": "tests/test_repository.py::test_brand_images_exist",
    "config-flow-test-coverage": "scripts/check_coverage.py",
    "test-coverage": "scripts/check_coverage.py",
    "parallel-updates": "tests/test_repository.py::test_platforms_declare_parallel_updates",
    "icon-translations": "tests/test_repository.py::test_icons_are_not_set_in_code",
    "has-entity-name": "tests/test_quality_scale.py::test_every_entity_uses_the_base_entity",
    "entity-unique-id": "tests/test_quality_scale.py::test_every_entity_uses_the_base_entity",
    "entity-translations": "tests/test_translations.py::test_language_is_complete",
    "integration-owner": "tests/test_repository.py::test_manifest_follows_hassfest_rules",
    "async-dependency": "tests/test_repository.py::test_protocol_clients_import_no_home_assistant",
    "inject-websession": "tests/test_quality_scale.py::test_clients_take_an_injected_session",
    "strict-typing": "tests/test_quality_scale.py::test_mypy_is_strict",
}

DOC_SECTIONS = {
    "docs-high-level-description": "# KOSTAL KSEM & Zaptec",
    "docs-installation-instructions": "## Installation",
    "docs-installation-parameters": "## Configuration",
    "docs-configuration-parameters": "Options (*Configure* on the entry)",
    "docs-removal-instructions": "## Removal",
    "docs-data-update": "## Data updates",
    "docs-examples": "## Examples",
    "docs-known-limitations": "## Known limitations",
    "docs-supported-devices": "## Supported devices",
    "docs-supported-functions": "## Entities",
    "docs-troubleshooting": "## Troubleshooting",
    "docs-use-cases": "### Automation",
}


def _status(rule: str) -> str:
    value = RULES[rule]
    return value if isinstance(value, str) else value["status"]


def test_every_rule_is_listed_once_with_a_valid_status() -> None:
    """All rules, nothing unknown, no `todo` left, exemptions explained."""
    assert set(RULES) == ALL_RULES
    for rule, value in RULES.items():
        status = _status(rule)
        assert status in {"done", "exempt"}, f"{rule}: {status}"
        if status == "exempt":
            assert isinstance(value, dict), f"{rule}: exempt needs the mapping form"
            assert len(value.get("comment", "")) > 20, f"{rule}: exempt needs a reason"


@pytest.mark.parametrize("rule", sorted(EVIDENCE))
def test_checkable_done_rules_have_their_check(rule: str) -> None:
    """The check named for a `done` rule exists (file, and test function where named)."""
    assert _status(rule) == "done"
    path, _, name = EVIDENCE[rule].partition("::")
    source = ROOT / path
    assert source.is_file(), EVIDENCE[rule]
    if name:
        functions = {
            node.name
            for node in ast.walk(ast.parse(source.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        assert name in functions, EVIDENCE[rule]
    if path.startswith("scripts/"):
        assert path in (ROOT / "scripts" / "test").read_text()


@pytest.mark.parametrize("rule", sorted(DOC_SECTIONS))
def test_docs_rules_have_their_readme_section(rule: str) -> None:
    """Each docs-* rule marked done has its section in the README."""
    assert _status(rule) == "done"
    assert DOC_SECTIONS[rule] in (ROOT / "README.md").read_text()


def _classes() -> list[tuple[Path, ast.ClassDef]]:
    found = []
    for path in INTEGRATION.rglob("*.py"):
        found.extend(
            (path, node)
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ClassDef)
        )
    return found


def test_every_entity_uses_the_base_entity() -> None:
    """has-entity-name and entity-unique-id: every entity class derives from KsemZaptecEntity.

    The base sets `_attr_has_entity_name = True` and the unique id `<device id>_<key>`; no
    entity class may override either.
    """
    classes = _classes()
    names = {node.name: node for _, node in classes}

    def bases(node: ast.ClassDef) -> set[str]:
        out = set()
        for base in node.bases:
            target = base.value if isinstance(base, ast.Subscript) else base
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            out.add(name)
            if name in names and names[name] is not node:
                out |= bases(names[name])
        return out

    entity_bases = {"SensorEntity", "BinarySensorEntity", "SwitchEntity", "CoordinatorEntity"}
    entities = [(p, n) for p, n in classes if bases(n) & entity_bases]
    assert entities
    for path, node in entities:
        if node.name == "KsemZaptecEntity":
            continue
        assert "KsemZaptecEntity" in bases(node), f"{path.name}: {node.name}"
        source = ast.unparse(node)
        assert "_attr_has_entity_name" not in source, node.name
        assert "_attr_unique_id" not in source, node.name


def test_clients_take_an_injected_session() -> None:
    """inject-websession: the clients never create their own aiohttp session."""
    for path in INTEGRATION.rglob("api/*.py"):
        assert "ClientSession(" not in path.read_text(), path


def test_mypy_is_strict() -> None:
    """strict-typing: scripts/test runs mypy with strict = true over the integration."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert "custom_components/ksem_zaptec" in config["files"]
    assert "mypy" in (ROOT / "scripts" / "test").read_text()
