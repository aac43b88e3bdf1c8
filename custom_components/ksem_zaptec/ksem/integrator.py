"""Energy from pushed power samples, for the energy-flow values the meter keeps no counter of.

The energy-flow stream (docs/ksem.md#energy-flow) carries powers only: PV, house, battery and
wallbox. Their energy is the integral of the samples over the frames' own timestamps:
- between two samples the power is taken as changing linearly (a trapezoid). A direction's
  energy (PV production, battery charge, battery discharge, ...) is the integral of the positive
  part of that line: when the power crosses zero between two samples, only the triangle on the
  side of that direction counts, so charge and discharge add up to exactly the net trapezoid;
- a gap longer than `max_gap` seconds (a lost connection, a meter reboot) is not bridged: the
  energy of the gap is unknown and left out, never guessed;
- a sample whose timestamp is not after the previous one (a clock set back, a replayed frame)
  starts a new chain, as does a missing power;
- the total never decreases, and it starts from what was restored after a restart.

No Home Assistant imports: the coordinator feeds it, the sensors read `total_kwh`.
"""

from __future__ import annotations

import math
from typing import Final

_SECONDS_PER_HOUR: Final = 3600.0
_WATTS_PER_KILOWATT: Final = 1000.0
# The meter pushes about once a second; a few lost frames are bridged, a reconnect is not.
DEFAULT_MAX_GAP: Final = 5.0


def positive_area(p0: float, p1: float, seconds: float) -> float:
    """Integral (W x s) of max(0, p) for p linear from p0 to p1 over `seconds`."""
    if p0 >= 0 and p1 >= 0:
        return (p0 + p1) / 2 * seconds
    if p0 <= 0 and p1 <= 0:
        return 0.0
    # The line crosses zero at p0 / (p0 - p1) of the interval: one triangle is positive.
    high = max(p0, p1)
    return high * high / (abs(p0) + abs(p1)) / 2 * seconds


class EnergyIntegrator:
    """Integrates one direction (`sign` +1 or -1) of a signed power into kWh."""

    __slots__ = ("_last", "integrated_kwh", "max_gap", "restored_kwh", "sign")

    def __init__(self, *, sign: int = 1, max_gap: float = DEFAULT_MAX_GAP) -> None:
        """Start at 0 kWh with no previous sample."""
        self.sign = sign
        self.max_gap = max_gap
        self.restored_kwh = 0.0
        self.integrated_kwh = 0.0
        self._last: tuple[float, float] | None = None  # (timestamp s, signed power W)

    @property
    def total_kwh(self) -> float:
        """The energy so far: the restored total plus what was integrated since."""
        return self.restored_kwh + self.integrated_kwh

    def restore(self, total_kwh: float) -> None:
        """The total before a restart (finite, not negative); what came since is kept on top."""
        if math.isfinite(total_kwh) and total_kwh > self.restored_kwh:
            self.restored_kwh = total_kwh

    def add(self, at: float, power_w: float | None) -> float:
        """Take one sample (timestamp in seconds, power in W or None); returns the total."""
        if power_w is None or not math.isfinite(power_w) or not math.isfinite(at):
            self._last = None
            return self.total_kwh
        power = self.sign * power_w
        last, self._last = self._last, (at, power)
        if last is not None:
            seconds = at - last[0]
            if 0 < seconds <= self.max_gap:
                area = positive_area(last[1], power, seconds)
                self.integrated_kwh += area / _SECONDS_PER_HOUR / _WATTS_PER_KILOWATT
        return self.total_kwh
