"""Coordinators of a Zaptec account: details (slow) and charger state (adaptive)."""

from __future__ import annotations

import asyncio
import zlib
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
    DEFAULT_BASE_URL,
    AuthenticationType,
    Charger,
    ChargerFirmware,
    ChargerState,
    ClientTuning,
    DeviceType,
    Installation,
    Observation,
    OperatingMode,
    UserRole,
    ZaptecAuthenticationError,
    ZaptecClient,
    ZaptecConnectionError,
    ZaptecError,
    ZaptecForbiddenError,
    ZaptecNotFoundError,
)
from .api.models import StateValue
from .api.push import PushObservation
from .errors import map_update_error

if TYPE_CHECKING:
    from .current_limit import AvailableCurrentLimiter
    from .push import PushSupervisor

_PRIVILEGED = UserRole.OWNER | UserRole.MAINTAINER
_ACTIVE_MODES = {OperatingMode.CONNECTED_REQUESTING, OperatingMode.CONNECTED_CHARGING}


# The cloud's URL when configuration.yaml names another one (see const.CONF_ZAPTEC_API_URL).
API_URL: HassKey[str] = HassKey(f"{DOMAIN}_zaptec_api_url")
# The CA of a test Service Bus broker (see const.CONF_ZAPTEC_SERVICEBUS_CA).
SERVICEBUS_CA: HassKey[str] = HassKey(f"{DOMAIN}_zaptec_servicebus_ca")


def create_client(hass: HomeAssistant, username: str, password: str) -> ZaptecClient:
    """A client on Home Assistant's shared session (the config flow uses it too)."""
    return ZaptecClient(
        async_get_clientsession(hass),
        username,
        password,
        base_url=hass.data.get(API_URL, DEFAULT_BASE_URL),
        user_agent=const.USER_AGENT,
        # An outage is probed no more often than the charger list is read when healthy.
        tuning=ClientTuning(pause_cap_unavailable=const.LIST_INTERVAL.total_seconds()),
    )


# One client per entry, kept across setup retries and reloads: its token and its pause after a
# cloud fault must survive them, or every retry of a failed setup would log in and list again
# (runtime_data does not exist until setup succeeds). Dropped when the entry is removed.
_CLIENTS: HassKey[dict[str, ZaptecClient]] = HassKey(f"{DOMAIN}_zaptec_clients")
# A client the config flow has just logged in with, by the entry's unique id: the set-up that
# follows takes it over with its token instead of logging in a second time. Memory only: the
# token is never stored in the entry.
_FLOW_CLIENTS: HassKey[dict[str, ZaptecClient]] = HassKey(f"{DOMAIN}_zaptec_flow_clients")


@callback
def hand_over_client(hass: HomeAssistant, unique_id: str, client: ZaptecClient) -> None:
    """Keep the config flow's logged-in client for the set-up of the entry it creates."""
    hass.data.setdefault(_FLOW_CLIENTS, {})[unique_id] = client


def entry_client(hass: HomeAssistant, entry: ConfigEntry) -> ZaptecClient:
    """The entry's client; a new one when its credentials changed.

    A client handed over by the config flow for the same credentials comes first: its token
    is still good, so the set-up does not log in again.
    """
    clients = hass.data.setdefault(_CLIENTS, {})
    username, password = entry.data[CONF_USERNAME], entry.data[CONF_PASSWORD]
    client = clients.get(entry.entry_id)
    if client is None or not client.uses(username, password):
        handed = hass.data.get(_FLOW_CLIENTS, {}).pop(entry.unique_id or "", None)
        if handed is None or not handed.uses(username, password):
            handed = create_client(hass, username, password)
        client = clients[entry.entry_id] = handed
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
    push: PushSupervisor | None = None


type ZaptecConfigEntry = ConfigEntry[ZaptecRuntimeData]


def fault_backoff(failures: int, interval: timedelta) -> timedelta:
    """Wait after the n-th failure in a row: doubling from a minute, never below `interval`.

    Never below the healthy interval: a fault must not cost more requests than health.
    """
    backoff = const.FAULT_BACKOFF_BASE * (1 << min(max(failures - 1, 0), 10))
    return max(interval, min(backoff, const.FAULT_BACKOFF_MAX))


class _SlowReadBackoff:
    """For coordinators with long intervals: retry a failed read after 1, 2, 4, 8, 10 minutes.

    Used (through `errors.update_errors`) after a failure the client did not pause for;
    never the whole interval (a day for the firmware). The update resets `_failures`.
    """

    _failures = 0

    def failure_backoff(self) -> float:
        """Seconds until the next try after the n-th failure in a row."""
        self._failures += 1
        return fault_backoff(self._failures, timedelta(0)).total_seconds()


