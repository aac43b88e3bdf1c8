"""Setting a Zaptec entry up and down; setup failures; removing devices by hand."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ksem_zaptec.const import CONF_KIND, DOMAIN
from custom_components.ksem_zaptec.zaptec.coordinator import (
    create_client,
    entry_client,
    hand_over_client,
)

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
    assert sim.requests[0].body == {
        "grant_type": "password",
        "username": sim.username,
        "scope": "openid",
    }
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


async def test_migration_drops_the_stored_cloud_url(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    """Entries of 1.1 stored the cloud's URL; 1.2 takes it from configuration.yaml only."""
    old = MockConfigEntry(
        domain=DOMAIN,
        title=zaptec_entry.title,
        unique_id=zaptec_entry.unique_id,
        version=1,
        minor_version=1,
        data={**zaptec_entry.data, "api_url": "https://api.zaptec.com"},
    )
    old.add_to_hass(hass)
    assert await hass.config_entries.async_setup(old.entry_id)
    await hass.async_block_till_done()

    assert old.state is ConfigEntryState.LOADED
    assert "api_url" not in old.data
    assert (old.version, old.minor_version) == (1, 2)
    # Set up against the simulator that configuration.yaml names, not the stored URL.
    assert any(r.path == "/oauth/token" for r in zaptec_sim.sim.requests)


async def test_entry_of_a_newer_version_is_not_set_up(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    newer = MockConfigEntry(
        domain=DOMAIN, unique_id="newer", version=2, data=dict(zaptec_entry.data)
    )
    newer.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(newer.entry_id)
    assert newer.state is ConfigEntryState.MIGRATION_ERROR


async def test_added_account_logs_in_once(hass: HomeAssistant, zaptec_sim: SimHandle) -> None:
    """The config flow's login (its token) is reused by the set-up that follows."""
    sim = zaptec_sim.sim
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "zaptec"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: sim.username, CONF_PASSWORD: sim.password}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert [r.path for r in sim.requests].count("/oauth/token") == 1
    assert "/api/chargers" in [r.path for r in sim.requests]  # the set-up did read
    # The token lives in memory only.
    assert set(result["result"].data) == {CONF_KIND, CONF_USERNAME, CONF_PASSWORD}


async def test_reauth_reuses_the_new_login(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    """The reload after reauthentication takes the flow's fresh client, not a second login."""
    sim = zaptec_sim.sim
    sim.password = "changed"
    sim.reset_requests()
    result = await loaded_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "changed"}
    )
    assert result["type"] is FlowResultType.ABORT
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert [r.path for r in sim.requests].count("/oauth/token") == 1


async def test_handed_over_client_for_other_credentials_is_not_used(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    """A flow client left for the same account but another password is not taken over."""
    sim = zaptec_sim.sim
    stale = create_client(hass, sim.username, "old password")
    hand_over_client(hass, zaptec_entry.unique_id or "", stale)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    assert entry_client(hass, zaptec_entry) is not stale
