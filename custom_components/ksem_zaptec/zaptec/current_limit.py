"""The rate guard of an installation's available current: the last value wins, every 15 min.

(15 minutes by default; the entry's option "available current interval" may make it longer.)

Zaptec asks integrators not to change the available current more often than about every
15 minutes (docs/zaptec.md#control). The first change is sent at once; a change within
15 minutes of the last one sent waits, and a newer one replaces it, so a dragged slider or a
chatty automation costs one write per 15 minutes. The number entity shows the pending value.

A pending change lives in memory: it is dropped when the entry unloads. Every attempt counts,
a failed one too, so a cloud that refuses still sees at most one write per interval.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER
from . import const
from .api import ZaptecError, ZaptecNotSupportedError
from .coordinator import ZaptecConfigEntry

type Phases = tuple[float, float, float]


class AvailableCurrentLimiter:
    """Per installation: the last change sent, a pending one, and the timer that sends it."""

    def __init__(self, hass: HomeAssistant, entry: ZaptecConfigEntry) -> None:
        """One per account; nothing sent yet."""
        self._hass = hass
        self._entry = entry
        self.interval = timedelta(
            minutes=entry.options.get(
                const.CONF_AVAILABLE_CURRENT_INTERVAL, const.DEFAULT_AVAILABLE_CURRENT_INTERVAL
            )
        )
        self._sent_at: dict[str, datetime] = {}
        self.pending: dict[str, Phases] = {}
        self._scheduled: set[str] = set()
        # Installations whose current Zaptec Sense/APM manages (code 527), until a reload.
        self.managed_by_apm: set[str] = set()

    def next_write(self, installation_id: str) -> datetime | None:
        """When a change may be sent next (None: now)."""
        sent = self._sent_at.get(installation_id)
        if sent is None or dt_util.utcnow() >= sent + self.interval:
            return None
        return sent + self.interval

    async def async_set(self, installation_id: str, phases: Phases) -> None:
        """Send now when the interval allows it, else keep it pending (replacing an older one).

        Errors of a write sent now are raised (the caller maps them); a pending write's
        errors are logged when it is sent.
        """
        when = self.next_write(installation_id)
        if when is None:
            self._drop_pending(installation_id)
            await self._send(installation_id, phases)
            return
        self.pending[installation_id] = phases
        self._schedule(installation_id, when)
        LOGGER.info(
            "Zaptec: available current %s A for installation %s pending until %s "
            "(Zaptec asks for at most one change every %s)",
            "/".join(f"{value:g}" for value in phases),
            self._name(installation_id),
            dt_util.as_local(when).strftime("%H:%M:%S"),
            self.interval,
        )
        self._entry.runtime_data.details.async_update_listeners()

    def _schedule(self, installation_id: str, when: datetime) -> None:
        """Send the pending change at `when` (one timer per installation; gone on unload)."""
        if installation_id in self._scheduled:
            return
        self._scheduled.add(installation_id)
        self._entry.async_on_unload(
            async_track_point_in_utc_time(self._hass, self._due_callback(installation_id), when)
        )

    def _due_callback(self, installation_id: str) -> Callable[[datetime], None]:
        @callback
        def _due(_now: datetime) -> None:
            self._scheduled.discard(installation_id)
            if installation_id not in self.pending:
                return  # sent at once meanwhile (and nothing newer is waiting)
            when = self.next_write(installation_id)
            if when is not None:  # a write went out since this timer was set
                self._schedule(installation_id, when)
                return
            phases = self.pending.pop(installation_id)
            self._entry.async_create_background_task(
                self._hass,
                self._send_pending(installation_id, phases),
                f"zaptec available current {installation_id}",
            )

        return _due

    async def _send_pending(self, installation_id: str, phases: Phases) -> None:
        try:
            await self._send(installation_id, phases)
        except ZaptecError as err:
            LOGGER.warning(
                "Zaptec: the pending available current of installation %s was not applied: %s",
                self._name(installation_id),
                err,
            )
            # The entity drops the pending value and shows the installation's real one.
            self._entry.runtime_data.details.async_update_listeners()

    async def _send(self, installation_id: str, phases: Phases) -> None:
        details = self._entry.runtime_data.details
        self._sent_at[installation_id] = dt_util.utcnow()
        try:
            async with details.async_write():
                installation = await details.client.set_available_current(installation_id, phases)
        except ZaptecNotSupportedError:
            self.async_mark_managed_by_apm(installation_id)
            raise
        details.async_set_installation(installation)

    async def async_set_phase_switch_current(self, installation_id: str, current: float) -> None:
        """Send the 3-to-1-phase switch current at once (a setting, not rate-guarded)."""
        details = self._entry.runtime_data.details
        try:
            async with details.async_write():
                installation = await details.client.set_three_to_one_phase_switch_current(
                    installation_id, current
                )
        except ZaptecNotSupportedError:
            self.async_mark_managed_by_apm(installation_id)
            raise
        details.async_set_installation(installation)

    @callback
    def async_mark_managed_by_apm(self, installation_id: str) -> None:
        """Zaptec refused with 527: its current controls are unavailable, a repair says why."""
        if installation_id in self.managed_by_apm:
            return
        self.managed_by_apm.add(installation_id)
        name = self._name(installation_id)
        LOGGER.warning(
            "Zaptec: installation %s is managed by Zaptec Sense (APM); its current cannot be "
            "set from Home Assistant",
            name,
        )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            f"{const.ISSUE_MANAGED_BY_APM}_{installation_id}",
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=const.ISSUE_MANAGED_BY_APM,
            translation_placeholders={"installation": name},
        )
        self._entry.runtime_data.details.async_update_listeners()

    def _drop_pending(self, installation_id: str) -> None:
        self.pending.pop(installation_id, None)

    def _name(self, installation_id: str) -> str:
        installation = self._entry.runtime_data.details.data.installations.get(installation_id)
        return installation_id if installation is None else installation.name

    @callback
    def async_shutdown(self) -> None:
        """Entry unloads: pending changes are dropped (logged), the repair issues go too.

        Their timers go with the entry (`async_on_unload`).
        """
        for installation_id in list(self.pending):
            LOGGER.info(
                "Zaptec: pending available current of installation %s dropped (unloaded)",
                self._name(installation_id),
            )
            self._drop_pending(installation_id)
        for installation_id in self.managed_by_apm:
            ir.async_delete_issue(
                self._hass, DOMAIN, f"{const.ISSUE_MANAGED_BY_APM}_{installation_id}"
            )
