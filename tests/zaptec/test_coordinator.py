"""Polling against the simulated cloud: adaptive schedule, 429, tokens, reauth, devices, logs."""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from custom_components.ksem_zaptec.const import DOMAIN
from custom_components.ksem_zaptec.zaptec import const as zaptec_const

from .conftest import SimHandle, advance

DETAILS_S = int(zaptec_const.DETAILS_INTERVAL.total_seconds())  # the details refresh
IDLE_S = int(zaptec_const.STATE_INTERVAL_IDLE.total_seconds())  # an idle charger's own read
LIST_S = int(zaptec_const.LIST_INTERVAL.total_seconds())  # change detection
TICK_S = int(zaptec_const.STATE_TICK.total_seconds())  # the state coordinator's tick

pytestmark = pytest.mark.usefixtures("freezer")


def state_reads(handle: SimHandle) -> Counter[str]:
    """Number of state reads per charger serial since the log was reset."""
    serial = {c.id: c.serial for c in handle.sim.chargers.values()}
    return Counter(
        serial[r.path.split("/")[3]] for r in handle.sim.requests if r.path.endswith("/state")
    )


async def ticks(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int) -> None:
    """Let `seconds` pass in steps of one state coordinator tick."""
    for _ in range(seconds // TICK_S):
        await advance(hass, freezer, TICK_S)


async def until_idle_read(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, handle: SimHandle, serial: str
) -> None:
    """Step 10 minutes at a time until the charger's own state is read (answered or not).

    An idle charger is read in its own slot of the 6-hour cycle, 3 to 9 hours after its last
    read (`idle_slot`): where in that window depends on its id and the clock.
    """
    before = state_reads(handle)[serial]
    for _ in range(3 * IDLE_S // 2 // 600 + 2):
        await advance(hass, freezer, 600)
        if state_reads(handle)[serial] > before:
            return
    raise AssertionError(f"{serial} not read within 9 hours")


async def hours(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int) -> None:
    """Let `seconds` pass 10 minutes at a time (a tick and, if due, a list each)."""
    for _ in range(seconds // 600):
        await advance(hass, freezer, 600)


def list_reads(handle: SimHandle) -> int:
    """Pages of the charger list read since the log was reset."""
    return sum(1 for r in handle.sim.requests if r.path == "/api/chargers")


async def test_idle_chargers_rarely_changes_seen_in_the_list(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    sim.reset_requests()
    await ticks(hass, freezer, 30 * 60)
    assert state_reads(zaptec_sim) == Counter()  # idle: the list watches them
    assert list_reads(zaptec_sim) == 30 * 60 // LIST_S  # every 175 s, nothing else
    # Nothing but the list: the details are read every 2 hours (reusing the list), the
    # installation list daily, idle chargers' own state every 6 hours.
    assert {r.path for r in sim.requests} == {"/api/chargers"}

    # A car plugs in at the Pro: the next list shows it, its state is read in the same tick.
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=3, power_w=7000.0)
    sim.reset_requests()
    for _ in range(LIST_S // TICK_S):
        await advance(hass, freezer, TICK_S)
        if list_reads(zaptec_sim):
            break
    assert list_reads(zaptec_sim) == 1
    assert state_reads(zaptec_sim) == {"ZPR012345": 1}
    assert hass.states.get("sensor.garage_charger_mode").state == "connected_charging"
    assert hass.states.get("sensor.garage_charge_power").state == "7000.0"
    # Then every minute.
    sim.reset_requests()
    await ticks(hass, freezer, 10 * 60)
    assert state_reads(zaptec_sim) == {"ZPR012345": 10}

    # Finished: still every minute for 15 minutes, then idle again (every 6 hours).
    sim.set_charger(garage.id, operating_mode=5, power_w=0.0)
    await ticks(hass, freezer, 60)
    sim.reset_requests()
    # The 15 minutes count from the read that saw "finished" (up to a minute after the change).
    await ticks(hass, freezer, 16 * 60)
    assert state_reads(zaptec_sim)["ZPR012345"] >= 15
    sim.reset_requests()
    await ticks(hass, freezer, 45 * 60)
    # Idle: the list vouches for both; their next own reads are 6 hours after the last ones.
    assert state_reads(zaptec_sim) == Counter()
    assert hass.states.get("sensor.garage_charger_mode").state == "connected_finished"
    assert hass.states.get("sensor.driveway_charger_mode").state == "disconnected"


async def test_online_change_in_the_list_reads_the_charger(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    driveway = sim.charger_by_serial("ZAP049387")
    sim.set_charger(driveway.id, online=False)
    sim.reset_requests()
    await ticks(hass, freezer, LIST_S)
    assert state_reads(zaptec_sim) == {"ZAP049387": 1}
    assert hass.states.get("binary_sensor.driveway_online").state == "off"


async def test_rate_limit_uses_retry_after_and_logs_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = zaptec_sim.sim
    detail = f"/api/installation/{next(iter(sim.installations))}"
    sim.add_fault(f"^{detail}$", 429, count=1, retry_after="120")
    sim.reset_requests()
    await advance(hass, freezer, DETAILS_S + 1)
    assert [r.path for r in sim.requests if "/installation" in r.path] == [detail]
    # One failed refresh of details that change rarely: still shown (they are an hour old).
    assert hass.states.get("sensor.home_max_current").state == "40.0"
    assert caplog.text.count("Error fetching Zaptec details") == 1
    # Nothing at all is sent until Retry-After (120 s) is over: not even charger state.
    sim.reset_requests()
    await advance(hass, freezer, 60)
    assert not sim.requests
    await advance(hass, freezer, 61)
    assert [r.path for r in sim.requests if r.path == detail] == [detail]
    assert hass.states.get("sensor.home_max_current").state == "40.0"
    assert caplog.text.count("Fetching Zaptec details demo@example.com data recovered") == 1


async def test_details_outage_keeps_chargers_and_backs_off(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Details fail for 380 min: chargers stay; installations go only once the data is old."""
    caplog.set_level(logging.INFO)
    sim = zaptec_sim.sim
    sim.add_fault("^/api/installation", 500, count=1000, body={"Code": 1, "Details": "down"})
    sim.reset_requests()
    await ticks(hass, freezer, 3 * DETAILS_S + 20 * 60)
    # At 2 h the detail fails: kept, and the list must stand in from then on. At 4 h the list
    # fails: the refresh fails and backs off 1, 2, 4, 8, 10 ... min: 17, not 4,560 (a tick's).
    lists = [r for r in sim.requests if r.path == "/api/installation"]
    assert 3 <= len(lists) <= 18
    assert hass.states.get("sensor.garage_charger_mode").state == "disconnected"
    assert hass.states.get("sensor.home_max_current").state == STATE_UNAVAILABLE
    assert caplog.text.count("Error fetching Zaptec details") == 1
    sim.faults.clear()
    await ticks(hass, freezer, 15 * 60)
    assert hass.states.get("sensor.home_max_current").state == "40.0"
    assert caplog.text.count("Fetching Zaptec details demo@example.com data recovered") == 1


async def test_token_expiry_during_polling(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    sim.expires_in = 600  # the client logs in again 120 s before that
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    sim.reset_requests()
    await advance(hass, freezer, 15 * 60 + 1)
    paths = [r.path for r in sim.requests if not r.path.endswith("/state")]
    assert paths[0] == "/oauth/token"  # before the token ran out: nothing refused
    assert paths.count("/oauth/token") == 1


async def test_token_revoked_during_polling(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    # Revoked on the server side before it expires: 401, one new login, same request again.
    sim.expire_tokens()
    sim.reset_requests()
    await ticks(hass, freezer, int(zaptec_const.LIST_INTERVAL.total_seconds()))
    paths = [r.path for r in sim.requests if not r.path.endswith("/state")]
    # The list poll was refused: one login, the list repeated.
    login = paths.index("/oauth/token")
    kinds = [p.split("/")[2] for p in paths]
    assert kinds[:login] == ["chargers"]
    assert kinds[login + 1 :] == ["chargers"]
    assert paths.count("/oauth/token") == 1
    assert hass.states.get("sensor.home_max_current").state == "40.0"


async def test_password_changed_while_running_starts_reauth(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    zaptec_sim.sim.password = "changed in the app"
    zaptec_sim.sim.expire_tokens()
    await advance(hass, freezer, DETAILS_S + 1)
    flows = hass.config_entries.flow.async_progress()
    assert [(f["context"]["source"], f["step_id"]) for f in flows] == [
        ("reauth", "zaptec_reauth_confirm")
    ]
    assert hass.states.get("sensor.home_max_current").state == STATE_UNAVAILABLE


async def test_150_chargers_across_pages_are_spread(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    sim = zaptec_sim.sim
    sim.add_installation("Car park", chargers=150)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()

    charger_pages = sorted(r.query["PageIndex"] for r in sim.requests if r.path == "/api/chargers")
    assert charger_pages == ["0", "1"]
    assert all(r.query["PageSize"] == "100" for r in sim.requests if r.path == "/api/chargers")
    devices = dr.async_entries_for_config_entry(device_registry, zaptec_entry.entry_id)
    assert len(devices) == 2 + 152
    assert not charger_details(zaptec_sim)  # a large account: the states come first
    assert hass.states.get("sensor.car_park_150_charger_mode") is not None
    # Set-up reads 15; right after it the rest, as fast as the client's budget allows,
    # then the first 25 charger details (the rest over the next refreshes).
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sum(state_reads(zaptec_sim).values()) == 152
    assert len(charger_details(zaptec_sim)) == 25
    # The firmware list (once a day) waits for all of that too.
    paths = [r.path for r in sim.requests]
    firmware = [i for i, p in enumerate(paths) if p.startswith("/api/chargerFirmware/")]
    last_state = max(i for i, p in enumerate(paths) if p.endswith("/state"))
    assert firmware
    assert min(firmware) > last_state
    switches = hass.states.async_entity_ids("switch")
    shown = [hass.states.get(e).state for e in switches if e.startswith("switch.car_park_")]
    assert shown.count("on") == 1 + 25  # the installation and 25 chargers
    assert len(loaded_states(zaptec_entry)) == 152
    # Idle: each charger is read again in its own slot of the 6-hour cycle, 3 to 9 hours after
    # set-up, then every 6 hours: spread over the hours instead of all together.
    serial = {c.id: c.serial for c in sim.chargers.values()}
    sim.reset_requests()
    read_at: dict[str, list[int]] = {}
    for minute in range(9 * 60 + 2):
        seen = len(sim.requests)
        await advance(hass, freezer, 60)  # one tick each
        reads = [r for r in sim.requests[seen:] if r.path.endswith("/state")]
        assert len(reads) <= zaptec_const.MAX_STATE_READS_PER_TICK
        for r in reads:
            read_at.setdefault(serial[r.path.split("/")[3]], []).append(minute)
    assert len(read_at) == 152
    assert min(minutes[0] for minutes in read_at.values()) >= 3 * 60 - 1
    assert all(m[1:] in ([], [m[0] + 6 * 60]) for m in read_at.values())
    per_hour = Counter(minutes[0] // 60 for minutes in read_at.values())
    assert max(per_hour.values()) <= 2 * 152 // 6  # about 25 an hour, never all together


def charger_details(handle: SimHandle) -> list[object]:
    return [
        r
        for r in handle.sim.requests
        if r.path.startswith("/api/chargers/") and r.path.count("/") == 3
    ]


def loaded_states(entry: MockConfigEntry) -> dict[str, object]:
    return entry.runtime_data.state.data


async def test_new_and_removed_chargers_without_reload(  # noqa: PLR0917
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    new = sim.add_charger(home.id, "ZPR777777", "Carport")
    await advance(hass, freezer, 15 * 60 + 1)
    assert _device(device_registry, loaded_entry, new.id)
    assert hass.states.get("sensor.carport_charger_mode").state == "disconnected"
    assert hass.states.get("switch.carport_require_authorization").state == "on"

    sim.remove_charger(new.id)
    await advance(hass, freezer, 15 * 60 + 1)
    assert not _device(device_registry, loaded_entry, new.id)
    assert hass.states.get("sensor.carport_charger_mode") is None
    assert entity_registry.async_get("sensor.carport_charger_mode") is None


def _device(
    device_registry: dr.DeviceRegistry, entry: MockConfigEntry, object_id: str
) -> dr.DeviceEntry | None:
    """The entry's device with this Zaptec id (a lookup that works on every supported HA)."""
    return next(
        (
            device
            for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
            if (DOMAIN, object_id) in device.identifiers
        ),
        None,
    )


async def test_firmware_follows_the_charger(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, firmware="4.2.0.0")
    await until_idle_read(hass, freezer, zaptec_sim, "ZPR012345")
    device = _device(device_registry, loaded_entry, garage.id)
    assert device is not None
    assert device.sw_version == "4.2.0.0"


async def test_lifetime_energy_never_goes_down(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    entity_id = "sensor.garage_lifetime_energy"
    assert hass.states.get(entity_id).state == "1234.5"
    for reading, shown in ((0.0, STATE_UNKNOWN), (1200.0, STATE_UNKNOWN), (1240.0, "1240.0")):
        sim.set_charger(garage.id, meter_kwh=reading)
        await until_idle_read(hass, freezer, zaptec_sim, "ZPR012345")
        assert hass.states.get(entity_id).state == shown


async def test_user_role_charger_state_is_not_polled(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    sim.set_installation(next(iter(sim.installations)), roles=1)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.garage_charger_mode").state == "disconnected"  # list value
    sim.reset_requests()
    await ticks(hass, freezer, 11 * 60)
    assert state_reads(zaptec_sim) == Counter()


async def test_details_without_access_fall_back_to_the_lists(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    garage = sim.charger_by_serial("ZPR012345")
    sim.add_fault(f"^/api/installation/{home.id}$", 403, body={"Code": 533})
    sim.add_fault(f"^/api/chargers/{garage.id}$", 404, body={"Code": 512})
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    # The list items carry the installation flag; the charger's own flag needs the detail.
    assert hass.states.get("switch.home_require_authorization").state == "on"
    assert hass.states.get("switch.garage_require_authorization").state == STATE_UNKNOWN


async def test_one_chargers_error_affects_only_that_charger(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345").id
    sim.add_fault(f"{garage}/state$", 500, count=100, body={"Code": 500, "Details": "Oops"})
    await until_idle_read(hass, freezer, zaptec_sim, "ZPR012345")
    assert hass.states.get("sensor.garage_charge_power").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.driveway_charger_mode").state == "disconnected"
    assert hass.states.get("sensor.home_max_current").state == "40.0"
    assert caplog.text.count("Zaptec charger Garage: state not readable") == 1
    # The failing charger is read no more often than when it was healthy (every 6 hours).
    sim.reset_requests()
    await hours(hass, freezer, 2 * IDLE_S)
    assert state_reads(zaptec_sim)["ZPR012345"] == 2
    sim.faults.clear()
    await hours(hass, freezer, IDLE_S)
    assert hass.states.get("sensor.garage_charge_power").state == "0.0"
    assert caplog.text.count("Zaptec charger Garage: state readable again") == 1


async def test_stale_charger_state_is_unavailable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """A cloud outage: nothing is sent during the pause, and old values go unavailable."""
    sim = zaptec_sim.sim
    sim.add_fault(".", 503, count=10_000)
    # Idle chargers are read every 6 hours; the list vouches for them, 2 x 175 s + a tick at most.
    await ticks(hass, freezer, 5 * 60)
    assert hass.states.get("sensor.garage_charger_mode").state == "disconnected"
    await ticks(hass, freezer, 60)
    assert hass.states.get("sensor.garage_charger_mode").state == STATE_UNAVAILABLE
    sim.faults.clear()
    await ticks(hass, freezer, 11 * 60)
    assert hass.states.get("sensor.garage_charger_mode").state == "disconnected"


async def test_charger_gone_from_state_endpoint_is_skipped(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    garage = zaptec_sim.sim.charger_by_serial("ZPR012345")
    zaptec_sim.sim.add_fault(f"/{garage.id}/state$", 404, count=1, body={"errorCode": 512})
    await until_idle_read(hass, freezer, zaptec_sim, "ZPR012345")
    assert hass.states.get("sensor.garage_charge_power").state == STATE_UNKNOWN
    assert hass.states.get("sensor.driveway_charge_power").state == "0.0"


async def test_lifetime_energy_remembers_its_highest_reading_across_restarts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    entity_id = "sensor.garage_lifetime_energy"
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(entity_id, "1300.0"),
                {"native_value": 1300.0, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    # The simulator's meter (1234.5 kWh) is below what was shown before the restart.
    assert hass.states.get(entity_id).state == STATE_UNKNOWN


async def test_one_objects_detail_error_keeps_what_was_known(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 500 on one installation's detail: the refresh goes on, the next one lists it."""
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    sim.add_fault(f"^/api/installation/{home.id}$", 500, count=1, body={"Code": 1})
    sim.set_installation(home.id, max_current=25.0)
    sim.reset_requests()
    await advance(hass, freezer, DETAILS_S + 1)
    assert f"/api/installation/{home.id}" in [r.path for r in sim.requests]
    assert "Error fetching Zaptec details" not in caplog.text
    assert hass.states.get("sensor.home_max_current").state == "40.0"  # kept
    sim.reset_requests()
    await advance(hass, freezer, DETAILS_S + 1)
    assert "/api/installation" in [r.path for r in sim.requests]
    assert hass.states.get("sensor.home_max_current").state == "25.0"
    assert hass.states.get("sensor.garage_charger_mode").state == "disconnected"


async def test_removing_the_entry_forgets_its_client(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    assert await hass.config_entries.async_remove(loaded_entry.entry_id)
    sim.reset_requests()
    loaded_entry.add_to_hass(hass)  # the same id again: a new client logs in anew
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert [r.path for r in sim.requests][:1] == ["/oauth/token"]


async def test_list_change_before_the_state_cache_expires_reads_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """The list shows the car, the (15 s cached) state not yet: one more read after 16 s.

    Meanwhile the list's mode is shown, not the cached state's.
    """
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    home = sim.installations[garage.installation_id]
    cached = garage.state_json(home)  # still "disconnected"
    sim.set_charger(garage.id, operating_mode=2)
    sim.add_fault(f"/{garage.id}/state$", 200, count=1, body=cached)
    sim.reset_requests()
    await ticks(hass, freezer, LIST_S)
    assert state_reads(zaptec_sim) == {"ZPR012345": 1}
    assert hass.states.get("sensor.garage_charger_mode").state == "connected_requesting"
    await ticks(hass, freezer, 30)
    assert state_reads(zaptec_sim) == {"ZPR012345": 2}
    assert hass.states.get("sensor.garage_charger_mode").state == "connected_requesting"
    # The list still says "car there": read every minute, not hourly.
    sim.reset_requests()
    await ticks(hass, freezer, 5 * 60)
    assert state_reads(zaptec_sim) == {"ZPR012345": 5}


async def test_charger_list_error_backs_off_and_idle_chargers_go_unavailable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only the list fails: its polls back off; nobody vouches for idle chargers any more."""
    caplog.set_level(logging.INFO)
    sim = zaptec_sim.sim
    sim.add_fault("^/api/chargers$", 500, count=10_000, body={"Code": 500, "Details": "Oops"})
    sim.reset_requests()
    await ticks(hass, freezer, 30 * 60)
    # Healthy: 10 in 30 min. Failing: 175 s, then 175 s, 4, 8, 10 min (never below healthy)
    # plus the details refreshes, which need the list too.
    assert list_reads(zaptec_sim) <= 10
    assert hass.states.get("sensor.garage_charger_mode").state == STATE_UNAVAILABLE
    assert caplog.text.count("Zaptec charger list not readable") == 1
    sim.faults.clear()
    await ticks(hass, freezer, 11 * 60)
    assert hass.states.get("sensor.garage_charger_mode").state == "disconnected"
    assert caplog.text.count("Zaptec charger list readable again") == 1


async def test_cloud_outage_is_probed_no_faster_than_the_list_is_read(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """503 for everything: the idle account's list keeps its cadence, then recovers at once."""
    sim = zaptec_sim.sim
    sim.add_fault("^/api/", 503, count=10_000)
    sim.reset_requests()
    asked: list[float] = []
    for tick in range(30 * 60 // TICK_S):
        before = list_reads(zaptec_sim)
        await advance(hass, freezer, TICK_S)
        if list_reads(zaptec_sim) > before:
            asked.append(tick * TICK_S)
    # The client's pause would allow a probe after 1 and 2 minutes: the list waits for its turn.
    assert 30 * 60 // LIST_S - 1 <= len(asked) <= 30 * 60 // LIST_S
    assert min(b - a for a, b in itertools.pairwise(asked)) >= LIST_S
    assert {r.path for r in sim.requests} == {"/api/chargers"}
    # Recovery with the next list: its turn, or the end of the pause a few seconds later.
    sim.faults.clear()
    await ticks(hass, freezer, LIST_S + 3 * TICK_S)
    assert hass.states.get("sensor.garage_charger_mode").state == "disconnected"


async def test_new_charger_in_the_list_is_added_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    new = sim.add_charger(home.id, "ZAP777777", "Carport")
    sim.set_charger(new.id, operating_mode=3, power_w=3600.0)
    await ticks(hass, freezer, LIST_S + 15)
    assert _device(device_registry, loaded_entry, new.id)
    assert hass.states.get("sensor.carport_charger_mode").state == "connected_charging"
    assert hass.states.get("sensor.carport_charge_power").state == "3600.0"


async def test_charger_failing_from_set_up_backs_off_from_its_list_mode(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    """Never read: its healthy interval comes from the list (charging: a minute)."""
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=3, power_w=7000.0)
    sim.add_fault(f"/{garage.id}/state$", 500, count=3, body={"Code": 500, "Details": "Oops"})
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.garage_charge_power").state == STATE_UNAVAILABLE
    sim.reset_requests()
    await ticks(hass, freezer, 60)  # 1 min after the first failure
    assert state_reads(zaptec_sim) == {"ZPR012345": 1}
    await ticks(hass, freezer, 6 * 60)  # then 2 and 4 min: healthy again
    assert state_reads(zaptec_sim) == {"ZPR012345": 3}
    assert hass.states.get("sensor.garage_charge_power").state == "7000.0"


async def test_charger_details_after_set_up_wait_for_a_cloud_fault(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
) -> None:
    """A large account's charger details after set-up hit a 503: left to the next refresh."""
    sim = zaptec_sim.sim
    sim.add_installation("Car park", chargers=20)
    sim.add_fault("^/api/chargers/[^/]+$", 503, count=1)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sum(state_reads(zaptec_sim).values()) == 22
    switches = [
        e for e in hass.states.async_entity_ids("switch") if re.match(r"switch\.car_park_\d", e)
    ]
    assert len(switches) == 20
    # The 503 paused the client: those not yet under way were not sent.
    assert any(hass.states.get(e).state == STATE_UNKNOWN for e in switches)
    await advance(hass, freezer, DETAILS_S + 1)  # the pause is over by then
    assert all(hass.states.get(e).state == "on" for e in switches)


async def test_list_only_reconciles_while_push_covers_every_installation(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    state = loaded_entry.runtime_data.state
    home = next(iter(sim.installations))
    state.async_set_push(home, connected=True)
    sim.reset_requests()
    await ticks(hass, freezer, 30 * 60)
    # The list that was due at 175 s, then every 10 minutes (push reports the changes).
    assert list_reads(zaptec_sim) == 3
    assert hass.states.get("sensor.garage_charger_mode").state == "disconnected"  # available
    # Push went down: change detection at full pace again, from the next tick.
    state.async_set_push(home, connected=False)
    sim.reset_requests()
    await advance(hass, freezer, 15)
    assert list_reads(zaptec_sim) == 1
    sim.reset_requests()
    await ticks(hass, freezer, LIST_S)
    assert list_reads(zaptec_sim) == 1


async def test_authorization_flag_changed_elsewhere_reads_the_details_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """Details are read every 2 hours, but a flag flipped in the portal shows with the next list."""
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    assert hass.states.get("switch.garage_require_authorization").state == "on"
    sim.set_charger(garage.id, auth_disabled=True)  # the list's IsAuthorizationRequired too
    sim.reset_requests()
    await ticks(hass, freezer, int(zaptec_const.LIST_INTERVAL.total_seconds()))
    paths = [r.path for r in sim.requests]
    assert paths.count(f"/api/chargers/{garage.id}") == 1
    assert paths.count(f"/api/installation/{garage.installation_id}") == 1
    assert hass.states.get("switch.garage_require_authorization").state == "off"
    # Unchanged lists afterwards: nothing but the list until the next details refresh.
    sim.reset_requests()
    await ticks(hass, freezer, 30 * 60)
    assert {r.path for r in sim.requests} == {"/api/chargers"}


async def test_list_value_shown_when_the_state_read_fails(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """The list's mode and online flag show at once, even if the state read then fails."""
    sim = zaptec_sim.sim
    driveway = sim.charger_by_serial("ZAP049387")
    sim.set_charger(driveway.id, operating_mode=2, online=False)
    sim.add_fault(f"/{driveway.id}/state$", 503, count=1)
    await ticks(hass, freezer, int(zaptec_const.LIST_INTERVAL.total_seconds()))
    assert hass.states.get("sensor.driveway_charger_mode").state == "connected_requesting"
    assert hass.states.get("binary_sensor.driveway_online").state == "off"
