"""The energy integrator of the energy-flow powers: exact trapezoids, gaps left out, never down."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.ksem_zaptec.ksem.integrator import EnergyIntegrator, positive_area
from tests.property import parser_settings


def feed(integrator: EnergyIntegrator, samples: list[tuple[float, float | None]]) -> float:
    total = integrator.total_kwh
    for at, power in samples:
        total = integrator.add(at, power)
    return total


def test_constant_power_for_an_hour_is_its_kwh() -> None:
    integrator = EnergyIntegrator()
    assert feed(integrator, [(float(t), 1000.0) for t in range(3601)]) == pytest.approx(1.0)


def test_a_ramp_is_integrated_exactly_whatever_the_sampling() -> None:
    """0 -> 3600 W in one hour at uneven steps: 1.8 kWh, as the exact integral."""
    times = [0.0, 0.5, 2.0, 4.5, 5.0, *[5.0 + 3 * i for i in range(1, 1199)], 3600.0]
    integrator = EnergyIntegrator()
    assert feed(integrator, [(t, t) for t in times]) == pytest.approx(1.8, rel=1e-12)


def test_a_zero_crossing_splits_into_two_triangles() -> None:
    """+100 W to -300 W over 4 s: 50 W s charged, 450 W s discharged, net = the trapezoid."""
    assert positive_area(100.0, -300.0, 4.0) == pytest.approx(50.0)
    assert positive_area(300.0, -100.0, 4.0) == pytest.approx(450.0)
    assert positive_area(-1.0, -2.0, 4.0) == 0.0
    charge, discharge = EnergyIntegrator(sign=1), EnergyIntegrator(sign=-1)
    for integrator in (charge, discharge):
        feed(integrator, [(0.0, 100.0), (4.0, -300.0)])
    assert charge.total_kwh * 3.6e6 == pytest.approx(50.0)
    assert discharge.total_kwh * 3.6e6 == pytest.approx(450.0)


def test_gaps_longer_than_max_gap_are_left_out() -> None:
    integrator = EnergyIntegrator(max_gap=5.0)
    feed(integrator, [(0.0, 3600.0), (5.0, 3600.0)])  # bridged: exactly max_gap
    assert integrator.total_kwh * 3.6e6 == pytest.approx(18000.0)
    feed(integrator, [(10.5, 3600.0)])  # 5.5 s: a reconnect, not bridged
    assert integrator.total_kwh * 3.6e6 == pytest.approx(18000.0)
    feed(integrator, [(11.5, 3600.0)])  # the chain goes on from the sample after the gap
    assert integrator.total_kwh * 3.6e6 == pytest.approx(21600.0)


@pytest.mark.parametrize(
    "bad",
    [(0.5, 1000.0), (1.0, 1000.0), (2.0, None), (2.0, math.nan), (math.inf, 1.0)],
    ids=["clock set back", "same timestamp", "no power", "nan power", "infinite time"],
)
def test_a_bad_sample_starts_a_new_chain(bad: tuple[float, float | None]) -> None:
    integrator = EnergyIntegrator()
    feed(integrator, [(0.0, 3600.0), (1.0, 3600.0)])
    before = integrator.total_kwh
    feed(integrator, [bad])
    assert integrator.total_kwh == before
    feed(integrator, [(20.0, 3600.0), (21.0, 3600.0)])
    assert integrator.total_kwh * 3.6e6 == pytest.approx(7200.0)


def test_restore_keeps_what_was_integrated_since() -> None:
    integrator = EnergyIntegrator()
    feed(integrator, [(0.0, 3600.0), (1000.0 / 1000, 3600.0)])
    integrator.restore(12.5)
    integrator.restore(3.0)  # lower: ignored
    integrator.restore(math.nan)
    assert integrator.total_kwh == pytest.approx(12.501)


_powers = st.floats(min_value=-50_000, max_value=50_000, allow_nan=False)
_steps = st.floats(min_value=0.01, max_value=8.0, allow_nan=False)
_samples = st.lists(
    st.tuples(_steps, st.one_of(st.none(), _powers), st.booleans()), min_size=1, max_size=60
)


def _timeline(raw: list[tuple[float, float | None, bool]]) -> list[tuple[float, float | None]]:
    """Steps become timestamps; the boolean sets the clock back by that step instead."""
    at, out = 1.7e9, []
    for step, power, back in raw:
        at += -step if back else step
        out.append((at, power))
    return out


@parser_settings
@given(_samples)
def test_never_decreases_and_stays_finite(raw: list[tuple[float, float | None, bool]]) -> None:
    integrator = EnergyIntegrator()
    last = integrator.total_kwh
    for at, power in _timeline(raw):
        total = integrator.add(at, power)
        assert math.isfinite(total)
        assert total >= last
        last = total


@parser_settings
@given(_samples)
def test_the_two_directions_add_up_to_the_net_trapezoids(
    raw: list[tuple[float, float | None, bool]],
) -> None:
    samples = _timeline(raw)
    plus, minus = EnergyIntegrator(sign=1), EnergyIntegrator(sign=-1)
    net, last = 0.0, None
    for at, power in samples:
        plus.add(at, power)
        minus.add(at, power)
        if power is None:
            last = None
            continue
        if last is not None and 0 < at - last[0] <= plus.max_gap:
            net += (last[1] + power) / 2 * (at - last[0]) / 3.6e6
        last = (at, power)
    assert plus.total_kwh - minus.total_kwh == pytest.approx(net, abs=1e-9)


@parser_settings
@given(
    st.floats(min_value=-10_000, max_value=10_000),
    st.one_of(
        st.just(0.0),
        st.floats(min_value=1e-3, max_value=100),
        st.floats(min_value=-100, max_value=-1e-3),
    ),
    st.lists(_steps.filter(lambda s: s <= 4.9), min_size=1, max_size=60),
)
def test_a_linear_power_is_integrated_exactly(a: float, b: float, steps: list[float]) -> None:
    """p(t) = a + b t, sampled anywhere (no gap): the exact integral of max(0, p)."""
    integrator = EnergyIntegrator()
    t = 0.0
    integrator.add(t, a)
    for step in steps:
        t += step
        integrator.add(t, a + b * t)

    # Where a + b x > 0 within [0, t], integrated by hand.
    if b == 0:
        lo, hi = (0.0, t) if a > 0 else (0.0, 0.0)
    elif b > 0:
        lo, hi = max(0.0, -a / b), t
    else:
        lo, hi = 0.0, min(t, -a / b)
    hi = max(hi, lo)
    exact = (a * (hi - lo) + b / 2 * (hi * hi - lo * lo)) / 3.6e6
    assert integrator.total_kwh == pytest.approx(exact, rel=1e-9, abs=1e-12)
