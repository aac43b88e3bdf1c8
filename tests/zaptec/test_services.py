"""The action `ksem_zaptec.set_available_current`: three phases in one call, rate-guarded."""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ksem_zaptec.const import DOMAIN

from .conftest import SimHandle, advance

SERVICE = "set_available_current"


def _device(hass: HomeAssistant, identifier: str) -> str:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next(d.id for d in devices if (DOMAIN, identifier) in d.identifiers)


async def _call(hass: HomeAssistant, device_id: str, l1: float, l2: float, l3: float) -> None:
    await hass.services.async_call(
        DOMAIN,
        SERVICE,
        {"device_id": device_id, "current_l1": l1, "current_l2": l2, "current_l3": l3},
        blocking=True,
    )


async def test_three_phases_in_one_call(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    device_id = _device(hass, home.id)
    sim.reset_requests()

    await _call(hass, device_id, 16, 10, 6)
    assert [(r.method, r.body) for r in sim.requests] == [
        (
            "POST",
            {"AvailableCurrentPhase1": 16.0, "AvailableCurrentPhase2": 10.0,
             "AvailableCurrentPhase3": 6.0},
        ),
        ("GET", None),
    ]  # fmt: skip
    assert hass.states.get("sensor.home_available_current_l2").state == "10.0"
    # The same rate guard as the number: pending, the number shows the lowest phase.
    sim.reset_requests()
    await _call(hass, device_id, 20, 20, 8)
    assert not sim.requests
    assert hass.states.get("number.home_available_current").state == "8.0"
    await advance(hass, freezer, 15 * 60)
    assert home.available_current == (20.0, 20.0, 8.0)


async def test_invalid_calls(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    garage = sim.charger_by_serial("ZPR012345")
    with pytest.raises(ServiceValidationError) as caught:
        await _call(hass, _device(hass, garage.id), 16, 16, 16)
    assert caught.value.translation_key == "zaptec_not_an_installation"
    with pytest.raises(ServiceValidationError) as caught:
        await _call(hass, "no such device", 16, 16, 16)
    assert caught.value.translation_key == "zaptec_not_an_installation"
    with pytest.raises(ServiceValidationError) as caught:
        await _call(hass, _device(hass, home.id), 16, 41, 16)
    assert caught.value.translation_key == "zaptec_current_above_max"
    assert caught.value.translation_placeholders == {"installation": "Home", "maximum": "40"}
    assert not [r for r in sim.requests if r.path.endswith("/update")]


async def test_refusals(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    device_id = _device(hass, home.id)
    sim.set_installation(home.id, apm=True)
    with pytest.raises(HomeAssistantError) as caught:
        await _call(hass, device_id, 16, 16, 10)
    assert caught.value.translation_key == "zaptec_not_supported"
    # Known now: refused without a request.
    sim.reset_requests()
    with pytest.raises(ServiceValidationError) as caught:
        await _call(hass, device_id, 16, 16, 10)
    assert caught.value.translation_key == "zaptec_not_supported"
    assert not sim.requests


async def test_refused_login_starts_reauth(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    sim.password = "changed"
    sim.expire_tokens()
    with pytest.raises(HomeAssistantError) as caught:
        await _call(hass, _device(hass, home.id), 16, 16, 10)
    assert caught.value.translation_key == "zaptec_auth_failed"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_user_role_is_refused_before_sending(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    sim.set_installation(home.id, roles=1)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    sim.reset_requests()
    with pytest.raises(ServiceValidationError) as caught:
        await _call(hass, _device(hass, home.id), 16, 16, 16)
    assert caught.value.translation_key == "zaptec_write_forbidden_installation"
    assert not sim.requests


async def test_a_write_at_the_due_time_moves_the_pending_one(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    """A timer that fires after another write went out waits for the next interval."""
    sim = zaptec_sim.sim
    home = next(iter(sim.installations.values()))
    device_id = _device(hass, home.id)
    limiter = loaded_entry.runtime_data.limiter
    await _call(hass, device_id, 16, 16, 16)
    await _call(hass, device_id, 10, 10, 10)  # pending, due in 15 minutes
    # Just before the timer, the interval is shortened (as a test hook) and a write goes out.
    limiter.interval = limiter.interval / 3
    freezer.tick(limiter.interval)
    await _call(hass, device_id, 12, 12, 12)
    await _call(hass, device_id, 8, 8, 8)  # pending again
    sim.reset_requests()
    limiter.interval *= 3
    await advance(hass, freezer, 10 * 60)  # the first timer fires: too early now
    assert not [r for r in sim.requests if r.method == "POST"]
    await advance(hass, freezer, 5 * 60)
    assert [r.body for r in sim.requests if r.method == "POST"] == [{"AvailableCurrent": 8.0}]
