"""A simulated day of a KOSTAL home's energy flow, with the exact energy of each power.

The powers are functions of the time of day: PV under passing clouds, a house with a base
load, cooking peaks and appliances that switch on and off at instants between two frames
(kettle, heat-pump compressor), an evening car charge, and a battery that takes the PV surplus
and covers the evening. Sampling them once a second loses a little at every switch, as it
does on a real meter. The exact energy of a span is the integral of the functions themselves
(composite Simpson on a 0.1 s grid, split at every switch), independent of any sampling: what
an integrator of the frames should approach.

Signs are the meter's (docs/ksem.md#energy-flow): battery + = charging.
`replay` turns the day into the frames a meter would push, with lost frames, stalls and
reconnect gaps; the gaps' exact energy is what no integrator can know.
This module must not import the integration: it is the independent other side of the wire.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

DAY = 86_400.0
SERIES = ("pv", "house", "wallbox", "battery_charge", "battery_discharge")
_GRID = 0.1  # seconds between the points of the exact integral (Simpson)
_BATTERY_LIMIT = 4000.0  # W


def _bump(hour: float, centre: float, width: float) -> float:
    """A smooth peak of height 1 around `centre` (hours)."""
    return math.exp(-(((hour - centre) / width) ** 2))


def _ramp(t: float, start: float, end: float, edge: float = 60.0) -> float:
    """1 between start and end (seconds), smooth edges of `edge` seconds, else 0."""
    if t <= start or t >= end:
        return 0.0
    return min(1.0, (t - start) / edge, (end - t) / edge)


@dataclass(frozen=True, slots=True)
class Powers:
    """The meter's energy-flow powers at one instant, W (battery + = charging)."""

    pv: float
    house: float
    wallbox: float
    battery: float
    soc: int

    def directions(self) -> dict[str, float]:
        """Each series' power in its own direction (never negative)."""
        return {
            "pv": max(self.pv, 0.0),
            "house": max(self.house, 0.0),
            "wallbox": max(self.wallbox, 0.0),
            "battery_charge": max(self.battery, 0.0),
            "battery_discharge": max(-self.battery, 0.0),
        }

    def flex(self) -> dict[str, int]:
        """The flex values of an energy-flow frame: mW and whole %."""
        grid = self.house + self.wallbox + self.battery - self.pv
        return {
            "pvPowerTotal": round(self.pv * 1000),
            "housePowerTotal": round(self.house * 1000),
            "wallboxPowerTotal": round(self.wallbox * 1000),
            "batteryPowerTotal": round(self.battery * 1000),
            "gridPowerTotal": round(grid * 1000),
            "systemStateOfCharge": self.soc,
        }


def _appliances() -> list[tuple[float, float, float]]:
    """(on, off, W): a 2 kW kettle, a 1.5 kW compressor cycling, a 0.8 kW dishwasher."""
    loads = [(t, t + 170.3, 2000.0) for t in (6.9 * 3600 + 0.37, 15.5 * 3600 + 0.71, 21.1 * 3600)]
    loads += [(t + 0.53, t + 0.53 + 540.0, 1500.0) for t in range(1800, 86_400, 2700)]
    loads.append((13.0 * 3600 + 0.29, 14.25 * 3600 + 0.83, 800.0))
    return loads


APPLIANCES = _appliances()
EDGES = sorted({edge for on, off, _ in APPLIANCES for edge in (on, off)})


def powers(t: float) -> Powers:
    """The home at `t` seconds after midnight."""
    hour = t / 3600.0
    daylight = math.sin(math.pi * (hour - 6.0) / 14.0) ** 2 if 6.0 < hour < 20.0 else 0.0
    clouds = 1.0 - 0.3 * (0.5 + 0.5 * math.sin(2 * math.pi * t / 1800.0)) * (
        0.5 + 0.5 * math.sin(2 * math.pi * t / 337.0)
    )
    pv = 7000.0 * daylight * (clouds + 0.05 * math.sin(2 * math.pi * t / 23.0))
    house = (
        350.0
        + 250.0 * math.sin(math.pi * (hour - 7.0) / 24.0) ** 2
        + 1800.0 * _bump(hour, 12.2, 0.25)
        + 2200.0 * _bump(hour, 18.8, 0.35)
        + 80.0 * math.sin(2 * math.pi * t / 61.0)
        + sum(watts for on, off, watts in APPLIANCES if on <= t < off)
    )
    wallbox = 11000.0 * _ramp(t, 17.5 * 3600, 19.6 * 3600)
    surplus = pv - house - wallbox
    battery = max(-_BATTERY_LIMIT, min(_BATTERY_LIMIT, surplus))
    if hour < 5.0:  # the battery is empty in the small hours: the grid covers the house
        battery = 0.0
    soc = round(50 + 40 * math.sin(math.pi * (hour - 9.0) / 16.0)) if 9 < hour < 25 else 10
    return Powers(pv=max(pv, 0.0), house=house, wallbox=wallbox, battery=battery, soc=soc)


