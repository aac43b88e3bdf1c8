"""The KSEM coordinator: push over the data-transfer WebSocket, polling as the fallback.

Data sources, in order of preference:
1. the protobuf WebSocket (about one reading per second) when the token is accepted there;
   while it is connected, polling stops (`update_interval = None`, as wled does);
2. the JSON interface, polled every `poll_interval` seconds;
3. when the JSON app is missing (404/502), one short-lived WebSocket read per poll.
If the WebSocket refuses the token too, the firmware offers no way to read the meter with an
access token: a repair issue asks the user to update it (deleted at the next good reading).

Reliability rules:
- each push stream runs in a supervisor that survives any exception, reconnects with backoff
  and polls meanwhile; a socket silent for 3 push intervals is reconnected (client watchdog);
  a WebSocket that refused the token at start-up is asked again every 10 minutes;
- no valid reading for `stale_after` seconds makes the entities unavailable: a value that is
  no longer fresh is never shown as live;
- after a few failed polls the poll interval backs off to once a minute, and returns to
  normal with the first good reading.
Pushed readings are written at most every `write_interval` seconds so a 1 Hz stream does not
flood the recorder. Client errors map to Home Assistant errors in `errors.py` only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..backoff import ReconnectBackoff
from ..const import DOMAIN, LOGGER
from ..errors import update_errors
from .api import (
    DeviceSettings,
    EnergyFlow,
    KsemAuthError,
    KsemCertificateChangedError,
    KsemClient,
    KsemError,
    KsemNotSupportedError,
    MeterValues,
    SilenceWatchdog,
)
from .const import (
    CONF_POLL_INTERVAL,
    CONF_STALE_AFTER,
    CONF_WRITE_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_STALE_AFTER,
    DEFAULT_WRITE_INTERVAL,
    POLL_BACKOFF_MAX,
    POLL_FAILURES_BEFORE_BACKOFF,
    WRITE_JITTER,
    WRITE_STALL,
    WS_BACKOFF_MAX,
    WS_BACKOFF_MIN,
    WS_REFUSED_RETRY,
    WS_STABLE_AFTER,
)
from .errors import NoTokenAccessError, map_update_error
from .integrator import EnergyIntegrator
from .repairs import (
    async_create_firmware_issue,
    async_delete_certificate_issue,
    async_delete_firmware_issue,
    async_raise_certificate_changed,
)


class KsemTransport(StrEnum):
    """How the meter's readings reach Home Assistant right now."""

    PUSH = "push"  # the WebSocket delivers; polling is paused
    POLL_JSON = "poll_json"  # the JSON interface is polled
    POLL_WEBSOCKET = "poll_websocket"  # no JSON app: one WebSocket read per poll
    # No JSON app and the WebSocket refuses the token (a state name, not a secret):
    NO_TOKEN_ACCESS = "no_token_access"  # noqa: S105


# Energy of the energy-flow powers, which the meter keeps no counters of: sensor key -> the
# power it integrates and which direction (+1: the positive part, -1: the negative part).
# The meter's battery power is + while charging (docs/ksem.md#energy-flow).
FLOW_ENERGY: dict[str, tuple[Callable[[EnergyFlow], float | None], int]] = {
    "pv_energy": (lambda f: f.pv_power, 1),
    "house_energy": (lambda f: f.house_power, 1),
    "battery_charge_energy": (lambda f: f.battery_power, 1),
    "battery_discharge_energy": (lambda f: f.battery_power, -1),
    "wallbox_energy": (lambda f: f.wallbox_power, 1),
}


@dataclass(frozen=True, slots=True)
class KsemData:
    """What the entities read: the grid meter and, if readable and fresh, the energy flow."""

    meter: MeterValues
    energy_flow: EnergyFlow | None


@dataclass(slots=True)
class KsemRuntimeData:
    """Runtime objects of a loaded KSEM entry."""

    coordinator: KsemCoordinator


type KsemConfigEntry = ConfigEntry[KsemRuntimeData]


