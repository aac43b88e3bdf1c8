"""What the benchmarks share inside Home Assistant: simulated clock, simulators, entries.

Used by the scenarios in bench/scenarios/ (under Home Assistant's pytest harness,
pytest-homeassistant-custom-component) and by bench/ksem.py (its `async_test_home_assistant`
without pytest). Importing this module imports Home Assistant's test helpers: a process that
starts pytest must not import it before pytest has loaded its plugins (bench/scenarios/
__main__.py does not).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_fire_time_changed,
)

import custom_components.ksem_zaptec  # noqa: F401 - before phacc's testing_config
from custom_components.ksem_zaptec.const import CONF_KIND, DOMAIN, KIND_KSEM, KIND_ZAPTEC
from custom_components.ksem_zaptec.zaptec.const import (
    CONF_ZAPTEC_API_URL,
    CONF_ZAPTEC_SERVICEBUS_CA,
)
from simulator.ksem import KsemSimulator
from simulator.zaptec import ZaptecSimulator

STEP = 1.0  # simulated seconds per clock step
# LoopbackClock.settle: loop turns until idle (at most MAX_TURNS) and a real pause, repeated
# until a round changed nothing.
MAX_TURNS = 1000
REAL_PAUSE = 0.0005
REAL_WAIT = 2.0  # set-up, unload: how long real-time work may take before the clock moves

# What a scenario module records, a dict a row; bench/scenarios/__main__.py has its
# `print_tables` print them once pytest has run.
Rows = list[dict[str, Any]]


def zaptec_simulator(
    installations: int, chargers: int, charging: int = 0, *, rate_limit: int = 10
) -> ZaptecSimulator:
    """An account with `chargers` spread over `installations`, `charging` of them charging.

    Installations alternate between Pro chargers (with a switch and their own detail) and Go
    chargers; `rate_limit` is the cloud's requests per second (Zaptec's: 10).
    """
    sim = ZaptecSimulator(seed=False, advance_energy=False, rate_limit=rate_limit)
    per_installation = chargers // installations
    for number in range(installations):
        prefix = "ZPR" if number % 2 == 0 else "ZAP"
        sim.add_installation(f"Site {number}", per_installation, prefix=f"{prefix}{number:02d}")
    for charger in list(sim.chargers.values())[:charging]:
        sim.set_charger(charger.id, operating_mode=3, power_w=7000.0)
    return sim


async def use_zaptec_simulator(hass: HomeAssistant, url: str, servicebus_ca: str = "") -> None:
    """Point the integration at the simulated cloud served at `url` (as configuration.yaml).

    `servicebus_ca`: the simulator's Service Bus broker's CA, for push.
    """
    development = {CONF_ZAPTEC_API_URL: url}
    if servicebus_ca:
        development[CONF_ZAPTEC_SERVICEBUS_CA] = servicebus_ca
    assert await async_setup_component(hass, DOMAIN, {DOMAIN: development})


def zaptec_entry(sim: ZaptecSimulator) -> MockConfigEntry:
    """The config entry of the simulated account (not added yet); see use_zaptec_simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=sim.username,
        unique_id=sim.username,
        data={
            CONF_KIND: KIND_ZAPTEC,
            CONF_USERNAME: sim.username,
            CONF_PASSWORD: sim.password,
        },
    )


def ksem_entry(
    sim: KsemSimulator, url: str, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    """The config entry of the simulated meter at `url`, with a token it has authorized."""
    token = sim.create_token("Home Assistant (bench)")
    sim.authorize(token.jti)
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"KSEM {sim.serial}",
        unique_id=sim.serial,
        data={
            CONF_KIND: KIND_KSEM,
            CONF_HOST: url,
            CONF_TOKEN: token.jwt,
            "token_name": token.name,
        },
        options=options,
    )


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add the entry and set it up in real time (no frozen clock to move)."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


class Clock:
    """Simulated seconds: the frozen clock moves in steps, Home Assistant settles after each."""

    def __init__(self, hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
        """Start counting at 0 simulated seconds."""
        self.hass, self.freezer = hass, freezer
        self.now = 0.0

    async def settle(self) -> None:
        """Wait until Home Assistant has done what the step made due."""
        await self.hass.async_block_till_done(wait_background_tasks=True)

    async def step(self, seconds: float = STEP) -> None:
        """Move the clock, fire the timers due by then and settle."""
        self.freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(self.hass)
        await self.settle()
        self.now += seconds

    async def align(self) -> None:
        """Put the steps at x.25 s of the loop clock, so the polling stays on its schedule.

        Coordinators schedule at int(loop.time()) + 0.05..0.5 s + their interval, and
        async_fire_time_changed fires timers up to 0.5 s early: on a grid at x.55..x.99 a timer
        could run just before the whole second and a 15 s tick would drift to 14 s.
        """
        await self.step((0.25 - self.hass.loop.time()) % 1.0)

    async def run_until(self, when: float) -> None:
        """Step while the next step would still end at or before `when`."""
        while self.now + STEP <= when:
            await self.step()


class LoopbackClock(Clock):
    """A clock that never waits on itself: for requests a fault holds on the frozen clock.

    After each step the event loop runs every timer due by then (sleeps, timeouts, polling)
    and the clock waits, in real time, until the loopback traffic has settled.
    """

    def __init__(
        self, hass: HomeAssistant, freezer: FrozenDateTimeFactory, activity: Callable[[], int]
    ) -> None:
        """`activity` counts what the simulators and Home Assistant have done so far."""
        super().__init__(hass, freezer)
        self.activity = activity
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
        both: set[asyncio.Future[Any]] = {block, pause}
        await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        block.cancel()
        await asyncio.wait(both)
