"""Zaptec push end to end: Microsoft's SDK against the simulator's AMQP 1.0 broker.

Real sockets, real TLS (a test CA made per test), real time: no freezer here. The broker is
simulator/servicebus.py; the simulated cloud publishes every change of a charger's state to
it and serves the subscription's credentials.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from importlib.metadata import version
from pathlib import Path

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ksem_zaptec.const import CONF_KIND, DOMAIN, KIND_ZAPTEC
from custom_components.ksem_zaptec.zaptec import push as push_module
from custom_components.ksem_zaptec.zaptec.api.push import PushTuning
from custom_components.ksem_zaptec.zaptec.const import (
    CONF_PUSH_USER_GROUP,
    CONF_ZAPTEC_SERVICEBUS_CA,
)
from simulator.servicebus import ServiceBusBroker, make_certificates

from .conftest import SimHandle

PUSH_SENSOR = "binary_sensor.home_push_connected"
MODE_SENSOR = "sensor.garage_charger_mode"
DETAILS_PATH = "/messagingConnectionDetails"

# azure-servicebus before 7.15 (the oldest supported HA's venv has 7.10.0, the version HA's own
# azure_service_bus integration pins) sends a custom endpoint over AMQP-over-WebSockets, which
# the Proton broker does not speak: the end-to-end tests need the newer SDK.
SDK_VERSION = tuple(int(part) for part in version("azure-servicebus").split(".")[:2])
needs_broker_sdk = pytest.mark.skipif(
    SDK_VERSION < (7, 15), reason="this azure-servicebus reaches a custom endpoint by WebSocket"
)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[ServiceBusBroker]:
    """A running broker with a fresh test CA."""
    broker = ServiceBusBroker(make_certificates(tmp_path / "certs"))
    await asyncio.to_thread(broker.start)
    yield broker
    await asyncio.to_thread(broker.stop)


@pytest.fixture
def fast_push(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconnect within a second and let the SDK give up quickly (a restart test is short)."""
    monkeypatch.setattr(
        push_module,
        "TIMING",
        push_module.PushTiming(
            backoff_base=0.2,
            backoff_max=1.0,
            stable_after=60.0,
            sdk=PushTuning(retry_total=1, retry_backoff_factor=0.1, retry_backoff_max=0.5),
        ),
    )


@pytest.fixture
def zaptec_yaml(broker: ServiceBusBroker) -> dict[str, str]:
    """The development key that trusts the simulator's broker (as scripts/develop writes it)."""
    return {CONF_ZAPTEC_SERVICEBUS_CA: str(broker.certificates.ca_file)}


@pytest.fixture
def push_sim(zaptec_sim: SimHandle, broker: ServiceBusBroker, fast_push: None) -> SimHandle:
    """The simulated cloud with a message subscription on its installation."""
    sim = zaptec_sim.sim
    sim.push = broker
    for installation in sim.installations.values():
        installation.messaging_enabled = True
    return zaptec_sim


async def wait_for(condition: Callable[[], bool], within: float = 15.0) -> float:
    """Wait (real time) until `condition()` holds; returns the seconds it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"condition not met within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """The entity's state string (None when it does not exist)."""
    state = hass.states.get(entity_id)
    return None if state is None else state.state


def requests_to(handle: SimHandle, fragment: str) -> int:
    """How many requests the simulated cloud got whose path contains `fragment`."""
    return sum(fragment in request.path for request in handle.sim.requests)


