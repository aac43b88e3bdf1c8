"""The KSEM coordinator: push over the data-transfer WebSocket, polling as the fallback.

Data sources, in order of preference:
1. the protobuf WebSocket (about one reading per second) when the token is accepted there;
   while it is connected, polling stops (`update_interval = None`, as wled does);
2. the JSON interface, polled every `poll_interval` seconds;
3. when the JSON app is missing (404/502), one short-lived WebSocket read per poll.
If the WebSocket refuses the token too, the firmware offers no way to read the meter with an
access token: a repair issue asks the user to update it (deleted at the next good reading).
Pushed readings are written at most every `write_interval` seconds so a 1 Hz stream does not
flood the recorder. Client errors map to Home Assistant errors in `_translate` only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from ..const import DOMAIN, LOGGER
from .api import (
    DeviceSettings,
    EnergyFlow,
    KsemAuthError,
    KsemClient,
    KsemError,
    KsemNotSupportedError,
    KsemRateLimitError,
    MeterValues,
)
from .const import (
    CONF_POLL_INTERVAL,
    CONF_WRITE_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WRITE_INTERVAL,
    WRITE_JITTER,
    WRITE_STALL,
    WS_BACKOFF_MAX,
    WS_BACKOFF_MIN,
)
from .repairs import async_create_firmware_issue, async_delete_firmware_issue


@dataclass(frozen=True, slots=True)
class KsemData:
    """What the entities read: the grid meter and, if readable, the energy flow."""

    meter: MeterValues
    energy_flow: EnergyFlow | None


@dataclass(slots=True)
class KsemRuntimeData:
    """Runtime objects of a loaded KSEM entry."""

    client: KsemClient
    coordinator: KsemCoordinator


type KsemConfigEntry = ConfigEntry[KsemRuntimeData]


class _NoTokenAccessError(KsemError):
    """JSON interface missing and the WebSocket refuses the token: the firmware is too old."""


def _translate(err: KsemError) -> Exception:
    """The one place that maps client errors to Home Assistant errors."""
    if isinstance(err, _NoTokenAccessError):
        return UpdateFailed(translation_domain=DOMAIN, translation_key="ksem_firmware_too_old")
    if isinstance(err, KsemAuthError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="ksem_auth_failed")
    if isinstance(err, KsemRateLimitError):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="ksem_rate_limited",
            retry_after=err.retry_after,
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="ksem_communication_error",
        translation_placeholders={"error": str(err)},
    )


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
        self.device: DeviceSettings | None = None
        self.has_energy_flow = False
        self.push_connected = False
        self.firmware_too_old = False
        self._json_interface = True
        self._websocket_accepted = False
        self._energy_flow: EnergyFlow | None = None
        self._energy_flow_pushed = False
        self._latest: KsemData | None = None
        self._last_write = -1e9
        self._unsub_write: CALLBACK_TYPE | None = None

    async def _async_setup(self) -> None:
        """One-off reads: device settings and whether the energy flow is readable."""
        try:
            self.device = await self.client.get_device_settings()
        except KsemAuthError, KsemNotSupportedError:
            # An api token may not be allowed to read it (ksem-api.md §5.2): not fatal.
            LOGGER.debug("Device settings not readable with this token")
        except KsemError as err:
            raise _translate(err) from err
        try:
            self._energy_flow = await self.client.read_energy_flow_once()
        except KsemError as err:
            LOGGER.debug("Energy flow not readable: %s", err)
        else:
            self.has_energy_flow = True

    async def _async_update_data(self) -> KsemData:
        """Poll: JSON interface, or one WebSocket read when the JSON app is missing."""
        try:
            meter = await self._read_meter()
            if self.has_energy_flow and not self._energy_flow_pushed:
                self._energy_flow = await self._read_energy_flow()
        except _NoTokenAccessError as err:
            if not self.firmware_too_old:
                self.firmware_too_old = True
                async_create_firmware_issue(self.hass, self.config_entry)
            raise _translate(err) from err
        except KsemError as err:
            raise _translate(err) from err
        if self.firmware_too_old:
            self.firmware_too_old = False
            async_delete_firmware_issue(self.hass, self.config_entry)
        self._check_status(meter)
        self._last_write = self.hass.loop.time()
        return KsemData(meter, self._energy_flow)

    async def _read_meter(self) -> MeterValues:
        if self._json_interface:
            try:
                return await self.client.get_values()
            except KsemNotSupportedError:
                if not self.firmware_too_old:
                    LOGGER.warning(
                        "The KSEM's JSON interface is missing; reading its WebSocket instead"
                    )
                self._json_interface = False
        try:
            meter = await self.client.read_values_once()
        except (KsemAuthError, KsemNotSupportedError) as err:
            if self._websocket_accepted:
                raise  # the token was accepted there before: revoked, so reauth
            # Ask the JSON interface again next time: a firmware update brings it back.
            self._json_interface = True
            raise _NoTokenAccessError("no way to read the meter with a token") from err
        self._websocket_accepted = True
        return meter

    async def _read_energy_flow(self) -> EnergyFlow | None:
        try:
            return await self.client.read_energy_flow_once()
        except KsemAuthError:
            return None

    @staticmethod
    def _check_status(meter: MeterValues) -> None:
        if not meter.ok:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="ksem_meter_status",
                translation_placeholders={"status": meter.status},
            )

    # ---- push -------------------------------------------------------------------------------

    @callback
    def async_start_push(self) -> None:
        """Start the WebSocket listeners as entry background tasks (cancelled on unload)."""
        entry = self.config_entry
        entry.async_create_background_task(
            self.hass,
            self._listen("smart-meter", self.client.stream_values, self._on_meter, meter=True),
            f"{DOMAIN} KSEM {entry.unique_id} push",
        )
        if self.has_energy_flow:
            entry.async_create_background_task(
                self.hass,
                self._listen("energy flow", self.client.stream_energy_flow, self._on_energy_flow),
                f"{DOMAIN} KSEM {entry.unique_id} energy flow push",
            )
        entry.async_on_unload(self._cancel_write)

    async def _listen[T](
        self,
        label: str,
        stream: Callable[[], AsyncIterator[T]],
        handle: Callable[[T], None],
        *,
        meter: bool = False,
    ) -> None:
        """Keep one WebSocket open; reconnect with exponential backoff."""
        backoff = WS_BACKOFF_MIN
        accepted = False
        while True:
            connected = False
            try:
                async for item in stream():
                    if not connected:
                        connected = accepted = True
                        backoff = WS_BACKOFF_MIN
                        self._set_pushing(label, meter=meter, pushing=True)
                    handle(item)
            except KsemAuthError, KsemNotSupportedError:
                if not accepted:
                    LOGGER.info("KSEM %s: WebSocket not available to this token, polling", label)
                    return
                LOGGER.debug("KSEM %s: WebSocket refused the token", label)
            except KsemError as err:
                LOGGER.debug("KSEM %s: WebSocket ended: %s", label, err)
            if connected:
                self._set_pushing(label, meter=meter, pushing=False)
            # Poll at once: it tells a revoked token (reauth) from a network problem.
            await self.async_refresh()
            if isinstance(self.last_exception, ConfigEntryAuthFailed):
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, WS_BACKOFF_MAX)

    @callback
    def _set_pushing(self, label: str, *, meter: bool, pushing: bool) -> None:
        LOGGER.debug("KSEM %s push %s", label, "connected" if pushing else "lost")
        if meter:
            self.push_connected = pushing
            self._websocket_accepted = self._websocket_accepted or pushing
            self.update_interval = None if pushing else self.poll_interval
        else:
            self._energy_flow_pushed = pushing

    @callback
    def _on_meter(self, meter: MeterValues) -> None:
        if not meter.ok:
            try:
                self._check_status(meter)
            except UpdateFailed as err:
                self.async_set_update_error(err)
            return
        self._latest = KsemData(meter, self._energy_flow)
        self._write_soon()

    @callback
    def _on_energy_flow(self, flow: EnergyFlow) -> None:
        """Kept until the next meter write (or poll) carries it to the entities."""
        self._energy_flow = flow

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
        self.async_set_updated_data(KsemData(data.meter, self._energy_flow))

    @callback
    def _cancel_write(self) -> None:
        if self._unsub_write is not None:
            self._unsub_write()
            self._unsub_write = None
