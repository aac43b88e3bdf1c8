"""Requests and recovery under faults, counted by the simulators on a simulated clock.

Run with `python -m bench.scenarios faults` (Home Assistant's test harness,
pytest-homeassistant-custom-component), one fresh Home Assistant per scenario:

1. the entry is set up against its simulator through Home Assistant's public surface
   (MockConfigEntry, `hass.config_entries.async_setup`), with the integration's real timings
   and client limits, and runs healthy for a while;
2. the fault is injected in the simulator and lasts 10 simulated minutes; the requests the
   simulator receives in that window are counted (KSEM: HTTP requests and WebSocket
   upgrades; Zaptec: every API request, logins included);
3. the fault is cleared and a new value is set in the simulator at once; the recovery time is
   the simulated time until every entity that was available before the fault is available
   again and the watched entity shows the new value.

"healthy" runs the same timeline without a fault: its recovery time is the plain freshness.
The clock is frozen (freezegun) and moved in 1 s steps (bench.harness.LoopbackClock); after
each step the event loop runs every timer due by then (sleeps, timeouts, polling) and the
bench waits, in real time, until the loopback traffic has settled. Only the states, the config
entries and the simulators' counters are read, never the integration's internals. Nothing is
written anywhere.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from bench.harness import (
    STEP,
    LoopbackClock,
    Rows,
    ksem_entry,
    use_zaptec_simulator,
    zaptec_entry,
    zaptec_simulator,
)
from custom_components.ksem_zaptec.const import DOMAIN
from simulator import server
from simulator.ksem import KsemSimulator
from simulator.server import RunningServer
from simulator.zaptec import ZaptecSimulator

WINDOW = 600.0  # how long each fault lasts; its requests are counted
KSEM_WARMUP = 60.0
# Healthy, the window [400 s, 1000 s] after set-up holds the change detection's charger lists
# (every 175 s) and nothing else: the details are read every 2 hours, idle chargers' own state
# every 6 hours.
ZAPTEC_WARMUP = 400.0
KSEM_RECOVERY_LIMIT = 900.0
ZAPTEC_RECOVERY_LIMIT = 1500.0  # more than two idle polling cycles
TIMES = "\N{MULTIPLICATION SIGN}"
# Longer than any sensible client timeout (the Zaptec client's is 15 s today).
TIMEOUT_DELAY = 120.0
TIMEOUTS = f"timeouts (every answer {TIMEOUT_DELAY:.0f} s late)"

HEALTHY = "healthy"
POLL_FALLBACK = "healthy, poll fallback (WebSocket refuses the token)"
ZAPTEC_SCENARIOS = [
    HEALTHY,
    "429 with Retry-After: 60",
    "429 without Retry-After",
    "503 Service Unavailable",
    TIMEOUTS,
    "token expiry (all tokens revoked at the window start)",
]
KSEM_SCENARIOS = [
    HEALTHY,
    POLL_FALLBACK,
    "offline (HTTP 503, sockets closed 1013)",
    "unreachable: connections reset",
    "unreachable: no answer (blackhole)",
    "WebSocket reset right after connecting (1006)",
    "WebSocket closed (1001) after its first frame",
    "silent WebSocket (open, no frames)",
    "malformed WebSocket frames (not protobuf)",
]


KSEM_GRID = "sensor.ksem_76555758_grid_power"
NEW_GRID_MILLIWATT = 4_321_000  # the value set after a KSEM fault: 4321.0 W

ROWS: Rows = []


@pytest.fixture
def expected_lingering_tasks() -> bool:
    """A frozen clock can leave a timeout pending at the end: not what is measured here."""
    return True


@pytest.fixture
def expected_lingering_timers() -> bool:
    """See expected_lingering_tasks."""
    return True


class _Watch:
    """The entry's entities as Home Assistant shows them."""

    def __init__(self, hass: HomeAssistant, entry: MockConfigEntry, watched: str) -> None:
        self.hass, self.watched = hass, watched
        registry = er.async_get(hass)
        self.entities = [
            e.entity_id
            for e in er.async_entries_for_config_entry(registry, entry.entry_id)
            if e.disabled_by is None
        ]
        assert watched in self.entities, f"{watched} not among {self.entities}"
        self.available: list[str] = []

    def state(self, entity_id: str) -> str | None:
        state = self.hass.states.get(entity_id)
        return None if state is None else state.state

    def note_available(self) -> None:
        """The entities that are available now (healthy, before the fault)."""
        self.available = [e for e in self.entities if self.state(e) != STATE_UNAVAILABLE]

    def any_unavailable(self) -> bool:
        return any(self.state(e) == STATE_UNAVAILABLE for e in self.available)


