"""Coordinators of a Zaptec account: details (slow) and charger state (adaptive)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import (
    DataUpdateCoordinator,
    TimestampDataUpdateCoordinator,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN, LOGGER
from ..errors import update_errors
from . import const
from .api import (
    AuthenticationType,
    Charger,
    ChargerFirmware,
    ChargerState,
    DeviceType,
    Installation,
    OperatingMode,
    UserRole,
    ZaptecAuthenticationError,
    ZaptecClient,
    ZaptecConnectionError,
    ZaptecError,
    ZaptecForbiddenError,
    ZaptecNotFoundError,
)
from .const import CONF_API_URL
from .errors import map_update_error

if TYPE_CHECKING:
    from .current_limit import AvailableCurrentLimiter

_PRIVILEGED = UserRole.OWNER | UserRole.MAINTAINER
_ACTIVE_MODES = {OperatingMode.CONNECTED_REQUESTING, OperatingMode.CONNECTED_CHARGING}


def create_client(hass: HomeAssistant, username: str, password: str, api_url: str) -> ZaptecClient:
    """A client on Home Assistant's shared session (the config flow uses it too)."""
    return ZaptecClient(
        async_get_clientsession(hass),
        username,
        password,
        base_url=api_url,
        user_agent=const.USER_AGENT,
    )


# One client per entry, kept across setup retries and reloads: its token and its pause after a
# cloud fault must survive them, or every retry of a failed setup would log in and list again
# (runtime_data does not exist until setup succeeds). Dropped when the entry is removed.
_CLIENTS: HassKey[dict[str, ZaptecClient]] = HassKey(f"{DOMAIN}_zaptec_clients")


def entry_client(hass: HomeAssistant, entry: ConfigEntry) -> ZaptecClient:
    """The entry's client; a new one when its credentials or URL changed."""
    clients = hass.data.setdefault(_CLIENTS, {})
    username, password = entry.data[CONF_USERNAME], entry.data[CONF_PASSWORD]
    api_url = entry.data[CONF_API_URL]
    client = clients.get(entry.entry_id)
    if client is None or not client.uses(username, password, api_url):
        client = clients[entry.entry_id] = create_client(hass, username, password, api_url)
    return client


