"""The firmware update entities: versions from the firmware list, install = command 200."""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.update import (
    ATTR_IN_PROGRESS,
    ATTR_INSTALLED_VERSION,
    ATTR_LATEST_VERSION,
    SERVICE_INSTALL,
)
from homeassistant.components.update import DOMAIN as UPDATE_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import SimHandle, advance

GARAGE = "update.garage_firmware"
DRIVEWAY = "update.driveway_firmware"


async def _install(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        UPDATE_DOMAIN, SERVICE_INSTALL, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def _firmware_reads(handle: SimHandle) -> int:
    return sum(r.path.startswith("/api/chargerFirmware/") for r in handle.sim.requests)


async def test_versions_and_install(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, latest_firmware="4.2.0.0")
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(GARAGE)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_INSTALLED_VERSION] == "4.1.0.1"
    assert state.attributes[ATTR_LATEST_VERSION] == "4.2.0.0"
    assert hass.states.get(DRIVEWAY).state == STATE_OFF
    sim.reset_requests()

    await _install(hass, GARAGE)
    assert [(r.method, r.path) for r in sim.requests] == [
        ("POST", f"/api/chargers/{garage.id}/sendCommand/200")
    ]
    assert hass.states.get(GARAGE).attributes[ATTR_IN_PROGRESS] is True
    # The firmware list again 15 minutes later: the new version shows, the upgrade is over.
    await advance(hass, freezer, 15 * 60)
    assert _firmware_reads(zaptec_sim) == 1
    state = hass.states.get(GARAGE)
    assert state.state == STATE_OFF
    assert state.attributes[ATTR_INSTALLED_VERSION] == "4.2.0.0"
    assert state.attributes[ATTR_IN_PROGRESS] is False


async def test_read_once_a_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    sim.reset_requests()
    await advance(hass, freezer, 12 * 3600)
    assert _firmware_reads(zaptec_sim) == 0
    sim.set_charger(sim.charger_by_serial("ZAP049387").id, latest_firmware="5.0.0.0")
    await advance(hass, freezer, 12 * 3600)
    assert _firmware_reads(zaptec_sim) == 1
    assert hass.states.get(DRIVEWAY).state == STATE_ON


async def test_nothing_to_install_reads_the_list_again(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, latest_firmware="4.2.0.0")
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    # Installed meanwhile from the Zaptec app: Zaptec says 528.
    sim.set_charger(garage.id, firmware="4.2.0.0")
    sim.reset_requests()
    await _install(hass, GARAGE)
    await hass.async_block_till_done()
    assert _firmware_reads(zaptec_sim) == 1
    assert hass.states.get(GARAGE).state == STATE_OFF


async def test_install_refused(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, latest_firmware="4.2.0.0")
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    sim.add_fault("sendCommand", 403, body={"Code": 533, "Details": "Forbidden"})
    with pytest.raises(HomeAssistantError) as caught:
        await _install(hass, GARAGE)
    assert caught.value.translation_key == "zaptec_write_forbidden"
    assert hass.states.get(GARAGE).attributes[ATTR_IN_PROGRESS] is False


async def test_unreadable_firmware_list(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    """A refused or failing list leaves the entities unavailable; setup goes on."""
    sim = zaptec_sim.sim
    sim.add_fault("chargerFirmware", 500, body={"Code": 500, "Details": "down"})
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(GARAGE).state == STATE_UNAVAILABLE
    # Read again on its own backoff (a minute), not a day later.
    await advance(hass, freezer, 61)
    assert hass.states.get(GARAGE).state == STATE_OFF


async def test_user_role_reads_no_firmware(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    sim.set_installation(home.id, roles=1)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert _firmware_reads(zaptec_sim) == 0
    assert hass.states.get(GARAGE).state == STATE_UNAVAILABLE


async def test_firmware_list_refused_despite_the_role(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    """403 although the account looked like an Owner: no retry before the next day."""
    sim = zaptec_sim.sim
    sim.add_fault("chargerFirmware", 403, count=None, body={"Code": 533, "Details": "Forbidden"})
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(GARAGE).state == STATE_UNAVAILABLE
    sim.reset_requests()
    await advance(hass, freezer, 3600)
    assert _firmware_reads(zaptec_sim) == 0


async def test_charger_without_versions_in_the_list(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    """A charger not yet set up lacks the versions: the state's version stands in."""
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.add_fault("chargerFirmware", 200, body=[{"ChargerId": garage.id, "IsOnline": True}])
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(GARAGE)
    assert state.state == STATE_OFF
    assert state.attributes[ATTR_INSTALLED_VERSION] == "4.1.0.1"
    assert state.attributes[ATTR_LATEST_VERSION] == "4.1.0.1"
    # The Go is not in that list: no firmware entity value for it.
    assert hass.states.get(DRIVEWAY).state == STATE_UNAVAILABLE
