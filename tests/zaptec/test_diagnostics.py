"""Diagnostics of a Zaptec entry: useful, with personal data and secrets redacted."""

from __future__ import annotations

import json

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.ksem_zaptec.const import DOMAIN

from .conftest import SimHandle, garage_charging


async def test_diagnostics(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    garage_charging(zaptec_sim.sim)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, zaptec_entry)

    assert diagnostics == snapshot
    _assert_no_secrets(json.dumps(diagnostics))


def _assert_no_secrets(text: str) -> None:
    for secret in (
        "zaptec-demo",  # password
        "demo@example.com",  # account
        "owner@example.com",
        "Demo Owner",
        "ZPR012345",  # serial numbers
        "ZAP049387",
        "Sim street",
        "59.91",
        '"1234"',  # PIN
        "ble-",  # who authorized the session
        "OCMF",
    ):
        assert secret not in text, secret


@pytest.mark.parametrize(
    ("name", "others"),
    [
        # A charger: its details and state, not the other charger's or the installation's.
        ("Garage", ("Driveway", "4309d014-6242-534f-91ce-e4822fdc5b50", "MaxCurrent")),
        # An installation: its details and its chargers' ids, no charger's details or state.
        ("Home", ("Driveway", "Garage", "observations")),
    ],
    ids=["charger", "installation"],
)
async def test_device_diagnostics(  # noqa: PLR0917
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    name: str,
    others: tuple[str, ...],
) -> None:
    """A device's "Download diagnostics" describes that device, redacted like the entry's."""
    garage_charging(zaptec_sim.sim)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    [device] = [
        device
        for device in dr.async_entries_for_config_entry(device_registry, zaptec_entry.entry_id)
        if device.name == name
    ]

    diagnostics = await get_diagnostics_for_device(hass, hass_client, zaptec_entry, device)

    assert diagnostics == snapshot
    text = json.dumps(diagnostics)
    _assert_no_secrets(text)
    for other in others:
        assert other not in text, other


async def test_device_diagnostics_of_a_vanished_device(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A device the account no longer reports (still in the registry): said so, no error."""
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    device = device_registry.async_get_or_create(
        config_entry_id=zaptec_entry.entry_id, identifiers={(DOMAIN, "gone")}, name="Old charger"
    )

    diagnostics = await get_diagnostics_for_device(hass, hass_client, zaptec_entry, device)

    assert diagnostics["not_reported_by_account"] is True
    assert "charger" not in diagnostics
    assert "installation" not in diagnostics
