"""Fixtures shared by all tests."""

from __future__ import annotations

import inspect
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, Mock, patch

import aioresponses.core
import pytest
from aiohttp import ClientResponse
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation
from yarl import URL

# Import our package before phacc's `hass` fixture puts its own testing_config (which has a
# `custom_components` package too) first on sys.path: the module cached here is the one HA finds.
import custom_components.ksem_zaptec  # noqa: F401

# The hypothesis profile (no deadline, no database) for every property-based test.
import tests.property  # noqa: F401


class _CompatClientResponse(ClientResponse):
    """aioresponses 0.7.9 builds responses without aiohttp 3.14's `stream_writer` argument."""

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", Mock(output_size=0))
        super().__init__(method, url, **kwargs)


@pytest.fixture(autouse=True)
def aioresponses_compat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let aioresponses build responses for the aiohttp that the tested HA pins."""
    if "stream_writer" in inspect.signature(ClientResponse.__init__).parameters:
        monkeypatch.setattr(aioresponses.core, "ClientResponse", _CompatClientResponse)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/ksem_zaptec in every test."""


class _VersionedSnapshotExtension(HomeAssistantSnapshotExtension):
    """Keep snapshots per tested HA version: the registries' fields differ between releases.

    `scripts/test --min-ha` sets KSEM_ZAPTEC_SNAPSHOT_SUFFIX, so the oldest supported HA compares
    against `snapshots_min_ha/` while the newest compares against `snapshots/`.
    """

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        """`snapshots/` (newest HA) or `snapshots_<suffix>/` next to the test module."""
        suffix = os.environ.get("KSEM_ZAPTEC_SNAPSHOT_SUFFIX")
        name = f"snapshots_{suffix}" if suffix else "snapshots"
        return str(Path(test_location.filepath).parent / name)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer (entity states, registries, diagnostics)."""
    return snapshot.use_extension(_VersionedSnapshotExtension)


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Config flow tests stop at entry creation: setting the entry up is tested elsewhere."""
    with patch("custom_components.ksem_zaptec.async_setup_entry", return_value=True) as mock_setup:
        yield mock_setup
