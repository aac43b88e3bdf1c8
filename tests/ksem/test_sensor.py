"""KSEM sensors against the simulated meter: entities, units, counters, push and poll."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.ksem_zaptec.const import DOMAIN

from .conftest import SERIAL, RunningKsem, next_poll, setup_entry, setup_polling_entry, wait_until

GRID = "sensor.ksem_76555758_grid_power"
IMPORT_ENERGY = "sensor.ksem_76555758_import_energy"


async def wait_for_state(hass: HomeAssistant, entity_id: str, expected: str) -> None:
    """Wait (real time, the stream is real) until a pushed value is written."""

    def written() -> bool:
        state = hass.states.get(entity_id)
        return state is not None and state.state == expected

    await wait_until(written)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_all_entities(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    device_registry = dr.async_get(hass)
    ksem.sim.set_values(**{"active_energy_-": 35210400, "active_energy_-_L1": 11000000})
    await setup_entry(hass, ksem_entry)
    assert ksem_entry.state is ConfigEntryState.LOADED
    await snapshot_platform(hass, entity_registry, snapshot, ksem_entry.entry_id)
    device, battery = sorted(
        dr.async_entries_for_config_entry(device_registry, ksem_entry.entry_id),
        key=lambda d: len(next(iter(d.identifiers))[1]),
    )
    assert device.identifiers == {(DOMAIN, SERIAL)}
    assert device.configuration_url == ksem.url  # the port differs per run: not in the snapshot
    assert device == snapshot(name="device", exclude=props("configuration_url"))
    # The home battery is a device of its own, linked to the meter: its state of charge is
    # not shown as the meter's battery.
    assert battery.identifiers == {(DOMAIN, f"{SERIAL}_home_battery")}
    assert battery.via_device_id == device.id
    assert battery.name == "Home battery"
    for entity in er.async_entries_for_config_entry(entity_registry, ksem_entry.entry_id):
        on_battery = entity.unique_id.removeprefix(f"{SERIAL}_").startswith("battery_")
        assert entity.device_id == (battery.id if on_battery else device.id), entity.entity_id


async def test_defaults_and_units(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The JSON-interface example (docs/ksem.md): 6730.1 W, 124.5963 kWh; phases disabled."""
    ksem.sim.set_values(**{"active_energy_-": 0})  # as in that sample
    await setup_entry(hass, ksem_entry)
    assert hass.states.get(GRID).state == "6730.1"
    assert hass.states.get(IMPORT_ENERGY).state == "124.5963"
    assert hass.states.get("sensor.ksem_76555758_frequency").state == "50.012"
    # export counter reported as 0: unknown, never 0 (homewizard's rule)
    assert hass.states.get("sensor.ksem_76555758_export_energy").state == STATE_UNKNOWN
    phase = entity_registry.async_get("sensor.ksem_76555758_voltage_l1")
    assert phase is not None
    assert phase.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert phase.entity_category is not None
    assert hass.states.get("sensor.ksem_76555758_pv_power").state == "3500.0"


