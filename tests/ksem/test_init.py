"""KSEM entries: setup, unload, errors, reauth on revocation, offline, repairs, diagnostics."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.ksem_zaptec import async_remove_config_entry_device
from custom_components.ksem_zaptec.const import DOMAIN

from .conftest import (
    SERIAL,
    RunningKsem,
    authorized_token,
    next_poll,
    setup_entry,
    setup_polling_entry,
    wait_until,
)

GRID = "sensor.ksem_76555758_grid_power"


def _assert_redacted(diagnostics: object, ksem: RunningKsem, entry: MockConfigEntry) -> None:
    """No token, serial or host anywhere in a diagnostics file."""
    text = str(diagnostics)
    for secret in (entry.data["token"], SERIAL, ksem.host):
        assert secret not in text


def meter_device(device_registry: dr.DeviceRegistry, suffix: str = "") -> dr.DeviceEntry:
    """The meter's device (suffix "_home_battery": the home battery's, linked to it)."""
    [device] = [
        device
        for entry in device_registry.hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        if (DOMAIN, SERIAL + suffix) in device.identifiers
    ]
    return device


async def test_load_unload(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    await setup_entry(hass, ksem_entry)
    assert ksem_entry.state is ConfigEntryState.LOADED
    device = meter_device(device_registry)
    assert device.identifiers == {(DOMAIN, SERIAL)}
    assert not await async_remove_config_entry_device(hass, ksem_entry, device)
    assert await hass.config_entries.async_unload(ksem_entry.entry_id)
    await hass.async_block_till_done()
    assert ksem_entry.state is ConfigEntryState.NOT_LOADED
    await wait_until(lambda: not ksem.sim.state()["websockets"])  # sockets close with the entry


async def test_offline_at_setup_retries(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    await ksem.sim.set_offline(offline=True)
    await setup_entry(hass, ksem_entry)
    assert ksem_entry.state is ConfigEntryState.SETUP_RETRY


async def test_revoked_at_setup_starts_reauth(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    await ksem.sim.revoke()
    await setup_entry(hass, ksem_entry)
    assert ksem_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == SOURCE_REAUTH
    assert flows[0]["step_id"] == "ksem_reauth_confirm"


async def test_revocation_mid_run_reauth_keeps_entities(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Revoked in the KSEM UI while pushing -> reauth -> same entry, same entities."""
    await setup_entry(hass, ksem_entry)
    before = {
        e.entity_id: e.unique_id
        for e in er.async_entries_for_config_entry(entity_registry, ksem_entry.entry_id)
    }
    await wait_until(lambda: ksem_entry.runtime_data.coordinator.push_connected)
    await ksem.sim.revoke()
    await wait_until(lambda: bool(hass.config_entries.flow.async_progress()))
    await hass.async_block_till_done()
    assert hass.states.get(GRID).state == STATE_UNAVAILABLE
    flow = hass.config_entries.flow.async_progress()[0]
    assert flow["context"]["source"] == SOURCE_REAUTH
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    ksem.sim.authorize()
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert ksem_entry.state is ConfigEntryState.LOADED
    after = {
        e.entity_id: e.unique_id
        for e in er.async_entries_for_config_entry(entity_registry, ksem_entry.entry_id)
    }
    assert after == before
    assert hass.states.get(GRID).state == "6730.1"


