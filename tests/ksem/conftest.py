"""Fixtures of the KSEM tests: the simulated meter on loopback, entries, aioresponses compat."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest.mock import Mock, PropertyMock, patch

import pytest
from aiohttp import ClientResponse
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from yarl import URL

from custom_components.ksem_zaptec.const import CONF_KIND, DOMAIN, KIND_KSEM
from custom_components.ksem_zaptec.ksem import const as ksem_const
from custom_components.ksem_zaptec.ksem.api import client as ksem_client
from simulator import server
from simulator.ksem import KsemSimulator

SERIAL = "76555758"


@dataclass(slots=True)
class RunningKsem:
    """A simulated meter served on 127.0.0.1:<port>."""

    sim: KsemSimulator
    url: str

    @property
    def host(self) -> str:
        """What a user types into the host field: `127.0.0.1:<port>`."""
        return self.url.removeprefix("http://")


class _CompatClientResponse(ClientResponse):
    """aioresponses 0.7.9 builds responses without aiohttp 3.14's `stream_writer` argument."""

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", Mock(output_size=0))
        super().__init__(method, url, **kwargs)


# aiohttp 3.14 (newest HA) added a required `stream_writer`; older aiohttp (oldest HA) has none.
_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(ClientResponse.__init__).parameters


@pytest.fixture(autouse=True)
def aioresponses_compat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let aioresponses run against the aiohttp version Home Assistant pins."""
    import aioresponses.core  # noqa: PLC0415

    if _NEEDS_STREAM_WRITER:
        monkeypatch.setattr(aioresponses.core, "ClientResponse", _CompatClientResponse)


@pytest.fixture(autouse=True)
def fast_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorten the pairing check, WebSocket backoff and POST spacing for fast tests."""
    monkeypatch.setattr(ksem_const, "PAIRING_CHECK_INTERVAL", 0.02)
    monkeypatch.setattr(ksem_client, "MIN_POST_INTERVAL", 0.0)
    from custom_components.ksem_zaptec.ksem import coordinator  # noqa: PLC0415

    monkeypatch.setattr(coordinator, "WS_BACKOFF_MIN", 0.05)
    monkeypatch.setattr(coordinator, "WS_BACKOFF_MAX", 0.2)


@pytest.fixture
async def ksem(socket_enabled: None) -> AsyncGenerator[RunningKsem]:
    """The simulated KSEM: fast pushes (20/s), no POST rate limit unless a test sets one."""
    sim = KsemSimulator(ws_interval=0.05, post_interval=0.0)
    running = await server.start(sim.app)
    yield RunningKsem(sim=sim, url=running.url)
    await sim.set_offline(offline=True)  # drop WebSockets before the server goes
    await running.stop()


def authorized_token(ksem: RunningKsem, name: str = "Home Assistant (Home)", **kw: Any) -> str:
    """A token the simulated meter has issued and the user has authorized."""
    token = ksem.sim.create_token(name, **kw)
    ksem.sim.authorize(token.jti)
    return token.jwt


@pytest.fixture
async def ksem_entry(hass: HomeAssistant, ksem: RunningKsem) -> AsyncGenerator[MockConfigEntry]:
    """A paired KSEM entry (authorized token) pointing at the simulator.

    Unloaded before the simulator stops, so no WebSocket reconnects into a closing server.
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"KSEM {SERIAL}",
        unique_id=SERIAL,
        data={
            CONF_KIND: KIND_KSEM,
            "host": ksem.host,
            "token": authorized_token(ksem),
            "token_name": "Home Assistant (Home)",
        },
    )
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry, waiting for its first data."""
    if entry.state is ConfigEntryState.NOT_LOADED and not hass.config_entries.async_get_entry(
        entry.entry_id
    ):
        entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def setup_polling_entry(
    hass: HomeAssistant, ksem: RunningKsem, entry: MockConfigEntry
) -> None:
    """Set up with a token the WebSocket refuses: once the push task gives up, only polls run."""
    ksem.sim.flags.websocket_accepts_api = False
    await setup_entry(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not entry.runtime_data.coordinator.push_connected


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create disabled-by-default entities enabled (the fixture core's tests share)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


async def next_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 5
) -> None:
    """Let the poll interval pass; the refresh runs as a background task (no push running)."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def wait_until(predicate: Callable[[], bool], seconds: float = 3) -> None:
    """Wait in real time for something the real sockets deliver (push, reconnects)."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - the condition lives in HA state, not an event
            await asyncio.sleep(0.02)