@callback
def forget_entry_client(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The entry is removed: its client goes too."""
    hass.data.get(_CLIENTS, {}).pop(entry.entry_id, None)


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
    firmware: ZaptecFirmwareCoordinator
    limiter: AvailableCurrentLimiter


type ZaptecConfigEntry = ConfigEntry[ZaptecRuntimeData]


def fault_backoff(failures: int, interval: timedelta) -> timedelta:
    """Wait after the n-th failure in a row: doubling from a minute, never below `interval`.

    Never below the healthy interval: a fault must not cost more requests than health.
    """
    backoff = const.FAULT_BACKOFF_BASE * (1 << min(max(failures - 1, 0), 10))
    return max(interval, min(backoff, const.FAULT_BACKOFF_MAX))


class ZaptecDetailsCoordinator(TimestampDataUpdateCoordinator[ZaptecDetails]):
    """Lists and details every 15 minutes: devices, roles, authorization flags, currents.

    A failed refresh keeps the last details (entities stay available while they are younger
    than two refresh intervals) and retries on its own backoff, or when the client's pause
    after a cloud fault is over.
    """

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
        self._detail_read_at: dict[str, datetime] = {}
        self._failures = 0
        self._unsub_stale: CALLBACK_TYPE | None = None
        self._writes: set[asyncio.Task[Any]] = set()

    @property
    def fresh(self) -> bool:
        """True while the details are younger than two refresh intervals (and not refused)."""
        if isinstance(self.last_exception, ConfigEntryAuthFailed):
            return False
        last = self.last_update_success_time
        return last is not None and dt_util.utcnow() - last < 2 * const.DETAILS_INTERVAL

    def failure_backoff(self) -> float:
        """After a failed refresh the client did not pause for: 1, 2, 4, 8, 10 minutes."""
        self._failures += 1
        return fault_backoff(self._failures, timedelta(0)).total_seconds()

    @update_errors(map_update_error)
    async def _async_update_data(self) -> ZaptecDetails:
        now = dt_util.utcnow()
        listed = await self.client.get_installations()
        chargers = await self.client.get_chargers()
        installations = await asyncio.gather(*(self._installation(i) for i in listed))
        to_read = self._charger_details_due(chargers, now)
        detailed = await asyncio.gather(
            *(self._charger(c, now) if c.id in to_read else self._keep(c) for c in chargers)
        )
        self._failures = 0
        self._schedule_stale_notice()
        return ZaptecDetails(
            installations={i.id: i for i in installations},
            chargers={c.id: c for c in detailed},
        )

    @callback
    def _schedule_stale_notice(self) -> None:
        """Tell the entities when these details stop being fresh (no refresh may come)."""
        if self._unsub_stale is not None:
            self._unsub_stale()
        self._unsub_stale = async_call_later(
            self.hass, 2 * const.DETAILS_INTERVAL + timedelta(seconds=1), self._stale_notice
        )

    @callback
    def _stale_notice(self, _now: datetime) -> None:
        self._unsub_stale = None
        self.async_update_listeners()

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
        except ZaptecAuthenticationError, ZaptecConnectionError:
            raise  # the account or the whole cloud: the refresh fails
        except ZaptecError as err:
            # This installation only: keep what we knew of it, the others go on.
            LOGGER.debug("Detail of installation %s not readable: %s", listed.name, err)
            old = self.data.installations.get(listed.id) if self.data else None
            return listed if old is None else Installation.from_api({**old.raw, **listed.raw})

    async def _charger(self, listed: Charger, now: datetime) -> Charger:
        try:
            detail = await self.client.get_charger(listed.id)
        except ZaptecAuthenticationError, ZaptecConnectionError:
            raise
        except ZaptecError as err:
            # 403 (User role), 404, or this charger's own error: keep the detail we had.
            LOGGER.debug("Detail of charger %s not readable: %s", listed.name, err)
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

    @asynccontextmanager
    async def async_write(self) -> AsyncIterator[None]:
        """Around a write: unloading the entry waits for it (briefly) instead of leaving it."""
        task = asyncio.current_task()
        if task is not None:
            self._writes.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._writes.discard(task)

    async def async_finish_writes(self) -> None:
        """On unload: let writes in flight end (then cancel them)."""
        if self._writes:
            _, pending = await asyncio.wait(set(self._writes), timeout=const.WRITE_UNLOAD_TIMEOUT)
            for task in pending:
                task.cancel()

    async def async_shutdown(self) -> None:
        """Cancel the staleness notice too."""
        if self._unsub_stale is not None:
            self._unsub_stale()
            self._unsub_stale = None
        await super().async_shutdown()


DUE_SLACK = timedelta(seconds=1)


class ZaptecStateCoordinator(DataUpdateCoordinator[dict[str, ChargerState]]):
    """Charger state, each charger on its own adaptive schedule.

    The coordinator ticks every 15 s and reads only the chargers that are due: 60 s while a car
    is connected or charging (and for 15 min after it finished), 10 min when idle, never more
    than 15 reads per tick, so many chargers are spread out and the API never sees a burst.

    Faults stay where they happen: one charger's error makes only that charger unavailable
    (and backs off its own reads); while the client pauses the account after a cloud-wide
    fault, ticks send nothing. A charger whose last good read is older than twice its interval
    (plus a tick) is unavailable: a value that is no longer fresh is never shown as live.
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
        self._read_at: dict[str, datetime] = {}
        self._failures: dict[str, int] = {}
        self.no_access: set[str] = set()
        self.failed: dict[str, str] = {}  # charger id -> the error of its last read
        self.unavailable: frozenset[str] = frozenset()

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

    def _current_interval(self, charger_id: str) -> timedelta:
        mode = self._mode_since.get(charger_id, (None, None))[0]
        return const.STATE_INTERVAL_ACTIVE if mode in _ACTIVE_MODES else const.STATE_INTERVAL_IDLE

    def is_available(self, charger_id: str) -> bool:
        """False while the charger's last read failed or its state is no longer fresh."""
        return charger_id not in self.unavailable

    @callback
    def async_read_soon(self, charger_ids: list[str], delay: timedelta) -> None:
        """Make chargers due again after `delay` (never sooner than the 15 s state cache)."""
        when = dt_util.utcnow() + max(delay, const.STATE_INTERVAL_MIN)
        for charger_id in charger_ids:
            self._due[charger_id] = min(self._due.get(charger_id, when), when)

    @callback
    def async_set_charger_state(self, state: ChargerState) -> None:
        """Show a charger's state as just read after a command (its next read follows it)."""
        chargers = self.details.data.chargers
        if state.charger_id not in chargers:
            return
        now = dt_util.utcnow()
        current = {cid: s for cid, s in (self.data or {}).items() if cid in chargers}
        self._take(state.charger_id, state, current, now)
        self._update_availability(chargers, now)
        self.async_set_updated_data(current)

    def failure_backoff(self) -> None:
        """The state update fails only on a refused login: the tick stays as it is."""

    @update_errors(map_update_error)
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
        # While the client pauses the account after a cloud-wide fault, send nothing.
        if due and self.client.paused_for <= 0:
            ids = [cid for _, cid in due]
            results = await asyncio.gather(
                *(self.client.get_charger_state(cid) for cid in ids), return_exceptions=True
            )
            for charger_id, result in zip(ids, results, strict=True):
                self._take(charger_id, result, current, now)
        self._update_availability(chargers, now)
        return current

    def _take(
        self,
        charger_id: str,
        result: ChargerState | BaseException,
        current: dict[str, ChargerState],
        now: datetime,
    ) -> None:
        """Store one charger's read, or deal with its error without touching the others."""
        charger = self.details.data.chargers[charger_id]
        if isinstance(result, ChargerState):
            self.no_access.discard(charger_id)
            if self.failed.pop(charger_id, None) is not None:
                LOGGER.info("Zaptec charger %s: state readable again", charger.name)
            self._failures.pop(charger_id, None)
            current[charger_id] = result
            self._read_at[charger_id] = now
            mode = result.operating_mode
            if mode is None:
                mode = charger.operating_mode
            self._due[charger_id] = now + self.interval_for(charger_id, mode, now)
        else:
            self._take_error(charger, result, current, now)

    def _take_error(
        self,
        charger: Charger,
        result: BaseException,
        current: dict[str, ChargerState],
        now: datetime,
    ) -> None:
        charger_id = charger.id
        if isinstance(result, ZaptecAuthenticationError):
            raise result  # reauth, through the update's error mapping
        if isinstance(result, ZaptecConnectionError):
            return  # cloud-wide: the client's pause decides; the charger stays due
        if isinstance(result, ZaptecForbiddenError):
            # User role: the list values stand in; ask again now and then, the role may change.
            if charger_id not in self.no_access:
                LOGGER.info(
                    "No access to the live state of charger %s (role User): "
                    "its sensors show the charger list's values",
                    charger.name,
                )
            self.no_access.add(charger_id)
            self._due[charger_id] = now + const.STATE_RETRY_NO_ACCESS
            return
        if isinstance(result, ZaptecNotFoundError):
            # Removed: the next details refresh drops it.
            current.pop(charger_id, None)
            self._due[charger_id] = now + const.STATE_INTERVAL_IDLE
            return
        if not isinstance(result, ZaptecError):
            raise result
        # This charger's own error: only it turns unavailable, and only it backs off.
        failures = self._failures.get(charger_id, 0) + 1
        self._failures[charger_id] = failures
        if charger_id not in self.failed:
            LOGGER.info("Zaptec charger %s: state not readable: %s", charger.name, result)
        self.failed[charger_id] = str(result)
        backoff = fault_backoff(failures, self._current_interval(charger_id))
        self._due[charger_id] = now + backoff

    @callback
    def _update_availability(self, chargers: dict[str, Charger], now: datetime) -> None:
        """Recompute which chargers are unavailable; tell the entities if that changed."""
        unavailable = set(self.failed)
        for charger_id, read_at in self._read_at.items():
            limit = 2 * self._current_interval(charger_id) + const.STATE_TICK
            if now - read_at > limit:
                unavailable.add(charger_id)
        frozen = frozenset(unavailable & chargers.keys())
        if frozen != self.unavailable:
            self.unavailable = frozen
            # The data may not change (always_update=False): availability alone must show.
            self.async_update_listeners()


class ZaptecFirmwareCoordinator(DataUpdateCoordinator[dict[str, ChargerFirmware]]):
    """Installed and available firmware per charger, read once a day per installation.

    Only installations where the account is Owner or Service (a User is refused). A failed
    read keeps the last values and is tried again on a backoff of 1, 2, 4, 8, 10 minutes.
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
            name=f"Zaptec firmware {entry.title}",
            update_interval=const.FIRMWARE_INTERVAL,
        )
        self.client = client
        self.details = details
        self._failures = 0

    def failure_backoff(self) -> float:
        """After a failed read: 1, 2, 4, 8, 10 minutes (never the whole day)."""
        self._failures += 1
        return fault_backoff(self._failures, timedelta(0)).total_seconds()

    @update_errors(map_update_error)
    async def _async_update_data(self) -> dict[str, ChargerFirmware]:
        firmware = dict(self.data or {})
        for installation in self.details.data.installations.values():
            if not has_write_role(installation.roles):
                continue
            try:
                items = await self.client.get_charger_firmware(installation.id)
            except ZaptecForbiddenError:
                continue  # the role changed since the details were read: the next day
            firmware.update((item.charger_id, item) for item in items)
        self._failures = 0
        return {cid: item for cid, item in firmware.items() if cid in self.details.data.chargers}

    @callback
    def async_read_later(self, delay: timedelta) -> None:
        """Read the firmware list again after `delay` (an upgrade was started)."""
        self.config_entry.async_on_unload(async_call_later(self.hass, delay, self._read_later))

    async def _read_later(self, _now: datetime) -> None:
        await self.async_refresh()
