"""Setting a Zaptec entry up and down; setup failures; removing devices by hand."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ksem_zaptec.const import DOMAIN

from .conftest import SimHandle, advance


async def test_setup_reads_the_account_once_and_unloads(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    assert loaded_entry.state is ConfigEntryState.LOADED
    home = next(iter(sim.installations.values()))
    garage = sim.charger_by_serial("ZPR012345")
    driveway = sim.charger_by_serial("ZAP049387")
    # Only the Pro charger needs its detail (it is the only one with a switch).
    assert sorted(
        (r.method, r.path, tuple(sorted(r.query.items()))) for r in sim.requests
    ) == sorted(
        [
            ("POST", "/oauth/token", ()),
            ("GET", "/api/installation", (("PageIndex", "0"), ("PageSize", "100"))),
            ("GET", "/api/chargers", (("PageIndex", "0"), ("PageSize", "100"))),
            ("GET", f"/api/installation/{home.id}", ()),
            ("GET", f"/api/chargers/{garage.id}", ()),
            ("GET", f"/api/chargers/{garage.id}/state", ()),
            ("GET", f"/api/chargers/{driveway.id}/state", ()),
            ("GET", f"/api/chargerFirmware/installation/{home.id}", ()),
        ]
    )
    assert sim.requests[0].body == {"grant_type": "password", "username": sim.username}
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED


async def test_cloud_down_at_setup_retries(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    zaptec_sim.sim.add_fault("^/api/installation$", 503, count=100)
    zaptec_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(zaptec_entry.entry_id)
    assert zaptec_entry.state is ConfigEntryState.SETUP_RETRY


async def test_rate_limited_at_setup_retries_without_requests(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    """A 429 at setup: retry later, and the retries send nothing while the pause lasts."""
    sim = zaptec_sim.sim
    sim.add_fault("^/api/installation$", 429, count=1, retry_after="300")
    zaptec_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(zaptec_entry.entry_id)
    assert zaptec_entry.state is ConfigEntryState.SETUP_RETRY
    sim.reset_requests()
    assert not await hass.config_entries.async_reload(zaptec_entry.entry_id)
    assert zaptec_entry.state is ConfigEntryState.SETUP_RETRY
    assert not sim.requests  # the same client, still paused: no login, no list


async def test_rate_limited_state_at_setup_loads_and_reads_later(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    """Details load, the state reads hit a 429: the entry loads, values follow the pause."""
    zaptec_sim.sim.add_fault("/state$", 429, count=2, retry_after="60")
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.garage_charge_power").state == STATE_UNKNOWN
    await advance(hass, freezer, 75)  # the pause is over: one charger probes
    await advance(hass, freezer, 15)  # the probe worked: the other one follows
    assert hass.states.get("sensor.garage_charge_power").state == "0.0"
    assert hass.states.get("sensor.driveway_charge_power").state == "0.0"


async def test_wrong_password_at_setup_starts_reauth(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    zaptec_sim.sim.password = "changed"
    zaptec_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(zaptec_entry.entry_id)
    assert zaptec_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_remove_device_only_when_gone(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    garage = zaptec_sim.sim.charger_by_serial("ZPR012345")
    current = next(
        d
        for d in dr.async_entries_for_config_entry(device_registry, loaded_entry.entry_id)
        if (DOMAIN, garage.id) in d.identifiers
    )
    gone = device_registry.async_get_or_create(
        config_entry_id=loaded_entry.entry_id, identifiers={(DOMAIN, "no-longer-there")}
    )
    for device, allowed in ((current, False), (gone, True)):
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": loaded_entry.entry_id,
                "device_id": device.id,
            }
        )
        response = await client.receive_json()
        assert response["success"] is allowed