async def test_push_updates_states(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """Pushed readings are written at the configured rate (here every second)."""
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(ksem_entry, options={"write_interval": 1})
    await hass.config_entries.async_setup(ksem_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = ksem_entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.push_connected)
    assert coordinator.update_interval is None  # no polling while pushed
    ksem.sim.set_values(**{"active_power_+": 0, "active_power_-": 1500500})
    await wait_for_state(hass, GRID, "-1500.5")
    ksem.sim.energy_flow["pvPowerTotal"] = 4200000
    await wait_for_state(hass, "sensor.ksem_76555758_pv_power", "4200.0")
    # the WebSocket drops (meter reboots): polling takes over, the stream comes back
    await ksem.sim.set_offline(offline=True)
    await ksem.sim.set_offline(offline=False)
    ksem.sim.set_values(**{"active_power_-": 0, "active_power_+": 100000})
    await wait_for_state(hass, GRID, "100.0")
    await wait_until(lambda: coordinator.push_connected)


async def test_poll_path(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The WebSocket refuses the token: the JSON interface is polled every 5 s."""
    await setup_polling_entry(hass, ksem, ksem_entry)
    coordinator = ksem_entry.runtime_data.coordinator
    await hass.async_block_till_done(wait_background_tasks=True)  # the refused push gives up
    assert not coordinator.push_connected
    assert not coordinator.has_energy_flow
    assert hass.states.get("sensor.ksem_76555758_pv_power") is None
    assert coordinator.update_interval == timedelta(seconds=5)
    ksem.sim.set_values(**{"active_power_+": 2000000})
    await next_poll(hass, freezer)
    assert hass.states.get(GRID).state == "2000.0"


async def test_websocket_only_when_json_missing(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    ksem.sim.flags.json_interface = False
    await setup_entry(hass, ksem_entry)
    assert ksem_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(GRID).state == "6730.1"


async def test_counters_never_decrease(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_polling_entry(hass, ksem, ksem_entry)

    async def poll(value: int) -> str:
        ksem.sim.set_values(**{"active_energy_+": value})
        await next_poll(hass, freezer)
        return hass.states.get(IMPORT_ENERGY).state

    assert await poll(124596300) == "124.5963"
    assert await poll(100000000) == STATE_UNKNOWN  # glitch: lower than the last good value
    assert await poll(0) == STATE_UNKNOWN  # glitch: zero
    assert await poll(124600000) == "124.6"
    assert await poll(124599999) == STATE_UNKNOWN


async def test_counter_remembers_last_good_value_across_restarts(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a restart, a reading below the last one stored is still a glitch."""
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(IMPORT_ENERGY, "130.0"),
                {"native_value": 130.0, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    await setup_polling_entry(hass, ksem, ksem_entry)
    assert hass.states.get(IMPORT_ENERGY).state == STATE_UNKNOWN  # meter says 124.5963
    ksem.sim.set_values(**{"active_energy_+": 130500000})
    await next_poll(hass, freezer)
    assert hass.states.get(IMPORT_ENERGY).state == "130.5"


async def test_meter_status_not_ok(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_polling_entry(hass, ksem, ksem_entry)
    ksem.sim.meter_status = 3
    await next_poll(hass, freezer)
    assert hass.states.get(GRID).state == STATE_UNAVAILABLE


async def test_pushed_bad_status_marks_unavailable(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, ksem_entry)
    ksem.sim.meter_status = 2
    await wait_for_state(hass, GRID, STATE_UNAVAILABLE)
    ksem.sim.meter_status = 1
    await wait_for_state(hass, GRID, "6730.1")


async def test_held_back_reading_written_when_stream_stalls(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """A reading held back by the write interval is still written if no push follows."""
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(ksem_entry, options={"write_interval": 1})
    await hass.config_entries.async_setup(ksem_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = ksem_entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.push_connected)
    await wait_for_state(hass, GRID, "6730.1")
    ksem.sim.ws_interval = 30  # the stream stalls after its next message
    ksem.sim.set_values(**{"active_power_+": 42000})
    await wait_for_state(hass, GRID, "42.0")
    ksem.sim.ws_interval = 0.05


PV_ENERGY = "sensor.ksem_76555758_pv_energy"
CHARGED = "sensor.home_battery_energy_charged"
DISCHARGED = "sensor.home_battery_energy_discharged"


async def _pushing_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={"write_interval": 1})
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.push_connected)


def _kwh(hass: HomeAssistant, entity_id: str) -> float:
    return float(hass.states.get(entity_id).state)


async def test_battery_power_is_plus_for_discharge(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """The meter's + = charging becomes Home Assistant's + = discharging."""
    await _pushing_entry(hass, ksem_entry)
    assert hass.states.get("sensor.home_battery_power").state == "-500.0"  # charging 500 W
    ksem.sim.energy_flow["batteryPowerTotal"] = -1200000
    await wait_for_state(hass, "sensor.home_battery_power", "1200.0")
    ksem.sim.energy_flow["batteryPowerTotal"] = 0
    await wait_for_state(hass, "sensor.home_battery_power", "0.0")  # never "-0.0"
    assert hass.states.get("sensor.home_battery_state_of_charge").state == "76.0"


async def test_energy_is_integrated_from_the_pushed_powers(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """PV 3.6 kW and a charging battery: their energies rise as the frames' time passes."""
    ksem.sim.energy_flow.update(pvPowerTotal=3_600_000, batteryPowerTotal=1_800_000)
    loop = hass.loop
    started = loop.time()
    await _pushing_entry(hass, ksem_entry)
    await wait_until(lambda: _kwh(hass, PV_ENERGY) > 0.0005)  # 0.5 s of 3.6 kW
    await wait_until(lambda: _kwh(hass, CHARGED) > 0.0003)
    pv, charged = _kwh(hass, PV_ENERGY), _kwh(hass, CHARGED)
    elapsed = loop.time() - started
    assert pv <= 3.6 * elapsed / 3600 + 1e-9  # never more than the power over the time
    assert charged == pytest.approx(pv / 2, rel=0.05)  # same frames, half the power
    assert _kwh(hass, DISCHARGED) == 0.0
    state = hass.states.get(PV_ENERGY)
    assert state.attributes["state_class"] == "total_increasing"
    assert state.attributes["unit_of_measurement"] == "kWh"
    # the battery turns to discharging: its discharge energy starts, the charge energy stays
    ksem.sim.energy_flow["batteryPowerTotal"] = -1_800_000
    await wait_until(lambda: _kwh(hass, DISCHARGED) > 0.0003)
    assert _kwh(hass, CHARGED) >= charged
    # a frame without the PV power: nothing is added, the total is kept (never 0, never unknown)
    del ksem.sim.energy_flow["pvPowerTotal"]
    await wait_for_state(hass, "sensor.ksem_76555758_pv_power", STATE_UNKNOWN)
    held = _kwh(hass, PV_ENERGY)
    await asyncio.sleep(0.3)
    assert _kwh(hass, PV_ENERGY) == held


async def test_integrated_energy_goes_on_from_the_restored_total(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(PV_ENERGY, "1234.5"),
                {"native_value": 1234.5, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    await _pushing_entry(hass, ksem_entry)
    assert _kwh(hass, PV_ENERGY) >= 1234.5
    await wait_until(lambda: _kwh(hass, PV_ENERGY) > 1234.5)
    assert _kwh(hass, PV_ENERGY) < 1234.6


async def test_energy_follows_the_frames_own_timestamps(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """The meter's clock, not the arrival time, is what is integrated over.

    Here the meter stamps each frame 60 s after the previous one (20 frames a second): every
    frame is a gap longer than 5 s, so nothing is bridged and nothing integrated. Then 2 s
    apart: 3.6 kW for 2 s per frame, far more than real time alone could give.
    """
    ticks = iter(range(10**6))
    step = [60.0]
    base = dt_util.utcnow().timestamp()
    ksem.sim.energy_flow_clock = lambda: base + next(ticks) * step[0]
    ksem.sim.energy_flow.update(pvPowerTotal=3_600_000)
    await _pushing_entry(hass, ksem_entry)
    await asyncio.sleep(0.5)  # about 10 frames
    await wait_for_state(hass, "sensor.ksem_76555758_pv_power", "3600.0")
    assert _kwh(hass, PV_ENERGY) == 0.0
    ticks = iter(range(10**6))
    step[0] = 2.0
    base += 10**7  # a new chain, far from the last one
    started = hass.loop.time()
    await wait_until(lambda: _kwh(hass, PV_ENERGY) > 0.01)  # 5 frames of 2 s at 3.6 kW
    elapsed = hass.loop.time() - started
    assert _kwh(hass, PV_ENERGY) > 3.6 * elapsed / 3600 * 5  # meter time ran 40x faster