async def _timeline(
    *,
    clock: LoopbackClock,
    watch: _Watch,
    counts: Callable[[], Counter[str]],
    warmup: float,
    inject: Callable[[], Awaitable[None]] | None,
    clear: Callable[[], Awaitable[None]] | None,
    change: Callable[[], object],
    shows_change: Callable[[str | None], bool],
    limit: float,
) -> dict[str, Any]:
    """Warm up, fault for WINDOW, clear + change, step until recovered; the figures."""
    await clock.run_until(warmup)
    watch.note_available()
    before = counts()
    if inject is not None:
        await inject()
    unavailable_after = None
    while clock.now + STEP <= warmup + WINDOW:
        await clock.step()
        if unavailable_after is None and watch.any_unavailable():
            unavailable_after = clock.now - warmup
    window = counts() - before
    if clear is not None:
        await clear()
    change()
    cleared_at = clock.now
    recovery = None
    while clock.now - cleared_at < limit:
        await clock.settle()
        if not watch.any_unavailable() and shows_change(watch.state(watch.watched)):
            recovery = clock.now - cleared_at
            break
        await clock.step()
    return {
        "requests": window.total(),
        "by_path": dict(window),
        "unavailable_after": unavailable_after,
        "recovery": recovery,
        "limit": limit,
    }


async def _set_up(clock: LoopbackClock, entry: Callable[[], MockConfigEntry]) -> MockConfigEntry:
    """Align the clock, then add `entry()` and set it up on the stepped clock."""
    await clock.align()
    config_entry = entry()
    config_entry.add_to_hass(clock.hass)
    assert await clock.finish(clock.hass.config_entries.async_setup(config_entry.entry_id))
    await clock.step()  # what set-up started (push, first polls) has arrived
    return config_entry


async def _stop(
    clock: LoopbackClock, hass: HomeAssistant, entry: MockConfigEntry, srv: RunningServer
) -> None:
    """Unload, then stop the server, on the stepped clock (timeouts may still run)."""
    if entry.state is ConfigEntryState.LOADED:
        await clock.finish(hass.config_entries.async_unload(entry.entry_id))
    await clock.finish(srv.stop())


def _activity(hass: HomeAssistant, counters: list[Callable[[], int]]) -> Callable[[], int]:
    changes = [0]

    @callback
    def count(_event: Event[EventStateChangedData]) -> None:
        changes[0] += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, count)
    return lambda: changes[0] + sum(counter() for counter in counters)


# ---- Zaptec ------------------------------------------------------------------------------


def _zaptec_path(path: str) -> str:
    """Charger and installation ids folded, so paths group by kind."""
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "api" and parts[1] in ("chargers", "installation"):
        parts[2] = "{id}"
    return "/" + "/".join(parts)


def _zaptec_fault(sim: ZaptecSimulator, name: str) -> Callable[[], Awaitable[None]] | None:
    every = "^/"  # every API path and the login; /_sim/ never sees faults
    kinds: dict[str, Callable[[], None]] = {
        "429 with Retry-After: 60": lambda: sim.add_fault(every, 429, count=None, retry_after="60"),
        "429 without Retry-After": lambda: sim.add_fault(every, 429, count=None),
        "503 Service Unavailable": lambda: sim.add_fault(every, 503, count=None),
        TIMEOUTS: lambda: sim.add_fault(every, None, count=None, delay=TIMEOUT_DELAY),
        "token expiry (all tokens revoked at the window start)": sim.expire_tokens,
    }
    if name == HEALTHY:
        return None
    apply = kinds[name]

    async def inject() -> None:
        apply()

    return inject


