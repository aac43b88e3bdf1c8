"""The documented Zaptec writes and commands on the wire, against the simulated cloud.

Each call is checked for the request it sends (path and body), what it returns, and how the
cloud's refusals come out: 528 is "nothing to do", 527 a NotSupported error, 403 Forbidden,
HTTP 500 from deauthorize-and-stop "unconfirmed" (it executed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from custom_components.ksem_zaptec.zaptec.api import (
    ChargerCommand,
    ChargerFirmware,
    ChargerState,
    ClientTuning,
    CommandResult,
    Observation,
    ZaptecClient,
    ZaptecForbiddenError,
    ZaptecNotSupportedError,
    ZaptecProtocolError,
    ZaptecResponseError,
    ZaptecWriteNotConfirmedError,
)
from simulator.zaptec import ZaptecSimulator

from .conftest import SimHandle

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def client(zaptec_sim: SimHandle) -> AsyncIterator[ZaptecClient]:
    sim = zaptec_sim.sim
    async with aiohttp.ClientSession() as session:
        client = ZaptecClient(
            session,
            sim.username,
            sim.password,
            base_url=zaptec_sim.url,
            tuning=ClientTuning(rate=1000, confirm_delay=0.001),
        )
        await client.login()
        sim.reset_requests()
        yield client


def _sent(sim: ZaptecSimulator) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.body) for r in sim.requests]


@pytest.fixture
def sim(zaptec_sim: SimHandle) -> ZaptecSimulator:
    return zaptec_sim.sim


async def _state(client: ZaptecClient, charger_id: str) -> ChargerState:
    return await client.get_charger_state(charger_id)


async def test_pause_resume_cycle(client: ZaptecClient, sim: ZaptecSimulator) -> None:
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=3, power_w=11000.0)
    state = await _state(client, garage.id)
    assert state.accepts(ChargerCommand.STOP_CHARGING_FINAL)
    assert not state.accepts(ChargerCommand.RESUME_CHARGING)
    sim.reset_requests()

    assert await client.send_command(garage.id, ChargerCommand.STOP_CHARGING_FINAL) is (
        CommandResult.SENT
    )
    assert _sent(sim) == [("POST", f"/api/chargers/{garage.id}/sendCommand/506", None)]
    state = await _state(client, garage.id)
    assert state.paused
    assert not state.accepts(ChargerCommand.STOP_CHARGING_FINAL)
    assert state.accepts(ChargerCommand.RESUME_CHARGING)
    # Stopping again would change nothing: 528, which is no error.
    assert await client.send_command(garage.id, ChargerCommand.STOP_CHARGING_FINAL) is (
        CommandResult.NOTHING_TO_DO
    )

    assert await client.send_command(garage.id, ChargerCommand.RESUME_CHARGING) is (
        CommandResult.SENT
    )
    state = await _state(client, garage.id)
    assert state.operating_mode == 3
    assert not state.paused
    assert garage.power_w == 11000.0
    assert await client.send_command(garage.id, ChargerCommand.RESUME_CHARGING) is (
        CommandResult.NOTHING_TO_DO
    )


async def test_resume_refused_while_a_schedule_is_active(
    client: ZaptecClient, sim: ZaptecSimulator
) -> None:
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=5, final_stop=True, schedule_active=True)
    state = await _state(client, garage.id)
    assert state.paused
    assert state.schedule_active
    assert not state.accepts(ChargerCommand.RESUME_CHARGING)
    assert await client.send_command(garage.id, ChargerCommand.RESUME_CHARGING) is (
        CommandResult.NOTHING_TO_DO
    )
    assert garage.operating_mode == 5


@pytest.mark.parametrize(("answers_500", "result"), [(False, "sent"), (True, "unconfirmed")])
async def test_deauthorize_and_stop(
    client: ZaptecClient, sim: ZaptecSimulator, answers_500: bool, result: str
) -> None:
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(
        garage.id,
        operating_mode=3,
        power_w=7000.0,
        current_user="ble-x",
        deauthorize_answers_500=answers_500,
    )
    outcome = await client.send_command(garage.id, ChargerCommand.DEAUTHORIZE_AND_STOP)
    assert outcome is CommandResult(result)
    # Either way it executed: the car waits for a new authorization (required here).
    state = await _state(client, garage.id)
    assert state.operating_mode == 2
    assert garage.current_user == ""
    sim.set_charger(garage.id, operating_mode=1)
    assert await client.send_command(garage.id, ChargerCommand.DEAUTHORIZE_AND_STOP) is (
        CommandResult.NOTHING_TO_DO
    )


async def test_other_500s_of_commands_are_errors(
    client: ZaptecClient, sim: ZaptecSimulator
) -> None:
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, online=False)
    with pytest.raises(ZaptecResponseError) as caught:
        await client.send_command(garage.id, ChargerCommand.DEAUTHORIZE_AND_STOP)
    assert (caught.value.status, caught.value.code) == (500, 520)
    sim.set_charger(garage.id, online=True, operating_mode=3)
    sim.add_fault("sendCommand", 500, body={"Code": 500, "Details": "boom"})
    with pytest.raises(ZaptecResponseError):
        await client.send_command(garage.id, ChargerCommand.STOP_CHARGING_FINAL)


async def test_restart_and_firmware_upgrade(client: ZaptecClient, sim: ZaptecSimulator) -> None:
    home = next(iter(sim.installations.values()))
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, latest_firmware="4.2.0.0")
    assert await client.send_command(garage.id, ChargerCommand.RESTART_CHARGER) is (
        CommandResult.SENT
    )
    firmware = {f.charger_id: f for f in await client.get_charger_firmware(home.id)}
    assert firmware[garage.id] == ChargerFirmware(garage.id, "4.1.0.1", "4.2.0.0", False, True)
    assert firmware[sim.charger_by_serial("ZAP049387").id].is_up_to_date is True
    assert await client.send_command(garage.id, ChargerCommand.UPGRADE_FIRMWARE) is (
        CommandResult.SENT
    )
    assert await client.send_command(garage.id, ChargerCommand.UPGRADE_FIRMWARE) is (
        CommandResult.NOTHING_TO_DO
    )
    assert _sent(sim) == [
        ("POST", f"/api/chargers/{garage.id}/sendCommand/102", None),
        ("GET", f"/api/chargerFirmware/installation/{home.id}", None),
        ("POST", f"/api/chargers/{garage.id}/sendCommand/200", None),
        ("POST", f"/api/chargers/{garage.id}/sendCommand/200", None),
    ]
    assert garage.firmware == "4.2.0.0"


def test_firmware_parsing_is_total() -> None:
    assert ChargerFirmware.list_from_api(
        [
            {"ChargerId": "a", "CurrentVersion": "", "IsUpToDate": "yes"},
            {"ChargerId": "b/../c"},
            {"CurrentVersion": "1"},
            "junk",
        ]
    ) == [ChargerFirmware("a")]
    with pytest.raises(ZaptecProtocolError):
        ChargerFirmware.list_from_api({"Data": []})


async def test_commands_need_the_owner_role(client: ZaptecClient, sim: ZaptecSimulator) -> None:
    home = next(iter(sim.installations.values()))
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_installation(home.id, roles=1)
    with pytest.raises(ZaptecForbiddenError):
        await client.send_command(garage.id, ChargerCommand.RESTART_CHARGER)
    with pytest.raises(ZaptecForbiddenError):
        await client.set_available_current(home.id, (16, 16, 16))
    with pytest.raises(ZaptecForbiddenError):
        await client.set_charger_currents(garage.id, maximum=16)
    with pytest.raises(ZaptecForbiddenError):
        await client.get_charger_firmware(home.id)


async def test_available_current_all_phases_and_per_phase(
    client: ZaptecClient, sim: ZaptecSimulator
) -> None:
    home = next(iter(sim.installations.values()))
    installation = await client.set_available_current(home.id, (20, 20, 20))
    assert installation.available_current_phase2 == 20
    installation = await client.set_available_current(home.id, (16, 10.5, 6))
    assert (
        installation.available_current_phase1,
        installation.available_current_phase2,
        installation.available_current_phase3,
    ) == (16, 10.5, 6)
    assert _sent(sim) == [
        ("POST", f"/api/installation/{home.id}/update", {"AvailableCurrent": 20.0}),
        ("GET", f"/api/installation/{home.id}", None),
        (
            "POST",
            f"/api/installation/{home.id}/update",
            {
                "AvailableCurrentPhase1": 16.0,
                "AvailableCurrentPhase2": 10.5,
                "AvailableCurrentPhase3": 6.0,
            },
        ),
        ("GET", f"/api/installation/{home.id}", None),
    ]


async def test_apm_installation_refuses_with_527(
    client: ZaptecClient, sim: ZaptecSimulator
) -> None:
    home = next(iter(sim.installations.values()))
    sim.set_installation(home.id, apm=True)
    with pytest.raises(ZaptecNotSupportedError) as caught:
        await client.set_available_current(home.id, (10, 10, 10))
    assert caught.value.code == 527
    assert "APM" in str(caught.value)
    with pytest.raises(ZaptecNotSupportedError):
        await client.set_three_to_one_phase_switch_current(home.id, 12)
    assert home.available_current == (32.0, 32.0, 32.0)


async def test_three_to_one_phase_switch_current(
    client: ZaptecClient, sim: ZaptecSimulator
) -> None:
    home = next(iter(sim.installations.values()))
    installation = await client.set_three_to_one_phase_switch_current(home.id, 12)
    assert installation.three_to_one_phase_switch_current == 12
    assert sim.requests[0].body == {"ThreeToOnePhaseSwitchCurrent": 12.0}


async def test_write_that_does_not_show_is_not_confirmed(
    client: ZaptecClient, sim: ZaptecSimulator
) -> None:
    home = next(iter(sim.installations.values()))
    sim.add_fault("/update$", 200, body={})  # accepted, but not applied
    with pytest.raises(ZaptecWriteNotConfirmedError):
        await client.set_available_current(home.id, (10, 10, 10))
    # The one write, then the read-back and its one retry.
    assert [r.method for r in sim.requests] == ["POST", "GET", "GET"]


async def test_charger_currents(client: ZaptecClient, sim: ZaptecSimulator) -> None:
    garage = sim.charger_by_serial("ZPR012345")
    await client.set_charger_currents(garage.id, maximum=16)
    await client.set_charger_currents(garage.id, minimum=8, maximum=20)
    state = await _state(client, garage.id)
    assert state.number(Observation.CHARGER_MAX_CURRENT) == 20
    assert state.number(Observation.CHARGER_MIN_CURRENT) == 8
    assert [r.body for r in sim.requests if r.method == "POST"] == [
        {"maxChargeCurrent": 16.0},
        {"minChargeCurrent": 8.0, "maxChargeCurrent": 20.0},
    ]
    assert (garage.min_current, garage.max_current) == (8, 20)
    with pytest.raises(ValueError, match="Nothing"):
        await client.set_charger_currents(garage.id)
    for bad in (float("nan"), -1.0, True):
        with pytest.raises(ValueError, match="current"):
            await client.set_charger_currents(garage.id, maximum=bad)


async def test_externally_managed_charger_refuses_with_403(
    client: ZaptecClient, sim: ZaptecSimulator
) -> None:
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, externally_managed=True)
    with pytest.raises(ZaptecForbiddenError):
        await client.set_charger_currents(garage.id, maximum=16)
    assert garage.max_current == 32


@pytest.mark.parametrize(
    ("text", "kwh"),
    [
        ('{"SessionId":"x","Energy":12.25,"SignedSession":""}', 12.25),
        ('{"Energy":"7.5"}', 7.5),
        ('{"Energy":NaN}', None),
        ('{"Energy":5000}', None),
        ('{"Energy":true}', None),
        ('{"Energy":-1}', None),
        ("[1, 2]", None),
        ("not json", None),
        ("", None),
    ],
)
def test_completed_session_energy_is_parsed_totally(text: str, kwh: float | None) -> None:
    state = ChargerState.from_api(
        "c", [{"StateId": int(Observation.COMPLETED_SESSION), "ValueAsString": text}]
    )
    assert state.completed_session_kwh == kwh