class ZaptecDetailsCoordinator(_SlowReadBackoff, TimestampDataUpdateCoordinator[ZaptecDetails]):
    """Lists and details every 2 hours: devices, roles, authorization flags, currents.

    Sooner when the charger list (read every 175 s by the state coordinator) shows added or
    removed chargers or a changed IsAuthorizationRequired or CurrentUserRoles.

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
        self._listed: list[Charger] = []
        self.listed_at: datetime | None = None  # when the charger list was last read
        self._list_asked_at: datetime | None = None  # when that read was sent
        # Installations and chargers we have just written (and read back): when the next
        # charger list shows their authorization flag changed, that is our own write, which
        # needs no details refresh.
        self._own_writes: dict[str, datetime] = {}
        self._list_lock = asyncio.Lock()
        self._installations_listed_at: datetime | None = None
        self._installation_list_needed = False  # a detail was not readable: list next time
        self._unsub_stale: CALLBACK_TYPE | None = None
        self._writes: set[asyncio.Task[Any]] = set()

    @property
    def fresh(self) -> bool:
        """True while the details are younger than two refresh intervals (and not refused)."""
        if isinstance(self.last_exception, ConfigEntryAuthFailed):
            return False
        last = self.last_update_success_time
        return last is not None and dt_util.utcnow() - last < 2 * const.DETAILS_INTERVAL

    @update_errors(map_update_error)
    async def _async_update_data(self) -> ZaptecDetails:
        now = dt_util.utcnow()
        listed = await self._installations_to_read(now)
        self._installation_list_needed = False
        # The state coordinator's change detection reads the list every 175 s: reuse it.
        chargers = await self.async_list_chargers(max_age=const.LIST_INTERVAL)
        installations = await asyncio.gather(*(self._installation(i) for i in listed))
        first = self.last_update_success_time is None
        if first and len(chargers) > const.MAX_STATE_READS_PER_TICK:
            # Set-up of a large account: every charger's state comes first (within a minute,
            # the client's budget is the limit); their details follow (async_read_details).
            to_read = set()
        else:
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

    async def _installations_to_read(self, now: datetime) -> list[Installation]:
        """The installations whose details to read: those known, or the list's.

        The installation list (`GET /api/installation`) is read at set-up, daily (to find
        added or removed installations), when the charger list names an installation not
        known yet, and while an installation's detail is not readable (the list item stands
        in for it, so it must be fresh). Otherwise the known ones are read in detail.
        """
        known = self.data.installations if self.data else {}
        named = {c.installation_id for c in self._listed if c.installation_id}
        if (
            self._installations_listed_at is None
            or now - self._installations_listed_at >= const.INSTALLATION_LIST_INTERVAL
            or self._installation_list_needed
            or not named <= known.keys()
        ):
            listed = await self.client.get_installations()
            self._installations_listed_at = now
            return listed
        return list(known.values())

    async def async_list_chargers(self, max_age: timedelta = timedelta(0)) -> list[Charger]:
        """The charger list (every page): read now, unless one younger than `max_age` exists.

        One read at a time: a caller that comes while a read is under way gets its result
        (when `max_age` allows) instead of sending the same request again.
        """
        async with self._list_lock:
            if self.listed_at is not None and dt_util.utcnow() - self.listed_at <= max_age:
                return self._listed
            asked_at = dt_util.utcnow()
            chargers = await self.client.get_chargers()
            self._listed, self.listed_at = chargers, dt_util.utcnow()
            self._list_asked_at = asked_at
            return chargers

    @callback
    def async_take_charger_list(self, listed: list[Charger]) -> bool:
        """Show a fresh charger list's values (mode, online, meter value, flags).

        False when a details refresh must follow: the list has other chargers than the
        details (nothing changes then: only a details refresh adds or drops devices), or a
        charger's IsAuthorizationRequired or CurrentUserRoles changed (the installation's or
        the charger's own flag, or the account's role, was changed: their details, otherwise
        read every 2 hours, are read now). Not for a flag we have just written ourselves (the
        object was read back then). The refresh schedule is not touched.
        """
        if {c.id for c in listed} != self.data.chargers.keys():
            return False
        old = self.data.chargers
        asked_at = self._list_asked_at or dt_util.utcnow()
        ours = {key for key, at in self._own_writes.items() if at <= asked_at}
        for key in ours:
            del self._own_writes[key]  # this list was asked for after the write
        flipped = [
            c.id
            for c in listed
            if c.roles != old[c.id].roles
            or (
                c.is_authorization_required != old[c.id].is_authorization_required
                and not {c.id, c.installation_id} & ours
            )
        ]
        for charger_id in flipped:
            self._detail_read_at.pop(charger_id, None)  # due at the refresh that follows
        chargers = {c.id: self._merged(c) for c in listed}
        if chargers != old:  # nothing changed: no entity needs writing
            self.data = replace(self.data, chargers=chargers)
            self.async_update_listeners()
        return not flipped

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
        """Chargers whose detail is older than 12 hours, the stalest first, a few per refresh.

        The detail only adds the charger's own authorization flag, which changes when someone
        flips it (our own writes are read back at once; a change by someone else changes the
        list's IsAuthorizationRequired, which makes the detail due at once, see
        async_take_charger_list), so every 12 hours is enough; the cap keeps a
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

    async def async_read_details(self) -> None:
        """Read the charger details that are due now, outside a refresh (after set-up).

        A fault leaves them to the next refresh; the refresh schedule is not touched.
        """
        now = dt_util.utcnow()
        to_read = self._charger_details_due(list(self.data.chargers.values()), now)
        results = await asyncio.gather(
            *(self._charger(self.data.chargers[cid], now) for cid in to_read),
            return_exceptions=True,
        )
        detailed = {c.id: c for c in results if isinstance(c, Charger)}
        for result in results:
            if isinstance(result, ZaptecError):
                LOGGER.debug("Charger details after set-up not read: %s", result)
            elif not isinstance(result, Charger):
                raise result
        if detailed:
            chargers = self.data.chargers
            detailed = {cid: c for cid, c in detailed.items() if cid in chargers}
            self.data = replace(self.data, chargers={**chargers, **detailed})
            self.async_update_listeners()

    async def _installation(self, listed: Installation) -> Installation:
        try:
            return await self.client.get_installation(listed.id)
        except ZaptecForbiddenError:
            self._installation_list_needed = True
            return listed  # User role: the list item is all we may see
        except ZaptecAuthenticationError, ZaptecConnectionError:
            raise  # the account or the whole cloud: the refresh fails
        except ZaptecError as err:
            # This installation only: keep what we knew of it, the others go on.
            self._installation_list_needed = True
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
        return self._merged(listed)

    def _merged(self, listed: Charger) -> Charger:
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
        self._own_writes[installation.id] = dt_util.utcnow()
        self.async_set_updated_data(replace(self.data, installations=installations))

    @callback
    def async_set_charger(self, charger: Charger) -> None:
        """Show a charger as just read back after a write."""
        old = self.data.chargers.get(charger.id)
        if old is not None:
            charger = Charger.from_api({**old.raw, **charger.raw})
        self._own_writes[charger.id] = dt_util.utcnow()
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


