"""Property-based tests of the KSEM update path, through Home Assistant.

Whatever the meter answers, every state is a number, unknown or unavailable; energy counters
never go down; a good reading afterwards shows as it is.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from hypothesis import given
from hypothesis import strategies as st
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ksem_zaptec.ksem.api import KsemClient, MeterValues
from tests.property import ha_settings

from .conftest import RunningKsem, setup_polling_entry

COUNTERS = ("import_energy", "export_energy")
PREFIX = "sensor.ksem_76555758_"
VALUE_KEYS = (
    "active_power_+",
    "active_power_-",
    "active_energy_+",
    "active_energy_-",
    "supply_frequency",
    "power_factor",
    *(
        f"{name}_L{phase}"
        for name in ("voltage", "current", "active_power_+")
        for phase in (1, 2, 3)
    ),
)


def json_values() -> st.SearchStrategy[Any]:
    """Anything JSON can carry, including what Python's json accepts beyond the standard."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(["NaN", "inf", "-inf", "1e400", "", "STATUS_OK", "0x10"]),
        st.text(max_size=8),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


def meter_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """The JSON interface's shape, with plausible, odd and absurd numbers in it."""
    numbers = st.one_of(
        st.integers(min_value=0, max_value=10**9),  # plausible milli-units
        st.integers(min_value=-(2**63), max_value=2**64),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(["12", "NaN", None]),
    )
    values = st.dictionaries(st.sampled_from(VALUE_KEYS), numbers, max_size=len(VALUE_KEYS))
    timestamp = st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {"seconds": st.integers(min_value=-(2**64), max_value=2**64)},
            optional={"nanos": st.integers(min_value=-(2**40), max_value=2**40)},
        ),
    )
    return st.builds(
        lambda v, status, ts: {"smart-meter": {"status": status, "values": v, "timestamp": ts}},
        values,
        st.sampled_from(["STATUS_OK", "STATUS_OK", "STATUS_ERROR", ""]),
        timestamp,
    )


def _numeric_or_missing(state: str) -> float | None:
    if state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
        return None
    value = float(state)  # raises (fails the test) on anything else
    assert math.isfinite(value)
    return value


@pytest.fixture
async def floors(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> dict[str, float]:
    """A polling entry (set up once for all examples) and its counters' values so far."""
    await setup_polling_entry(hass, ksem, ksem_entry)
    return {key: float(hass.states.get(PREFIX + key).state) for key in COUNTERS}


@ha_settings
@given(answers=st.lists(st.one_of(meter_bodies(), json_values()), min_size=1, max_size=6))
async def test_any_answer_gives_valid_states(
    hass: HomeAssistant,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    floors: dict[str, float],
    answers: list[Any],
) -> None:
    coordinator = ksem_entry.runtime_data.coordinator
    answer: Any = None

    async def get_values(self: KsemClient) -> MeterValues:
        return MeterValues.from_json(answer)

    with patch.object(KsemClient, "get_values", get_values):
        for generated in [*answers, None]:
            answer = generated
            if generated is None:
                # Good data returns: a reading just above every counter's floor.
                answer = {
                    "smart-meter": {
                        "status": "STATUS_OK",
                        "values": {
                            "active_power_+": 1000,
                            "active_power_-": 0,
                            "active_energy_+": round(floors.get("import_energy", 1) * 1e6) + 1000,
                            "active_energy_-": round(floors.get("export_energy", 1) * 1e6) + 1000,
                        },
                    }
                }
            freezer.tick(timedelta(seconds=5))
            await coordinator.async_refresh()
            await hass.async_block_till_done()
            for state in hass.states.async_all("sensor"):
                value = _numeric_or_missing(state.state)
                key = state.entity_id.removeprefix(PREFIX)
                if key in COUNTERS and value is not None:
                    assert value >= floors.get(key, 0.0), (key, value, floors)
                    floors[key] = value
    # The last reading was good: it shows, nothing is stuck.
    assert hass.states.get(f"{PREFIX}grid_power").state == "1.0"
    for key in COUNTERS:
        assert _numeric_or_missing(hass.states.get(PREFIX + key).state) == floors[key]
