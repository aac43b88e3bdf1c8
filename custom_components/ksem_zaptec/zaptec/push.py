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
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

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


def reconnect_backoff(failures: int, timing: PushTiming) -> float:
    """Seconds before the n-th reconnect in a row: doubling from the base, capped."""
    return min(timing.backoff_base * 2.0 ** min(max(failures - 1, 0), 16), timing.backoff_max)


class PushSupervisor:
    """The push connections of one account entry, one per installation with a subscription."""

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
        self.connected: set[str] = set()  # installation ids with a live receiver
        self.messages = 0
        self.undecodable = 0
        self._bug_logged = False
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._unavailable: dict[str, CALLBACK_TYPE] = {}  # installation id -> recheck timer

    @property
    def enabled(self) -> set[str]:
        """Installations whose details say push is enabled."""
        return {i.id for i in self.details.data.installations.values() if i.messaging_enabled}

    def is_connected(self, installation_id: str) -> bool:
        """Whether the installation's push connection is up."""
        return installation_id in self.connected

    @callback
    def async_sync(self) -> None:
        """Start receivers for installations with push, stop those of the others."""
        enabled = self.enabled
        for installation_id in enabled - self._tasks.keys() - self._unavailable.keys():
            self._start(installation_id)
        for installation_id in set(self._tasks) - enabled:
            self._tasks.pop(installation_id).cancel()
            self._set_connected(installation_id, connected=False)
        for installation_id in set(self._unavailable) - enabled:
            self._unavailable.pop(installation_id)()

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
    def _start(self, installation_id: str) -> None:
        self._tasks[installation_id] = self.entry.async_create_background_task(
            self.hass, self._supervise(installation_id), f"zaptec push {installation_id}"
        )

    @callback
    def _set_connected(self, installation_id: str, *, connected: bool) -> None:
        if connected == (installation_id in self.connected):
            return
        if connected:
            self.connected.add(installation_id)
        else:
            self.connected.discard(installation_id)
        self.state.async_set_push(installation_id, connected)
        if not connected:
            # Poll the chargers that push no longer covers.
            self.hass.async_create_task(self.state.async_request_refresh(), eager_start=False)
        self.details.async_update_listeners()  # the "Push connected" entities

    @callback
    def _retry_later(self, installation_id: str) -> None:
        @callback
        def _again(_now: datetime) -> None:
            self._unavailable.pop(installation_id, None)
            self.async_sync()

        self._unavailable[installation_id] = async_call_later(
            self.hass, const.PUSH_RECHECK_INTERVAL, _again
        )

    async def _credentials(self, installation_id: str) -> PushCredentials | None:
        """The subscription's credentials; None: push is not available (checked later)."""
        name = self.details.data.installations[installation_id].name
        try:
            return await self.client.get_messaging_details(installation_id)
        except ZaptecAuthenticationError, ZaptecConnectionError:
            raise
        except ZaptecError as err:
            LOGGER.info("Zaptec installation %s: push not available (%s); polling only", name, err)
            return None

    async def _supervise(self, installation_id: str) -> None:
        """Connect, and reconnect with backoff, until cancelled or push is not available."""
        failures = 0
        credentials: PushCredentials | None = None
        try:
            while True:
                try:
                    outcome = await self._attempt(installation_id, credentials)
                finally:
                    self._set_connected(installation_id, connected=False)
                if outcome is None:
                    return
                credentials, opened_at = outcome
                if opened_at is not None and time.monotonic() - opened_at >= TIMING.stable_after:
                    failures = 0
                failures += 1
                await asyncio.sleep(reconnect_backoff(failures, TIMING))
        finally:
            self._tasks.pop(installation_id, None)

    async def _attempt(
        self, installation_id: str, credentials: PushCredentials | None
    ) -> tuple[PushCredentials | None, float | None] | None:
        """One connection, never raising.

        None: stop (push is not available here). Otherwise the credentials to use next time
        (None: read new ones) and when the connection opened (None: it never did).
        """
        try:
            if credentials is None:
                credentials = await self._credentials(installation_id)
                if credentials is None:
                    self._retry_later(installation_id)
                    return None
            opened_at = await self._receive(installation_id, credentials)
        except ZaptecAuthenticationError:
            # The login itself was refused: the coordinators start reauth; a details refresh
            # must not restart push (and log in again) before the recheck.
            self._retry_later(installation_id)
            return None
        except ZaptecPushUnavailableError as err:
            LOGGER.warning("Zaptec push not available: %s; polling only", err)
            self._retry_later(installation_id)
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

    async def _receive(self, installation_id: str, credentials: PushCredentials) -> float | None:
        """One connection: apply messages until it ends; returns when it opened (monotonic)."""
        tuning = replace(TIMING.sdk, ca_file=self.hass.data.get(SERVICEBUS_CA))
        opened: list[float] = []

        def _opened() -> None:
            opened.append(time.monotonic())
            self._set_connected(installation_id, connected=True)

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