async def test_revocation_while_polling(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_polling_entry(hass, ksem, ksem_entry)
    await ksem.sim.revoke()
    await next_poll(hass, freezer)
    assert hass.states.get(GRID).state == STATE_UNAVAILABLE
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_offline_logged_once_and_recovered_once(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await setup_polling_entry(hass, ksem, ksem_entry)
    caplog.clear()
    caplog.set_level(logging.INFO)
    await ksem.sim.set_offline(offline=True)
    for _ in range(3):
        await next_poll(hass, freezer)
        assert hass.states.get(GRID).state == STATE_UNAVAILABLE
    await ksem.sim.set_offline(offline=False)
    # After three failures the polls have backed off: the next one comes within a minute.
    await next_poll(hass, freezer, seconds=60)
    assert hass.states.get(GRID).state == "6730.1"
    await next_poll(hass, freezer)
    assert hass.states.get(GRID).state == "6730.1"
    assert caplog.text.count("Error fetching KSEM 76555758 data") == 1
    assert caplog.text.count("Fetching KSEM 76555758 data recovered") == 1


async def test_push_drop_logged_once_and_recovered(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The meter goes offline while pushing: unavailable, then back on the stream."""
    await setup_entry(hass, ksem_entry)
    coordinator = ksem_entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.push_connected)
    caplog.set_level(logging.INFO)
    await ksem.sim.set_offline(offline=True)
    await wait_until(lambda: hass.states.get(GRID).state == STATE_UNAVAILABLE)
    await asyncio.sleep(0.5)  # several reconnect attempts (backoff shortened by the fixture)
    await ksem.sim.set_offline(offline=False)
    await wait_until(lambda: coordinator.push_connected and hass.states.get(GRID).state == "6730.1")
    assert caplog.text.count("Error fetching KSEM 76555758 data") == 1
    assert caplog.text.count("KSEM 76555758 data recovered") == 1


@pytest.mark.parametrize("case", [(429, True), (500, False)])
async def test_rate_limited_or_failing_poll(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    case: tuple[int, bool],
) -> None:
    """429 (with Retry-After: 30) delays the next poll; 500 does not."""
    status, retry = case
    await setup_polling_entry(hass, ksem, ksem_entry)
    ksem.sim.flags.values_status = status
    await next_poll(hass, freezer)
    assert hass.states.get(GRID).state == STATE_UNAVAILABLE
    ksem.sim.flags.values_status = None
    # 429 asked for 30 s: the coordinator waits that long instead of the 5 s interval
    await next_poll(hass, freezer, 5)
    assert (hass.states.get(GRID).state == STATE_UNAVAILABLE) is retry
    await next_poll(hass, freezer, 30)
    assert hass.states.get(GRID).state == "6730.1"


async def test_options_change_intervals(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        ksem_entry, options={"write_interval": 2, "poll_interval": 20}
    )
    await hass.config_entries.async_setup(ksem_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = ksem_entry.runtime_data.coordinator
    assert coordinator.write_interval == 2
    assert coordinator.poll_interval == timedelta(seconds=20)


async def test_token_expiry_issue(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A pasted token with an expiry: a repair issue a week before it runs out."""
    expires = int((dt_util.utcnow() + timedelta(days=10)).timestamp())
    token = authorized_token(ksem, "Expiring", expires=expires)
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(ksem_entry, data={**ksem_entry.data, "token": token})
    await setup_polling_entry(hass, ksem, ksem_entry)
    issue_id = f"ksem_token_expiring_{ksem_entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    freezer.tick(timedelta(days=3, minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "ksem_token_expiring"
    assert issue.translation_placeholders["token_name"] == "Expiring"
    # paired again with a token without expiry: the issue goes away
    await hass.config_entries.async_unload(ksem_entry.entry_id)
    hass.config_entries.async_update_entry(
        ksem_entry, data={**ksem_entry.data, "token": authorized_token(ksem)}
    )
    await hass.config_entries.async_setup(ksem_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_device_without_settings(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """An api token that may not read device-settings: a device from the entry alone."""
    ksem.sim.flags.api_reads_device_settings = False
    await setup_entry(hass, ksem_entry)
    device = meter_device(device_registry)
    assert device.identifiers == {(DOMAIN, SERIAL)}
    assert device.serial_number == SERIAL
    assert device.sw_version is None
    assert not device.connections
    assert hass.states.get(GRID).state == "6730.1"


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Through HA's diagnostics API: token, host and serial redacted."""
    await setup_polling_entry(hass, ksem, ksem_entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, ksem_entry)
    _assert_redacted(diagnostics, ksem, ksem_entry)
    assert diagnostics == snapshot(exclude=props("timestamp"))


async def test_diagnostics_say_what_the_pairing_found(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
) -> None:
    """The meter's answer to each pairing request is in the file; the pinned certificate not."""
    probes = ["GET http /api/access-token/token 405", "POST http /api/access-token/token 200"]
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        ksem_entry,
        data={**ksem_entry.data, "pairing_probes": probes, "certificate_sha256": "ab" * 32},
    )
    await setup_polling_entry(hass, ksem, ksem_entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, ksem_entry)
    assert diagnostics["entry"]["data"]["pairing_probes"] == probes
    assert diagnostics["entry"]["data"]["certificate_sha256"] == "**REDACTED**"
    assert "ab" * 32 not in str(diagnostics)


async def test_device_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """The meter's "Download diagnostics": the meter, redacted like the entry's file."""
    await setup_polling_entry(hass, ksem, ksem_entry)
    device = meter_device(dr.async_get(hass))
    diagnostics = await get_diagnostics_for_device(hass, hass_client, ksem_entry, device)
    _assert_redacted(diagnostics, ksem, ksem_entry)
    assert diagnostics == snapshot(exclude=props("timestamp"))


async def test_meter_without_mac_has_no_network_connection(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Device settings without a MAC: the device is still complete, just unlinked."""
    ksem.sim.device_settings.pop("Mac", None)
    await setup_entry(hass, ksem_entry)
    device = meter_device(device_registry)
    assert device.connections == set()
    assert device.sw_version is not None


async def test_meter_keyed_by_mac_shows_no_serial_number(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """An entry the pairing could only key by the DHCP MAC address: no fake serial number."""
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(ksem_entry, unique_id="00:50:c2:11:22:33")
    await setup_entry(hass, ksem_entry)
    [device] = [
        device
        for device in dr.async_entries_for_config_entry(device_registry, ksem_entry.entry_id)
        if device.via_device_id is None  # the meter, not its home battery
    ]
    assert device.identifiers == {(DOMAIN, "00:50:c2:11:22:33")}
    assert device.serial_number is None
    assert device.connections == {(dr.CONNECTION_NETWORK_MAC, "00:50:c2:11:22:33")}


async def test_renamed_keys_keep_their_entities(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """An install from before the key renames keeps its entity ids (and so its history).

    `energy_import` -> `import_energy` (per phase too), `house_consumption` -> `house_power`;
    the battery's entities move to the home-battery device with their unique ids unchanged.
    A new unique id that is already taken (a downgrade and upgrade) leaves the old one alone.
    """
    ksem_entry.add_to_hass(hass)
    old_meter = device_registry.async_get_or_create(
        config_entry_id=ksem_entry.entry_id, identifiers={(DOMAIN, SERIAL)}
    )
    old = {
        "energy_import": "sensor.ksem_76555758_energy_import",
        "energy_export_l2": "sensor.ksem_76555758_energy_export_l2",
        "house_consumption": "sensor.ksem_76555758_house_consumption",
        "battery_soc": "sensor.ksem_76555758_battery_state_of_charge",
        "energy_export": "sensor.ksem_76555758_energy_export",
    }
    for key, entity_id in old.items():
        entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{SERIAL}_{key}",
            config_entry=ksem_entry,
            device_id=old_meter.id,
            suggested_object_id=entity_id.removeprefix("sensor."),
        )
    taken = entity_registry.async_get_or_create(
        "sensor", DOMAIN, f"{SERIAL}_export_energy", config_entry=ksem_entry
    )
    await setup_entry(hass, ksem_entry)
    expected = {
        "sensor.ksem_76555758_energy_import": f"{SERIAL}_import_energy",
        "sensor.ksem_76555758_energy_export_l2": f"{SERIAL}_export_energy_l2",
        "sensor.ksem_76555758_house_consumption": f"{SERIAL}_house_power",
        "sensor.ksem_76555758_battery_state_of_charge": f"{SERIAL}_battery_soc",
        "sensor.ksem_76555758_energy_export": f"{SERIAL}_energy_export",  # new id was taken
        taken.entity_id: f"{SERIAL}_export_energy",
    }
    for entity_id, unique_id in expected.items():
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.unique_id == unique_id
    assert hass.states.get("sensor.ksem_76555758_energy_import").state == "124.5963"
    assert hass.states.get("sensor.ksem_76555758_house_consumption").state == "2730.1"
    assert hass.states.get("sensor.ksem_76555758_battery_state_of_charge").state == "76.0"
    assert hass.states.get("sensor.ksem_76555758_import_energy") is None  # no duplicate
    battery = meter_device(device_registry, "_home_battery")
    soc = entity_registry.async_get("sensor.ksem_76555758_battery_state_of_charge")
    assert soc is not None
    assert soc.device_id == battery.id


async def test_https_host_with_pinned_certificate(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """An https:// entry reads (and pushes) through the meter's own, pinned certificate.

    (Another certificate: the client raises KsemCertificateChangedError, see test_api.py; not
    repeated here, the simulator's TLS server logs the dropped handshake in HA's debug loop.)
    """
    https = await ksem.sim.serve_https()
    try:
        ksem_entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(
            ksem_entry,
            data={
                **ksem_entry.data,
                "host": f"https://127.0.0.1:{https.port}",
                "certificate_sha256": ksem.sim.certificate_sha256,
            },
        )
        await setup_entry(hass, ksem_entry)
        assert ksem_entry.state is ConfigEntryState.LOADED
        assert hass.states.get(GRID).state == "6730.1"
        await wait_until(lambda: ksem_entry.runtime_data.coordinator.push_connected)
        await hass.config_entries.async_unload(ksem_entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await ksem.sim.set_offline(offline=True)  # drop WebSockets before the server goes
        await https.stop()
