"""The simulated day of the energy benchmark: its exact energy and its faults are what they say."""

from __future__ import annotations

import pytest

from simulator.ksem_energy import APPLIANCES, Faults, exact_kwh, powers, replay


def test_exact_energy_of_known_shapes() -> None:
    """The car charge is a trapezoid (11 kW, 60 s edges): its energy is known by hand."""
    start, end = 17.5 * 3600, 19.6 * 3600
    expected = 11.0 * (end - start - 60.0) / 3600
    assert exact_kwh(start - 600, end + 600)["wallbox"] == pytest.approx(expected, rel=1e-9)
    # A kettle switching on and off between two grid points adds exactly its energy.
    on, off, watts = APPLIANCES[0]
    with_kettle = exact_kwh(on - 5, off + 5)["house"]
    before = powers(on - 1).house
    assert with_kettle > watts * (off - on) / 3.6e6 + before * (off - on) / 3.6e6 * 0.5
    assert exact_kwh(100.0, 100.0)["pv"] == 0.0


def test_powers_are_consistent() -> None:
    """Night: no PV; the flex values balance (grid = house + wallbox + battery - PV)."""
    night = powers(2 * 3600)
    assert night.pv == 0.0
    assert night.directions()["battery_discharge"] == 0.0
    noon = powers(13 * 3600).flex()
    balance = (
        noon["housePowerTotal"]
        + noon["wallboxPowerTotal"]
        + noon["batteryPowerTotal"]
        - noon["pvPowerTotal"]
    )
    assert abs(noon["gridPowerTotal"] - balance) <= 3  # rounding of each value to 1 mW


def test_replay_has_the_faults_it_promises() -> None:
    faults = Faults(lost_frames=3, stalls=2, reconnects=1, reboot=60.0)
    frames = list(replay(faults, start=0.0, end=3600.0))
    stamps = [frame.at for frame in frames]
    assert stamps == sorted(stamps)
    gaps = sorted(round(end - start) for start, end in faults.gaps)
    assert len(gaps) == 3 + 2 + 1 + 1
    assert gaps[:3] == [2, 2, 2]  # a lost frame
    assert gaps[3:5] == [4, 4]  # a stall: bridged
    assert 7 <= gaps[5] <= 11  # a reconnect
    assert gaps[6] in (60, 61)  # the reboot
    assert len(frames) == 3600 - 3 - 2 * 3 - (gaps[5] - 1) - (gaps[6] - 1)