class KsemCoordinator(DataUpdateCoordinator[KsemData]):
    """Keeps the latest meter reading of one KSEM."""

    config_entry: KsemConfigEntry

    def __init__(self, hass: HomeAssistant, entry: KsemConfigEntry, client: KsemClient) -> None:
        """Set up polling at the configured interval; push starts with `async_start_push`."""
        self.poll_interval = timedelta(
            seconds=entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL)
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"KSEM {entry.unique_id}",
            update_interval=self.poll_interval,
        )
        self.client = client
        self.write_interval: float = entry.options.get(CONF_WRITE_INTERVAL, DEFAULT_WRITE_INTERVAL)
        self.stale_after = timedelta(
            seconds=entry.options.get(CONF_STALE_AFTER, DEFAULT_STALE_AFTER)
        )
        self.device: DeviceSettings | None = None
        self.has_energy_flow = False
        # What a poll uses; `transport` is PUSH instead while the WebSocket delivers.
        self.poll_transport = KsemTransport.POLL_JSON
        self.transport = KsemTransport.POLL_JSON
        self._websocket_accepted = False  # a refusal after acceptance means "revoked"
        self._energy_flow: EnergyFlow | None = None
        # Fed with every energy-flow sample (not only the written ones); the sensors read them.
        self.flow_energy = {
            key: EnergyIntegrator(sign=sign) for key, (_, sign) in FLOW_ENERGY.items()
        }
        self._energy_flow_at: datetime | None = None
        self._latest: KsemData | None = None
        self._last_write = -1e9
        self._last_reading: datetime | None = None
        self._poll_failures = 0
        self._certificate_refused = False  # a repair issue says so until it answers again
        self._unsub_write: CALLBACK_TYPE | None = None
        self._unsub_stale: CALLBACK_TYPE | None = None
        self._unexpected_logged = False  # a push failure's traceback is logged once
        self._unsub_retry: dict[bool, CALLBACK_TYPE] = {}  # refused streams, by "is meter"

    @property
    def push_connected(self) -> bool:
        """True while the meter's WebSocket delivers readings."""
        return self.transport is KsemTransport.PUSH

    @update_errors(map_update_error)
    async def _async_setup(self) -> None:
        """One-off reads: device settings and whether the energy flow is readable."""
        try:
            self.device = await self.client.get_device_settings()
        except KsemAuthError, KsemNotSupportedError:
            # An api token may not be allowed to read it: not fatal.
            LOGGER.debug("Device settings not readable with this token")
        try:
            flow = await self.client.read_energy_flow_once()
        except KsemError as err:
            LOGGER.debug("Energy flow not readable: %s", err)
        else:
            self.has_energy_flow = True
            self._set_energy_flow(flow)

    # ---- polling ----------------------------------------------------------------------------

    @update_errors(map_update_error)
    async def _async_update_data(self) -> KsemData:
        """Poll: JSON interface, or one WebSocket read when the JSON app is missing."""
        blocked = self.poll_transport is KsemTransport.NO_TOKEN_ACCESS
        # The energy flow is not read here: its own stream brings it (one reading per
        # connection even while that stream reconnects), and its sensors turn unavailable
        # while it is not fresh. A WebSocket read per poll would double a fault's requests.
        try:
            meter = await self._read_meter()
        except NoTokenAccessError:
            if not blocked:
                async_create_firmware_issue(self.hass, self.config_entry)
            self._set_poll_transport(KsemTransport.NO_TOKEN_ACCESS)
            raise
        except KsemCertificateChangedError:
            # The token is not sent to a device that shows another certificate: say why.
            async_raise_certificate_changed(self.hass, self.config_entry, running=True)
            self._certificate_refused = True
            raise
        if blocked:
            async_delete_firmware_issue(self.hass, self.config_entry)
        if self._certificate_refused:
            self._certificate_refused = False
            async_delete_certificate_issue(self.hass, self.config_entry)
        self._poll_failures = 0
        self._check_status(meter)
        self._mark_fresh()
        self._last_write = self.hass.loop.time()
        return KsemData(meter, self._fresh_energy_flow())

    def failure_backoff(self) -> float | None:
        """After a failed poll: the poll interval thrice, then doubling up to once a minute."""
        self._poll_failures += 1
        extra = self._poll_failures - POLL_FAILURES_BEFORE_BACKOFF
        if extra < 0:
            return None
        return min(self.poll_interval.total_seconds() * 2.0 ** (extra + 1), POLL_BACKOFF_MAX)

    @callback
    def _set_poll_transport(self, transport: KsemTransport) -> None:
        self.poll_transport = transport
        if self.transport is not KsemTransport.PUSH:
            self.transport = transport

    async def _read_meter(self) -> MeterValues:
        """JSON first (also after "no token access": a firmware update brings it back)."""
        if self.poll_transport is not KsemTransport.POLL_WEBSOCKET:
            try:
                meter = await self.client.get_values()
            except KsemNotSupportedError:
                if self.poll_transport is KsemTransport.POLL_JSON:
                    LOGGER.warning(
                        "The KSEM's JSON interface is missing; reading its WebSocket instead"
                    )
            else:
                self._set_poll_transport(KsemTransport.POLL_JSON)
                return meter
        try:
            meter = await self.client.read_values_once()
        except (KsemAuthError, KsemNotSupportedError) as err:
            if self._websocket_accepted:
                raise  # the token was accepted there before: revoked, so reauth
            raise NoTokenAccessError("no way to read the meter with a token") from err
        self._websocket_accepted = True
        self._set_poll_transport(KsemTransport.POLL_WEBSOCKET)
        return meter

    @staticmethod
    def _check_status(meter: MeterValues) -> None:
        if not meter.ok:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="ksem_meter_status",
                translation_placeholders={"status": meter.status},
            )

    # ---- freshness --------------------------------------------------------------------------

    @callback
    def _mark_fresh(self) -> None:
        """A valid reading arrived: (re)arm the staleness check."""
        self._last_reading = dt_util.utcnow()
        if self._unsub_stale is None:
            self._unsub_stale = async_call_later(
                self.hass, self.stale_after.total_seconds(), self._check_stale
            )

    @callback
    def _check_stale(self, _now: Any = None) -> None:
        self._unsub_stale = None
        if self._last_reading is None:
            return
        age = dt_util.utcnow() - self._last_reading
        if age < self.stale_after:
            self._unsub_stale = async_call_later(
                self.hass, (self.stale_after - age).total_seconds(), self._check_stale
            )
            return
        if self.last_update_success:
            self.async_set_update_error(
                UpdateFailed(
                    translation_domain=DOMAIN,
                    translation_key="ksem_stale",
                    translation_placeholders={"seconds": f"{age.total_seconds():.0f}"},
                )
            )

    @callback
    def _set_energy_flow(self, flow: EnergyFlow) -> None:
        """Keep the latest energy flow and integrate it (over the frame's own timestamp)."""
        now = dt_util.utcnow()
        self._energy_flow = flow
        self._energy_flow_at = now
        at = (flow.timestamp or now).timestamp()
        for key, (power, _) in FLOW_ENERGY.items():
            self.flow_energy[key].add(at, power(flow))

    def _fresh_energy_flow(self) -> EnergyFlow | None:
        """The energy flow, unless its own stream went quiet (then its sensors go unavailable)."""
        if self._energy_flow_at is None:
            return None
        if dt_util.utcnow() - self._energy_flow_at >= self.stale_after:
            return None
        return self._energy_flow

    # ---- push -------------------------------------------------------------------------------

    @callback
    def async_start_push(self) -> None:
        """Start the supervised WebSocket listeners as entry background tasks."""
        self._start_stream(meter=True)
        if self.has_energy_flow:
            self._start_stream(meter=False)
        self.config_entry.async_on_unload(self._cancel_timers)

    @callback
    def _start_stream(self, _now: Any = None, *, meter: bool) -> None:
        self._unsub_retry.pop(meter, lambda: None)()
        entry = self.config_entry
        if meter:
            job = self._supervise(
                "smart-meter", self.client.stream_values, self._on_meter, meter=True
            )
        else:
            job = self._supervise(
                "energy flow", self.client.stream_energy_flow, self._set_energy_flow, meter=False
            )
        entry.async_create_background_task(
            self.hass, job, f"{DOMAIN} KSEM {entry.unique_id} {'meter' if meter else 'flow'} push"
        )

    async def _supervise[T](
        self,
        label: str,
        stream: Callable[[SilenceWatchdog], AsyncGenerator[T]],
        handle: Callable[[T], None],
        *,
        meter: bool,
    ) -> None:
        """Keep one push stream alive for the entry's lifetime, whatever goes wrong.

        Ends on unload (cancellation), when a poll finds the token revoked (reauth), or when
        the WebSocket refused the token from the start: then a timer starts it again later.
        """
        watchdog = SilenceWatchdog()
        backoff = ReconnectBackoff(WS_BACKOFF_MIN, WS_BACKOFF_MAX, WS_STABLE_AFTER)
        ever_connected = False
        while True:
            connected_for, refused = await self._stream_once(
                label, stream(watchdog), handle, meter=meter, first=not ever_connected
            )
            if connected_for is not None:
                ever_connected = True
                self._set_pushing(label, meter=meter, pushing=False)
                # Poll at once: it tells a revoked token (reauth) from a network problem, and
                # keeps the values fresh until the socket is back.
                await self.async_refresh()
                if isinstance(self.last_exception, ConfigEntryAuthFailed):
                    return
            if refused:
                LOGGER.info(
                    "KSEM %s: WebSocket not available to this token; polling, and asking "
                    "again in %.0f minutes",
                    label,
                    WS_REFUSED_RETRY / 60,
                )
                self._unsub_retry[meter] = async_call_later(
                    self.hass, WS_REFUSED_RETRY, partial(self._start_stream, meter=meter)
                )
                return
            await asyncio.sleep(backoff.wait(connected_for))

    async def _stream_once[T](
        self,
        label: str,
        items: AsyncGenerator[T],
        handle: Callable[[T], None],
        *,
        meter: bool,
        first: bool,
    ) -> tuple[float | None, bool]:
        """Run one connection until it ends: (seconds it delivered or None, refused at start).

        The stream is closed at once when it ends (its socket too), not when it is collected.
        """
        loop = self.hass.loop
        connected_at: float | None = None
        refused = False
        try:
            async with contextlib.aclosing(items):
                async for item in items:
                    if connected_at is None:
                        connected_at = loop.time()
                        self._set_pushing(label, meter=meter, pushing=True)
                    handle(item)
        except KsemAuthError, KsemNotSupportedError:
            refused = first and connected_at is None and not (meter and self._websocket_accepted)
            LOGGER.debug("KSEM %s: WebSocket refused the token", label)
        except KsemError as err:
            LOGGER.debug("KSEM %s: WebSocket ended: %s", label, err)
        except Exception:  # noqa: BLE001 - supervised: nothing may end push silently
            if not self._unexpected_logged:
                LOGGER.exception("KSEM %s: push failed unexpectedly, reconnecting", label)
                self._unexpected_logged = True
            else:
                LOGGER.debug("KSEM %s: push failed unexpectedly again", label, exc_info=True)
        return (None if connected_at is None else loop.time() - connected_at), refused

    @callback
    def _set_pushing(self, label: str, *, meter: bool, pushing: bool) -> None:
        LOGGER.debug("KSEM %s push %s", label, "connected" if pushing else "lost")
        if not meter:
            return
        self.transport = KsemTransport.PUSH if pushing else self.poll_transport
        self._websocket_accepted = self._websocket_accepted or pushing
        self.update_interval = None if pushing else self.poll_interval

    @callback
    def _on_meter(self, meter: MeterValues) -> None:
        if not meter.ok:
            try:
                self._check_status(meter)
            except UpdateFailed as err:
                self.async_set_update_error(err)
            return
        self._mark_fresh()
        self._latest = KsemData(meter, None)
        self._write_soon()

    @callback
    def _write_soon(self) -> None:
        """Write at a push once the last write is about `write_interval` old.

        Writes happen on pushes (about one per second, with jitter): a push up to
        `WRITE_JITTER` early is written at once. A timer that wrote "when the interval is
        over" would fire just before the next push and delay every value by a whole push
        period; the timer here only catches a stream that stalls after a held-back reading.
        """
        delay = self._last_write + self.write_interval - self.hass.loop.time()
        if delay <= WRITE_JITTER or not self.last_update_success:
            self._cancel_write()
            self._write()
        elif self._unsub_write is None:
            self._unsub_write = async_call_later(self.hass, delay + WRITE_STALL, self._write)

    @callback
    def _write(self, _now: Any = None) -> None:
        self._unsub_write = None
        if self._latest is None:
            return
        data, self._latest = self._latest, None
        if not self.last_update_success:
            # async_set_updated_data does not log the recovery that a failed poll logged.
            self.logger.info("Fetching %s data recovered", self.name)
        self._last_write = self.hass.loop.time()
        self.async_set_updated_data(KsemData(data.meter, self._fresh_energy_flow()))

    @callback
    def _cancel_write(self) -> None:
        if self._unsub_write is not None:
            self._unsub_write()
            self._unsub_write = None

    @callback
    def _cancel_timers(self) -> None:
        self._cancel_write()
        for cancel in self._unsub_retry.values():
            cancel()
        self._unsub_retry.clear()
        if self._unsub_stale is not None:
            self._unsub_stale()
            self._unsub_stale = None
