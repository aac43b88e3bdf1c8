"""The push supervisor's decisions, on the frozen clock, with the receiver replaced.

The Service Bus side is a fake of `api.push.receive` (the api/ boundary): it opens at once and
hands out what a test puts in its queue (message bodies, or an exception that ends the
connection). The credentials come from the simulated cloud, through the real client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ksem_zaptec.zaptec import const
from custom_components.ksem_zaptec.zaptec import push as push_module
from custom_components.ksem_zaptec.zaptec.api import (
    ZaptecPushAuthenticationError,
    ZaptecPushConnectionError,
)
from custom_components.ksem_zaptec.zaptec.api.push import PushCredentials, PushTuning
from simulator.zaptec_model import nbfx_string

from .conftest import SimHandle

pytestmark = pytest.mark.usefixtures("freezer")

PUSH_SENSOR = "binary_sensor.home_push_connected"
DETAILS_PATH = "/messagingConnectionDetails"


class Topic:
    """The simulated cloud's subscription: credentials only (the fake bus delivers)."""

    def connection_details(self) -> dict[str, Any]:
        """What Zaptec's messagingConnectionDetails would answer."""
        return {
            "Type": 1,
            "Host": "sim.servicebus.windows.net",
            "Port": 5671,
            "UseSSL": True,
            "Username": "listen",
            "Password": "sas-key-0123",
            "Topic": "observations",
            "Subscription": "ha",
        }

    def publish(self, body: bytes) -> None:
        """Nothing: the tests put messages on the fake bus themselves."""


class FakeBus:
    """Stands in for `receive`: opens at once, yields queued bodies, raises queued errors."""

    def __init__(self) -> None:
        """Nothing queued, never opened."""
        self.queue: asyncio.Queue[bytes | BaseException] = asyncio.Queue()
        self.opened = 0
        self.closed = 0

    async def receive(
        self, credentials: PushCredentials, tuning: PushTuning, on_connected: Callable[[], None]
    ) -> AsyncIterator[bytes]:
        """Like `api.push.receive`."""
        self.opened += 1
        on_connected()
        try:
            while True:
                item = await self.queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.closed += 1


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> FakeBus:
    """The fake receiver, used by every supervisor the test starts."""
    fake = FakeBus()
    monkeypatch.setattr(push_module, "receive", fake.receive)
    return fake


@pytest.fixture
def push_account(zaptec_sim: SimHandle) -> SimHandle:
    """The simulated account with a message subscription on its installation."""
    zaptec_sim.sim.push = Topic()
    for installation in zaptec_sim.sim.installations.values():
        installation.messaging_enabled = True
    return zaptec_sim


async def settle(hass: HomeAssistant) -> None:
    """Let the push task's request to the simulator (real sockets) and its effects happen.

    The push task runs forever, so `async_block_till_done` cannot wait for it: yield to the
    loop until nothing is left to do for a while.
    """
    for _ in range(50):
        await hass.async_block_till_done()
        for _ in range(20):
            await asyncio.sleep(0)


