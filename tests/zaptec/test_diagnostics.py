"""Diagnostics of a Zaptec entry: useful, with personal data and secrets redacted."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

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

    # The simulator's port changes from run to run.
    assert diagnostics["entry"]["data"].pop("api_url") == zaptec_sim.url
    assert diagnostics == snapshot
    text = json.dumps(diagnostics)
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
