"""Zaptec push: how fast a change arrives, and how many requests polling still sends.

Run with `python -m bench.scenarios push` (Home Assistant's test harness):

- freshness, in real time: the simulated cloud publishes every change of a charger's state to
  the simulator's AMQP 1.0 broker (Qpid Proton, TLS with a test CA); Microsoft's SDK receives
  it in Home Assistant. A car is plugged in (operating mode 1 -> 2) and the time until the
  charger mode sensor shows it is measured (median and worst over the trials), together with
  the time from set-up to the push connection and the requests sent during the trials;
- a simulated hour per scenario with push connected (the receiver is a quiet stand-in, since
  a frozen clock and the SDK's real sockets do not mix): the requests polling still sends as
  a reconciliation.

It prints tables; nothing is written anywhere.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from bench.harness import (
    Clock,
    Rows,
    set_up,
    use_zaptec_simulator,
    zaptec_entry,
    zaptec_simulator,
)
from custom_components.ksem_zaptec.const import DOMAIN
from custom_components.ksem_zaptec.zaptec import push as push_module
from custom_components.ksem_zaptec.zaptec.const import CONF_PUSH_USER_GROUP
from simulator.server import RunningServer
from simulator.servicebus import ServiceBusBroker, make_certificates

Serve = Callable[[web.Application], Awaitable[RunningServer]]

TRIALS = 50
NO_RATE_LIMIT = 10**9
HOURS = {
    "1 installation, 2 idle chargers, push": (1, 2, 0),
    "1 installation, 2 charging chargers, push": (1, 2, 2),
    "10 installations, 250 chargers, 50 charging, push": (10, 250, 50),
    "10 installations, 250 chargers, 50 charging, user-group push": (10, 250, 50),
}
# Push by the user group's subscription (the option) instead of the installations' own.
MODELS = ("installation", "user group")

ROWS: Rows = []


def _with_user_group(entry: MockConfigEntry, user_group_id: str) -> MockConfigEntry:
    """The same entry with the user group option set."""
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options={CONF_PUSH_USER_GROUP: user_group_id},
    )


async def _until(condition: Callable[[], bool], limit: float = 30.0) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit:
            raise AssertionError("condition not met")
        await asyncio.sleep(0.001)
    return time.monotonic() - start


@pytest.mark.parametrize("model", MODELS)
async def test_push_freshness(
    hass: HomeAssistant, serve: Serve, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    """Real time: car plugged in -> charger mode, through the broker and the SDK."""
    with tempfile.TemporaryDirectory() as directory:
        broker = ServiceBusBroker(make_certificates(Path(directory)))
        await asyncio.to_thread(broker.start)
        try:
            sim = zaptec_simulator(1, 2, 0, rate_limit=NO_RATE_LIMIT)
            entry = zaptec_entry(sim)
            if model == "user group":
                sim.user_group_push = broker
                entry = _with_user_group(entry, sim.user_group_id)
            else:
                sim.push = broker
                for installation in sim.installations.values():
                    installation.messaging_enabled = True
            srv = await serve(sim.app)
            await use_zaptec_simulator(hass, srv.url, str(broker.certificates.ca_file))
            started = time.monotonic()
            entry = await set_up(hass, entry)
            push = entry.runtime_data.push
            assert push is not None
            await _until(lambda: bool(push.connected))
            connect = time.monotonic() - started
            charger = next(iter(sim.chargers.values()))
            registry = er.async_get(hass)
            entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{charger.id}_charger_mode")
            assert entity_id is not None

            def shows(value: str) -> Callable[[], bool]:
                return lambda: (
                    (state := hass.states.get(entity_id)) is not None and (state.state == value)
                )

            sim.reset_requests()
            delays: list[float] = []
            for _ in range(TRIALS):
                sim.set_charger(charger.id, operating_mode=2)
                delays.append(await _until(shows("connected_requesting")))
                sim.set_charger(charger.id, operating_mode=1)
                await _until(shows("disconnected"))
            ROWS.append(
                {
                    "name": f"push ({model}): car plugged in -> charger mode (real time)",
                    "median": statistics.median(delays),
                    "worst": max(delays),
                    "trials": len(delays),
                    "connect": connect,
                    "requests": len(sim.requests),
                }
            )
            assert await hass.config_entries.async_unload(entry.entry_id)
        finally:
            await asyncio.to_thread(broker.stop)


class _PushClock(Clock):
    """The stepped clock, settling without waiting for the push tasks (they run forever)."""

    async def settle(self) -> None:
        for _ in range(100):
            await self.hass.async_block_till_done()
            pending = [
                task
                for task in self.hass._background_tasks  # noqa: SLF001 - no public view
                if not task.done()
                and not (
                    isinstance(task, asyncio.Task) and task.get_name().startswith("zaptec push")
                )
            ]
            if not pending:
                return
            await asyncio.wait(pending)


async def _quiet_receive(
    credentials: object, tuning: object, on_connected: Callable[[], None]
) -> AsyncIterator[bytes]:
    """A push connection that is up and brings nothing (the hour counts polling only)."""
    on_connected()
    await asyncio.Event().wait()
    yield b""  # pragma: no cover - never reached


@pytest.mark.usefixtures("unlimited_client")
@pytest.mark.parametrize("name", list(HOURS))
async def test_hour_with_push(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    """One simulated hour with every installation's push connected."""

    class Topic:
        def connection_details(self) -> dict[str, Any]:
            return {
                "Host": "sim.servicebus.windows.net",
                "Username": "listen",
                "Password": "key",
                "Topic": "observations",
                "Subscription": "ha",
            }

        def publish(self, body: bytes) -> None:
            """Nothing: the quiet stand-in receives nothing."""

    monkeypatch.setattr(push_module, "receive", _quiet_receive)
    sim = zaptec_simulator(*HOURS[name], rate_limit=NO_RATE_LIMIT)
    entry = zaptec_entry(sim)
    if "user-group" in name:
        sim.user_group_push = Topic()
        entry = _with_user_group(entry, sim.user_group_id)
    else:
        sim.push = Topic()
        for installation in sim.installations.values():
            installation.messaging_enabled = True
    srv = await serve(sim.app)
    await use_zaptec_simulator(hass, srv.url)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    clock = _PushClock(hass, freezer)
    push = entry.runtime_data.push
    assert push is not None
    # Let every push connection come up before the clock moves (the credentials requests
    # are real round trips: a step during one would time it out on the frozen clock).
    for _ in range(100_000):
        if len(push.connected) == len(sim.installations):
            break
        await asyncio.sleep(0)
    await clock.step(0)
    setup_requests = len(sim.requests)
    sim.reset_requests()
    for _ in range(3600 // 15):
        await clock.step(15)
    assert len(push.connected) == len(sim.installations)
    kinds = Counter(
        "state"
        if r.path.endswith("/state")
        else "push credentials"
        if r.path.endswith("/messagingConnectionDetails")
        else "other"
        for r in sim.requests
    )
    ROWS.append({"name": name, "setup": setup_requests, "hour": len(sim.requests), "kinds": kinds})
    await hass.config_entries.async_unload(entry.entry_id)


def print_tables(rows: Rows) -> None:
    """Freshness with push, and the requests polling still sends."""
    for row in rows:
        if "median" in row:
            print(
                f"{row['name']}: median {row['median'] * 1000:.1f} ms, worst "
                f"{row['worst'] * 1000:.1f} ms over {row['trials']} trials; set-up to push "
                f"connected {row['connect']:.2f} s; {row['requests']} requests to the cloud "
                "during the trials"
            )
    print(f"\n{'simulated hour, push connected':62} {'setup':>6} {'per hour':>9}  by kind")
    for row in rows:
        if "hour" in row:
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(row["kinds"].items()))
            print(f"{row['name']:62} {row['setup']:>6} {row['hour']:>9}  {kinds}")