async def setup_push(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up and wait until its push connection is open."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: state_of(hass, PUSH_SENSOR) == STATE_ON)


async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload (the push task ends with the entry)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


@needs_broker_sdk
async def test_push_brings_a_plugged_in_car_within_seconds(
    hass: HomeAssistant, push_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    """Car plugged in: the mode changes through push, without a state read."""
    await setup_push(hass, zaptec_entry)
    sim = push_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    assert state_of(hass, MODE_SENSOR) == "disconnected"
    assert requests_to(push_sim, DETAILS_PATH) == 1
    reads = requests_to(push_sim, "/state")

    sim.set_charger(garage.id, operating_mode=2)
    took = await wait_for(lambda: state_of(hass, MODE_SENSOR) == "connected_requesting")
    assert took < 2.0
    assert requests_to(push_sim, "/state") == reads  # it came by push, not by a poll

    # A value the integration reads elsewhere too: power while charging.
    sim.set_charger(garage.id, operating_mode=3, power_w=7360.0)
    await wait_for(lambda: state_of(hass, "sensor.garage_charge_power") == "7360.0")
    assert state_of(hass, MODE_SENSOR) == "connected_charging"
    await unload(hass, zaptec_entry)


@needs_broker_sdk
async def test_push_connected_entity_and_registry(
    hass: HomeAssistant, push_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    """One diagnostic "Push connected" entity per installation with push."""
    await setup_push(hass, zaptec_entry)
    entity = er.async_get(hass).async_get(PUSH_SENSOR)
    assert entity is not None
    assert entity.entity_category == "diagnostic"
    assert entity.translation_key == "zaptec_push_connected"
    await unload(hass, zaptec_entry)
    assert state_of(hass, PUSH_SENSOR) == "unavailable"


@needs_broker_sdk
async def test_broker_restart_reconnects_and_polls_meanwhile(
    hass: HomeAssistant,
    push_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    broker: ServiceBusBroker,
) -> None:
    """Broker down: push off and the chargers are read at once; back: push reconnects."""
    await setup_push(hass, zaptec_entry)
    sim = push_sim.sim
    reads = requests_to(push_sim, "/state")

    await asyncio.to_thread(broker.stop)
    await wait_for(lambda: state_of(hass, PUSH_SENSOR) == STATE_OFF, within=30)
    await wait_for(lambda: requests_to(push_sim, "/state") >= reads + 2)

    await asyncio.to_thread(broker.start)
    await wait_for(lambda: state_of(hass, PUSH_SENSOR) == STATE_ON, within=30)
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=2)
    await wait_for(lambda: state_of(hass, MODE_SENSOR) == "connected_requesting", within=5)
    await unload(hass, zaptec_entry)


@needs_broker_sdk
async def test_rotated_credentials_are_read_again(
    hass: HomeAssistant,
    push_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    broker: ServiceBusBroker,
) -> None:
    """A new key: the old token is refused, the supervisor reads the new credentials."""
    await setup_push(hass, zaptec_entry)
    sim = push_sim.sim
    assert requests_to(push_sim, DETAILS_PATH) == 1

    broker.rotate_key()
    broker.disconnect_all()
    await wait_for(lambda: requests_to(push_sim, DETAILS_PATH) >= 2, within=30)
    await wait_for(lambda: state_of(hass, PUSH_SENSOR) == STATE_ON, within=30)
    assert 401 in broker.token_checks  # the old key was refused before

    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=2)
    await wait_for(lambda: state_of(hass, MODE_SENSOR) == "connected_requesting", within=5)
    await unload(hass, zaptec_entry)


@needs_broker_sdk
async def test_undecodable_and_foreign_messages_are_skipped(
    hass: HomeAssistant,
    push_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    broker: ServiceBusBroker,
) -> None:
    """Garbage and observations of other chargers do not disturb the receiver."""
    await setup_push(hass, zaptec_entry)
    push = zaptec_entry.runtime_data.push
    assert push is not None
    broker.publish(b"\x00not nbfx")
    garage = push_sim.sim.charger_by_serial("ZPR012345")
    push_sim.sim.set_charger(garage.id, operating_mode=5)
    await wait_for(lambda: state_of(hass, MODE_SENSOR) == "connected_finished")
    assert push.undecodable == 1
    assert state_of(hass, PUSH_SENSOR) == STATE_ON
    await unload(hass, zaptec_entry)


async def test_push_unavailable_polls_as_today(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry, fast_push: None
) -> None:
    """Subscription announced but no credentials: push stays off, polling goes on."""
    for installation in zaptec_sim.sim.installations.values():
        installation.messaging_enabled = True  # but the cloud has no topic for it
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    # No task is left waiting (a timer asks again hours later): this returns.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert requests_to(zaptec_sim, DETAILS_PATH) == 1
    assert state_of(hass, PUSH_SENSOR) == STATE_OFF
    assert state_of(hass, MODE_SENSOR) == "disconnected"
    await unload(hass, zaptec_entry)


async def test_without_subscription_no_request_and_no_entity(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    """The default account (no MessagingEnabled) costs no request and has no push entity."""
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert requests_to(zaptec_sim, DETAILS_PATH) == 0
    assert hass.states.get(PUSH_SENSOR) is None
    await unload(hass, zaptec_entry)


@needs_broker_sdk
async def test_user_group_push_brings_a_plugged_in_car_within_seconds(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    broker: ServiceBusBroker,
    fast_push: None,
) -> None:
    """Current model: the user group's subscription, no installation subscribes by itself."""
    sim = zaptec_sim.sim
    sim.user_group_push = broker  # zaptec_yaml (above) trusts the broker's CA
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=sim.username,
        unique_id=sim.username,
        data={CONF_KIND: KIND_ZAPTEC, CONF_USERNAME: sim.username, CONF_PASSWORD: sim.password},
        options={CONF_PUSH_USER_GROUP: sim.user_group_id},
    )
    await setup_push(hass, entry)
    assert requests_to(zaptec_sim, f"/api/userGroups/{sim.user_group_id}{DETAILS_PATH}") == 1
    assert requests_to(zaptec_sim, DETAILS_PATH) == 1
    reads = requests_to(zaptec_sim, "/state")

    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=2)
    took = await wait_for(lambda: state_of(hass, MODE_SENSOR) == "connected_requesting")
    assert took < 2.0
    assert requests_to(zaptec_sim, "/state") == reads  # it came by push, not by a poll
    await unload(hass, entry)
