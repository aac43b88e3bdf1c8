"""Measure the KSEM side: freshness for push and poll, CPU time of one update.

Run from the repository root: .venv/bin/python -m bench.ksem [--samples N]

A real Home Assistant core (the test harness `async_test_home_assistant` of
pytest-homeassistant-custom-component, used here without pytest) loads the integration from
this checkout; the simulated KSEM serves over real loopback HTTP/WebSocket at the real meter's
push rate (1 message/s). Freshness = time from changing a value in the simulator to the
`state_changed` event of the grid-power sensor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_test_home_assistant,
)

# bench.harness imports the integration before HA builds its custom_components namespace.
from bench.harness import ksem_entry, set_up
from custom_components.ksem_zaptec.ksem.api import MeterValues
from custom_components.ksem_zaptec.ksem.api.obis import obis_to_json
from custom_components.ksem_zaptec.ksem.api.protobuf import decode_gdrs
from custom_components.ksem_zaptec.ksem.coordinator import KsemData
from simulator import server
from simulator.ksem import KsemSimulator
from simulator.ksem_protobuf import encode_gdrs

GRID = "sensor.ksem_76555758_grid_power"


async def _freshness(
    hass: HomeAssistant, sim: KsemSimulator, samples: int, *, settle: float
) -> list[float]:
    """Change the import power, wait for the grid-power state; seconds per sample."""
    results: list[float] = []
    waiter: dict[str, Any] = {}

    @callback
    def on_change(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        # "future" is set before the value that makes "expected" match.
        if new is not None and new.state == waiter.get("expected") and not waiter["future"].done():
            waiter["future"].set_result(time.perf_counter())

    unsub = async_track_state_change_event(hass, GRID, on_change)
    try:
        for i in range(samples):
            # Change at a random-ish phase relative to pushes/polls.
            await asyncio.sleep(settle * ((i * 0.37) % 1))
            milli = 1_000_000 + 1_000 * (i + 1)
            waiter["expected"] = f"{milli / 1000:.1f}"
            waiter["future"] = hass.loop.create_future()
            started = time.perf_counter()
            sim.set_values(**{"active_power_+": milli, "active_power_-": 0})
            done = await asyncio.wait_for(waiter["future"], timeout=30)
            results.append(done - started)
    finally:
        unsub()
    return results


def _cpu_us(func: Any, iterations: int) -> float:
    start = time.process_time_ns()
    for _ in range(iterations):
        func()
    return (time.process_time_ns() - start) / iterations / 1000


async def _scenario(
    hass: HomeAssistant,
    sim: KsemSimulator,
    entry: MockConfigEntry,
    samples: int,
    options: dict[str, int],
    *,
    push: bool,
) -> tuple[list[float], dict[str, Any]]:
    """Reload the entry with these options and push on or off, then measure."""
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
    sim.flags.websocket_accepts_api = push
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    for _ in range(100):
        if coordinator.push_connected == push:
            break
        await asyncio.sleep(0.05)
    # Spread the changes over a whole write (push) or poll interval.
    settle = options.get("write_interval", 5) if push else options.get("poll_interval", 5)
    results = await _freshness(hass, sim, samples, settle=settle)
    return results, (_cpu_of_update(coordinator, hass) if push else {})


def _cpu_of_update(coordinator: Any, hass: HomeAssistant) -> dict[str, Any]:
    """CPU time: parsing (JSON, protobuf) and one coordinator update writing all states."""
    body = json.dumps({"smart-meter": {"status": "STATUS_OK", "values": KsemSimulator().values}})
    frame = encode_gdrs("smart-meter", KsemSimulator().values, timestamp=time.time())
    a = coordinator.data
    b = KsemData(MeterValues.from_json(json.loads(body)), a.energy_flow)
    flip = [a, b]
    counter = [0]

    def update() -> None:
        counter[0] += 1
        coordinator.async_set_updated_data(flip[counter[0] % 2])

    enabled = len(hass.states.async_entity_ids("sensor"))
    return {
        "json_parse_us": _cpu_us(lambda: MeterValues.from_json(json.loads(body)), 5000),
        "protobuf_parse_us": _cpu_us(
            lambda: MeterValues.from_milli(obis_to_json(decode_gdrs(frame)["smart-meter"].values)),
            5000,
        ),
        "update_us": _cpu_us(update, 500),
        "entities": enabled,
        "frame_bytes": len(frame),
    }


def _row(label: str, values: list[float]) -> str:
    return (
        f"| {label:<44} | {len(values):>3} | {statistics.median(values):>8.3f} | "
        f"{max(values):>8.3f} |"
    )


async def _main(samples: int) -> None:
    scenarios = [
        ("push, write interval 1 s (option minimum)", {"write_interval": 1}, True),
        ("push, write interval 5 s (default)", {}, True),
        ("poll, poll interval 2 s (option minimum)", {"poll_interval": 2}, False),
        ("poll, poll interval 5 s (default)", {}, False),
    ]
    rows = []
    cpu: dict[str, Any] = {}
    sim = KsemSimulator(ws_interval=1.0, post_interval=0)
    running = await server.start(sim.app)
    try:
        async with async_test_home_assistant() as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            await async_setup_component(hass, "network", {})  # HA's aiohttp session needs it
            entry = await set_up(hass, ksem_entry(sim, running.url))
            for label, options, push in scenarios:
                results, extra = await _scenario(hass, sim, entry, samples, options, push=push)
                rows.append(_row(label, results))
                cpu = cpu or extra
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_stop(force=True)
    finally:
        await sim.set_offline(offline=True)
        await running.stop()
    print("\nFreshness: simulator value change -> HA state_changed (seconds)")
    print("Simulated meter pushes 1 message/s (like a real KSEM).\n")
    print(f"| {'path':<44} |   n |   median |    worst |")
    print(f"|{'-' * 46}|-----|----------|----------|")
    print("\n".join(rows))
    print("\nCPU time (time.process_time_ns, mean per call)\n")
    print("| what | µs |")
    print("|---|---|")
    print(f"| parse one JSON reading (json.loads + model) | {cpu['json_parse_us']:.1f} |")
    print(
        f"| decode one protobuf frame ({cpu['frame_bytes']} B) + model "
        f"| {cpu['protobuf_parse_us']:.1f} |"
    )
    print(
        f"| one coordinator update: {cpu['entities']} enabled sensor states written "
        f"| {cpu['update_us']:.1f} |"
    )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(_main(args.samples))


if __name__ == "__main__":
    main()
