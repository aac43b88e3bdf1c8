"""Coordinators of a Zaptec account: details (slow) and charger state (adaptive)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import LOGGER
from . import const
from .api import (
    AuthenticationType,
    Charger,
    ChargerState,
    DeviceType,
    Installation,
    OperatingMode,
    UserRole,
    ZaptecClient,
    ZaptecError,
    ZaptecForbiddenError,
    ZaptecNotFoundError,
)
from .errors import update_errors

_PRIVILEGED = UserRole.OWNER | UserRole.MAINTAINER
_ACTIVE_MODES = {OperatingMode.CONNECTED_REQUESTING, OperatingMode.CONNECTED_CHARGING}


def create_client(hass: HomeAssistant, username: str, password: str, api_url: str) -> ZaptecClient:
    """A client on Home Assistant's shared session (the config flow uses it too)."""
    return ZaptecClient(
        async_get_clientsession(hass),
        username,
        password,
        base_url=api_url,
        tuning=const.CLIENT_TUNING,
        user_agent=const.USER_AGENT,
    )


def has_write_role(roles: UserRole) -> bool:
    """Owner or Service (Maintainer) may change installation and charger settings."""
    return bool(roles & _PRIVILEGED)


def wants_charger_detail(charger: Charger) -> bool:
    """Only chargers that can get a switch need `/api/chargers/{id}` (saves requests)."""
    return (
        charger.device_type == DeviceType.SMART
        and has_write_role(charger.roles)
        and charger.authentication_type in (None, AuthenticationType.NATIVE)
    )


@dataclass(frozen=True, slots=True)
class ZaptecDetails:
    """Installations and chargers of the account, by id."""

    installations: dict[str, Installation] = field(default_factory=dict)
    chargers: dict[str, Charger] = field(default_factory=dict)


@dataclass(slots=True)
class ZaptecRuntimeData:
    """What a loaded Zaptec entry keeps in `entry.runtime_data`."""

    client: ZaptecClient
    details: ZaptecDetailsCoordinator
    state: ZaptecStateCoordinator


type ZaptecConfigEntry = ConfigEntry[ZaptecRuntimeData]


class ZaptecDetailsCoordinator(DataUpdateCoordinator[ZaptecDetails]):
    """Lists and details every 15 minutes: devices, roles, authorization flags, currents."""

    config_entry: ZaptecConfigEntry

    def __init__(self, hass: HomeAssistant, entry: ZaptecConfigEntry, client: ZaptecClient) -> None:
        """One per account."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"Zaptec details {entry.title}",
            update_interval=const.DETAILS_INTERVAL,
        )
        self.client = client
        self._pending: list[CALLBACK_TYPE] = []
        self._detail_read_at: dict[str, datetime] = {}

    async def _async_update_data(self) -> ZaptecDetails:
        now = dt_util.utcnow()
        with update_errors():
            listed = await self.client.get_installations()
            chargers = await self.client.get_chargers()
            installations = await asyncio.gather(*(self._installation(i) for i in listed))
            to_read = self._charger_details_due(chargers, now)
            detailed = await asyncio.gather(
                *(self._charger(c, now) if c.id in to_read else self._keep(c) for c in chargers)
            )
        return ZaptecDetails(
            installations={i.id: i for i in installations},
            chargers={c.id: c for c in detailed},
        )

    def _charger_details_due(self, chargers: list[Charger], now: datetime) -> set[str]:
        """Chargers whose detail is older than an hour, the stalest first, a few per refresh.

        The detail only adds the charger's own authorization flag, which changes when someone
        flips it (our own writes are read back at once), so hourly is enough; the cap keeps a
        large account's setup short and spreads the reads over several refreshes.
        """
        never = datetime.min.replace(tzinfo=now.tzinfo)
        stale = sorted(
            (self._detail_read_at.get(c.id, never), c.id)
            for c in chargers
            if wants_charger_detail(c)
            and now - self._detail_read_at.get(c.id, never) >= const.CHARGER_DETAIL_INTERVAL
        )
        return {charger_id for _, charger_id in stale[: const.MAX_CHARGER_DETAILS_PER_REFRESH]}

    async def _installation(self, listed: Installation) -> Installation:
        try:
            return await self.client.get_installation(listed.id)
        except ZaptecForbiddenError:
            return listed  # User role: the list item is all we may see

    async def _charger(self, listed: Charger, now: datetime) -> Charger:
        try:
            detail = await self.client.get_charger(listed.id)
        except ZaptecForbiddenError, ZaptecNotFoundError:
            return await self._keep(listed)
        self._detail_read_at[listed.id] = now
        # The detail lacks the list-only fields (OperatingMode, IsOnline): keep both.
        return Charger.from_api({**listed.raw, **detail.raw})

    async def _keep(self, listed: Charger) -> Charger:
        """The fresh list item plus the detail-only fields read earlier."""
        old = self.data.chargers.get(listed.id) if self.data else None
        return listed if old is None else Charger.from_api({**old.raw, **listed.raw})

    @callback
    def async_set_installation(self, installation: Installation) -> None:
        """Show an installation as just read back after a write."""
        old = self.data.installations.get(installation.id)
        if old is not None:
            # A detail read keeps list-only values we had.
            installation = Installation.from_api({**old.raw, **installation.raw})
        installations = {**self.data.installations, installation.id: installation}
        self.async_set_updated_data(replace(self.data, installations=installations))

    @callback
    def async_set_charger(self, charger: Charger) -> None:
        """Show a charger as just read back after a write."""
        old = self.data.chargers.get(charger.id)
        if old is not None:
            charger = Charger.from_api({**old.raw, **charger.raw})
        self.async_set_updated_data(
            replace(self.data, chargers={**self.data.chargers, charger.id: charger})
        )

    @callback
    def async_schedule_rereads(self, read: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `read` ~2 s and ~7 s from now: the read-back burst after a write."""
        for delay in const.REREAD_AFTER_WRITE:
            self._pending.append(async_call_later(self.hass, delay, partial(self._reread, read)))

    @callback
    def _reread(self, read: Callable[[], Coroutine[Any, Any, None]], _now: datetime) -> None:
        self.config_entry.async_create_task(self.hass, read(), "zaptec re-read")

    async def async_reread_installation(self, installation_id: str) -> None:
        """Read one installation again (part of the burst after a write)."""
        try:
            installation = await self.client.get_installation(installation_id)
        except ZaptecError as err:
            LOGGER.debug("Re-read of installation after a write failed: %s", err)
            return
        self.async_set_installation(installation)

    async def async_reread_charger(self, charger_id: str) -> None:
        """Read one charger again (part of the burst after a write)."""
        try:
            charger = await self.client.get_charger(charger_id)
        except ZaptecError as err:
            LOGGER.debug("Re-read of charger after a write failed: %s", err)
            return
        self.async_set_charger(charger)

    async def async_shutdown(self) -> None:
        """Cancel pending re-reads too."""
        for cancel in self._pending:
            cancel()
        self._pending.clear()
        await super().async_shutdown()


