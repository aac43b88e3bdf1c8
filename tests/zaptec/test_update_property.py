"""Property-based tests of the Zaptec state path, through Home Assistant.

Whatever the cloud answers for a charger's state, every sensor is a number (or one of its
options), unknown or unavailable; the lifetime energy never goes down; a good answer
afterwards shows as it is.
"""

from __future__ import annotations

import json
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

from custom_components.ksem_zaptec.zaptec.api import ChargerState, Observation, ZaptecClient
from tests.property import ha_settings

from .conftest import SimHandle

LIFETIME = "sensor.garage_lifetime_energy"
MISSING = (STATE_UNKNOWN, STATE_UNAVAILABLE)

_ODD_TEXT = ["NaN", "nan", "inf", "-inf", "1e400", "-1", "", " ", "0x10", "1,5", "true", "7e-400"]


def _ocmf(reading: Any) -> str:
    payload = {"FV": "1.0", "RD": [{"TM": "2026-01-01T00:00:00,000+00:00 S", "RV": reading}]}
    return "OCMF|" + json.dumps(payload) + "|{}"


def values() -> st.SearchStrategy[Any]:
    """What `ValueAsString` may hold: plausible numbers, odd text, OCMF records, non-strings."""
    return st.one_of(
        st.floats(min_value=0, max_value=1e5).map(str),
        st.integers(min_value=-(2**64), max_value=2**64).map(str),
        st.sampled_from(_ODD_TEXT),
        st.floats(allow_nan=True, allow_infinity=True).map(_ocmf),
        st.floats(min_value=0, max_value=1e9).map(_ocmf),
        st.text(max_size=10),
        st.none(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.lists(st.integers(), max_size=2),
    )


def state_rows() -> st.SearchStrategy[Any]:
    """A state answer: rows with known and unknown ids, odd timestamps, or no list at all."""
    row = st.fixed_dictionaries(
        {
            "StateId": st.one_of(
                st.sampled_from([o.value for o in Observation]), st.integers(), st.text()
            ),
            "ValueAsString": values(),
        },
        optional={
            "Timestamp": st.one_of(
                st.sampled_from(["2026-12-02T10:00:00", "9999-12-31T23:59:59", "0001-01-01", ""]),
                st.text(max_size=12),
                st.integers(),
            ),
            "ChargerId": st.text(max_size=4),
        },
    )
    return st.one_of(st.lists(row, max_size=12), st.none(), st.dictionaries(st.text(), row))


def _check(state: Any) -> float | None:
    """A sensor's state is a finite number, one of its options, or unknown/unavailable."""
    if state.state in MISSING:
        return None
    if options := state.attributes.get("options"):
        assert state.state in options, state
        return None
    if state.attributes.get("unit_of_measurement") is None:
        return None  # free text (the user who authorized a session)
    value = float(state.state)
    assert math.isfinite(value), state
    return value


@pytest.fixture
async def loaded(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> dict[str, float]:
    """The entry, set up once for all examples, and the lifetime energy shown so far."""
    return {"floor": float(hass.states.get(LIFETIME).state)}


@ha_settings
@given(answers=st.lists(state_rows(), min_size=1, max_size=5))
async def test_any_state_answer_gives_valid_states(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded_entry: MockConfigEntry,
    loaded: dict[str, float],
    answers: list[Any],
) -> None:
    coordinator = loaded_entry.runtime_data.state
    answer: Any = None

    async def get_charger_state(self: ZaptecClient, charger_id: str) -> ChargerState:
        return ChargerState.from_api(charger_id, answer)

    good_reading = round(loaded["floor"] + 0.01, 2)
    good = [
        {"StateId": Observation.CHARGER_OPERATION_MODE.value, "ValueAsString": "3"},
        {"StateId": Observation.TOTAL_CHARGE_POWER.value, "ValueAsString": "7360.5"},
        {"StateId": Observation.SIGNED_METER_VALUE.value, "ValueAsString": _ocmf(good_reading)},
    ]
    with patch.object(ZaptecClient, "get_charger_state", get_charger_state):
        for answer in [*answers, good]:  # noqa: B007 - read by get_charger_state
            coordinator.async_read_soon(list(coordinator.details.data.chargers), timedelta(0))
            freezer.tick(timedelta(seconds=16))
            await coordinator.async_refresh()
            # Refreshes the clock jump made due (details, over HTTP) end before the next jump.
            await hass.async_block_till_done(wait_background_tasks=True)
            for state in hass.states.async_all("sensor"):
                value = _check(state)
                if state.entity_id == LIFETIME and value is not None:
                    assert value >= loaded["floor"]
                    loaded["floor"] = value
    assert hass.states.get("sensor.garage_charge_power").state == "7360.5"
    assert hass.states.get("sensor.garage_charger_mode").state == "connected_charging"
    assert float(hass.states.get(LIFETIME).state) == good_reading
