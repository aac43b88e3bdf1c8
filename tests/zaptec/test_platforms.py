"""Every Zaptec platform, snapshot-tested against the simulated cloud."""

from __future__ import annotations

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.ksem_zaptec.const import DOMAIN


@pytest.mark.parametrize(
    "platforms",
    [
        [Platform.SENSOR],
        [Platform.BINARY_SENSOR],
        [Platform.SWITCH],
        [Platform.BUTTON],
        [Platform.NUMBER],
        [Platform.UPDATE],
    ],
)
async def test_platform_snapshot(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    all_entities_entry: MockConfigEntry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, all_entities_entry.entry_id)


@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
async def test_devices(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    all_entities_entry: MockConfigEntry,
) -> None:
    devices = dr.async_entries_for_config_entry(device_registry, all_entities_entry.entry_id)
    assert len(devices) == 3
    by_name = {device.name: device for device in devices}
    assert by_name["Garage"].via_device_id == by_name["Home"].id
    assert by_name["Driveway"].via_device_id == by_name["Home"].id
    for device in sorted(devices, key=lambda d: d.name or ""):
        assert device == snapshot(name=device.name)
    assert all(identifier[0] == DOMAIN for device in devices for identifier in device.identifiers)