type ListValues = tuple[int | None, bool | None]


def idle_slot(charger_id: str, now: datetime) -> datetime:
    """When an idle charger is read next: its own slot of the idle cycle, 3 to 9 hours away.

    Every charger was read at set-up; without slots all of them would be due together every
    6 hours (250 chargers: one hour with 300 requests, the others with 60). The slot, fixed
    per charger (a hash of its id), spreads those reads evenly over the cycle; after the
    first, each charger is read exactly every 6 hours.
    """
    cycle = int(const.STATE_INTERVAL_IDLE.total_seconds())
    phase = zlib.crc32(charger_id.encode()) % cycle
    earliest = int((now + const.STATE_INTERVAL_IDLE / 2).timestamp())
    slot = earliest + (phase - earliest) % cycle
    return datetime.fromtimestamp(slot, tz=now.tzinfo)


def _list_values(charger: Charger) -> ListValues:
    """What change detection compares between two charger lists."""
    return charger.operating_mode, charger.is_online


def _disagrees(state: ChargerState, listed: ListValues) -> bool:
    """True when the list knows a mode or online flag that the state does not show."""
    mode, online = listed
    return (mode is not None and state.operating_mode != mode) or (
        online is not None and state.flag(Observation.IS_ONLINE) not in (None, online)
    )


def _with_list_values(state: ChargerState, listed: ListValues, now: datetime) -> ChargerState:
    """The state with the list's mode and online flag as observations 710 and -2."""
    mode, online = listed
    if mode is not None:
        state = state.with_value(Observation.CHARGER_OPERATION_MODE, StateValue(str(mode), now))
    if online is not None:
        state = state.with_value(Observation.IS_ONLINE, StateValue(str(int(online)), now))
    return state