async def step(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the clock, fire what is due, let everything settle."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await settle(hass)


async def ticks(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int) -> None:
    """`seconds` in steps of one state tick."""
    tick = int(const.STATE_TICK.total_seconds())
    for _ in range(seconds // tick):
        await step(hass, freezer, tick)


def reads(handle: SimHandle, serial: str) -> int:
    """State reads of one charger since the log was reset."""
    charger = handle.sim.charger_by_serial(serial)
    return Counter(r.path for r in handle.sim.requests)[f"/api/chargers/{charger.id}/state"]


def details_requests(handle: SimHandle) -> int:
    """Requests for the subscription's credentials."""
    return sum(DETAILS_PATH in r.path for r in handle.sim.requests)


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up (the fake bus connects at once)."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)


def observation(handle: SimHandle, serial: str, state_id: int, value: str) -> bytes:
    """A pushed message body for one charger."""
    charger = handle.sim.charger_by_serial(serial)
    return nbfx_string(
        json.dumps(
            {
                "ChargerId": charger.id,
                "StateId": state_id,
                "Timestamp": "2026-12-02T10:00:00Z",
                "ValueAsString": value,
            }
        )
    )


async def test_polling_is_a_slow_reconciliation_while_pushed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """Charging with push: one read in 10 minutes instead of ten; push down: read at once."""
    sim = push_account.sim
    sim.set_charger(sim.charger_by_serial("ZPR012345").id, operating_mode=3, power_w=7000.0)
    await setup(hass, zaptec_entry)
    assert hass.states.get(PUSH_SENSOR).state == STATE_ON
    sim.reset_requests()
    await ticks(hass, freezer, 10 * 60)
    assert reads(push_account, "ZPR012345") == 1  # the one due from before push came up

    # Pushed values show at once; an unknown charger's or an unread id's are ignored.
    bus.queue.put_nowait(observation(push_account, "ZPR012345", 513, "3500"))
    bus.queue.put_nowait(observation(push_account, "ZPR012345", 854, "x"))
    bus.queue.put_nowait(
        nbfx_string(
            json.dumps({"ChargerId": "00000000-0000-0000-0000-000000000000", "StateId": 710})
        )
    )
    await step(hass, freezer, 0)
    assert hass.states.get("sensor.garage_charge_power").state == "3500.0"

    sim.reset_requests()
    bus.queue.put_nowait(ZaptecPushConnectionError("gone"))
    await step(hass, freezer, 0)
    assert hass.states.get(PUSH_SENSOR).state == STATE_OFF
    assert reads(push_account, "ZPR012345") == 1  # polled at once
    assert hass.states.get("sensor.garage_charge_power").state == "7000.0"
    await step(hass, freezer, 5)  # the reconnect backoff
    assert hass.states.get(PUSH_SENSOR).state == STATE_ON
    assert bus.opened == 2
    assert details_requests(push_account) == 0  # the credentials that worked are reused


async def test_refused_credentials_are_read_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """The Service Bus refuses the key: new credentials after the backoff, backing off more."""
    await setup(hass, zaptec_entry)
    assert details_requests(push_account) == 1
    for attempt in range(3):
        bus.queue.put_nowait(ZaptecPushAuthenticationError("refused"))
        await step(hass, freezer, 0)
        await step(hass, freezer, 5 * 2**attempt)  # 5, 10, 20 s
        assert details_requests(push_account) == 2 + attempt
    assert bus.opened == 4


@pytest.mark.usefixtures("push_account")
async def test_a_bug_is_logged_once_and_push_goes_on(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unexpected exception does not end push for good (and is logged once)."""
    await setup(hass, zaptec_entry)
    for _ in range(2):
        bus.queue.put_nowait(RuntimeError("bug"))
        await step(hass, freezer, 0)
        await step(hass, freezer, 300)
    assert caplog.text.count("Zaptec push failed unexpectedly") == 1
    assert hass.states.get(PUSH_SENSOR).state == STATE_ON
    assert bus.opened == 3


async def test_stable_connection_resets_the_backoff(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """After a connection that lasted a minute, the next reconnect waits the base again."""
    await setup(hass, zaptec_entry)
    bus.queue.put_nowait(ZaptecPushConnectionError("drop"))
    await step(hass, freezer, 0)
    await step(hass, freezer, 5)
    assert bus.opened == 2
    await step(hass, freezer, 61)
    bus.queue.put_nowait(ZaptecPushConnectionError("drop"))
    await step(hass, freezer, 0)
    await step(hass, freezer, 5)
    assert bus.opened == 3


async def test_push_turned_off_and_on_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """The subscription disappears from the details: the receiver stops; back: it starts."""
    await setup(hass, zaptec_entry)
    installation = next(iter(push_account.sim.installations.values()))
    installation.messaging_enabled = False
    await step(hass, freezer, const.DETAILS_INTERVAL.total_seconds())
    assert hass.states.get(PUSH_SENSOR).state == STATE_OFF
    assert bus.closed == 1
    installation.messaging_enabled = True
    await step(hass, freezer, const.DETAILS_INTERVAL.total_seconds())
    assert hass.states.get(PUSH_SENSOR).state == STATE_ON
    assert bus.opened == 2


async def test_no_subscription_asks_again_hours_later(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """No credentials (404): polling only, one request; asked again after the recheck time."""
    topic = push_account.sim.push
    push_account.sim.push = None
    await setup(hass, zaptec_entry)
    assert details_requests(push_account) == 1
    assert hass.states.get(PUSH_SENSOR).state == STATE_OFF
    push_account.sim.push = topic
    await step(hass, freezer, const.PUSH_RECHECK_INTERVAL.total_seconds() / 2)
    assert details_requests(push_account) == 1
    await step(hass, freezer, const.PUSH_RECHECK_INTERVAL.total_seconds() / 2 + 1)
    assert details_requests(push_account) == 2
    assert hass.states.get(PUSH_SENSOR).state == STATE_ON


async def test_disabled_while_waiting_for_the_recheck(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """Push switched off while a recheck is pending: the recheck is dropped."""
    push_account.sim.push = None
    await setup(hass, zaptec_entry)
    next(iter(push_account.sim.installations.values())).messaging_enabled = False
    await step(hass, freezer, const.DETAILS_INTERVAL.total_seconds())
    await step(hass, freezer, const.PUSH_RECHECK_INTERVAL.total_seconds())
    assert details_requests(push_account) == 1
    assert bus.opened == 0


async def test_refused_login_ends_push(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """The password stopped working: push stops (reauth is the coordinators' business)."""
    await setup(hass, zaptec_entry)
    push_account.sim.password = "changed"
    push_account.sim.expire_tokens()
    bus.queue.put_nowait(ZaptecPushAuthenticationError("refused"))
    await step(hass, freezer, 0)
    await step(hass, freezer, 5)
    await hass.async_block_till_done(wait_background_tasks=True)  # the task has ended
    assert bus.opened == 1
    assert hass.states.get(PUSH_SENSOR).state == STATE_OFF
    logins = sum(r.path == "/oauth/token" for r in push_account.sim.requests)
    await step(hass, freezer, const.DETAILS_INTERVAL.total_seconds())
    assert bus.opened == 1  # a details refresh does not restart push before the recheck
    # Only the details refresh itself tried to log in (once), not push as well.
    assert sum(r.path == "/oauth/token" for r in push_account.sim.requests) <= logins + 1


async def test_without_the_sdk_polling_only(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """azure-servicebus missing: a warning, no task left, polling as without push."""
    monkeypatch.setitem(sys.modules, "azure.servicebus.aio", None)
    caplog.set_level(logging.WARNING)
    await setup(hass, zaptec_entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert caplog.text.count("Zaptec push not available: azure-servicebus") == 1
    await step(hass, freezer, const.DETAILS_INTERVAL.total_seconds())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert caplog.text.count("Zaptec push not available: azure-servicebus") == 1
    assert hass.states.get(PUSH_SENSOR).state == STATE_OFF
    assert hass.states.get("sensor.garage_charger_mode").state == "disconnected"


async def test_diagnostics_show_push_without_its_key(
    hass: HomeAssistant,
    *,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """The entry's diagnostics say which installations push and how many messages came."""
    await setup(hass, zaptec_entry)
    bus.queue.put_nowait(observation(push_account, "ZPR012345", 710, "2"))
    bus.queue.put_nowait(b"garbage")
    await step(hass, freezer, 0)
    installation = next(iter(push_account.sim.installations))
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, zaptec_entry)
    assert diagnostics["push"] == {
        "model": "installation",
        "enabled": [installation],
        "connected": [installation],
        "messages": 1,
        "undecodable": 1,
    }
    assert "sas-key-0123" not in json.dumps(diagnostics)


async def test_a_pushed_change_is_not_read_again_from_the_list(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    push_account: SimHandle,
    zaptec_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """Change detection: what push brought is no change when the list shows it later."""
    await setup(hass, zaptec_entry)
    # With push on every installation the list is read only as a reconciliation.
    every = int(max(const.LIST_INTERVAL, const.PUSH_RECONCILE_INTERVAL).total_seconds()) + 15
    await ticks(hass, freezer, every)
    sim = push_account.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=2, online=True)  # the list will show it
    bus.queue.put_nowait(observation(push_account, "ZPR012345", 710, "2"))
    bus.queue.put_nowait(observation(push_account, "ZPR012345", -2, "1"))
    await step(hass, freezer, 0)
    assert hass.states.get("sensor.garage_charger_mode").state == "connected_requesting"
    sim.reset_requests()
    await ticks(hass, freezer, every)
    assert any(r.path == "/api/chargers" for r in sim.requests)  # the list was read
    assert reads(push_account, "ZPR012345") == 0


# -- the user group's subscription (Zaptec's current model) -------------------------------

CABIN_SENSOR = "binary_sensor.cabin_push_connected"
GROUP_PATH = "/api/userGroups/"


def group_requests(handle: SimHandle) -> int:
    """Requests for the user group's credentials."""
    return sum(r.path.startswith(GROUP_PATH) for r in handle.sim.requests)


@pytest.fixture
def group_account(zaptec_sim: SimHandle) -> SimHandle:
    """The account's user group has a subscription; "Home" also has its own (older model)."""
    sim = zaptec_sim.sim
    sim.user_group_push = Topic()
    sim.push = Topic()
    for installation in sim.installations.values():
        installation.messaging_enabled = True
    sim.add_installation("Cabin", chargers=1)  # no subscription of its own
    return zaptec_sim


@pytest.fixture
def group_entry(zaptec_entry: MockConfigEntry, zaptec_sim: SimHandle) -> MockConfigEntry:
    """The account entry with the user group option set."""
    return MockConfigEntry(
        domain=zaptec_entry.domain,
        title=zaptec_entry.title,
        unique_id=zaptec_entry.unique_id,
        data=dict(zaptec_entry.data),
        options={const.CONF_PUSH_USER_GROUP: zaptec_sim.sim.user_group_id},
    )


async def test_user_group_covers_every_installation(
    hass: HomeAssistant,
    *,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    group_account: SimHandle,
    group_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """One receiver for the account; its messages reach every installation's chargers."""
    sim = group_account.sim
    sim.set_charger(sim.charger_by_serial("ZPR000000").id, operating_mode=3, power_w=7000.0)
    await setup(hass, group_entry)
    assert bus.opened == 1
    assert group_requests(group_account) == 1
    assert details_requests(group_account) == 1  # "Home"'s own subscription is not used
    assert hass.states.get(PUSH_SENSOR).state == STATE_ON
    assert hass.states.get(CABIN_SENSOR).state == STATE_ON

    # Every installation's chargers are polled only as a reconciliation (charging: one read
    # in 10 minutes, the one due from before push came up, instead of ten).
    sim.reset_requests()
    await ticks(hass, freezer, 10 * 60)
    assert reads(group_account, "ZPR000000") == 1

    # Messages for either installation apply; another account's charger and the zero id not.
    bus.queue.put_nowait(observation(group_account, "ZPR000000", 710, "2"))
    bus.queue.put_nowait(observation(group_account, "ZPR012345", 513, "1200"))
    for foreign in ("0b9e6e52-3d2c-4a8b-9c61-000000000001", "00000000-0000-0000-0000-000000000000"):
        bus.queue.put_nowait(
            nbfx_string(json.dumps({"ChargerId": foreign, "StateId": 710, "ValueAsString": "3"}))
        )
    await step(hass, freezer, 0)
    assert hass.states.get("sensor.cabin_1_charger_mode").state == "connected_requesting"
    assert hass.states.get("sensor.garage_charge_power").state == "1200.0"
    assert hass.states.get("sensor.driveway_charger_mode").state == "disconnected"

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, group_entry)
    installations = sorted(sim.installations)
    assert diagnostics["push"] == {
        "model": "user_group",
        "enabled": installations,
        "connected": installations,
        "messages": 4,
        "undecodable": 0,
    }

    # The connection ends: every installation is polled at once, and it reconnects.
    sim.reset_requests()
    bus.queue.put_nowait(ZaptecPushConnectionError("gone"))
    await step(hass, freezer, 0)
    assert hass.states.get(PUSH_SENSOR).state == STATE_OFF
    assert hass.states.get(CABIN_SENSOR).state == STATE_OFF
    assert reads(group_account, "ZPR000000") == 1
    await step(hass, freezer, 5)
    assert hass.states.get(CABIN_SENSOR).state == STATE_ON
    assert bus.opened == 2
    assert details_requests(group_account) == 0  # the credentials that worked are reused


async def test_user_group_refused_credentials_are_read_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    group_account: SimHandle,
    group_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """The Service Bus refuses the group's key: new credentials after a growing backoff."""
    await setup(hass, group_entry)
    for attempt in range(3):
        bus.queue.put_nowait(ZaptecPushAuthenticationError("refused"))
        await step(hass, freezer, 0)
        assert group_requests(group_account) == 1 + attempt
        await step(hass, freezer, 5 * 2**attempt - 1)
        assert group_requests(group_account) == 1 + attempt  # not before the backoff
        await step(hass, freezer, 1)
        assert group_requests(group_account) == 2 + attempt
    assert bus.opened == 4
    assert details_requests(group_account) == 4  # never an installation's


async def test_user_group_forbidden_polls(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    group_account: SimHandle,
    group_entry: MockConfigEntry,
    bus: FakeBus,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """403 for the group: logged once, polling (and an installation's own subscription)."""
    sim = group_account.sim
    sim.user_group_forbidden = True
    caplog.set_level(logging.INFO)
    await setup(hass, group_entry)
    assert group_requests(group_account) == 1
    # "Home" has its own subscription: used meanwhile; "Cabin" is polled as without push.
    assert bus.opened == 1
    assert hass.states.get(PUSH_SENSOR).state == STATE_ON
    assert hass.states.get(CABIN_SENSOR).state == STATE_OFF
    sim.reset_requests()
    sim.set_charger(sim.charger_by_serial("ZPR000000").id, operating_mode=2)
    await ticks(hass, freezer, int(const.LIST_INTERVAL.total_seconds()) + 15)
    assert hass.states.get("sensor.cabin_1_charger_mode").state == "connected_requesting"

    assert group_requests(group_account) == 0  # the log was reset after set-up
    await step(hass, freezer, const.PUSH_RECHECK_INTERVAL.total_seconds())
    assert group_requests(group_account) == 1
    assert caplog.text.count("no message subscription available") == 1
    assert bus.opened == 1  # a recheck does not disturb "Home"'s own receiver
    assert details_requests(group_account) == 1

    # Allowed again: at the next recheck the group takes over from the installation's.
    sim.user_group_forbidden = False
    await step(hass, freezer, const.PUSH_RECHECK_INTERVAL.total_seconds())
    assert group_requests(group_account) == 2
    assert bus.closed == 1  # "Home"'s own receiver stopped
    assert bus.opened == 2
    assert hass.states.get(CABIN_SENSOR).state == STATE_ON
    assert hass.states.get(PUSH_SENSOR).state == STATE_ON


async def test_user_group_forbidden_without_other_subscriptions(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    group_account: SimHandle,
    group_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """403 and no installation subscribes: polling only, no receiver, no request more."""
    sim = group_account.sim
    sim.user_group_forbidden = True
    for installation in sim.installations.values():
        installation.messaging_enabled = False
    await setup(hass, group_entry)
    assert bus.opened == 0
    assert hass.states.get(PUSH_SENSOR).state == STATE_OFF
    assert hass.states.get(CABIN_SENSOR).state == STATE_OFF
    await step(hass, freezer, const.DETAILS_INTERVAL.total_seconds())
    assert details_requests(group_account) == 1  # a details refresh does not ask again


async def test_user_group_covers_a_new_installation(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    group_account: SimHandle,
    group_entry: MockConfigEntry,
    bus: FakeBus,
) -> None:
    """An installation added later is covered by the same receiver (no request for it)."""
    await setup(hass, group_entry)
    sim = group_account.sim
    sim.add_installation("Barn", chargers=1, prefix="ZCS")
    barn = sim.charger_by_serial("ZCS000000")
    sim.set_charger(barn.id, operating_mode=3, power_w=7000.0)
    sim.reset_requests()
    await step(hass, freezer, const.INSTALLATION_LIST_INTERVAL.total_seconds())
    assert hass.states.get("binary_sensor.barn_push_connected").state == STATE_ON
    assert details_requests(group_account) == 0
    assert bus.opened == 1
    # Charging, but pushed: polled only as a reconciliation (ten reads in 10 min without).
    await ticks(hass, freezer, 60)
    sim.reset_requests()
    await ticks(hass, freezer, 10 * 60)
    assert reads(group_account, "ZCS000000") <= 1
    bus.queue.put_nowait(observation(group_account, "ZCS000000", 710, "2"))
    await step(hass, freezer, 0)
    assert hass.states.get("sensor.barn_1_charger_mode").state == "connected_requesting"
