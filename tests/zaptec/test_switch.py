"""The "Authorization required" switches: writes on the wire, read-back, failures, gating."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ksem_zaptec.const import DOMAIN
from custom_components.ksem_zaptec.zaptec.api.client import ZaptecClient
from custom_components.ksem_zaptec.zaptec.const import DETAILS_INTERVAL, LIST_INTERVAL

from .conftest import SimHandle, advance

INSTALLATION_SWITCH = "switch.home_require_authorization"
CHARGER_SWITCH = "switch.garage_require_authorization"


def _writes(handle: SimHandle) -> list[tuple[str, str, object]]:
    return [(r.method, r.path, r.body) for r in handle.sim.requests if r.method == "PUT"]


async def _switch(hass: HomeAssistant, service: str, entity_id: str) -> None:
    await hass.services.async_call(
        SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def test_installation_switch_writes_and_reads_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
) -> None:
    sim = zaptec_sim.sim
    installation = next(iter(sim.installations.values()))
    assert hass.states.get(INSTALLATION_SWITCH).state == STATE_ON
    sim.reset_requests()

    await _switch(hass, SERVICE_TURN_OFF, INSTALLATION_SWITCH)

    assert [(r.method, r.path, r.body) for r in sim.requests] == [
        (
            "PUT",
            f"/api/installation/{installation.id}",
            {"Id": installation.id, "IsRequiredAuthentication": False},
        ),
        ("GET", f"/api/installation/{installation.id}", None),
    ]
    assert installation.required is False
    assert hass.states.get(INSTALLATION_SWITCH).state == STATE_OFF
    assert hass.states.get("binary_sensor.home_authorization_required").state == STATE_OFF

    # No further read-back: the write and its confirmation were all. Its chargers'
    # observation 120 follows once the 15 s state cache has expired.
    sim.reset_requests()
    await advance(hass, freezer, 2.5)
    await advance(hass, freezer, 5)
    assert not sim.requests
    await advance(hass, freezer, 16)
    assert sorted(r.path for r in sim.requests) == sorted(
        f"/api/chargers/{charger_id}/state" for charger_id in sim.chargers
    )
    assert hass.states.get("binary_sensor.garage_authorization_enforced").state == STATE_OFF

    await _switch(hass, SERVICE_TURN_ON, INSTALLATION_SWITCH)
    assert installation.required is True
    assert hass.states.get(INSTALLATION_SWITCH).state == STATE_ON


@pytest.mark.parametrize("entity_id", [INSTALLATION_SWITCH, CHARGER_SWITCH])
async def test_own_write_seen_in_the_charger_list_reads_no_details(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    entity_id: str,
) -> None:
    """The next list shows the flag we wrote: no details refresh, the list's flag is shown."""
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    details = loaded_entry.runtime_data.details
    assert details.data.chargers[garage.id].is_authorization_required is True
    await _switch(hass, SERVICE_TURN_OFF, entity_id)
    sim.reset_requests()
    for _ in range(int(LIST_INTERVAL.total_seconds()) // 5 + 1):
        await advance(hass, freezer, 5)
    paths = [r.path for r in sim.requests]
    assert "/api/chargers" in paths  # the list, which shows the new flag
    assert not [p for p in paths if p.startswith("/api/installation")]
    assert f"/api/chargers/{garage.id}" not in paths
    assert details.data.chargers[garage.id].is_authorization_required is False
    assert hass.states.get("binary_sensor.garage_authorization_enforced").state == STATE_OFF


async def test_charger_switch_writes_the_inverse_flag(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.reset_requests()

    await _switch(hass, SERVICE_TURN_OFF, CHARGER_SWITCH)

    assert [(r.method, r.path, r.body) for r in sim.requests] == [
        ("PUT", f"/api/chargers/{garage.id}", {"PropertyAuthenticationDisabled": True}),
        ("GET", f"/api/chargers/{garage.id}", None),
    ]
    assert garage.auth_disabled is True
    assert hass.states.get(CHARGER_SWITCH).state == STATE_OFF

    await _switch(hass, SERVICE_TURN_ON, CHARGER_SWITCH)
    assert _writes(zaptec_sim)[-1][2] == {"PropertyAuthenticationDisabled": False}
    assert garage.auth_disabled is False
    assert hass.states.get(CHARGER_SWITCH).state == STATE_ON


async def test_go_charger_has_no_switch(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    assert hass.states.get("switch.driveway_require_authorization") is None
    assert hass.states.get("binary_sensor.driveway_authorization_enforced") is not None


async def test_automation_turns_charger_switch_off(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "trigger": {"platform": "event", "event_type": "guests_arrive"},
                "action": {"action": "switch.turn_off", "target": {"entity_id": CHARGER_SWITCH}},
            }
        },
    )
    hass.bus.async_fire("guests_arrive")
    await hass.async_block_till_done()
    assert zaptec_sim.sim.charger_by_serial("ZPR012345").auth_disabled is True
    assert hass.states.get(CHARGER_SWITCH).state == STATE_OFF


@pytest.mark.parametrize(
    ("fault", "translation_key"),
    [
        ({"status": 500, "body": {"Code": 505, "Details": "Failed"}}, "zaptec_write_failed"),
        ({"status": 403, "body": {"Code": 533, "Details": "Forbidden"}}, "zaptec_write_forbidden"),
    ],
)
async def test_failed_write_keeps_the_real_state(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    loaded_entry: MockConfigEntry,
    fault: dict,
    translation_key: str,
) -> None:
    sim = zaptec_sim.sim
    sim.add_fault("^/api/installation/", method="PUT", **fault)
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, SERVICE_TURN_OFF, INSTALLATION_SWITCH)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == translation_key
    assert len(_writes(zaptec_sim)) == 1  # a write is never retried on 500
    assert hass.states.get(INSTALLATION_SWITCH).state == STATE_ON
    assert next(iter(sim.installations.values())).required is True


