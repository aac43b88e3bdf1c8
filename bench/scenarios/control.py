"""What a Zaptec control action costs: requests on the wire, and press -> confirmed state.

Run with `python -m bench.scenarios control` (Home Assistant's test harness):

- live: every control is pressed against the simulator in real time, with the client's real
  limits (5 requests per second, 3 in flight, a 2 s second read-back); the simulator answers
  the charger state live, so the first state read after a command already shows its effect.
  Each action runs RUNS times; the requests are counted by the simulator, the time is from the
  service call until Home Assistant shows the effect (the call blocks until then);
- cached: Zaptec serves the charger state from a 15 s cache, which the simulator does not
  model; here the first state read after the command answers the state from before it (a
  fault with the old body), and the frozen clock is moved in 1 s steps until Home Assistant
  shows the effect (simulated seconds).

It prints a table; nothing is written anywhere.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from bench.harness import Clock, Rows, set_up, use_zaptec_simulator, zaptec_entry
from custom_components.ksem_zaptec.const import DOMAIN
from custom_components.ksem_zaptec.zaptec.api.budget import WINDOW
from simulator.server import RunningServer
from simulator.zaptec import ZaptecSimulator

Serve = Callable[[web.Application], Awaitable[RunningServer]]
RUNS = 10
ROWS: Rows = []


@dataclass(frozen=True)
class Action:
    """A control: how to prepare the charger, the call, and what shows it took effect."""

    prepare: dict[str, Any]  # simulator values of the Pro charger before each press
    domain: str
    service: str
    entity_id: str
    data: dict[str, Any]
    watch: str  # entity whose state shows the effect
    shows: str


ACTIONS = {
    "Stop charging (506)": Action(
        {"operating_mode": 3, "power_w": 7360.0, "final_stop": False},
        "button", "press", "button.garage_stop_charging", {},
        "sensor.garage_charger_mode", "connected_finished",
    ),
    "Resume charging (507)": Action(
        {"operating_mode": 5, "power_w": 0.0, "final_stop": True},
        "button", "press", "button.garage_resume_charging", {},
        "sensor.garage_charger_mode", "connected_charging",
    ),
    "Deauthorize and stop (10001, answers 200)": Action(
        {"operating_mode": 3, "power_w": 7360.0, "current_user": "ble-x"},
        "button", "press", "button.garage_deauthorize_and_stop", {},
        "sensor.garage_charger_mode", "connected_requesting",
    ),
    "Deauthorize and stop (10001, answers 500)": Action(
        {"operating_mode": 3, "power_w": 7360.0, "current_user": "ble-x",
         "deauthorize_answers_500": True},
        "button", "press", "button.garage_deauthorize_and_stop", {},
        "sensor.garage_charger_mode", "connected_requesting",
    ),
    "Max charge current (charger update)": Action(
        {"max_current": 32.0},
        "number", "set_value", "number.garage_max_charge_current", {"value": 16},
        "number.garage_max_charge_current", "16.0",
    ),
}  # fmt: skip


async def _press(hass: HomeAssistant, action: Action) -> None:
    await hass.services.async_call(
        action.domain,
        action.service,
        {"entity_id": action.entity_id, **action.data},
        blocking=True,
    )


async def _ready(
    hass: HomeAssistant, serve: Serve, rate_limit: int = 10
) -> tuple[ZaptecSimulator, str]:
    # "Home": a Pro ("Garage") and a Go; Zaptec's 10 requests per second unless lifted.
    sim = ZaptecSimulator(advance_energy=False, rate_limit=rate_limit)
    srv = await serve(sim.app)
    # The max charge current is disabled by default: registered (enabled) before the set-up,
    # so Home Assistant does not reload the entry 30 s after enabling it mid-benchmark.
    garage = sim.charger_by_serial("ZPR012345")
    er.async_get(hass).async_get_or_create(
        "number",
        DOMAIN,
        f"{garage.id}_max_charge_current",
        suggested_object_id="garage_max_charge_current",
    )
    await use_zaptec_simulator(hass, srv.url)
    entry = await set_up(hass, zaptec_entry(sim))
    return sim, entry.entry_id


async def _refresh(hass: HomeAssistant, entry_id: str) -> None:
    """Let the integration read the prepared charger state (not counted)."""
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    state = entry.runtime_data.state
    for charger_id in state.details.data.chargers:
        state.async_set_charger_state(await state.client.get_charger_state(charger_id))
    await hass.async_block_till_done()


async def test_live(hass: HomeAssistant, serve: Serve) -> None:
    """Each control in real time with the real client limits."""
    sim, entry_id = await _ready(hass, serve)
    garage = sim.charger_by_serial("ZPR012345")
    for name, listed in ACTIONS.items():
        requests: list[int] = []
        seconds: list[float] = []
        for run in range(RUNS):
            action = listed
            sim.set_charger(garage.id, **{"deauthorize_answers_500": False, **action.prepare})
            if action.domain == "number":
                # Alternate the value, so that every press changes something.
                wanted = 16.0 if run % 2 == 0 else 24.0
                action = replace(action, data={"value": wanted}, shows=f"{wanted}")
            await _refresh(hass, entry_id)
            # The refresh's requests leave the client's one-second window before the press.
            await asyncio.sleep(WINDOW)
            sim.reset_requests()
            started = time.perf_counter()
            await _press(hass, action)
            state = hass.states.get(action.watch)
            assert state is not None
            assert state.state == action.shows, (name, state.state)
            seconds.append(time.perf_counter() - started)
            requests.append(len(sim.requests))
        ROWS.append(
            {
                "table": "live",
                "name": name,
                "requests": max(requests),
                "median_ms": 1000 * statistics.median(seconds),
                "worst_ms": 1000 * max(seconds),
            }
        )
    # Available current: the first change at once (write + read-back), the next one waits.
    home = next(iter(sim.installations.values()))
    sim.reset_requests()
    started = time.perf_counter()
    await _press(
        hass,
        Action({}, "number", "set_value", "number.home_available_current", {"value": 16}, "", ""),
    )
    first_ms = 1000 * (time.perf_counter() - started)
    first = len(sim.requests)
    sim.reset_requests()
    await _press(
        hass,
        Action({}, "number", "set_value", "number.home_available_current", {"value": 10}, "", ""),
    )
    assert home.available_current == (16.0, 16.0, 16.0)
    ROWS.append(
        {
            "table": "live",
            "name": "Available current, first change",
            "requests": first,
            "median_ms": first_ms,
            "worst_ms": first_ms,
        }
    )
    ROWS.append(
        {
            "table": "live",
            "name": "Available current, again within 15 min",
            "requests": len(sim.requests),
            "median_ms": float("nan"),
            "worst_ms": float("nan"),
            "note": "pending; 2 requests when applied 15 min after the first",
        }
    )
    # Restart: the command only, its state read comes after the cache.
    sim.reset_requests()
    await _press(hass, Action({}, "button", "press", "button.garage_restart", {}, "", ""))
    ROWS.append(
        {
            "table": "live",
            "name": "Restart (102)",
            "requests": len(sim.requests),
            "median_ms": float("nan"),
            "worst_ms": float("nan"),
            "note": "+1 state read 16-21 s later",
        }
    )


@pytest.mark.usefixtures("unlimited_client")
@pytest.mark.parametrize("name", [n for n in ACTIONS if "500" not in n])
async def test_cached(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, serve: Serve, name: str
) -> None:
    """The first state read after the command is stale (Zaptec's cache): time to confirm."""
    action = ACTIONS[name]
    # The frozen clock would never let the simulator's one-second window slide.
    sim, entry_id = await _ready(hass, serve, rate_limit=10**9)
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, **action.prepare)
    await _refresh(hass, entry_id)
    clock = Clock(hass, freezer)
    await clock.align()
    stale = garage.state_json(next(iter(sim.installations.values())))
    sim.add_fault(f"/api/chargers/{garage.id}/state$", 200, body=stale)
    sim.reset_requests()
    started = clock.now
    await _press(hass, action)
    for _ in range(120):
        state = hass.states.get(action.watch)
        assert state is not None
        if state.state == action.shows:
            break
        await clock.step()
    else:
        raise AssertionError(f"{name}: not confirmed within 120 simulated seconds")
    ROWS.append(
        {
            "table": "cached",
            "name": name,
            "requests": sum(garage.id in r.path for r in sim.requests),
            "seconds": clock.now - started,
        }
    )


def print_tables(rows: Rows) -> None:
    """Requests per action and press -> confirmed times."""
    print(
        f"{'control action (live simulator, real client limits)':48} {'requests':>9} "
        f"{'median ms':>10} {'worst ms':>9}"
    )
    for row in rows:
        if row.get("table") != "live":
            continue
        note = f"  {row['note']}" if "note" in row else ""
        times = (
            f"{row['median_ms']:>10.0f} {row['worst_ms']:>9.0f}"
            if row["median_ms"] == row["median_ms"]  # not NaN
            else f"{'-':>10} {'-':>9}"
        )
        print(f"{row['name']:48} {row['requests']:>9} {times}{note}")
    print(f"(live: {RUNS} presses each; requests = the most any press cost, login excluded)")
    print(
        f"\n{'first state read stale (Zaptec 15 s cache)':48} {'requests':>9} "
        f"{'confirmed after (simulated s)':>30}"
    )
    for row in rows:
        if row.get("table") == "cached":
            print(f"{row['name']:48} {row['requests']:>9} {row['seconds']:>30.0f}")
