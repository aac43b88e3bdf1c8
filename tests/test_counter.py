"""The energy-counter guard both sides use: never down, never a spike, never locked."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from custom_components.ksem_zaptec.counter import CounterLimits, MonotonicCounter
from tests.property import parser_settings

LIMITS = CounterLimits(max_power_kw=100.0, ceiling_kwh=1e7)


def test_spike_is_dropped_and_real_readings_go_on() -> None:
    counter = MonotonicCounter(LIMITS, "test")
    assert counter.accept(1000.0, 0) == 1000.0
    assert counter.accept(1e30, 60) is None  # over the ceiling
    assert counter.accept(5000.0, 60) is None  # 4000 kWh in a minute: 240 MW
    assert counter.accept(999.0, 60) is None  # lower
    assert counter.accept(math.nan, 60) is None
    assert counter.accept(1001.0, 60) == 1001.0  # 1 kWh in a minute: 60 kW
    assert counter.floor == 1001.0


def test_a_counter_that_stood_still_may_rise_by_what_could_flow_meanwhile() -> None:
    counter = MonotonicCounter(LIMITS, "test")
    counter.accept(1000.0, 0)
    assert counter.accept(1000.0, 3600) == 1000.0
    assert counter.accept(1099.0, 3601) == 1099.0  # 99 kWh within 100 kW x 1 h


def test_restore_ignores_an_old_spike_and_lower_values() -> None:
    counter = MonotonicCounter(LIMITS, "test")
    counter.restore(1e15, 0)
    assert counter.floor is None
    counter.restore(1200.0, 0)
    counter.restore(1100.0, 0)
    assert counter.floor == 1200.0
    assert counter.accept(1150.0, 10) is None


@parser_settings
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.floats(min_value=0, max_value=2e7),
                st.none(),
            ),
            st.floats(min_value=0, max_value=7200),
        ),
        max_size=20,
    )
)
def test_shown_values_are_monotone_plausible_and_bounded(
    readings: list[tuple[float | None, float]],
) -> None:
    counter = MonotonicCounter(LIMITS, "test")
    now = 0.0
    last: tuple[float, float] | None = None  # the last value that rose, and when
    for value, step in readings:
        now += step
        result = counter.accept(value, now)
        if result is None:
            continue
        assert result == value
        assert 0 < result <= LIMITS.ceiling_kwh
        if last is not None:
            assert result >= last[0]
            allowed = LIMITS.max_power_kw * (now - last[1]) / 3600 + LIMITS.slack_kwh
            assert result - last[0] <= allowed + 1e-9
        if last is None or result > last[0]:
            last = (result, now)
    # Good data returns: a small, plausible step is always taken.
    floor = counter.floor
    if floor is not None and floor + 0.01 <= LIMITS.ceiling_kwh:
        assert counter.accept(floor + 0.01, now + 1) == floor + 0.01
