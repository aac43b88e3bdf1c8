"""Integrated energy of the energy-flow powers against the simulator's exact energy, one day.

Run with `python -m bench.scenarios energy`. The simulated home (simulator/ksem_energy.py)
has smooth PV, house, wallbox and battery powers whose exact daily energy is the integral of
the functions themselves. Its day is replayed as the meter would push it: every frame encoded
as the simulator's WebSocket sends it (protobuf GDRs, mW, the frame's own timestamp), decoded
by the client's decoder and parser, and integrated by the integration's integrators
(`FLOW_ENERGY` of the coordinator, `integrator.py`) exactly as the coordinator does with every
pushed frame. A reconnect or a reboot is, for the integrator, a span without frames: the
faults are such spans (the socket itself is exercised by the KSEM tests, not here).

Two errors per series: against the whole day (the energy of unbridged gaps is lost by
design: never guessed), and against the time the frames covered (the integration alone).
Target (README): within 0.5 % of the exact day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bench.harness import Rows
from custom_components.ksem_zaptec.ksem.api.models import EnergyFlow
from custom_components.ksem_zaptec.ksem.api.protobuf import decode_gdrs
from custom_components.ksem_zaptec.ksem.coordinator import FLOW_ENERGY
from custom_components.ksem_zaptec.ksem.integrator import DEFAULT_MAX_GAP, EnergyIntegrator
from simulator.ksem_energy import DAY, SERIES, Faults, exact_kwh, replay
from simulator.ksem_protobuf import encode_gdrs

MIDNIGHT = datetime(2026, 6, 21, tzinfo=UTC).timestamp()  # a long summer day
TARGET = 0.5  # % of the exact day
# Series of the simulator -> sensor key of the integration.
KEYS = {
    "pv": "pv_energy",
    "house": "house_energy",
    "wallbox": "wallbox_energy",
    "battery_charge": "battery_charge_energy",
    "battery_discharge": "battery_discharge_energy",
}
HEALTHY = "healthy: a frame every second"
FAULTS = "faults: 200 lost frames, 20 stalls of 4 s, 12 reconnects of 6-10 s, a 2 min reboot"
SLOW = "slow meter: a frame every 2 s"
SCENARIOS = {
    HEALTHY: Faults(lost_frames=0, stalls=0, reconnects=0, reboot=0.0),
    FAULTS: Faults(),
    SLOW: Faults(period=2.0, lost_frames=0, stalls=0, reconnects=0, reboot=0.0),
}

ROWS: Rows = []


def _integrate(faults: Faults) -> tuple[dict[str, float], list[float]]:
    """Push the day's frames through the wire format into the integrators.

    Returns the kWh per sensor key and the frames' times (seconds after midnight).
    """
    integrators = {key: EnergyIntegrator(sign=sign) for key, (_, sign) in FLOW_ENERGY.items()}
    times: list[float] = []
    for frame in replay(faults):
        wire = encode_gdrs(
            "kostal-energyflow", {}, flex_values=frame.flex, timestamp=MIDNIGHT + frame.at
        )
        gdr = next(iter(decode_gdrs(wire).values()))
        flow = EnergyFlow.from_flex(gdr.flex_values, gdr.timestamp)
        assert flow.timestamp is not None
        at = flow.timestamp.timestamp()
        for key, (power, _) in FLOW_ENERGY.items():
            integrators[key].add(at, power(flow))
        times.append(frame.at)
    return {key: integrator.total_kwh for key, integrator in integrators.items()}, times


def _lost_kwh(gaps: list[tuple[float, float]]) -> tuple[dict[str, float], float]:
    """Exact energy inside the gaps the integrator does not bridge, and their length."""
    lost = dict.fromkeys(SERIES, 0.0)
    seconds = 0.0
    for start, end in gaps:
        if end - start > DEFAULT_MAX_GAP:
            seconds += end - start
            for key, value in exact_kwh(start, end).items():
                lost[key] += value
    return lost, seconds


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_energy_day(name: str) -> None:
    """One simulated day: integrated vs exact energy of each series."""
    faults = SCENARIOS[name]
    integrated, times = _integrate(faults)
    exact = exact_kwh(0.0, DAY)
    # The frames cover [first, last] less the unbridged gaps.
    spanned = exact_kwh(times[0], times[-1])
    lost, unbridged = _lost_kwh(faults.gaps)
    for series in SERIES:
        key = KEYS[series]
        covered = spanned[series] - lost[series]
        row: dict[str, Any] = {
            "scenario": name,
            "series": key,
            "exact": exact[series],
            "integrated": integrated[key],
            "error_day": _percent(integrated[key], exact[series]),
            "error_covered": _percent(integrated[key], covered),
            "frames": len(times),
            "unbridged": unbridged,
        }
        ROWS.append(row)


def _percent(value: float, reference: float) -> float:
    return 100.0 * (value - reference) / reference if reference else 0.0


def print_tables(rows: Rows) -> None:
    """Per scenario and series: the exact and integrated kWh and both errors."""
    print(
        "\n| Scenario | Sensor | Exact kWh (day) | Integrated kWh | Error vs day | "
        "Error vs time covered |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['scenario']} | {row['series']} | {row['exact']:.3f} | "
            f"{row['integrated']:.3f} | {row['error_day']:+.3f} % | "
            f"{row['error_covered']:+.4f} % |"
        )
    worst = max((abs(row["error_day"]) for row in rows), default=0.0)
    print(f"\nWorst error vs the exact day: {worst:.3f} % (target <= {TARGET} %).")
    for name in dict.fromkeys(row["scenario"] for row in rows):
        some = next(row for row in rows if row["scenario"] == name)
        print(
            f"- {name}: {some['frames']} frames, {some['unbridged']:.0f} s in gaps longer than"
            f" {DEFAULT_MAX_GAP:.0f} s (not bridged: their energy is left out)"
        )
    print(
        "\nExact: the simulator's power functions integrated on a 0.1 s grid (Simpson)."
        " Integrated: the frames as the meter pushes them (mW, its own timestamps, jittered by"
        " up to 30 ms), decoded by the client and integrated by the integration"
        " (trapezoids; at a zero crossing only the side of the direction counts)."
        " 'Error vs time covered' leaves out the energy of the unbridged gaps: the"
        " integration's own error."
    )