DUE_SLACK = timedelta(seconds=1)


class ZaptecStateCoordinator(DataUpdateCoordinator[dict[str, ChargerState]]):
    """Charger state, each charger on its own adaptive schedule.

    The coordinator ticks every 15 s and reads only the chargers that are due: 60 s while a car
    is connected or charging (and for 15 min after it finished), 10 min when idle, never more
    than 15 reads per tick, so many chargers are spread out and the API never sees a burst.
    """

    config_entry: ZaptecConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ZaptecConfigEntry,
        client: ZaptecClient,
        details: ZaptecDetailsCoordinator,
    ) -> None:
        """One per account."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"Zaptec charger state {entry.title}",
            update_interval=const.STATE_TICK,
            always_update=False,
        )
        self.client = client
        self.details = details
        self._due: dict[str, datetime] = {}
        self._mode_since: dict[str, tuple[int | None, datetime]] = {}
        self.no_access: set[str] = set()

    def interval_for(self, charger_id: str, mode: int | None, now: datetime) -> timedelta:
        """How long until this charger's next read, from its operating mode."""
        previous = self._mode_since.get(charger_id)
        if previous is None or previous[0] != mode:
            self._mode_since[charger_id] = (mode, now)
            since = now
        else:
            since = previous[1]
        just_finished = (
            mode == OperatingMode.CONNECTED_FINISHED and now - since < const.FINISHED_FAST_WINDOW
        )
        if mode in _ACTIVE_MODES or just_finished:
            interval = const.STATE_INTERVAL_ACTIVE
        else:
            interval = const.STATE_INTERVAL_IDLE
        return max(interval, const.STATE_INTERVAL_MIN)

    @callback
    def async_read_soon(self, charger_ids: list[str], delay: timedelta) -> None:
        """Make chargers due again after `delay` (never sooner than the 15 s state cache)."""
        when = dt_util.utcnow() + max(delay, const.STATE_INTERVAL_MIN)
        for charger_id in charger_ids:
            self._due[charger_id] = min(self._due.get(charger_id, when), when)

    async def _async_update_data(self) -> dict[str, ChargerState]:
        chargers = self.details.data.chargers
        current = {cid: s for cid, s in (self.data or {}).items() if cid in chargers}
        now = dt_util.utcnow()
        # A tick can run a few milliseconds earlier than the read that set a due time did:
        # without a little slack such a charger would wait a whole extra tick (75 s, not 60 s).
        horizon = now + DUE_SLACK
        due = sorted(
            (self._due.get(cid, now), cid) for cid in chargers if self._due.get(cid, now) <= horizon
        )[: const.MAX_STATE_READS_PER_TICK]
        if not due:
            return current
        ids = [cid for _, cid in due]
        with update_errors():
            results = await asyncio.gather(
                *(self.client.get_charger_state(cid) for cid in ids), return_exceptions=True
            )
            for charger_id, result in zip(ids, results, strict=True):
                if isinstance(result, ZaptecForbiddenError):
                    # User role: the list values stand in; ask again now and then, the
                    # role may change.
                    if charger_id not in self.no_access:
                        LOGGER.info(
                            "No access to the live state of charger %s (role User): "
                            "its sensors show the charger list's values",
                            chargers[charger_id].name,
                        )
                    self.no_access.add(charger_id)
                    self._due[charger_id] = now + const.STATE_RETRY_NO_ACCESS
                elif isinstance(result, ZaptecNotFoundError):
                    # Removed: the next details refresh drops it.
                    current.pop(charger_id, None)
                    self._due[charger_id] = now + const.STATE_INTERVAL_IDLE
                elif isinstance(result, BaseException):
                    raise result
                else:
                    self.no_access.discard(charger_id)
                    current[charger_id] = result
                    mode = result.operating_mode
                    if mode is None:
                        mode = chargers[charger_id].operating_mode
                    self._due[charger_id] = now + self.interval_for(charger_id, mode, now)
        return current