def exact_kwh(start: float, end: float) -> dict[str, float]:
    """The exact energy of each series between two instants (seconds after midnight), kWh."""
    totals = dict.fromkeys(SERIES, 0.0)
    cuts = [start, *(edge for edge in EDGES if start < edge < end), end]
    for low, high in itertools.pairwise(cuts):
        for key, value in _simpson(low, high).items():
            totals[key] += value
    return totals


def _simpson(start: float, end: float) -> dict[str, float]:
    """Simpson's rule on a piece without switches (the ends are taken just inside)."""
    totals = dict.fromkeys(SERIES, 0.0)
    span = end - start
    if span <= 0:
        return totals
    steps = max(2, math.ceil(span / _GRID))
    steps += steps % 2  # Simpson needs an even number of intervals
    width = span / steps
    inside = min(1e-6, span / 4)
    for i in range(steps + 1):
        weight = 1 if i in (0, steps) else (4 if i % 2 else 2)
        at = start + inside if i == 0 else (end - inside if i == steps else start + i * width)
        for key, power in powers(at).directions().items():
            totals[key] += weight * power
    return {key: value * width / 3 / 3.6e6 for key, value in totals.items()}


@dataclass(frozen=True, slots=True)
class Frame:
    """One pushed frame: its timestamp (seconds after midnight) and flex values."""

    at: float
    flex: dict[str, int]


@dataclass(slots=True)
class Faults:
    """What goes wrong during the day (all seeded: the same day every run)."""

    seed: int = 11
    period: float = 1.0  # seconds between frames
    jitter: float = 0.03  # the meter's timestamps wander by up to this, seconds
    lost_frames: int = 200  # single frames lost (a 2-period gap, bridged)
    stalls: int = 20  # the stream stalls: 3 frames missing, a 4 s gap (bridged)
    reconnects: int = 12  # the socket drops; frames resume after 6-10 s (not bridged)
    reboot: float = 120.0  # one meter reboot: no frames for this long (0: none)
    gaps: list[tuple[float, float]] = field(default_factory=list)  # filled by `replay`


def replay(faults: Faults, start: float = 0.0, end: float = DAY) -> Iterator[Frame]:
    """The frames of the day with the faults; `faults.gaps` collects every missing span."""
    rng = random.Random(faults.seed)  # noqa: S311 - a reproducible day, not a secret
    slots = int((end - start) / faults.period)
    lost = set(rng.sample(range(1, slots - 1), faults.lost_frames))
    pauses = dict.fromkeys(rng.sample(range(1, slots - 10), faults.stalls), 3.0)
    for slot in rng.sample(range(1, slots - 20), faults.reconnects):
        pauses[slot] = rng.uniform(6.0, 10.0)
    if faults.reboot:
        pauses[rng.randrange(slots // 3, 2 * slots // 3)] = faults.reboot
    faults.gaps.clear()
    slot, last = 0, None
    while slot < slots:
        if slot in pauses:  # nothing until the pause is over
            slot = max(slot + 1, math.ceil(slot + pauses[slot] / faults.period))
            continue
        if slot in lost:
            slot += 1
            continue
        stamp = start + slot * faults.period + rng.uniform(-faults.jitter, faults.jitter)
        if last is not None and stamp - last > faults.period * 1.5:
            faults.gaps.append((last, stamp))
        yield Frame(at=stamp, flex=powers(stamp).flex())
        last = stamp
        slot += 1
