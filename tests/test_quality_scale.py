"""quality_scale.yaml is complete, in core's format, and every `done` rule names its evidence.

Hassfest does not read this file for custom integrations, so this test is the only gate:
- every rule of the Integration Quality Scale is listed once; `todo` and `exempt` say why;
- every `done` rule's comment names at least one path (from the repository root) that shows
  it, optionally `file.py::test_name`; every path named in any comment must exist, and a named
  function must exist in that file, so the file cannot silently rot when code moves;
- the `done` rules a machine can check name the check that backs them (EVIDENCE, DOC_SECTIONS)
  and that check exists; the checks that live nowhere else are the tests at the end.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
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
# The rule's comment in quality_scale.yaml must name the same check.
EVIDENCE = {
    "brands": "tests/test_repository.py::test_brand_images_exist",
    "config-flow-test-coverage": "scripts/check_coverage.py",
    "common-modules": "tests/test_quality_scale.py::test_common_modules",
    "entity-event-setup": "tests/test_quality_scale.py::test_entities_subscribe_only_when_added",
    "exception-translations": "tests/test_quality_scale.py::test_raised_errors_are_translated",
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

# A word of a comment is a path when it contains "/" or ends in one of these suffixes; it may
# name a function or class in that file after "::". So write "on or off", not "on/off".
_WORD = re.compile(r"[\w.@/-]+(?:::\w+)?")
_SUFFIXES = (".py", ".md", ".json", ".yaml", ".yml", ".toml", ".ambr", ".png", ".txt")


def _status(rule: str) -> str:
    value = RULES[rule]
    return value if isinstance(value, str) else value["status"]


def _comment(rule: str) -> str:
    value = RULES[rule]
    return "" if isinstance(value, str) else str(value.get("comment", ""))


def _named_paths(comment: str) -> list[tuple[str, str]]:
    """(path, function or class name or "") for every path the comment names."""
    named = []
    for word in _WORD.findall(comment):
        path, _, name = word.partition("::")
        path = path.rstrip(".-")
        if "/" in path or path.endswith(_SUFFIXES):
            named.append((path, name))
    return named


def _definitions(path: Path) -> set[str]:
    return {
        node.name
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


def _missing(comment: str) -> list[str]:
    """The paths (and path::names) a comment names that the repository does not have."""
    missing = []
    for path, name in _named_paths(comment):
        target = ROOT / path
        if not target.exists():
            missing.append(path)
        elif name and not (target.suffix == ".py" and name in _definitions(target)):
            missing.append(f"{path}::{name}")
    return missing


def test_every_rule_is_listed_once_with_a_valid_status() -> None:
    """All rules, nothing unknown; `todo` and `exempt` in mapping form with a reason."""
    assert set(RULES) == ALL_RULES
    for rule, value in RULES.items():
        status = _status(rule)
        assert status in {"done", "todo", "exempt"}, f"{rule}: {status}"
        if status != "done":
            assert isinstance(value, dict), f"{rule}: {status} needs the mapping form"
            assert len(value.get("comment", "")) > 20, f"{rule}: {status} needs a reason"


@pytest.mark.parametrize("rule", sorted(r for r in ALL_RULES if _status(r) == "done"))
def test_done_rules_name_their_evidence(rule: str) -> None:
    """A `done` rule says where it is shown: at least one test, script or document."""
    assert _named_paths(_comment(rule)), f"{rule}: the comment names no path"


@pytest.mark.parametrize("rule", sorted(ALL_RULES))
def test_named_paths_exist(rule: str) -> None:
    """Every path a comment names exists, and so does a function named after `::`."""
    assert _missing(_comment(rule)) == [], rule


def test_a_made_up_path_is_caught() -> None:
    """The path check itself: made-up files and test names are reported, real ones are not."""
    comment = (
        "README.md (Removal), tests/ksem/test_made_up.py, "
        "tests/test_repository.py::test_made_up, tests/test_quality_scale.py::_missing."
    )
    assert [path for path, _ in _named_paths(comment)] == [
        "README.md",
        "tests/ksem/test_made_up.py",
        "tests/test_repository.py",
        "tests/test_quality_scale.py",
    ]
    assert _missing(comment) == [
        "tests/ksem/test_made_up.py",
        "tests/test_repository.py::test_made_up",
    ]


@pytest.mark.parametrize("rule", sorted(EVIDENCE))
def test_checkable_done_rules_have_their_check(rule: str) -> None:
    """The check named for a `done` rule exists (file, and test function where named)."""
    assert _status(rule) == "done"
    assert EVIDENCE[rule] in _comment(rule), f"{rule}: the comment does not name its check"
    path, _, name = EVIDENCE[rule].partition("::")
    source = ROOT / path
    assert source.is_file(), EVIDENCE[rule]
    if name:
        assert name in _definitions(source), EVIDENCE[rule]
    if path.startswith("scripts/"):
        assert path in (ROOT / "scripts" / "test").read_text()


@pytest.mark.parametrize("rule", sorted(DOC_SECTIONS))
def test_docs_rules_have_their_readme_section(rule: str) -> None:
    """Each docs-* rule marked done has its section in the README."""
    assert _status(rule) == "done"
    assert "README.md" in _comment(rule)
    assert DOC_SECTIONS[rule] in (ROOT / "README.md").read_text()


# ---- checks that back `done` rules and live nowhere else -------------------------------------


def _ha_modules() -> Iterator[tuple[Path, ast.Module]]:
    """The integration's Home Assistant side (the api/ packages are plain Python)."""
    for path in sorted(INTEGRATION.rglob("*.py")):
        if "api" not in path.relative_to(INTEGRATION).parts:
            yield path, ast.parse(path.read_text())


