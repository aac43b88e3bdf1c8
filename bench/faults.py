"""Requests and recovery under faults, counted by the simulators on a simulated clock.

Run with `.venv/bin/python bench/faults.py` (or `.venv/bin/python -m bench.faults`). It runs
Home Assistant's test harness (pytest-homeassistant-custom-component) on this file, one
fresh Home Assistant per scenario:

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
The clock is frozen (freezegun) and moved in 1 s steps; after each step the event loop runs
every timer due by then (sleeps, timeouts, polling) and the bench waits, in real time, until
the loopback traffic has settled. Only the states, the config entries and the simulators'
counters are read, never the integration's internals. Nothing is written outside a
temporary directory.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS_ENV = "FAULTS_BENCH_RESULTS"

STEP = 1.0  # simulated seconds per clock step
WINDOW = 600.0  # how long each fault lasts; its requests are counted
KSEM_WARMUP = 60.0
# Healthy, the window [400 s, 1000 s] after set-up holds one round of each Zaptec coordinator:
# the idle chargers' state reads (every 10 min: at 600 s) and the details (every 15 min: 900 s).
ZAPTEC_WARMUP = 400.0
KSEM_RECOVERY_LIMIT = 900.0
ZAPTEC_RECOVERY_LIMIT = 1500.0  # more than two idle polling cycles
# Settling after a step: loop turns until idle (at most MAX_TURNS) and a real pause, repeated
# until a round changed nothing.
MAX_TURNS = 1000
REAL_PAUSE = 0.0005
REAL_WAIT = 2.0  # set-up, unload: how long real-time work may take before the clock moves
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


def _record(values: dict[str, Any]) -> None:
    with Path(os.environ[RESULTS_ENV]).open("a", encoding="utf-8") as out:
        out.write(json.dumps(values) + "\n")


if __name__ != "__main__":
    # Collected by pytest (see the bottom of the file): the harness and the scenarios.
    import asyncio
    import random
    import threading
    from collections import Counter
    from collections.abc import Awaitable, Callable, Coroutine
    from datetime import timedelta

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.config_entries import ConfigEntryState
    from homeassistant.const import (
        CONF_HOST,
        CONF_PASSWORD,
        CONF_TOKEN,
        CONF_USERNAME,
        EVENT_STATE_CHANGED,
        STATE_UNAVAILABLE,
        STATE_UNKNOWN,
    )
    from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
    from homeassistant.helpers import entity_registry as er
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_fire_time_changed,
    )

    import custom_components.ksem_zaptec  # noqa: F401 - before phacc's testing_config
    from custom_components.ksem_zaptec.const import CONF_KIND, DOMAIN, KIND_KSEM, KIND_ZAPTEC
    from custom_components.ksem_zaptec.zaptec.const import CONF_API_URL
    from simulator import server
    from simulator.ksem import KsemSimulator
    from simulator.zaptec import ZaptecSimulator

    KSEM_GRID = "sensor.ksem_76555758_grid_power"
    NEW_GRID_MILLIWATT = 4_321_000  # the value set after a KSEM fault: 4321.0 W

    @pytest.fixture(autouse=True)
    def _custom_integrations(enable_custom_integrations: None) -> None:
        """Let Home Assistant load the integration from this checkout."""

    @pytest.fixture
    def expected_lingering_tasks() -> bool:
        """A frozen clock can leave a timeout pending at the end: not what is measured here."""
        return True

    @pytest.fixture
    def expected_lingering_timers() -> bool:
        """See expected_lingering_tasks."""
        return True

    class _Clock:
        """Simulated seconds: the frozen clock moves in steps, the loop settles after each."""

        def __init__(
            self, hass: HomeAssistant, freezer: FrozenDateTimeFactory, activity: Callable[[], int]
        ) -> None:
            self.hass, self.freezer, self.activity = hass, freezer, activity
            self.now = 0.0
            # asyncio's debug mode would call every step a slow callback.
            hass.loop.slow_callback_duration = float("inf")

        async def settle(self) -> None:
            """Run the loop until the loopback traffic and Home Assistant are done.

            Loopback data is readable as soon as it is sent, and each turn of the loop polls
            the sockets before it runs what is queued: two turns in a row with nothing queued
            but this coroutine mean all of it is done. A short real pause then covers work
            handed to threads; the round repeats until it changed nothing. Nothing waits on
            the frozen clock here: a request held by a fault would block
            `async_block_till_done` for good, and the KSEM push tasks never end.
            """
            loop = self.hass.loop
            last = None
            while True:
                idle = 0
                for _ in range(MAX_TURNS):
                    await asyncio.sleep(0)
                    # What else the loop has queued for this turn and the next (asyncio keeps
                    # no public count of it).
                    idle = 0 if loop._ready else idle + 1  # type: ignore[attr-defined]  # noqa: SLF001
                    if idle == 2:
                        break
                await loop.run_in_executor(None, time.sleep, REAL_PAUSE)
                seen = (self.activity(), len(asyncio.all_tasks()))
                if seen == last:
                    return
                last = seen

        async def step(self, seconds: float = STEP) -> None:
            self.freezer.tick(timedelta(seconds=seconds))
            async_fire_time_changed(self.hass)
            await self.settle()
            self.now += seconds

        async def align(self) -> None:
            """Put the steps at x.25 s of the loop clock (see bench/zaptec.py, _Probe.align)."""
            await self.step((0.25 - self.hass.loop.time()) % 1.0)
            self.now = 0.0

        async def run_until(self, seconds: float) -> None:
            while self.now + STEP <= seconds:
                await self.step()

        async def finish[T](self, work: Coroutine[Any, Any, T], limit: float = 300.0) -> T:
            """Run `work`, stepping the clock only while it waits on the clock (limits, backoff).

            Work on real time (imports, translations read in the executor) is waited for
            first, so the number of steps, and with it the polling schedule, is the same on
            every run.
            """
            task = asyncio.ensure_future(work)
            started = self.now
            while True:
                await self.settle()
                await self._tracked_work()
                await self.settle()
                if task.done():
                    return task.result()
                if self.now - started > limit:
                    task.cancel()
                    raise AssertionError(f"not done after {limit:.0f} simulated seconds")
                await self.step()

        async def _tracked_work(self) -> None:
            """Wait, at most REAL_WAIT of real time, for the tasks Home Assistant tracks.

            A tracked task that waits on the frozen clock would block this for good: the real
            time limit ends the wait then.
            """
            block = asyncio.ensure_future(self.hass.async_block_till_done())
            stop = threading.Event()
            pause = self.hass.loop.run_in_executor(None, stop.wait, REAL_WAIT)
            await asyncio.wait({block, pause}, return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            block.cancel()
            await asyncio.wait({block, pause})

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
        clock: _Clock,
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

    async def _stop(clock: _Clock, hass: HomeAssistant, entry: MockConfigEntry, srv: Any) -> None:
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
            "429 with Retry-After: 60": lambda: sim.add_fault(
                every, 429, count=None, retry_after="60"
            ),
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
        sim = ZaptecSimulator(seed=False, advance_energy=False)
        sim.add_installation("Site 0", 2, prefix="ZPR00")
        srv = await server.start(sim.app)
        clock = _Clock(hass, freezer, _activity(hass, [lambda: len(sim.requests)]))
        await clock.align()
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=sim.username,
            unique_id=sim.username,
            data={
                CONF_KIND: KIND_ZAPTEC,
                CONF_USERNAME: sim.username,
                CONF_PASSWORD: sim.password,
                CONF_API_URL: srv.url,
            },
        )
        entry.add_to_hass(hass)
        assert await clock.finish(hass.config_entries.async_setup(entry.entry_id))
        await clock.step()  # what set-up started (push, first polls) has arrived
        setup = len(sim.requests)
        clock.now = 0.0
        charger = next(iter(sim.chargers.values()))
        watched = er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{charger.id}_charger_mode"
        )
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
            _record({"device": "Zaptec", "name": name, "setup": setup, **result})
        finally:
            sim.clear_faults()  # answer held requests, so the server can stop
            await _stop(clock, hass, entry, srv)

    # ---- KSEM ------------------------------------------------------------------------------

    def _ksem_path(path: str) -> str:
        return path.replace("/api/data-transfer/ws/protobuf/gdr/local/values/", "WebSocket ")

    def _ksem_fault(
        sim: KsemSimulator, name: str
    ) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]] | None:
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

        def websocket(fault: str, after: int, *, drop: bool) -> Callable[[], Awaitable[None]]:
            async def inject() -> None:
                sim.set_websocket_fault(fault, after)
                if drop:  # the open sockets go too; their successors meet the fault
                    await sim.drop_websockets(abrupt=fault == "reset")

            return inject

        async def websocket_ok() -> None:
            sim.set_websocket_fault(None)

        faults = {
            "offline (HTTP 503, sockets closed 1013)": (offline, online),
            "unreachable: connections reset": (unreachable("reset"), reachable),
            "unreachable: no answer (blackhole)": (unreachable("blackhole"), reachable),
            "WebSocket reset right after connecting (1006)": (
                websocket("reset", 0, drop=True),
                websocket_ok,
            ),
            "WebSocket closed (1001) after its first frame": (
                websocket("close", 1, drop=True),
                websocket_ok,
            ),
            "silent WebSocket (open, no frames)": (
                websocket("silent", 0, drop=False),
                websocket_ok,
            ),
            "malformed WebSocket frames (not protobuf)": (
                websocket("garbage", 0, drop=False),
                websocket_ok,
            ),
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
        clock = _Clock(
            hass,
            freezer,
            _activity(hass, [sim.request_counts.total, lambda: sim.websocket_frames]),
        )
        await clock.align()
        token = sim.create_token("Home Assistant (bench)")
        sim.authorize(token.jti)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"KSEM {sim.serial}",
            unique_id=sim.serial,
            data={
                CONF_KIND: KIND_KSEM,
                CONF_HOST: srv.url,
                CONF_TOKEN: token.jwt,
                "token_name": token.name,
            },
        )
        entry.add_to_hass(hass)
        assert await clock.finish(hass.config_entries.async_setup(entry.entry_id))
        await clock.step()  # what set-up started (push, first polls) has arrived
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
            _record({"device": "KSEM", "name": name, "setup": setup, **result})
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


def _print_tables(rows: list[dict[str, Any]]) -> None:
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


def main() -> int:
    """Run the scenarios through pytest and print the table."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.jsonl"
        results.touch()
        os.environ[RESULTS_ENV] = str(results)
        code = pytest.main(
            [
                __file__,
                "-q",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                "--rootdir",
                str(ROOT),
                "-c",
                str(ROOT / "pyproject.toml"),
                "-W",
                "ignore::DeprecationWarning",
            ]
        )
        rows = [json.loads(line) for line in results.read_text().splitlines()]
    _print_tables(rows)
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
    print(f"\nbench/faults.py took {time.monotonic() - started:.0f} s (real time).")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
