"""The current numbers: rate guard of the available current, refusals, charger limits."""

from __future__ import annotations

import logging

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.components.number import DOMAIN as NUMBER_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ksem_zaptec.const import DOMAIN

from .conftest import SimHandle, advance

AVAILABLE = "number.home_available_current"
PHASE_SWITCH = "number.home_3_to_1_phase_switch_current"
MAX_CURRENT = "number.garage_max_charge_current"
MIN_CURRENT = "number.garage_min_charge_current"


async def _set(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value}, True
    )


def _updates(handle: SimHandle) -> list[object]:
    return [r.body for r in handle.sim.requests if r.method == "POST"]


async def test_available_current_is_rate_guarded(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    assert hass.states.get(AVAILABLE).state == "32.0"
    assert hass.states.get(AVAILABLE).attributes["max"] == 40.0
    sim.reset_requests()

    # The first change goes out at once, confirmed by reading the installation back.
    await _set(hass, AVAILABLE, 16)
    assert [(r.method, r.path, r.body) for r in sim.requests] == [
        ("POST", f"/api/installation/{home.id}/update", {"AvailableCurrent": 16.0}),
        ("GET", f"/api/installation/{home.id}", None),
    ]
    assert hass.states.get(AVAILABLE).state == "16.0"
    assert hass.states.get("sensor.home_available_current_l1").state == "16.0"

    # Within 15 minutes: nothing is sent, the entity shows the pending value, the last wins.
    sim.reset_requests()
    await advance(hass, freezer, 60)
    with caplog.at_level(logging.INFO):
        await _set(hass, AVAILABLE, 10)
    assert "pending until" in caplog.text
    await _set(hass, AVAILABLE, 12)
    assert hass.states.get(AVAILABLE).state == "12.0"
    assert home.available_current == (16.0, 16.0, 16.0)
    await advance(hass, freezer, 13 * 60)
    assert not _updates(zaptec_sim)

    # 15 minutes after the first write: the last value, once.
    await advance(hass, freezer, 60)
    assert _updates(zaptec_sim) == [{"AvailableCurrent": 12.0}]
    assert home.available_current == (12.0, 12.0, 12.0)
    assert hass.states.get(AVAILABLE).state == "12.0"
    sim.reset_requests()
    await advance(hass, freezer, 20 * 60)
    assert not _updates(zaptec_sim)

    # Long after the last write: at once again.
    await _set(hass, AVAILABLE, 20)
    assert _updates(zaptec_sim) == [{"AvailableCurrent": 20.0}]


async def test_pending_value_that_fails_shows_the_real_one(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = zaptec_sim.sim
    await _set(hass, AVAILABLE, 16)
    await _set(hass, AVAILABLE, 8)
    assert hass.states.get(AVAILABLE).state == "8.0"
    sim.add_fault("/update$", 400, body={"Code": 503, "Details": "Invalid"})
    await advance(hass, freezer, 15 * 60)
    assert "pending available current of installation Home was not applied" in caplog.text
    assert hass.states.get(AVAILABLE).state == "16.0"


async def test_pending_value_is_dropped_on_unload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = zaptec_sim.sim
    await _set(hass, AVAILABLE, 16)
    await _set(hass, AVAILABLE, 8)
    with caplog.at_level(logging.INFO):
        assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert "pending available current of installation Home dropped" in caplog.text
    sim.reset_requests()
    await advance(hass, freezer, 16 * 60)
    assert not sim.requests


async def test_apm_refusal_is_explained(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    sim.set_installation(home.id, apm=True)
    with pytest.raises(HomeAssistantError) as caught:
        await _set(hass, AVAILABLE, 16)
    assert caught.value.translation_key == "zaptec_not_supported"
    assert hass.states.get(AVAILABLE).state == STATE_UNAVAILABLE
    assert hass.states.get(PHASE_SWITCH).state == STATE_UNAVAILABLE
    issue = issue_registry.async_get_issue(DOMAIN, f"zaptec_managed_by_apm_{home.id}")
    assert issue is not None
    assert issue.translation_placeholders == {"installation": "Home"}
    # A reload (Sense removed meanwhile) tries again.
    sim.set_installation(home.id, apm=False)
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, f"zaptec_managed_by_apm_{home.id}") is None
    await _set(hass, AVAILABLE, 16)
    assert home.available_current == (16.0, 16.0, 16.0)


async def test_three_to_one_phase_switch_current(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    assert hass.states.get(PHASE_SWITCH).state == "0.0"
    sim.reset_requests()
    await _set(hass, PHASE_SWITCH, 12)
    assert [(r.method, r.body) for r in sim.requests] == [
        ("POST", {"ThreeToOnePhaseSwitchCurrent": 12.0}),
        ("GET", None),
    ]
    assert hass.states.get(PHASE_SWITCH).state == "12.0"
    # Not rate-guarded: a setting, not a control loop.
    await _set(hass, PHASE_SWITCH, 0)
    assert home.three_to_one_phase_switch_current == 0
    sim.set_installation(home.id, apm=True)
    with pytest.raises(HomeAssistantError):
        await _set(hass, PHASE_SWITCH, 10)
    assert hass.states.get(AVAILABLE).state == STATE_UNAVAILABLE
    assert issue_registry.async_get_issue(DOMAIN, f"zaptec_managed_by_apm_{home.id}")


async def test_no_phase_switch_current_where_the_installation_has_none(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    home = next(iter(zaptec_sim.sim.installations.values()))
    zaptec_sim.sim.set_installation(home.id, three_to_one_phase_switch_current=None)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(PHASE_SWITCH) is None
    assert hass.states.get(AVAILABLE) is not None


async def test_user_role_cannot_set_currents(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    home = next(iter(zaptec_sim.sim.installations.values()))
    zaptec_sim.sim.set_installation(home.id, roles=1)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(AVAILABLE).state == STATE_UNAVAILABLE


async def _enable_charger_limits(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Enable both (disabled by default); Home Assistant reloads the entry 30 s later."""
    registry = er.async_get(hass)
    for entity_id in (MAX_CURRENT, MIN_CURRENT):
        assert registry.async_get(entity_id).disabled_by is er.RegistryEntryDisabler.INTEGRATION
        registry.async_update_entity(entity_id, disabled_by=None)
    await advance(hass, freezer, 31)


async def test_charger_limits(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    await _enable_charger_limits(hass, freezer)
    assert hass.states.get(MAX_CURRENT).state == "32.0"
    assert hass.states.get(MIN_CURRENT).state == "6.0"
    sim.reset_requests()

    with caplog.at_level(logging.INFO):
        await _set(hass, MAX_CURRENT, 16)
    assert "overrides Zaptec's load balancing" in caplog.text
    assert [(r.method, r.path, r.body) for r in sim.requests] == [
        ("POST", f"/api/chargers/{garage.id}/update", {"maxChargeCurrent": 16.0}),
        ("GET", f"/api/chargers/{garage.id}/state", None),
    ]
    assert hass.states.get(MAX_CURRENT).state == "16.0"
    await _set(hass, MIN_CURRENT, 10)
    assert garage.min_current == 10

    # An external load system refuses (403): said so, in the user's language.
    sim.set_charger(garage.id, externally_managed=True)
    with pytest.raises(HomeAssistantError) as caught:
        await _set(hass, MAX_CURRENT, 20)
    assert caught.value.translation_key == "zaptec_externally_managed"

    # A state read still showing the old value (the 15 s cache): read again after it.
    sim.set_charger(garage.id, externally_managed=False)
    stale = garage.state_json(next(iter(sim.installations.values())))
    sim.add_fault("/state$", 200, body=stale)
    sim.reset_requests()
    await _set(hass, MAX_CURRENT, 20)
    assert hass.states.get(MAX_CURRENT).state == "16.0"
    await advance(hass, freezer, 16)
    await advance(hass, freezer, 15)
    assert hass.states.get(MAX_CURRENT).state == "20.0"
    assert [(r.method, r.path) for r in sim.requests if garage.id in r.path] == [
        ("POST", f"/api/chargers/{garage.id}/update"),
        ("GET", f"/api/chargers/{garage.id}/state"),
        ("GET", f"/api/chargers/{garage.id}/state"),
    ]
    # The state unreadable right after the write: also read again later, no error.
    sim.add_fault("/state$", 404, body={"errorCode": 512, "message": "Charger not found."})
    await _set(hass, MAX_CURRENT, 24)
    assert garage.max_current == 24


async def test_interval_is_an_option(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """Longer than Zaptec's 15 minutes on request, never shorter (a translated error)."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["step_id"] == "zaptec_options"
    assert result["description_placeholders"] == {"min": "15", "max": "120"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"available_current_interval": 5}
    )
    assert result["errors"] == {
        "available_current_interval": "zaptec_available_current_interval_range"
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"available_current_interval": 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == {"available_current_interval": 30}
    await hass.async_block_till_done()  # the entry reloads with it

    sim = zaptec_sim.sim
    await _set(hass, AVAILABLE, 16)
    await _set(hass, AVAILABLE, 10)
    sim.reset_requests()
    await advance(hass, freezer, 20 * 60)
    assert not _updates(zaptec_sim)
    await advance(hass, freezer, 10 * 60)
    assert _updates(zaptec_sim) == [{"AvailableCurrent": 10.0}]
