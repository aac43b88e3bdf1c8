"""What a KSEM pairing costs on the wire, and what it leaves on the meter.

Run with `python -m bench.scenarios pairing` (Home Assistant's test harness,
pytest-homeassistant-custom-component), one fresh Home Assistant and one simulated meter per
scenario. Each scenario goes through Home Assistant's config flow (the public surface) as a
user would; the simulator counts the requests it receives (by method: GETs are not
rate-limited, POSTs are) and lists the tokens it holds afterwards. The authorization checks
while waiting for the user (one GET every 3 s) are left out: they depend on how long the user
takes; here the user authorizes at once and the check interval is shortened. The new entry's
own set-up does not run (it is measured by bench.ha).

TLS handshakes are not HTTP requests and not counted by the simulator; the default meter
serves no HTTPS (its handshakes are refused at once), the "HTTPS token route" meter does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from bench.harness import Rows
from custom_components.ksem_zaptec.const import DOMAIN
from custom_components.ksem_zaptec.ksem import const as ksem_const
from simulator import server
from simulator.ksem import TOKEN_REQUEST_PUBLIC_PATH, KsemSimulator

ROWS: Rows = []
Serve = Callable[..., Awaitable[server.RunningServer]]


async def _flow_to_authorize(hass: HomeAssistant, host: str) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ksem"}
    )
    return await hass.config_entries.flow.async_configure(result["flow_id"], {"host": host})


async def _finish(hass: HomeAssistant, sim: KsemSimulator, result: ConfigFlowResult) -> str:
    """The user authorizes every pending token at once; the flow's last result type/reason."""
    if result.get("step_id") == "ksem_authorize":
        sim.authorize()
        await asyncio.sleep(0.1)
        await hass.async_block_till_done()
        result = await hass.config_entries.flow.async_configure(result["flow_id"])
    return str(result.get("reason") or result.get("step_id") or result["type"])


def _record(name: str, sim: KsemSimulator, outcome: str) -> None:
    checks = "/api/json/local/values/smart-meter"
    requests = [(m, p) for m, p in sim.requests if not p.startswith("/_sim/") and p != checks]
    ROWS.append(
        {
            "name": name,
            "get": sum(1 for m, _ in requests if m != "POST"),
            "post": sum(1 for m, _ in requests if m == "POST"),
            "tokens": len(sim.tokens),
            "pending": sum(1 for t in sim.tokens.values() if t.state == "pending"),
            "outcome": outcome,
        }
    )


@pytest.fixture(autouse=True)
def _quick_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ksem_const, "PAIRING_CHECK_INTERVAL", 0.02)


@pytest.fixture(autouse=True)
def _pairing_only() -> Iterator[None]:
    """The entry's own set-up (reads, push stream) is not the pairing's: it does not run."""
    with patch("custom_components.ksem_zaptec.async_setup_entry", return_value=True):
        yield


async def test_new_meter(hass: HomeAssistant, socket_enabled: None) -> None:
    """A meter never set up: host, token, authorization, entry."""
    sim = KsemSimulator(post_interval=0)
    running = await server.start(sim.app)
    try:
        result = await _flow_to_authorize(hass, f"127.0.0.1:{running.port}")
        _record("new meter", sim, await _finish(hass, sim, result))
    finally:
        await running.stop()


async def test_three_abandoned_attempts(hass: HomeAssistant, socket_enabled: None) -> None:
    """The dialog closed three times at the authorize step, then paired."""
    sim = KsemSimulator(post_interval=0)
    running = await server.start(sim.app)
    try:
        for _ in range(3):
            result = await _flow_to_authorize(hass, f"127.0.0.1:{running.port}")
            hass.config_entries.flow.async_abort(result["flow_id"])
        result = await _flow_to_authorize(hass, f"127.0.0.1:{running.port}")
        _record("3 closed dialogs, then paired", sim, await _finish(hass, sim, result))
    finally:
        await running.stop()


async def test_known_meter(hass: HomeAssistant, socket_enabled: None) -> None:
    """The host of an entry typed again: stopped before any token exists."""
    sim = KsemSimulator(post_interval=0)
    running = await server.start(sim.app)
    host = f"127.0.0.1:{running.port}"
    try:
        MockConfigEntry(
            domain=DOMAIN, unique_id=sim.serial, data={"kind": "ksem", "host": host, "token": "x"}
        ).add_to_hass(hass)
        result = await _flow_to_authorize(hass, host)
        _record("same host added again", sim, await _finish(hass, sim, result))
    finally:
        await running.stop()


async def test_known_meter_new_address(hass: HomeAssistant, socket_enabled: None) -> None:
    """Only the authorized token tells the serial: the entry is re-paired."""
    sim = KsemSimulator(post_interval=0)
    running = await server.start(sim.app)
    try:
        MockConfigEntry(
            domain=DOMAIN,
            unique_id=sim.serial,
            data={"kind": "ksem", "host": "10.0.0.9", "token": "x", "token_name": "old"},
        ).add_to_hass(hass)
        result = await _flow_to_authorize(hass, f"127.0.0.1:{running.port}")
        _record("known meter at a new address", sim, await _finish(hass, sim, result))
    finally:
        await running.stop()


async def test_https_token_route(hass: HomeAssistant, socket_enabled: None) -> None:
    """The token route is a versioned public route (308 to HTTPS)."""
    sim = KsemSimulator(post_interval=0)
    sim.flags.token_route = TOKEN_REQUEST_PUBLIC_PATH
    running = await server.start(sim.app)
    https = await sim.serve_https()
    try:
        result = await _flow_to_authorize(hass, f"127.0.0.1:{running.port}")
        _record("token route behind HTTPS redirect", sim, await _finish(hass, sim, result))
    finally:
        await https.stop()
        await running.stop()


async def test_no_token_route(hass: HomeAssistant, socket_enabled: None) -> None:
    """No candidate route exists: no POST, the paste step."""
    sim = KsemSimulator(post_interval=0)
    sim.flags.token_route = None
    running = await server.start(sim.app)
    try:
        result = await _flow_to_authorize(hass, f"127.0.0.1:{running.port}")
        _record("meter without a token route", sim, await _finish(hass, sim, result))
    finally:
        await running.stop()


def print_tables(rows: Rows) -> None:
    """Requests per pairing (authorization checks aside) and tokens left on the meter."""
    print("| Pairing | GET | POST | Tokens on the meter | Still pending | Flow ends |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['name']} | {row['get']} | {row['post']} | {row['tokens']} | "
            f"{row['pending']} | {row['outcome']} |"
        )
    print(
        "\nGET: the token route candidates (over HTTPS again where a public route redirects)"
        " and device settings; POST: token requests (rate-limited to 1/s by the meter). Not"
        " counted: the probe and the authorization checks (GETs of the JSON interface, one"
        " every 3 s while the user authorizes) and TLS handshakes."
    )