def _classes() -> list[tuple[Path, ast.ClassDef]]:
    found: list[tuple[Path, ast.ClassDef]] = []
    for path in INTEGRATION.rglob("*.py"):
        found.extend(
            (path, node)
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ClassDef)
        )
    return found


def _base_names(classes: list[tuple[Path, ast.ClassDef]]) -> dict[str, set[str]]:
    """Class name -> the names of all its bases, through the integration's own classes."""
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

    return {node.name: bases(node) for _, node in classes}


ENTITY_BASES = {"SensorEntity", "BinarySensorEntity", "SwitchEntity", "CoordinatorEntity"}


def test_every_entity_uses_the_base_entity() -> None:
    """has-entity-name and entity-unique-id: every entity class derives from KsemZaptecEntity.

    The base sets `_attr_has_entity_name = True` and the unique id `<device id>_<key>`; no
    entity class may override either.
    """
    classes = _classes()
    bases = _base_names(classes)
    entities = [(p, n) for p, n in classes if bases[n.name] & ENTITY_BASES]
    assert entities
    for path, node in entities:
        if node.name == "KsemZaptecEntity":
            continue
        assert "KsemZaptecEntity" in bases[node.name], f"{path.name}: {node.name}"
        source = ast.unparse(node)
        assert "_attr_has_entity_name" not in source, node.name
        assert "_attr_unique_id" not in source, node.name


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _subscribes(node: ast.Call) -> bool:
    name = _call_name(node)
    return name.startswith("async_track_") or name in {
        "async_add_listener",
        "async_dispatcher_connect",
        "async_listen",
        "async_listen_once",
    }


def _wrappers(tree: ast.Module) -> dict[int, str]:
    """Map each subscribing call (by id) to the name of the call it is handed to."""
    return {
        id(arg): _call_name(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for arg in node.args
        if isinstance(arg, ast.Call) and _subscribes(arg)
    }


def _entity_methods(tree: ast.Module, bases: dict[str, set[str]]) -> dict[int, str]:
    """Map each node inside a method of an entity class (by id) to the method name."""
    return {
        id(node): method.name
        for cls in ast.walk(tree)
        if isinstance(cls, ast.ClassDef) and bases.get(cls.name, set()) & ENTITY_BASES
        for method in cls.body
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(method)
    }


def test_entities_subscribe_only_when_added() -> None:
    """entity-event-setup: a subscription is always handed to its unsubscriber.

    Inside an entity class it happens only in `async_added_to_hass`, wrapped in
    `self.async_on_remove(...)`; anywhere else in the integration it is wrapped in
    `async_on_remove` or `entry.async_on_unload`, so nothing outlives its entity or entry.
    """
    bases = _base_names(_classes())
    found = 0
    for path, tree in _ha_modules():
        wrapped = _wrappers(tree)
        in_entity = _entity_methods(tree, bases)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _subscribes(node)):
                continue
            found += 1
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if id(node) in in_entity:
                assert in_entity[id(node)] == "async_added_to_hass", where
                assert wrapped.get(id(node)) == "async_on_remove", where
            else:
                assert wrapped.get(id(node)) in {"async_on_remove", "async_on_unload"}, where
    assert found, "no subscriptions found: has the check lost track of them?"


def test_common_modules() -> None:
    """common-modules: coordinators live in coordinator.py, the one base entity in entity.py."""
    classes = _classes()
    bases = _base_names(classes)
    coordinators = [
        (path, node) for path, node in classes if "DataUpdateCoordinator" in bases[node.name]
    ]
    assert coordinators
    for path, node in coordinators:
        assert path.name == "coordinator.py", f"{path.relative_to(ROOT)}: {node.name}"
    assert "KsemZaptecEntity" in _definitions(INTEGRATION / "entity.py")


# Home Assistant errors that show their message to the user (coordinator errors end up in
# the log and on the entry card): each is raised with a translation key.
HA_ERRORS = {
    "HomeAssistantError",
    "ServiceValidationError",
    "UpdateFailed",
    "ConfigEntryAuthFailed",
    "ConfigEntryNotReady",
    "ConfigEntryError",
}


def test_raised_errors_are_translated() -> None:
    """exception-translations: every Home Assistant error is built with a translation key."""
    bases = _base_names(_classes())
    errors = HA_ERRORS | {name for name, found in bases.items() if found & HA_ERRORS}
    built = 0
    for path, tree in _ha_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in errors:
                built += 1
                keywords = {keyword.arg for keyword in node.keywords}
                assert {"translation_domain", "translation_key"} <= keywords, (
                    f"{path.relative_to(ROOT)}:{node.lineno}"
                )
    assert built


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
