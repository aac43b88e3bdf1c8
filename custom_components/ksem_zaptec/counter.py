"""Energy counters as the Energy dashboard needs them: never down, never a spike.

Home Assistant's long-term statistics read a `total_increasing` sensor's drop as a meter reset
and add the next reading in full; one absurd reading becomes the floor that every real reading
afterwards falls below. So a reading is taken only when it is physically possible:
- positive and not above `ceiling_kwh` (no meter of this kind ever gets there);
- not lower than the last accepted reading;
- not higher than the last accepted reading plus `max_power_kw` over the time since then
  (plus `slack_kwh` for rounding and clock jitter).
Anything else is a glitch: the sensor shows unknown for that reading, and the floor stays.
Both sides (KSEM meter counters, Zaptec charger meter reading) use this one helper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from homeassistant.components.sensor import RestoreSensor

from .const import LOGGER

_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class CounterLimits:
    """What a counter of one kind of device can physically do."""

    max_power_kw: float
    ceiling_kwh: float
    slack_kwh: float = 0.1


class MonotonicCounter:
    """Decides, reading by reading, which values an energy counter may show."""

    def __init__(self, limits: CounterLimits, name: str) -> None:
        """No floor yet: the first plausible reading (or a restored state) sets it."""
        self.limits = limits
        self.name = name
        self.floor: float | None = None
        self._floor_at: float | None = None

    def _in_range(self, value: float) -> bool:
        return math.isfinite(value) and 0 < value <= self.limits.ceiling_kwh

    def restore(self, value: float, at: float) -> None:
        """The last state before a restart; an implausible one (an old spike) is ignored."""
        if self._in_range(value) and (self.floor is None or value > self.floor):
            self.floor, self._floor_at = value, at

    def accept(self, value: float | None, at: float) -> float | None:
        """`value` if it is plausible at time `at` (seconds), else None; moves the floor."""
        if value is None:
            return None
        if not self._in_range(value):
            LOGGER.debug("%s: dropping implausible reading %s", self.name, value)
            return None
        if self.floor is None or self._floor_at is None:
            self.floor, self._floor_at = value, at
            return value
        if value < self.floor:
            LOGGER.debug("%s: dropping %s below the last reading %s", self.name, value, self.floor)
            return None
        if value > self.floor:
            hours = max(at - self._floor_at, 0.0) / _SECONDS_PER_HOUR
            allowed = self.limits.max_power_kw * hours + self.limits.slack_kwh
            if value - self.floor > allowed:
                LOGGER.debug(
                    "%s: dropping %s, more than %.3f kWh above %s in %.0f s",
                    self.name,
                    value,
                    allowed,
                    self.floor,
                    hours * _SECONDS_PER_HOUR,
                )
                return None
            # The window starts at the last increase: a counter that stood still for hours
            # may then rise by what the device could have delivered meanwhile.
            self.floor, self._floor_at = value, at
        return value


async def async_restore_counter(counter: MonotonicCounter, sensor: RestoreSensor) -> None:
    """Give a counter the sensor's last state before a restart as its floor (if plausible)."""
    last = await sensor.async_get_last_sensor_data()
    last_state = await sensor.async_get_last_state()
    if last is not None and last_state is not None and isinstance(last.native_value, int | float):
        counter.restore(float(last.native_value), last_state.last_updated_timestamp)
