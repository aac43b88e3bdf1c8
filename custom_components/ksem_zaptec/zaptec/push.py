"""Zaptec push: one supervised Service Bus receiver per installation that has a subscription.

Only installations whose details say `MessagingEnabled` are tried, so an account without push
costs no request more than before. For each, a background task of the entry:

1. reads the subscription's credentials (`GET /api/installation/{id}/messagingConnectionDetails`,
   a normal request of the client: budget, account pause and reauth apply);
2. receives with Microsoft's SDK and applies every observation to the state coordinator
   (the same model a state read fills), and marks the installation as pushed, so its chargers
   are polled only as a slow reconciliation;
3. when the connection ends: the chargers are polled at once, and it reconnects after a
   backoff (5 s doubling to 5 min; reset after a connection that lasted a minute). Fresh
   credentials are read after the Service Bus refused them, or when a connection could not
   be opened at all (a test broker reports refused credentials that way), never more often
   than the backoff allows.

No subscription (an error reply to the credentials request), no SDK or a refused login: push
stays off for that installation and polling works as without push; push is tried again after
`PUSH_RECHECK_INTERVAL` (by a timer, not a sleeping task), not at every details refresh.

User group (Zaptec's current model, the `push_user_group` option): ONE receiver for the whole
account, credentials from `GET /api/userGroups/{id}/messagingConnectionDetails`, supervised
exactly like an installation's. Its messages name the charger; only the account's own chargers
are applied (the state coordinator ignores any other id). While it is wanted, it counts as push
for every installation and no installation is connected separately. When the group has no
subscription (403/404...), that is logged once, the installations' own subscriptions (if any)
are used as without the option, and the group is tried again after `PUSH_RECHECK_INTERVAL`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from ..backoff import ReconnectBackoff
from ..const import LOGGER
from . import const
from .api import (
    ZaptecAuthenticationError,
    ZaptecClient,
    ZaptecConnectionError,
    ZaptecError,
    ZaptecPushAuthenticationError,
    ZaptecPushConnectionError,
    ZaptecPushMessageError,
    ZaptecPushUnavailableError,
)
from .api.push import PushCredentials, PushTuning, decode_message, receive
from .coordinator import (
    SERVICEBUS_CA,
    ZaptecConfigEntry,
    ZaptecDetailsCoordinator,
    ZaptecStateCoordinator,
)


@dataclass(frozen=True, slots=True)
class PushTiming:
    """Reconnect timings of the supervisor, seconds (tests shorten them)."""

    backoff_base: float = 5.0
    backoff_max: float = 300.0
    stable_after: float = 60.0  # a connection this old resets the backoff
    sdk: PushTuning = field(default_factory=PushTuning)


TIMING = PushTiming()

# The key of the user group's receiver (installation ids are GUIDs: never equal to it).
USER_GROUP: Final = "user_group"


class PushSupervisor:
    """The push connections of one account entry.

    A receiver is keyed by an installation id (older model) or by `USER_GROUP`.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ZaptecConfigEntry,
        client: ZaptecClient,
        details: ZaptecDetailsCoordinator,
        state: ZaptecStateCoordinator,
    ) -> None:
        """Nothing runs before `async_sync`."""
        self.hass = hass
        self.entry = entry
        self.client = client
        self.details = details
        self.state = state
        self.user_group: str | None = entry.options.get(const.CONF_PUSH_USER_GROUP) or None
        self.messages = 0
        self.undecodable = 0
        self._bug_logged = False
        self._group_unavailable_logged = False
        # The group has no subscription: the installations' own are used until the recheck.
        self._group_fallback = False
        self._live: set[str] = set()  # keys with an open receiver
        self._pushed: set[str] = set()  # installations the state coordinator treats as pushed
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._unavailable: dict[str, CALLBACK_TYPE] = {}  # key -> recheck timer

    @property
    def _installations(self) -> set[str]:
        return set(self.details.data.installations)

    @property
    def enabled(self) -> set[str]:
        """Installations push may cover: all with a user group, else those with MessagingEnabled."""
        if self.user_group is not None:
            return self._installations
        return self._subscribed

    @property
    def _subscribed(self) -> set[str]:
        """Installations whose details say push is enabled (older model)."""
        return {i.id for i in self.details.data.installations.values() if i.messaging_enabled}

    @property
    def model(self) -> str:
        """Which subscription is used: `user_group` or `installation` (diagnostics)."""
        if self.user_group is not None and not self._group_fallback:
            return USER_GROUP
        return "installation"

    @property
    def _wanted(self) -> set[str]:
        """The receivers that should run: the user group's, or the installations' own.

        While the group has no subscription, the installations' own run; a recheck of the
        group (its task) runs beside them until the group's receiver opens.
        """
        if self.user_group is None:
            return self._subscribed
        if not self._group_fallback:
            return {USER_GROUP}
        return self._subscribed | ({USER_GROUP} & self._tasks.keys())

    @property
    def connected(self) -> set[str]:
        """Installation ids that an open receiver covers."""
        if USER_GROUP in self._live:
            return self._installations
        return self._live & self._installations

    def is_connected(self, installation_id: str) -> bool:
        """Whether a push connection covering the installation is up."""
        return installation_id in self.connected

    @callback
    def async_sync(self) -> None:
        """Start the receivers that are wanted, stop the others."""
        wanted = self._wanted
        for key in set(self._tasks) - wanted:
            self._tasks.pop(key).cancel()
            self._live.discard(key)
        for key in set(self._unavailable) - wanted - {USER_GROUP}:
            self._unavailable.pop(key)()
        for key in wanted - self._tasks.keys() - self._unavailable.keys():
            self._start(key)
        self._publish()

    @callback
    def async_stop(self) -> None:
        """On unload: cancel the timers (the entry cancels its background tasks itself)."""
        for unsub in self._unavailable.values():
            unsub()
        self._unavailable.clear()
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()

    @callback
    def _start(self, key: str) -> None:
        self._tasks[key] = self.entry.async_create_background_task(
            self.hass, self._supervise(key), f"zaptec push {key}"
        )

    @callback
    def _set_connected(self, key: str, *, connected: bool) -> None:
        if connected == (key in self._live):
            return
        if connected:
            self._live.add(key)
        else:
            self._live.discard(key)
        if key == USER_GROUP and connected and self._group_fallback:
            self._group_fallback = False
            self.async_sync()  # the group covers all now: the installations' own stop
        self._publish()

    @callback
    def _publish(self) -> None:
        """Tell the state coordinator and the "Push connected" entities what push covers."""
        covered = self.connected
        if covered == self._pushed:
            return
        down = self._pushed - covered
        for installation_id in covered - self._pushed:
            self.state.async_set_push(installation_id, connected=True)
        for installation_id in down:
            self.state.async_set_push(installation_id, connected=False)
        self._pushed = covered
        if down:
            # Poll the chargers that push no longer covers.
            self.hass.async_create_task(self.state.async_request_refresh(), eager_start=False)
        self.details.async_update_listeners()  # the "Push connected" entities

    @callback
    def _retry_later(self, key: str) -> None:
        @callback
        def _again(_now: datetime) -> None:
            self._unavailable.pop(key, None)
            if key == USER_GROUP and self._group_fallback and key not in self._tasks:
                self._start(USER_GROUP)  # a recheck; the installations' own go on meanwhile
            self.async_sync()

        self._unavailable[key] = async_call_later(self.hass, const.PUSH_RECHECK_INTERVAL, _again)

    async def _credentials(self, key: str) -> PushCredentials | None:
        """The subscription's credentials; None: push is not available (checked later)."""
        try:
            if key == USER_GROUP and self.user_group is not None:
                return await self.client.get_user_group_messaging_details(self.user_group)
            return await self.client.get_messaging_details(key)
        except ZaptecAuthenticationError, ZaptecConnectionError:
            raise
        except ZaptecError as err:
            if key != USER_GROUP:
                name = self.details.data.installations[key].name
                LOGGER.info(
                    "Zaptec installation %s: push not available (%s); polling only", name, err
                )
                return None
            self._group_fallback = True
            if not self._group_unavailable_logged:
                self._group_unavailable_logged = True
                LOGGER.warning(
                    "Zaptec user group %s: no message subscription available (%s); using the "
                    "installations' own subscriptions, if any, and polling",
                    self.user_group,
                    err,
                )
            return None

    async def _supervise(self, key: str) -> None:
        """Connect, and reconnect with backoff, until cancelled or push is not available."""
        backoff = ReconnectBackoff(TIMING.backoff_base, TIMING.backoff_max, TIMING.stable_after)
        credentials: PushCredentials | None = None
        try:
            while True:
                try:
                    outcome = await self._attempt(key, credentials)
                finally:
                    self._set_connected(key, connected=False)
                if outcome is None:
                    return
                credentials, opened_at = outcome
                connected_for = None if opened_at is None else time.monotonic() - opened_at
                await asyncio.sleep(backoff.wait(connected_for))
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
            if key == USER_GROUP and self._group_fallback:
                self.async_sync()  # the installations' own subscriptions, meanwhile

    async def _attempt(
        self, key: str, credentials: PushCredentials | None
    ) -> tuple[PushCredentials | None, float | None] | None:
        """One connection, never raising.

        None: stop (push is not available here). Otherwise the credentials to use next time
        (None: read new ones) and when the connection opened (None: it never did).
        """
        try:
            if credentials is None:
                credentials = await self._credentials(key)
                if credentials is None:
                    self._retry_later(key)
                    return None
            opened_at = await self._receive(key, credentials)
        except ZaptecAuthenticationError:
            # The login itself was refused: the coordinators start reauth; a details refresh
            # must not restart push (and log in again) before the recheck.
            self._retry_later(key)
            return None
        except ZaptecPushUnavailableError as err:
            LOGGER.warning("Zaptec push not available: %s; polling only", err)
            self._retry_later(key)
            return None
        except (ZaptecPushAuthenticationError, ZaptecConnectionError) as err:
            # Refused credentials, or the credentials request failed (the client paused
            # the account): read them again after the backoff.
            LOGGER.info("Zaptec push: %s; trying again with new credentials", err)
            return None, None
        except Exception:  # noqa: BLE001 - a bug must not end push for good
            if not self._bug_logged:
                LOGGER.exception("Zaptec push failed unexpectedly; reconnecting")
                self._bug_logged = True
            return None, None
        # A connection that never opened may have been refused (a custom endpoint reports
        # refused credentials as a connection error): read them again next time.
        return (credentials if opened_at is not None else None), opened_at

    async def _receive(self, key: str, credentials: PushCredentials) -> float | None:
        """One connection: apply messages until it ends; returns when it opened (monotonic)."""
        tuning = replace(TIMING.sdk, ca_file=self.hass.data.get(SERVICEBUS_CA))
        opened: list[float] = []

        def _opened() -> None:
            opened.append(time.monotonic())
            self._set_connected(key, connected=True)

        try:
            async for body in receive(credentials, tuning, _opened):
                self._take(body)
        except ZaptecPushAuthenticationError:
            raise
        except ZaptecPushConnectionError as err:
            LOGGER.info("Zaptec push connection ended: %s", err)
        return opened[0] if opened else None

    @callback
    def _take(self, body: bytes) -> None:
        try:
            pushed = decode_message(body)
        except ZaptecPushMessageError as err:
            self.undecodable += 1
            LOGGER.debug("Zaptec push: message skipped: %s", err)
            return
        self.messages += 1
        self.state.async_apply_push(pushed)