async def test_write_not_confirmed_by_read_back(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    installation = next(iter(sim.installations.values()))
    stale = installation.to_json()  # still IsRequiredAuthentication: true
    sim.add_fault(f"^/api/installation/{installation.id}$", 200, 2, method="GET", body=stale)
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, SERVICE_TURN_OFF, INSTALLATION_SWITCH)
    assert err.value.translation_key == "zaptec_write_not_confirmed"
    assert hass.states.get(INSTALLATION_SWITCH).state == STATE_ON


async def test_write_with_dead_password_starts_reauth(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    sim = zaptec_sim.sim
    sim.password = "changed elsewhere"
    sim.expire_tokens()
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, SERVICE_TURN_OFF, INSTALLATION_SWITCH)
    assert err.value.translation_key == "zaptec_auth_failed"
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_user_role_makes_switches_unavailable_with_a_repair_issue(  # noqa: PLR0917
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = zaptec_sim.sim
    installation = next(iter(sim.installations.values()))
    sim.set_installation(installation.id, roles=1)
    caplog.set_level(logging.INFO)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()

    assert hass.states.get(INSTALLATION_SWITCH).state == STATE_UNAVAILABLE
    assert hass.states.get(CHARGER_SWITCH).state == STATE_UNAVAILABLE
    # The read-only view still works.
    assert hass.states.get("binary_sensor.home_authorization_required").state == STATE_ON
    issue = issue_registry.async_get_issue(DOMAIN, f"zaptec_insufficient_role_{installation.id}")
    assert issue is not None
    assert issue.translation_placeholders == {
        "installation": "Home",
        "account": "demo@example.com",
    }
    reason = "neither Owner nor Service"
    assert caplog.text.count(reason) == 2  # installation + Pro charger, once each

    # details again (every 2 hours): still no role, no new log line
    await advance(hass, freezer, int(DETAILS_INTERVAL.total_seconds()) + 1)
    assert caplog.text.count(reason) == 2

    # The role changes: the next charger list shows it, and the details are read at once.
    sim.set_installation(installation.id, roles=3)
    await advance(hass, freezer, int(LIST_INTERVAL.total_seconds()) + 15)
    assert hass.states.get(INSTALLATION_SWITCH).state == STATE_ON
    assert hass.states.get(CHARGER_SWITCH).state == STATE_ON
    assert (
        issue_registry.async_get_issue(DOMAIN, f"zaptec_insufficient_role_{installation.id}")
        is None
    )
    assert "can be changed again" in caplog.text


async def test_third_party_authorization_makes_switch_unavailable(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = zaptec_sim.sim
    sim.set_installation(next(iter(sim.installations)), authentication_type=2)
    caplog.set_level(logging.INFO)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(INSTALLATION_SWITCH).state == STATE_UNAVAILABLE
    assert hass.states.get(CHARGER_SWITCH).state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.home_authentication_type").state == "ocpp"
    assert "native authorization" in caplog.text
    assert not [i for i in issue_registry.issues.values() if i.domain == DOMAIN]


async def test_unload_removes_repair_issues(
    hass: HomeAssistant,
    zaptec_sim: SimHandle,
    zaptec_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    sim = zaptec_sim.sim
    sim.set_installation(next(iter(sim.installations)), roles=1)
    zaptec_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(zaptec_entry.entry_id)
    await hass.async_block_till_done()
    assert [i for i in issue_registry.issues.values() if i.domain == DOMAIN]
    assert await hass.config_entries.async_unload(zaptec_entry.entry_id)
    assert not [i for i in issue_registry.issues.values() if i.domain == DOMAIN]


async def test_write_whose_read_back_fails_says_so(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    """The write went through but its confirmation did not: an error, and no guess shown."""
    sim = zaptec_sim.sim
    garage = sim.charger_by_serial("ZPR012345")
    sim.add_fault(f"^/api/chargers/{garage.id}$", 503, count=1, method="GET")
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, SERVICE_TURN_OFF, CHARGER_SWITCH)
    assert err.value.translation_key == "zaptec_write_failed"
    assert garage.auth_disabled is True  # the cloud took it
    assert hass.states.get(CHARGER_SWITCH).state == STATE_ON  # not confirmed: not shown


async def test_charger_write_with_dead_password_starts_reauth(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    zaptec_sim.sim.password = "changed elsewhere"
    zaptec_sim.sim.expire_tokens()
    with pytest.raises(HomeAssistantError):
        await _switch(hass, SERVICE_TURN_ON, CHARGER_SWITCH)
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_reload_during_a_write_waits_for_it_and_leaves_nothing_behind(
    hass: HomeAssistant, zaptec_sim: SimHandle, loaded_entry: MockConfigEntry
) -> None:
    """A reload while a switch write is in flight: the write ends first, no timer lingers.

    (The test harness fails a test that leaves a timer or task behind.)
    """
    gate = asyncio.Event()
    started = asyncio.Event()
    real_request = ZaptecClient.request

    async def held_put(self: ZaptecClient, method: str, path: str, **kwargs: Any) -> Any:
        if method == "PUT":
            started.set()
            await gate.wait()
        return await real_request(self, method, path, **kwargs)

    with patch.object(ZaptecClient, "request", held_put):
        write = hass.async_create_task(_switch(hass, SERVICE_TURN_OFF, INSTALLATION_SWITCH))
        await started.wait()
        reload = hass.async_create_task(hass.config_entries.async_reload(loaded_entry.entry_id))
        await asyncio.sleep(0.01)
        assert not reload.done()  # the unload waits for the write
        gate.set()
        await write
        assert await reload
    await hass.async_block_till_done()
    # The new entry read the installation after the write: it shows the new value at once.
    assert hass.states.get(INSTALLATION_SWITCH).state == STATE_OFF
    assert not next(iter(zaptec_sim.sim.installations.values())).required
