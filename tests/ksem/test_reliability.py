"""KSEM under faults.

Supervised push, watchdog, refused push retried, staleness, poll backoff, and energy counters
that a glitch cannot lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)

from custom_components.ksem_zaptec.ksem import coordinator as coordinator_module
from custom_components.ksem_zaptec.ksem.api import KsemClient, KsemConnectionError, MeterValues
from custom_components.ksem_zaptec.ksem.api import client as client_module
from custom_components.ksem_zaptec.ksem.coordinator import KsemTransport
from simulator.ksem import WS_SILENT
from simulator.ksem_protobuf import encode_gdrs

from .conftest import RunningKsem, next_poll, setup_entry, setup_polling_entry, wait_until

GRID = "sensor.ksem_76555758_grid_power"
IMPORT = "sensor.ksem_76555758_import_energy"
REAL_STREAM = KsemClient.stream_values
WS_PATH = "/api/data-transfer/ws/protobuf/gdr/local/values/smart-meter"


async def _jump(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_push_survives_an_unexpected_error(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug in a frame's handling kills the connection, never the push: logged once."""
    connections = 0

    async def boom(stream: AsyncGenerator[MeterValues]) -> AsyncGenerator[MeterValues]:
        async with contextlib.aclosing(stream):
            async for item in stream:
                yield item
                raise RuntimeError("boom")

    def flaky(self: KsemClient, watchdog: Any = None) -> AsyncGenerator[MeterValues]:
        nonlocal connections
        connections += 1
        stream = REAL_STREAM(self, watchdog)
        return boom(stream) if connections <= 3 else stream

    with patch.object(KsemClient, "stream_values", flaky):
        await setup_entry(hass, ksem_entry)
        coordinator = ksem_entry.runtime_data.coordinator
        await wait_until(lambda: connections > 3 and coordinator.push_connected, seconds=10)
        ksem.sim.set_values(**{"active_power_+": 1234000, "active_power_-": 0})
        await wait_until(lambda: hass.states.get(GRID).state == "1234.0", seconds=10)
    assert caplog.text.count("push failed unexpectedly, reconnecting") == 1
    assert caplog.text.count("RuntimeError: boom") >= 1


async def test_out_of_range_timestamp_frame_does_not_stop_push(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """The bug that killed push for good: a GDR timestamp `datetime` cannot hold."""
    real_frame = ksem.sim._frame

    def odd_frame(topic: str) -> bytes:
        if topic != "smart-meter":
            return real_frame(topic)
        return encode_gdrs("smart-meter", ksem.sim.values, timestamp=float(2**62))

    await setup_entry(hass, ksem_entry)
    coordinator = ksem_entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.push_connected)
    with patch.object(ksem.sim, "_frame", odd_frame):
        ksem.sim.set_values(**{"active_power_+": 4321000, "active_power_-": 0})
        await wait_until(lambda: hass.states.get(GRID).state == "4321.0", seconds=10)
    assert coordinator.push_connected