@pytest.mark.parametrize("name", ZAPTEC_SCENARIOS)
async def test_zaptec(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None, name: str
) -> None:
    """1 installation with 2 idle chargers, the real client limits and schedule."""
    random.seed(name)  # the client's backoff jitter: the same on every run
    sim = zaptec_simulator(1, 2)
    srv = await server.start(sim.app)
    clock = LoopbackClock(hass, freezer, _activity(hass, [lambda: len(sim.requests)]))
    await use_zaptec_simulator(hass, srv.url)
    entry = await _set_up(clock, lambda: zaptec_entry(sim))
    setup = len(sim.requests)
    clock.now = 0.0
    charger = next(iter(sim.chargers.values()))
    watched = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{charger.id}_charger_mode")
    assert watched is not None
    watch = _Watch(hass, entry, watched)
    old = watch.state(watched)

    async def clear() -> None:
        sim.clear_faults()

    try:
        result = await _timeline(
            clock=clock,
            watch=watch,
            counts=lambda: Counter(_zaptec_path(r.path) for r in sim.requests),
            warmup=ZAPTEC_WARMUP,
            inject=_zaptec_fault(sim, name),
            clear=clear,
            change=lambda: sim.set_charger(charger.id, operating_mode=2),  # car plugged in
            shows_change=lambda s: s not in (old, None, STATE_UNAVAILABLE, STATE_UNKNOWN),
            limit=ZAPTEC_RECOVERY_LIMIT,
        )
        ROWS.append({"device": "Zaptec", "name": name, "setup": setup, **result})
    finally:
        sim.clear_faults()  # answer held requests, so the server can stop
        await _stop(clock, hass, entry, srv)


# ---- KSEM ------------------------------------------------------------------------------


def _ksem_path(path: str) -> str:
    return path.replace("/api/data-transfer/ws/protobuf/gdr/local/values/", "WebSocket ")


Fault = tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]  # inject, clear


def _ksem_fault(sim: KsemSimulator, name: str) -> Fault | None:
    """(inject, clear) of a KSEM fault."""

    async def offline() -> None:
        await sim.set_offline(offline=True)

    async def online() -> None:
        await sim.set_offline(offline=False)

    def unreachable(mode: str) -> Callable[[], Awaitable[None]]:
        async def inject() -> None:
            await sim.set_unreachable(mode)

        return inject

    async def reachable() -> None:
        await sim.set_unreachable(None)

    async def websocket_ok() -> None:
        sim.set_websocket_fault(None)

    def websocket(fault: str, after: int, *, drop: bool) -> Fault:
        async def inject() -> None:
            sim.set_websocket_fault(fault, after)
            if drop:  # the open sockets go too; their successors meet the fault
                await sim.drop_websockets(abrupt=fault == "reset")

        return inject, websocket_ok

    faults: dict[str, Fault] = {
        "offline (HTTP 503, sockets closed 1013)": (offline, online),
        "unreachable: connections reset": (unreachable("reset"), reachable),
        "unreachable: no answer (blackhole)": (unreachable("blackhole"), reachable),
        "WebSocket reset right after connecting (1006)": websocket("reset", 0, drop=True),
        "WebSocket closed (1001) after its first frame": websocket("close", 1, drop=True),
        "silent WebSocket (open, no frames)": websocket("silent", 0, drop=False),
        "malformed WebSocket frames (not protobuf)": websocket("garbage", 0, drop=False),
    }
    return faults.get(name)


