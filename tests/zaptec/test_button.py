"""The charger command buttons: availability from the charger's mode, the wire, the refusals."""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator.zaptec import ZaptecSimulator

from .conftest import SimHandle, advance

STOP = "button.garage_stop_charging"
RESUME = "button.garage_resume_charging"
DEAUTHORIZE = "button.garage_deauthorize_and_stop"
RESTART = "button.garage_restart"
MODE = "sensor.garage_charger_mode"


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def _available(hass: HomeAssistant, entity_id: str) -> bool:
    return hass.states.get(entity_id).state != STATE_UNAVAILABLE


async def _charging(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, sim: ZaptecSimulator
) -> str:
    """The Pro starts charging; the integration reads it at its next state read."""
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=3, power_w=7360.0, current_user="ble-x")
    await advance(hass, freezer, 600)
    assert hass.states.get(MODE).state == "connected_charging"
    sim.reset_requests()
    return garage.id


async def test_availability_follows_the_mode(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    # Idle (disconnected): nothing to stop, resume or deauthorize; restart works.
    assert not _available(hass, STOP)
    assert not _available(hass, RESUME)
    assert not _available(hass, DEAUTHORIZE)
    assert _available(hass, RESTART)
    # The Go has the same buttons.
    assert hass.states.get("button.driveway_restart") is not None
    await _charging(hass, freezer, zaptec_sim.sim)
    assert _available(hass, STOP)
    assert not _available(hass, RESUME)
    assert _available(hass, DEAUTHORIZE)


async def test_stop_and_resume_on_the_wire(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    garage_id = await _charging(hass, freezer, sim)

    await _press(hass, STOP)

    # The command, then one state read that already shows the pause: two requests.
    assert [(r.method, r.path) for r in sim.requests] == [
        ("POST", f"/api/chargers/{garage_id}/sendCommand/506"),
        ("GET", f"/api/chargers/{garage_id}/state"),
    ]
    assert hass.states.get(MODE).state == "connected_finished"
    assert not _available(hass, STOP)
    assert _available(hass, RESUME)
    # Confirmed: no extra read after the state cache.
    sim.reset_requests()
    await advance(hass, freezer, 20)
    assert not sim.requests

    await _press(hass, RESUME)
    assert [r.path for r in sim.requests] == [
        f"/api/chargers/{garage_id}/sendCommand/507",
        f"/api/chargers/{garage_id}/state",
    ]
    assert hass.states.get(MODE).state == "connected_charging"
    assert _available(hass, STOP)
    assert not _available(hass, RESUME)


async def test_stale_state_is_read_again_after_the_cache(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """Zaptec caches the state 15 s: a read that still shows charging is repeated once."""
    sim = zaptec_sim.sim
    garage_id = await _charging(hass, freezer, sim)
    stale = sim.chargers[garage_id].state_json(next(iter(sim.installations.values())))
    sim.add_fault("/state$", 200, body=stale)

    await _press(hass, STOP)
    assert hass.states.get(MODE).state == "connected_charging"
    await advance(hass, freezer, 16)
    await advance(hass, freezer, 15)
    assert hass.states.get(MODE).state == "connected_finished"
    # The command, the stale read, the read after the cache: three requests.
    assert [r.path for r in sim.requests] == [
        f"/api/chargers/{garage_id}/sendCommand/506",
        f"/api/chargers/{garage_id}/state",
        f"/api/chargers/{garage_id}/state",
    ]


async def test_nothing_to_change_is_no_error(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """The charger was paused meanwhile (from the app): 528, and the state read shows it."""
    sim = zaptec_sim.sim
    garage_id = await _charging(hass, freezer, sim)
    sim.set_charger(garage_id, operating_mode=5, final_stop=True, power_w=0.0)

    await _press(hass, STOP)
    assert hass.states.get(MODE).state == "connected_finished"
    assert _available(hass, RESUME)


@pytest.mark.parametrize("answers_500", [False, True])
async def test_deauthorize_and_stop(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    answers_500: bool,
) -> None:
    """Zaptec answers 500 while it executes: the state read confirms it, no error shown."""
    sim = zaptec_sim.sim
    garage_id = await _charging(hass, freezer, sim)
    sim.set_charger(garage_id, deauthorize_answers_500=answers_500, session_kwh=12.5)
    assert hass.states.get("sensor.garage_completed_session_energy").state == "unknown"

    await _press(hass, DEAUTHORIZE)
    assert hass.states.get(MODE).state == "connected_requesting"
    # The session is over: its energy is the completed session's (observation 723).
    assert hass.states.get("sensor.garage_completed_session_energy").state == "12.5"
    assert hass.states.get("sensor.garage_authorized_by").state == "not_authorized"
    assert len(sim.requests) == 2


async def test_unconfirmed_deauthorize_says_so(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """A 500 and a state that still shows the session: the user is told, and it is read again."""
    sim = zaptec_sim.sim
    garage_id = await _charging(hass, freezer, sim)
    sim.add_fault("sendCommand", 500, body={"Code": 500, "Details": "An error has occurred"})

    with pytest.raises(HomeAssistantError) as caught:
        await _press(hass, DEAUTHORIZE)
    assert caught.value.translation_key == "zaptec_command_unconfirmed"
    sim.reset_requests()
    await advance(hass, freezer, 16)
    await advance(hass, freezer, 15)
    assert [r.path for r in sim.requests] == [f"/api/chargers/{garage_id}/state"]


async def test_restart_reads_the_state_after_the_cache(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.reset_requests()
    await _press(hass, RESTART)
    assert [r.path for r in sim.requests] == [f"/api/chargers/{garage.id}/sendCommand/102"]
    await advance(hass, freezer, 16)
    await advance(hass, freezer, 15)
    assert [r.path for r in sim.requests][1:] == [f"/api/chargers/{garage.id}/state"]


async def test_failures_are_translated(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    garage_id = await _charging(hass, freezer, sim)
    sim.add_fault("sendCommand", 403, body={"Code": 533, "Details": "Forbidden"})
    with pytest.raises(HomeAssistantError) as caught:
        await _press(hass, STOP)
    assert caught.value.translation_key == "zaptec_write_forbidden"
    sim.add_fault("sendCommand", 500, body={"Code": 520, "Details": "No answer from device"})
    with pytest.raises(HomeAssistantError) as caught:
        await _press(hass, STOP)
    assert caught.value.translation_key == "zaptec_write_failed"
    # A state read that fails after the command: no error, it is read again later.
    sim.add_fault("/state$", 404, body={"errorCode": 512, "message": "Charger not found."})
    await _press(hass, STOP)
    assert sim.chargers[garage_id].final_stop


async def test_user_role_has_no_usable_buttons(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    sim.set_installation(home.id, roles=1)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert not _available(hass, RESTART)
    assert not _available(hass, STOP)


async def test_offline_charger_cannot_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    sim.set_charger(sim.charger_by_serial("ZPR012345").id, online=False)
    await advance(hass, freezer, 600)
    assert not _available(hass, RESTART)


@pytest.mark.parametrize(("authentication_type", "available"), [(2, True), (1, False)])
async def test_deauthorize_needs_zaptec_or_ocpp_cloud_authorization(  # noqa: PLR0917
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    authentication_type: int,
    available: bool,
) -> None:
    """Webhooks (a payment operator) authorize elsewhere: no deauthorize button then."""
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    sim.set_installation(home.id, authentication_type=authentication_type)
    await advance(hass, freezer, 15 * 60)
    await _charging(hass, freezer, sim)
    assert _available(hass, DEAUTHORIZE) is available
    assert _available(hass, STOP)