async def test_refused_push_is_asked_again_without_reload(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A WebSocket that refused the token at start-up is asked again without a reload.

    Every 10 minutes; here every 0.3 s of real time, the sockets being real.
    """
    monkeypatch.setattr(coordinator_module, "WS_REFUSED_RETRY", 0.3)
    await setup_polling_entry(hass, ksem, ksem_entry)
    coordinator = ksem_entry.runtime_data.coordinator
    assert coordinator.transport is KsemTransport.POLL_JSON
    ksem.sim.flags.websocket_accepts_api = True  # e.g. a firmware update
    await wait_until(lambda: coordinator.push_connected, seconds=10)
    assert coordinator.update_interval is None


async def test_silent_push_turns_unavailable_then_recovers(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """The last guard: a stream that stops delivering never leaves values shown as live.

    (The staleness limit is 60 s by default, an option; 1 s of real time here.)
    """
    release = asyncio.Event()

    async def stalls(self: KsemClient, watchdog: Any = None) -> AsyncGenerator[MeterValues]:
        stream = REAL_STREAM(self, watchdog)
        async with contextlib.aclosing(stream):
            async for item in stream:
                yield item
                break
        await release.wait()
        raise KsemConnectionError("stalled")

    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(ksem_entry, options={"stale_after": 1})
    with patch.object(KsemClient, "stream_values", stalls):
        await setup_entry(hass, ksem_entry)
        coordinator = ksem_entry.runtime_data.coordinator
        await wait_until(lambda: coordinator.push_connected)
        await wait_until(lambda: hass.states.get(GRID).state == STATE_UNAVAILABLE, seconds=10)
        assert coordinator.transport is KsemTransport.PUSH  # connected, yet nothing fresh
        release.set()  # the socket ends: a poll at once, then the stream again
        await wait_until(lambda: hass.states.get(GRID).state == "6730.1", seconds=10)


async def test_silent_socket_is_reconnected_by_the_watchdog(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A socket that stays open but sends nothing (half-open TCP) is dropped and reopened."""
    monkeypatch.setattr(client_module, "WS_SILENCE_MIN", 0.2)
    monkeypatch.setattr(client_module, "WS_SILENCE_INITIAL", 0.5)
    await setup_entry(hass, ksem_entry)
    coordinator = ksem_entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.push_connected)
    frames = ksem.sim.websocket_frames
    await wait_until(lambda: ksem.sim.websocket_frames > frames + 10)  # the rate is learned
    before = ksem.sim.request_counts[WS_PATH]
    ksem.sim.set_websocket_fault(WS_SILENT)  # the open socket goes quiet
    await wait_until(lambda: ksem.sim.request_counts[WS_PATH] > before, seconds=10)
    ksem.sim.set_websocket_fault(None)
    ksem.sim.set_values(**{"active_power_+": 777000, "active_power_-": 0})
    await wait_until(lambda: hass.states.get(GRID).state == "777.0", seconds=10)


async def test_poll_backs_off_to_once_a_minute_and_recovers(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Ten minutes offline cost a handful of polls, not 120; the first success resets."""
    await setup_polling_entry(hass, ksem, ksem_entry)
    polls = 0
    real_get = KsemClient.get_values

    async def counted(self: KsemClient) -> MeterValues:
        nonlocal polls
        polls += 1
        return await real_get(self)

    with patch.object(KsemClient, "get_values", counted):
        await ksem.sim.set_offline(offline=True)
        for _ in range(108):  # 9 minutes (at 10 the refused WebSocket is asked again)
            await next_poll(hass, freezer)
        assert polls <= 14  # three at 5 s, then 10, 20, 40 s, then once a minute
        assert hass.states.get(GRID).state == STATE_UNAVAILABLE
        await ksem.sim.set_offline(offline=False)
        await next_poll(hass, freezer, seconds=60)
        assert hass.states.get(GRID).state == "6730.1"
        polls = 0
        for _ in range(6):
            await next_poll(hass, freezer)
        assert polls == 6  # back to every 5 s


async def test_energy_spike_neither_shows_nor_locks_the_counter(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_polling_entry(hass, ksem, ksem_entry)
    start = float(hass.states.get(IMPORT).state)
    base = int(start * 1_000_000)
    # An absurd value (over the ceiling), then one a house cannot draw in 5 s (10 GWh).
    for spike in (10**18, base + 10**16):
        ksem.sim.set_values(**{"active_energy_+": spike})
        await next_poll(hass, freezer)
        assert hass.states.get(IMPORT).state == STATE_UNKNOWN
    ksem.sim.set_values(**{"active_energy_+": base + 5000})  # +5 Wh: plausible
    await next_poll(hass, freezer)
    assert float(hass.states.get(IMPORT).state) == pytest.approx(start + 0.005)


async def test_restored_spike_is_not_a_floor(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An old version may have stored a spike: it must not lock the counter after a restart."""
    caplog.set_level(logging.DEBUG)
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(IMPORT, "1e15"),
                {"native_value": 1e15, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    await setup_polling_entry(hass, ksem, ksem_entry)
    assert hass.states.get(IMPORT).state == "124.5963"