@pytest.mark.parametrize("name", KSEM_SCENARIOS)
async def test_ksem(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None, name: str
) -> None:
    """The default simulated meter, pushing once a second; default options."""
    random.seed(name)
    sim = KsemSimulator(ws_interval=1.0, post_interval=0)
    if name == POLL_FALLBACK:
        sim.flags.websocket_accepts_api = False
    srv = await server.start(sim.app)
    clock = LoopbackClock(
        hass,
        freezer,
        _activity(hass, [sim.request_counts.total, lambda: sim.websocket_frames]),
    )
    entry = await _set_up(clock, lambda: ksem_entry(sim, srv.url))
    setup = sim.request_counts.total()
    clock.now = 0.0
    watch = _Watch(hass, entry, KSEM_GRID)
    inject, clear = _ksem_fault(sim, name) or (None, None)

    def shows_change(state: str | None) -> bool:
        try:
            return float(state or "") == NEW_GRID_MILLIWATT / 1000
        except ValueError:
            return False

    try:
        result = await _timeline(
            clock=clock,
            watch=watch,
            counts=lambda: Counter({_ksem_path(p): n for p, n in sim.request_counts.items()}),
            warmup=KSEM_WARMUP,
            inject=inject,
            clear=clear,
            change=lambda: sim.set_values(
                **{"active_power_+": NEW_GRID_MILLIWATT, "active_power_-": 0}
            ),
            shows_change=shows_change,
            limit=KSEM_RECOVERY_LIMIT,
        )
        ROWS.append({"device": "KSEM", "name": name, "setup": setup, **result})
    finally:
        await sim.set_unreachable(None)  # answer held requests
        await sim.drop_websockets()
        await _stop(clock, hass, entry, srv)


def _times(row: dict[str, Any], healthy: int | None) -> str:
    if not healthy:
        return "—"
    return f"{row['requests'] / healthy:.1f}{TIMES}"


def _seconds(value: float | None, limit: float | None = None) -> str:
    if value is None:
        return f"> {limit:.0f} s" if limit else "—"
    return f"{value:.0f} s"


def print_tables(rows: Rows) -> None:
    """The requests and recovery per fault, the details, what the figures mean."""
    healthy = {
        (row["device"], row["name"]): row["requests"]
        for row in rows
        if row["name"] in (HEALTHY, POLL_FALLBACK)
    }
    zaptec_healthy = healthy.get(("Zaptec", HEALTHY))
    # A healthy KSEM pushes: no requests at all. Its faults compare with the poll fallback.
    ksem_healthy = healthy.get(("KSEM", POLL_FALLBACK))
    print(f"\n| Fault | Requests per 10 min | {TIMES} healthy | Recovery time |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        base = zaptec_healthy if row["device"] == "Zaptec" else ksem_healthy
        times = "—" if row["name"] in (HEALTHY, POLL_FALLBACK) else _times(row, base)
        print(
            f"| {row['device']}: {row['name']} | {row['requests']} | {times} | "
            f"{_seconds(row['recovery'], row['limit'])} |"
        )
    print(
        "\nDetails (requests in the window by path; when an entity first showed 'unavailable'"
        " during the fault; requests of the set-up):"
    )
    for row in rows:
        paths = ", ".join(f"{p} {n}" for p, n in sorted(row["by_path"].items())) or "none"
        print(
            f"- {row['device']}: {row['name']}: unavailable after "
            f"{_seconds(row['unavailable_after'])}; set-up {row['setup']}; {paths}"
        )

    print(
        f"\nSimulated clock, {STEP:.0f} s steps (times are ±{STEP:.0f} s); each fault lasts"
        f" {WINDOW / 60:.0f} min, after {ZAPTEC_WARMUP:.0f} s (Zaptec) / {KSEM_WARMUP:.0f} s"
        " (KSEM) of healthy running. Recovery: from clearing the fault (and setting a new"
        " value in the simulator) until every entity available before the fault is available"
        " again and the watched entity shows the new value; 'healthy' = plain freshness."
        f"\nZaptec {TIMES} is against the healthy Zaptec window; a healthy KSEM pushes and"
        f" sends no requests, so KSEM {TIMES} is against its healthy poll fallback (JSON every"
        " 5 s)."
        "\nCounted: what reached the simulators' HTTP layer in the window (WebSocket upgrades"
        " included). Not observable here, so not counted: TCP connects refused or never"
        " answered before HTTP (the simulated unreachable meter accepts the connection, then"
        " resets it or never answers), retries scheduled after the window ends, DNS and TLS."
        " aiohttp itself sends a GET once more on a new connection after a reset; both"
        " reach the simulator and are counted."
        " The blackhole never answers an accepted connection, so a client waits for its"
        " request timeout, where a real unreachable host fails the TCP connect (aiohttp's"
        " sock_connect timeout, if set)."
    )
