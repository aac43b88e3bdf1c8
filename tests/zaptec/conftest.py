"""Fixtures of the Zaptec tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ksem_zaptec.const import CONF_KIND, DOMAIN, KIND_ZAPTEC
from custom_components.ksem_zaptec.zaptec.api import ClientTuning, ZaptecClient
from custom_components.ksem_zaptec.zaptec.const import CONF_ZAPTEC_API_URL
from simulator import server
from simulator.zaptec import ZaptecSimulator


@dataclass(slots=True)
class SimHandle:
    """The running simulator and its base URL."""

    sim: ZaptecSimulator
    url: str


# -- Home Assistant side -----------------------------------------------------------------

# No waiting in HA tests: the frozen clock (freezer) would never let a real sleep end. The
# client's retries and waits are tested in test_api_client.py.
FAST_TUNING = ClientTuning(rate=1000, confirm_delay=0)


def with_tuning(monkeypatch: pytest.MonkeyPatch, tuning: ClientTuning) -> None:
    """Every client the integration creates gets `tuning` (a constructor argument)."""
    real_init = ZaptecClient.__init__

    def init(self: ZaptecClient, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **{**kwargs, "tuning": tuning})

    monkeypatch.setattr(ZaptecClient, "__init__", init)


@pytest.fixture(autouse=True)
def fast_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real limits (5 requests/s, 2 s confirmation) would wait on the frozen clock."""
    with_tuning(monkeypatch, FAST_TUNING)


@pytest.fixture
def zaptec_yaml() -> dict[str, str]:
    """More of the development keys of configuration.yaml (push tests: the broker's CA)."""
    return {}


@pytest.fixture
async def zaptec_sim(
    hass: HomeAssistant, socket_enabled: None, zaptec_yaml: dict[str, str]
) -> AsyncIterator[SimHandle]:
    """The simulated Zaptec cloud on a loopback port; the integration is pointed at it."""
    # HA tests freeze time (freezer): the simulator's one-second window would never slide,
    # so its rate limit is off here; rate-limit tests inject 429s explicitly.
    sim = ZaptecSimulator(advance_energy=False, rate_limit=1_000_000)
    running = await server.start(sim.app)
    # The development instance's way (configuration.yaml), not a hook in the product code.
    assert await async_setup_component(
        hass, DOMAIN, {DOMAIN: {CONF_ZAPTEC_API_URL: running.url, **zaptec_yaml}}
    )
    yield SimHandle(sim, running.url)
    await running.stop()


@pytest.fixture
def zaptec_entry(zaptec_sim: SimHandle) -> MockConfigEntry:
    """A Zaptec account entry for the simulator's default account."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=zaptec_sim.sim.username,
        unique_id=zaptec_sim.sim.username,
        data={
            CONF_KIND: KIND_ZAPTEC,
            CONF_USERNAME: zaptec_sim.sim.username,
            CONF_PASSWORD: zaptec_sim.sim.password,
        },
    )


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, zaptec_entry: MockConfigEntry) -> MockConfigEntry:
    """The entry set up against the simulator."""
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    return zaptec_entry


def garage_charging(sim: ZaptecSimulator) -> None:
    """The Pro charges a car authorized through the app by the installation's owner."""
    owner = sim.installations[next(iter(sim.installations))].to_json()["InstallationUsers"][0]
    sim.set_charger(
        sim.charger_by_serial("ZPR012345").id,
        operating_mode=3,
        power_w=7360.0,
        session_kwh=3.25,
        meter_kwh=1250.75,
        current_user=f"ble-{owner['UserId']}",
    )


@pytest.fixture
def platforms() -> list[Platform]:
    """All platforms; snapshot tests narrow it to one."""
    return [
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.NUMBER,
        Platform.SENSOR,
        Platform.SWITCH,
        Platform.UPDATE,
    ]


@pytest.fixture
async def all_entities_entry(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    platforms: list[Platform],
) -> MockConfigEntry:
    """The entry loaded with `platforms` only and every entity enabled (for snapshots)."""
    garage_charging(zaptec_sim.sim)
    zaptec_entry.add_to_hass(hass)
    with patch("custom_components.ksem_zaptec.zaptec.entry.PLATFORMS", platforms):
        assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
        await hass.async_block_till_done()
        registry = er.async_get(hass)
        disabled = [
            e.entity_id
            for e in er.async_entries_for_config_entry(registry, zaptec_entry.entry_id)
            if e.disabled_by is not None
        ]
        for entity_id in disabled:
            registry.async_update_entity(entity_id, disabled_by=None)
        if disabled:
            assert await hass.config_entries.async_reload(zaptec_entry.entry_id)
            await hass.async_block_till_done()
    return zaptec_entry


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the clock and let scheduled refreshes (background tasks) finish."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