class ZaptecStateCoordinator(DataUpdateCoordinator[dict[str, ChargerState]]):
    """Charger state, each charger on its own adaptive schedule, and change detection.

    The coordinator ticks every 5 s. Every `LIST_INTERVAL` (175 s) it reads the charger list
    (one request per 100 chargers), which carries every charger's OperatingMode and IsOnline;
    a charger whose list values changed shows them at once and is read right after.
    Otherwise it reads only the chargers that are due: 60 s while a car is connected or
    charging (and for 15 min after it finished), every 6 hours when idle (the list vouches
    for it in between), never more than 5 such reads per tick (1 a second), so many chargers are
    spread out. Chargers never read yet (set-up, new chargers) and changed ones are read
    without that cap, as fast as the client's request budget lets them.

    Faults stay where they happen: one charger's error makes only that charger unavailable
    (and backs off its own reads); while the client pauses the account after a cloud-wide
    fault, ticks send nothing. A value that is no longer fresh is never shown as live: a
    charger is unavailable when its last good read is older than twice its interval (plus a
    tick), or when neither a read nor the charger list has confirmed it for twice the list
    interval (plus a tick).
    """

    config_entry: ZaptecConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ZaptecConfigEntry,
        client: ZaptecClient,
        details: ZaptecDetailsCoordinator,
    ) -> None:
        """One per account, created after the details' first refresh (which read the list)."""
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
        self._due: dict[str, datetime] = {}  # chargers not in it were never read
        self._interval: dict[str, timedelta] = {}  # the healthy interval of the last read
        self._mode_since: dict[str, tuple[int | None, datetime]] = {}
        self._read_at: dict[str, datetime] = {}
        self._failures: dict[str, int] = {}
        self.no_access: set[str] = set()
        self.failed: dict[str, str] = {}  # charger id -> the error of its last read
        self.unavailable: frozenset[str] = frozenset()
        # Change detection from the charger list.
        self._listed = {c.id: _list_values(c) for c in details.data.chargers.values()}
        self._changed: set[str] = set()  # the list showed a change: read first, uncapped
        self._from_list: set[str] = set()  # the list showed a change: show its values now
        self._recheck: set[str] = set()  # read because of a change: compare with the list
        self.listed_ok_at = details.listed_at
        self._list_due = (details.listed_at or dt_util.utcnow()) + const.LIST_INTERVAL
        self._list_failures = 0
        self._list_every = const.LIST_INTERVAL  # the interval in force since the last list
        self.list_error: str | None = None
        self._started = False
        # Installations whose push connection is up: their chargers are polled only as a
        # slow reconciliation (zaptec/push.py sets this through async_set_push).
        self.pushed: set[str] = set()

    def interval_for(
        self, charger_id: str, mode: int | None, now: datetime, listed_mode: int | None = None
    ) -> timedelta:
        """How long until this charger's next read, from its operating mode.

        Fast while the state or the (fresher or slower) charger list says a car is there.
        """
        previous = self._mode_since.get(charger_id)
        if previous is None or previous[0] != mode:
            self._mode_since[charger_id] = (mode, now)
            since = now
        else:
            since = previous[1]
        just_finished = (
            mode == OperatingMode.CONNECTED_FINISHED and now - since < const.FINISHED_FAST_WINDOW
        )
        if mode in _ACTIVE_MODES or listed_mode in _ACTIVE_MODES or just_finished:
            interval = const.STATE_INTERVAL_ACTIVE
        else:
            interval = const.STATE_INTERVAL_IDLE
        return max(interval, const.STATE_INTERVAL_MIN)

    def _healthy_interval(self, charger: Charger) -> timedelta:
        """The interval stored when the charger's last good read was scheduled.

        Before any good read: from the list's operating mode.
        """
        interval = self._interval.get(charger.id)
        if interval is not None:
            return interval
        if charger.operating_mode in _ACTIVE_MODES:
            return self._with_push(charger.id, const.STATE_INTERVAL_ACTIVE)
        return self._with_push(charger.id, const.STATE_INTERVAL_IDLE)

    def _with_push(self, charger_id: str, interval: timedelta) -> timedelta:
        """While push delivers a charger's changes, polling is only a slow reconciliation."""
        charger = self.details.data.chargers.get(charger_id) if self.details.data else None
        if charger is not None and charger.installation_id in self.pushed:
            return max(interval, const.PUSH_RECONCILE_INTERVAL)
        return interval

    @callback
    def async_set_push(self, installation_id: str, connected: bool) -> None:
        """Push of an installation came up or went down; when down, poll its chargers now."""
        if connected:
            self.pushed.add(installation_id)
            return
        self.pushed.discard(installation_id)
        now = dt_util.utcnow()
        self._list_due = min(self._list_due, now)  # change detection at full pace again
        for charger in self.details.data.chargers.values():
            if charger.installation_id == installation_id and charger.id not in self.failed:
                self._due[charger.id] = min(self._due.get(charger.id, now), now)

    @callback
    def async_apply_push(self, pushed: PushObservation) -> None:
        """A pushed observation changes the charger's state like a read would.

        Listeners are told directly: async_set_updated_data would postpone the polling tick
        with every message, and a busy charger would starve the reconciliation.
        """
        charger_id = pushed.charger_id
        if pushed.observation is None or charger_id not in self.details.data.chargers:
            return
        current = dict(self.data or {})
        old = current.get(charger_id) or ChargerState(charger_id)
        value = StateValue(pushed.value, pushed.timestamp)
        state = current[charger_id] = old.with_value(pushed.observation, value)
        if charger_id in self._listed:
            # Push already brought what the list will show: not a change to read again.
            mode, online = self._listed[charger_id]
            if pushed.observation is Observation.CHARGER_OPERATION_MODE:
                mode = state.operating_mode
            elif pushed.observation is Observation.IS_ONLINE:
                online = state.flag(Observation.IS_ONLINE)
            self._listed[charger_id] = (mode, online)
        self.data = current
        self.async_update_listeners()

    def _list_interval(self) -> timedelta:
        """While push delivers every installation's changes, the list only reconciles."""
        installations = {c.installation_id for c in self.details.data.chargers.values()}
        if installations and installations <= self.pushed:
            return max(const.LIST_INTERVAL, const.PUSH_RECONCILE_INTERVAL)
        return const.LIST_INTERVAL

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

    @property
    def unread(self) -> int:
        """How many chargers were never read yet (no read attempted)."""
        return sum(1 for cid in self.details.data.chargers if cid not in self._due)

    async def async_catch_up(self) -> None:
        """After set-up: read the chargers the first refresh left unread, right away.

        The first refresh reads at most a tick's worth, so that set-up stays short; this
        reads the rest at once (the client's budget paces them), so a large account has all
        its values within a minute instead of one batch per tick.
        """
        if self.unread:
            await self.async_refresh()
            await self.details.async_read_details()

    @update_errors(map_update_error)
    async def _async_update_data(self) -> dict[str, ChargerState]:
        now = dt_util.utcnow()
        # A tick can run a few milliseconds earlier than the read that set a due time did:
        # without a little slack such a charger would wait a whole extra tick (65 s, not 60 s).
        horizon = now + DUE_SLACK
        # While the client pauses the account after a cloud-wide fault, send nothing.
        if self._list_due <= horizon and self.client.paused_for <= 0:
            await self._poll_list(now)
        chargers = self.details.data.chargers
        current = {cid: s for cid, s in (self.data or {}).items() if cid in chargers}
        # The list is as authoritative as the state for mode and online: show a change at
        # once (the state read that follows brings the rest, and may be 15 s behind).
        for charger_id in self._from_list & chargers.keys():
            state = current.get(charger_id) or ChargerState(charger_id)
            current[charger_id] = _with_list_values(state, self._listed[charger_id], now)
        self._from_list.clear()
        due = [
            cid
            for _, cid in sorted(
                (self._due.get(cid, now), cid)
                for cid in chargers
                if self._due.get(cid, now) <= horizon or cid in self._changed
            )
        ]
        first = [cid for cid in due if cid in self._changed or cid not in self._due]
        rest = [cid for cid in due if cid not in first]
        if self._started:
            ids = first + rest[: const.MAX_STATE_READS_PER_TICK]
        else:  # set-up: one tick's worth, async_catch_up reads the rest
            ids = (first + rest)[: const.MAX_STATE_READS_PER_TICK]
        self._started = True
        if ids and self.client.paused_for <= 0:
            self._changed.difference_update(ids)
            results = await asyncio.gather(
                *(self.client.get_charger_state(cid) for cid in ids), return_exceptions=True
            )
            now = dt_util.utcnow()
            for charger_id, result in zip(ids, results, strict=True):
                self._take(charger_id, result, current, now)
        self._update_availability(chargers, now)
        return current

    async def _poll_list(self, now: datetime) -> None:
        """Read the charger list; a charger whose mode or online flag changed is read next."""
        try:
            # A list the details refresh read at the same moment counts too.
            listed = await self.details.async_list_chargers(max_age=DUE_SLACK)
        except ZaptecAuthenticationError:
            raise
        except ZaptecConnectionError:
            # Cloud-wide: the client pauses every request. The list keeps its cadence (and
            # waits for the pause's end if that is later): probing an outage with it sooner
            # than health reads it would make the fault cost more requests than health.
            self._list_due = now + self._list_every
            return
        except ZaptecError as err:
            # The list only: back off its polls like a charger's (never faster than healthy);
            # the state reads go on, and idle chargers go unavailable (see the class doc).
            self._list_failures += 1
            if self.list_error is None:
                LOGGER.info("Zaptec charger list not readable: %s", err)
            self.list_error = str(err)
            self._list_due = now + fault_backoff(self._list_failures, const.LIST_INTERVAL)
            return
        if self.list_error is not None:
            LOGGER.info("Zaptec charger list readable again")
        self.list_error = None
        self._list_failures = 0
        self._list_every = self._list_interval()
        self._list_due = now + self._list_every
        self.listed_ok_at = now
        for charger in listed:
            values = _list_values(charger)
            if self._listed.get(charger.id, values) != values:
                LOGGER.debug("Zaptec charger %s changed in the list: %s", charger.name, values)
                self._changed.add(charger.id)
                self._recheck.add(charger.id)
                self._from_list.add(charger.id)
            self._listed[charger.id] = values
        if not self.details.async_take_charger_list(listed):
            # Chargers were added or removed, or an authorization flag or role changed: the
            # details refresh (which reuses this list) adds or drops their devices, or reads
            # the installations' and those chargers' details.
            await self.details.async_request_refresh()

    def _take(
        self,
        charger_id: str,
        result: ChargerState | BaseException,
        current: dict[str, ChargerState],
        now: datetime,
    ) -> None:
        """Store one charger's read, or deal with its error without touching the others."""
        charger = self.details.data.chargers[charger_id]
        recheck = charger_id in self._recheck
        self._recheck.discard(charger_id)
        if isinstance(result, ChargerState):
            listed = self._listed.get(charger_id, (None, None))
            stale = recheck and _disagrees(result, listed)
            if stale:
                # Read because the list changed, but the state does not show it yet: Zaptec
                # serves the state from a 15 s cache. The list's values stay until the
                # second read (16 s later), which is taken as it is.
                result = _with_list_values(result, listed, now)
            self.no_access.discard(charger_id)
            if self.failed.pop(charger_id, None) is not None:
                LOGGER.info("Zaptec charger %s: state readable again", charger.name)
            self._failures.pop(charger_id, None)
            current[charger_id] = result
            self._read_at[charger_id] = now
            mode = result.operating_mode
            if mode is None:
                mode = charger.operating_mode
            interval = self._interval[charger_id] = self._with_push(
                charger_id, self.interval_for(charger_id, mode, now, listed[0])
            )
            if stale:
                self._due[charger_id] = now + min(interval, const.STATE_AFTER_WRITE)
            elif interval == const.STATE_INTERVAL_IDLE:
                self._due[charger_id] = idle_slot(charger_id, now)
            else:
                self._due[charger_id] = now + interval
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
        backoff = fault_backoff(failures, self._healthy_interval(charger))
        self._due[charger_id] = now + backoff

    @callback
    def _update_availability(self, chargers: dict[str, Charger], now: datetime) -> None:
        """Recompute which chargers are unavailable; tell the entities if that changed."""
        unavailable = set(self.failed)
        list_limit = 2 * self._list_every + const.STATE_TICK
        for charger_id, read_at in self._read_at.items():
            limit = 2 * self._interval[charger_id] + const.STATE_TICK
            # An idle charger is read every 6 hours: between reads the list vouches for it.
            confirmed = max(read_at, self.listed_ok_at or read_at)
            if now - read_at > limit or now - confirmed > list_limit:
                unavailable.add(charger_id)
        frozen = frozenset(unavailable & chargers.keys())
        if frozen != self.unavailable:
            self.unavailable = frozen
            # The data may not change (always_update=False): availability alone must show.
            self.async_update_listeners()


class ZaptecFirmwareCoordinator(
    _SlowReadBackoff, DataUpdateCoordinator[dict[str, ChargerFirmware]]
):
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
