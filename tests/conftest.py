"""Fixtures shared by all tests."""

from __future__ import annotations

import os
from collections.abc import Generator
from unittest.mock import AsyncMock, patch

import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

# Import our package before phacc's `hass` fixture puts its own testing_config (which has a
# `custom_components` package too) first on sys.path: the module cached here is the one HA finds.
import custom_components.ksem_zaptec  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/ksem_zaptec in every test."""


class _VersionedSnapshotExtension(HomeAssistantSnapshotExtension):
    """Keep snapshots per tested HA version: the registries' fields differ between releases.

    `scripts/test --min-ha` sets KSEM_ZAPTEC_SNAPSHOT_SUFFIX, so the oldest supported HA compares
    against `snapshots_min_ha/` while the newest compares against `snapshots/`.
    """

    snapshot_dirname = "snapshots" + (
        f"_{os.environ['KSEM_ZAPTEC_SNAPSHOT_SUFFIX']}"
        if os.environ.get("KSEM_ZAPTEC_SNAPSHOT_SUFFIX")
        else ""
    )


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer (entity states, registries, diagnostics)."""
    return snapshot.use_extension(_VersionedSnapshotExtension)


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Config flow tests stop at entry creation: setting the entry up is tested elsewhere."""
    with patch("custom_components.ksem_zaptec.async_setup_entry", return_value=True) as mock_setup:
        yield mock_setup
