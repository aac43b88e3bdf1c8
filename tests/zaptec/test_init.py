"""Setting a Zaptec entry up and down; setup failures; removing devices by hand."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ksem_zaptec.const import DOMAIN

from .conftest import SimHandle


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


async def test_rate_limited_at_setup_retries(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    zaptec_sim.sim.add_fault("/state$", 429, count=100, retry_after="60")
    zaptec_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(zaptec_entry.entry_id)
    assert zaptec_entry.state is ConfigEntryState.SETUP_RETRY


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
