"""KSEM config flow against the simulated meter over real loopback HTTP.

Every error path continues to a created entry (or a successful reauth/reconfigure).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from aiohttp import web
from homeassistant.config_entries import SOURCE_DHCP, SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ksem_zaptec.const import DOMAIN
from custom_components.ksem_zaptec.ksem import const as ksem_const
from custom_components.ksem_zaptec.ksem import pairing
from custom_components.ksem_zaptec.ksem.api import TokenInfo
from custom_components.ksem_zaptec.ksem.api import client as ksem_client
from custom_components.ksem_zaptec.ksem.config_flow import serial_from_hostname
from simulator import server
from simulator.ksem import TOKEN_REQUEST_PUBLIC_PATH, self_signed_context

from .conftest import SERIAL, RunningKsem, authorized_token

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


async def _start(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ksem"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ksem_host"
    return result


async def _authorize_and_finish(
    hass: HomeAssistant, ksem: RunningKsem, result: dict[str, Any]
) -> dict[str, Any]:
    """The flow waits in the progress step until the user authorizes the token."""
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["step_id"] == "ksem_authorize"
    assert result["progress_action"] == "ksem_wait_for_authorization"
    # Several checks go by while the token is pending: the flow keeps waiting.
    await asyncio.sleep(0.1)
    flow = hass.config_entries.flow.async_get(result["flow_id"])
    assert flow["step_id"] == "ksem_authorize"
    assert ksem.sim.authorize() == 1
    await hass.async_block_till_done()
    return await hass.config_entries.flow.async_configure(result["flow_id"])


async def test_full_pairing(hass: HomeAssistant, ksem: RunningKsem) -> None:
    """Host -> token created -> pending -> authorized -> entry."""
    hass.config.location_name = "Holiday home"
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    token = next(iter(ksem.sim.tokens.values()))
    # A unique name: a code nobody misreads, shown on its own in the authorize step.
    assert re.fullmatch(r"Home Assistant \(Holiday home\) [A-HJKMNP-Z2-9]{4}", token.name)
    assert token.state == "pending"
    placeholders = result["description_placeholders"]
    assert placeholders == {
        "url": ksem.url,
        "host": ksem.host,
        "token_name": token.name,
        "token_code": token.name[-4:],
    }
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"KSEM {SERIAL}"
    assert result["result"].unique_id == SERIAL
    assert result["data"] == {
        "kind": "ksem",
        "host": ksem.host,
        "token": token.jwt,
        "token_name": token.name,
        # What the meter answered to each request, for the diagnostics.
        "pairing_probes": [
            "GET http /api/access-token/token 405",
            "GET http /api/access-token/request 404",
            "GET http /api/access-token/public/v1/token 308",
            "TLS https /api/access-token/public/v1/token no answer",
            "GET http /api/access-token/public/v1/tokens 308",
            "TLS https /api/access-token/public/v1/tokens no answer",
            "GET http /api/access-token/public/v1/request 308",
            "TLS https /api/access-token/public/v1/request no answer",
            "POST http /api/access-token/token 200",
        ],
    }
    # Exactly one POST reached the meter; everything else was a GET.
    assert [r for r in ksem.sim.requests if r[0] == "POST"] == [("POST", "/api/access-token/token")]
    assert "password" not in str(result["data"])
    assert not result["options"]


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        ("offline", "cannot_connect"),
        ("json_missing", "ksem_json_interface_missing"),
        ("bad_host", "ksem_invalid_host"),
    ],
)
async def test_host_errors_recover(
    hass: HomeAssistant, ksem: RunningKsem, setup: str, error: str
) -> None:
    result = await _start(hass)
    host = ksem.host
    if setup == "offline":
        await ksem.sim.set_offline(offline=True)
    elif setup == "json_missing":
        ksem.sim.flags.json_interface = False
    else:
        host = "http://bad host"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": host})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    await ksem.sim.set_offline(offline=False)
    ksem.sim.flags.json_interface = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unexpected_answers_recover(
    hass: HomeAssistant, ksem: RunningKsem, socket_enabled: None
) -> None:
    """Odd answers (429 on a GET, 418 on a token check) show `unknown`, then pairing works."""

    async def teapot(request: web.Request) -> web.Response:
        return web.Response(status=429)

    app = web.Application()
    app.router.add_get("/{tail:.*}", teapot)
    other = await server.start(app)
    result = await _start(hass)
    try:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": f"127.0.0.1:{other.port}"}
        )
        assert result["errors"] == {"base": "unknown"}
    finally:
        await other.stop()
    ksem.sim.flags.token_request_status = 404
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    assert result["step_id"] == "ksem_paste_token"
    ksem.sim.flags.values_status = 418
    token = authorized_token(ksem)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"token": token})
    assert result["errors"] == {"base": "unknown"}
    ksem.sim.flags.values_status = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"token": token})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_not_a_ksem_and_refused_connection(
    hass: HomeAssistant, ksem: RunningKsem, socket_enabled: None
) -> None:
    """Another web server (404 everywhere), then a closed port, then the meter."""
    app = web.Application()
    other = await server.start(app)
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": other.host + f":{other.port}"}
    )
    assert result["errors"] == {"base": "ksem_not_a_ksem"}
    await other.stop()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": f"127.0.0.1:{other.port}"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("status", [404, 405, 401, 429])
async def test_token_request_refused_falls_back_to_paste(
    hass: HomeAssistant, ksem: RunningKsem, status: int
) -> None:
    """A meter that refuses HA's token request: paste a token created in its web UI."""
    ksem.sim.flags.token_request_status = status
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ksem_paste_token"
    assert result["description_placeholders"]["url"] == ksem.url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": "not a token"}
    )
    assert result["errors"] == {"token": "ksem_invalid_token"}
    token = authorized_token(ksem, "My HA")
    # whitespace from copying is ignored, and so is a "Bearer " prefix
    pasted = f"  Bearer {token[:20]}\n{token[20:]} "
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"token": pasted})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["token"] == token
    assert result["data"]["token_name"] == "My HA"
    # What the meter answered is kept for the diagnostics on this path too.
    assert result["data"]["pairing_probes"][0] == "GET http /api/access-token/token 405"
    assert result["data"]["pairing_probes"][-1] == f"POST http /api/access-token/token {status}"


async def test_paste_pending_token_waits(hass: HomeAssistant, ksem: RunningKsem) -> None:
    ksem.sim.flags.token_request_status = 404
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    pending = ksem.sim.create_token("Pasted", role="api")
    await ksem.sim.set_offline(offline=True)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": pending.jwt}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    await ksem.sim.set_offline(offline=False)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": pending.jwt}
    )
    assert result["description_placeholders"]["token_name"] == "Pasted"
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["token"] == pending.jwt


async def test_token_request_connection_error_falls_back(
    hass: HomeAssistant, ksem: RunningKsem
) -> None:
    ksem.sim.flags.token_request_status = 503
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    assert result["step_id"] == "ksem_paste_token"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": authorized_token(ksem)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_authorization_timeout_and_retry(
    hass: HomeAssistant, ksem: RunningKsem, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ksem_const, "PAIRING_TIMEOUT", 0.05)
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ksem_authorize_timeout"
    assert result["description_placeholders"]["token_name"].startswith("Home Assistant (test ")
    # the meter goes away while we wait: the checks keep going until the timeout
    await ksem.sim.set_offline(offline=True)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["step_id"] == "ksem_authorize_timeout"
    await ksem.sim.set_offline(offline=False)
    monkeypatch.setattr(ksem_const, "PAIRING_TIMEOUT", 5)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(ksem.sim.tokens) == 1  # the same token all along


async def test_timeout_offers_a_new_token(
    hass: HomeAssistant, ksem: RunningKsem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user deleted the pending token in the web UI: ask for a new one, on request only."""
    monkeypatch.setattr(ksem_const, "PAIRING_TIMEOUT", 0.05)
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    first = result["description_placeholders"]["token_name"]
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["step_id"] == "ksem_authorize_timeout"
    await ksem.sim.revoke(first)
    monkeypatch.setattr(ksem_const, "PAIRING_TIMEOUT", 5)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"new_token": True})
    assert result["step_id"] == "ksem_authorize"
    assert result["description_placeholders"]["token_name"] != first
    assert len(ksem.sim.tokens) == 2
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["token_name"] != first


async def test_finish_connection_error_recovers(hass: HomeAssistant, ksem: RunningKsem) -> None:
    """Authorized, but the meter vanishes before HA reads its serial: wait and retry."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    ksem.sim.authorize()
    await hass.async_block_till_done()
    await ksem.sim.set_offline(offline=True)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["step_id"] == "ksem_authorize_timeout"
    assert result["errors"] == {"base": "cannot_connect"}
    await ksem.sim.set_offline(offline=False)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_already_configured_by_host_before_any_token(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """The same host (written another way) aborts before the meter is asked for anything."""
    ksem_entry.add_to_hass(hass)
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": f"HTTP://{ksem.host}/"}
    )
    assert result["type"] is FlowResultType.ABORT
    # The meter's own text, naming the entry it is already set up as.
    assert result["reason"] == "ksem_already_configured"
    assert result["description_placeholders"] == {"title": ksem_entry.title}
    assert len(ksem.sim.tokens) == 1  # the entry's own token, no new one
    assert not [r for r in ksem.sim.requests if r[1].startswith("/api/access-token")]


async def test_known_meter_at_another_address_is_paired_again(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """Only the authorized token reveals the serial: the entry takes the new token."""
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        ksem_entry, title="Basement meter", data={**ksem_entry.data, "host": "10.0.0.9"}
    )
    old_token = ksem_entry.data["token"]
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ksem_repaired"
    new_name = ksem_entry.data["token_name"]
    assert result["description_placeholders"] == {
        "title": "Basement meter",
        "old_token_name": "Home Assistant (Home)",
        "token_name": new_name,
    }
    assert ksem_entry.data["token"] != old_token
    assert ksem_entry.data["host"] == ksem.host
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_same_token_pasted_again_is_already_configured(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """Nothing to revoke when the entry already has this very token."""
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(ksem_entry, data={**ksem_entry.data, "host": "10.0.0.9"})
    ksem.sim.flags.token_route = None
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    assert result["step_id"] == "ksem_paste_token"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": ksem_entry.data["token"]}
    )
    assert result["reason"] == "ksem_already_configured"


async def test_abandoned_flow_leaves_its_token_to_the_next(
    hass: HomeAssistant, ksem: RunningKsem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing the dialog at the authorize step and starting again: still one token."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    name = result["description_placeholders"]["token_name"]
    hass.config_entries.flow.async_abort(result["flow_id"])
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    assert result["description_placeholders"]["token_name"] == name
    assert len(ksem.sim.tokens) == 1
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["pairing_probes"][0] == "GET http /api/access-token/token 405"
    # Stored in the entry: no later flow may take that token over.
    hass.config_entries.flow.async_abort((await _start(hass))["flow_id"])
    await hass.config_entries.async_remove(result["result"].entry_id)
    # A pending token is taken over only for a while.
    monkeypatch.setattr(ksem_const, "PENDING_TOKEN_LIFETIME", 0)
    names = {name}
    for _ in range(2):
        result = await _start(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": ksem.host}
        )
        names.add(result["description_placeholders"]["token_name"])
        hass.config_entries.flow.async_abort(result["flow_id"])
    assert len(names) == len(ksem.sim.tokens) == 3


async def test_already_configured_by_hostname(
    hass: HomeAssistant, ksem_entry: MockConfigEntry
) -> None:
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(ksem_entry, title="Basement meter")
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": f"ksem-{SERIAL}"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ksem_already_configured"
    # The name the user gave the entry, so they find it in the list.
    assert result["description_placeholders"] == {"title": "Basement meter"}


async def test_no_serial_asks_for_it(hass: HomeAssistant, ksem: RunningKsem) -> None:
    """The token may not read device-settings and the host is an IP: ask, never abort."""
    ksem.sim.flags.api_reads_device_settings = False
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ksem_serial"
    assert result["description_placeholders"]["url"] == ksem.url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"serial": "KSEM-12"}
    )
    assert result["errors"] == {"serial": "ksem_invalid_serial"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"serial": f" {SERIAL[:4]} {SERIAL[4:]} "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL


def test_serial_from_hostname() -> None:
    assert serial_from_hostname("ksem-76555758") == "76555758"
    assert serial_from_hostname("KSEM-76555758.local") == "76555758"
    assert serial_from_hostname("http://ksem-1:8080") == "1"
    assert serial_from_hostname("ksem-12ab") is None
    assert serial_from_hostname("192.168.1.2") is None
    assert serial_from_hostname(None) is None


async def test_dhcp_discovery(hass: HomeAssistant, ksem: RunningKsem) -> None:
    """Serial from the ksem-<serial> host name when device-settings is not readable."""
    ksem.sim.flags.api_reads_device_settings = False
    info = DhcpServiceInfo(ip=ksem.host, hostname=f"ksem-{SERIAL}", macaddress="0050c2112233")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=info
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ksem_discovery_confirm"
    assert result["description_placeholders"] == {"serial": SERIAL, "host": ksem.host}
    await ksem.sim.set_offline(offline=True)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "cannot_connect"}
    await ksem.sim.set_offline(offline=False)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL
    assert result["data"]["host"] == ksem.host


async def test_dhcp_updates_known_host(hass: HomeAssistant, ksem_entry: MockConfigEntry) -> None:
    ksem_entry.add_to_hass(hass)
    info = DhcpServiceInfo(ip="10.0.0.9", hostname=f"ksem-{SERIAL}", macaddress="0050c2112233")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=info
    )
    assert result["reason"] == "ksem_already_configured"
    assert ksem_entry.data["host"] == "10.0.0.9"


async def test_dhcp_known_mac_renamed_host(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """A meter renamed (no serial in its host name) is still known by its MAC address."""
    ksem_entry.add_to_hass(hass)
    dr.async_get(hass).async_get_or_create(
        config_entry_id=ksem_entry.entry_id,
        identifiers={(DOMAIN, SERIAL)},
        connections={(dr.CONNECTION_NETWORK_MAC, "00:50:c2:11:22:33")},
    )
    info = DhcpServiceInfo(ip=ksem.host, hostname="meter", macaddress="0050c2112233")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=info
    )
    assert result["reason"] == "ksem_already_configured"
    assert result["description_placeholders"] == {"title": ksem_entry.title}
    info = DhcpServiceInfo(ip="10.0.0.7", hostname="meter", macaddress="0050c2112233")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=info
    )
    assert result["reason"] == "ksem_already_configured"
    assert ksem_entry.data["host"] == "10.0.0.7"


async def test_dhcp_without_serial_uses_the_mac(hass: HomeAssistant, ksem: RunningKsem) -> None:
    """A renamed meter whose token may not read the serial: the DHCP MAC identifies it.

    A device with that MAC under an entry that is no meter (a Zaptec account) is no match.
    """
    zaptec = MockConfigEntry(domain=DOMAIN, unique_id="me@example.com", data={"kind": "zaptec"})
    zaptec.add_to_hass(hass)
    dr.async_get(hass).async_get_or_create(
        config_entry_id=zaptec.entry_id,
        identifiers={(DOMAIN, "ZAP000001")},
        connections={(dr.CONNECTION_NETWORK_MAC, "00:50:c2:11:22:99")},
    )
    ksem.sim.flags.api_reads_device_settings = False
    info = DhcpServiceInfo(ip=ksem.host, hostname="meter", macaddress="0050c2112299")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=info
    )
    assert result["step_id"] == "ksem_discovery_confirm"
    assert result["description_placeholders"] == {"serial": "?", "host": ksem.host}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "00:50:c2:11:22:99"


async def test_reauth_pairs_again(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    ksem_entry.add_to_hass(hass)
    old_token = ksem_entry.data["token"]
    result = await ksem_entry.start_reauth_flow(hass)
    assert result["step_id"] == "ksem_reauth_confirm"
    assert result["description_placeholders"]["host"] == ksem.host
    assert result["description_placeholders"]["token_name"] == "Home Assistant (Home)"
    await ksem.sim.set_offline(offline=True)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "cannot_connect"}
    await ksem.sim.set_offline(offline=False)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert ksem_entry.data["token"] != old_token
    name = TokenInfo.from_token(ksem_entry.data["token"]).name
    assert name is not None
    assert name.startswith("Home Assistant (test home) ")
    assert ksem_entry.data["token_name"] == name


async def test_reauth_without_device_settings(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """An api token that may not read the serial: the entry's meter is kept."""
    ksem_entry.add_to_hass(hass)
    ksem.sim.flags.api_reads_device_settings = False
    result = await ksem_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["reason"] == "reauth_successful"
    assert ksem_entry.unique_id == SERIAL


async def test_reauth_other_meter_aborts(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    ksem_entry.add_to_hass(hass)
    ksem.sim.device_settings["Serial"] = "99999999"
    result = await ksem_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await _authorize_and_finish(hass, ksem, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ksem_wrong_device"


async def test_reconfigure(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    ksem_entry.add_to_hass(hass)
    result = await ksem_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "ksem_reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "bad host/x"}
    )
    assert result["errors"] == {"base": "ksem_invalid_host"}
    new_host = f"http://{ksem.host}"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": new_host})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert ksem_entry.data["host"] == new_host


async def test_reconfigure_read_fails_then_recovers(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry, socket_enabled: None
) -> None:
    """A host that passes the probe (401) but fails authenticated reads (503)."""

    async def flaky(request: web.Request) -> web.Response:
        return web.Response(status=503 if "Authorization" in request.headers else 401)

    app = web.Application()
    app.router.add_get("/{tail:.*}", flaky)
    other = await server.start(app)
    ksem_entry.add_to_hass(hass)
    try:
        result = await ksem_entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": f"127.0.0.1:{other.port}"}
        )
        assert result["errors"] == {"base": "cannot_connect"}
    finally:
        await other.stop()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    assert result["reason"] == "reconfigure_successful"


async def test_reconfigure_wrong_meter(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry, socket_enabled: None
) -> None:
    ksem_entry.add_to_hass(hass)
    from simulator.ksem import KsemSimulator  # noqa: PLC0415

    other_sim = KsemSimulator(serial="11111111", post_interval=0)
    other = await server.start(other_sim.app)
    try:
        result = await ksem_entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": f"127.0.0.1:{other.port}"}
        )
        # other meter: our token is refused there (its device-settings refuse it too); the
        # user may have mistyped, so the form asks again instead of ending the flow
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "ksem_token_refused_here"}
    finally:
        await other.stop()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    assert result["reason"] == "reconfigure_successful"


async def test_reconfigure_other_serial(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    ksem_entry.add_to_hass(hass)
    ksem.sim.device_settings["Serial"] = "22222222"
    result = await ksem_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": ksem.host})
    assert result["reason"] == "ksem_wrong_device"


async def test_options_flow(hass: HomeAssistant, ksem_entry: MockConfigEntry) -> None:
    ksem_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(ksem_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"write_interval": 1, "poll_interval": 10.0, "stale_after": 120}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert ksem_entry.options == {"write_interval": 1, "poll_interval": 10, "stale_after": 120}


async def test_options_out_of_range_say_so_and_recover(
    hass: HomeAssistant, ksem_entry: MockConfigEntry
) -> None:
    """Not Home Assistant's untranslated "Value 0.0 is too small": our own error per field."""
    ksem_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(ksem_entry.entry_id)
    assert result["description_placeholders"]["write_interval_min"] == "1"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"write_interval": 0, "poll_interval": 5, "stale_after": 5000}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        "write_interval": "write_interval_range",
        "stale_after": "stale_after_range",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"write_interval": 2, "poll_interval": 5, "stale_after": 90}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert ksem_entry.options == {"write_interval": 2, "poll_interval": 5, "stale_after": 90}


async def _reauth(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    """Start a reauth of a created entry, confirm it."""
    entry.async_start_reauth(hass)
    await hass.async_block_till_done()
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    return await hass.config_entries.flow.async_configure(flow["flow_id"], {})


async def test_https_token_route_pins_the_certificate(
    hass: HomeAssistant, ksem: RunningKsem
) -> None:
    """Token route behind nginx's HTTPS redirect: the certificate is pinned with the entry.

    Pairing again finds another certificate: no token request goes there, a repair issue
    says so and the token is pasted; the pinned certificate again clears the issue.
    """
    ksem.sim.flags.token_route = TOKEN_REQUEST_PUBLIC_PATH
    first = await ksem.sim.serve_https()
    pinned = ksem.sim.certificate_sha256
    second = await ksem.sim.serve_https()  # another certificate (as after a factory reset)
    try:
        ksem.sim.https_port = first.port
        result = await _start(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": ksem.host}
        )
        result = await _authorize_and_finish(hass, ksem, result)
        entry = result["result"]
        assert entry.data["certificate_sha256"] == pinned
        assert "POST https /api/access-token/public/v1/token 200" in entry.data["pairing_probes"]

        ksem.sim.https_port = second.port
        result = await _reauth(hass, entry)
        assert result["step_id"] == "ksem_paste_token"
        issue_id = f"ksem_certificate_changed_{entry.entry_id}"
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_placeholders == {"title": entry.title, "host": ksem.host}
        assert len(ksem.sim.tokens) == 1
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"token": authorized_token(ksem, "Pasted")}
        )
        assert result["reason"] == "reauth_successful"
        assert entry.data["certificate_sha256"] == pinned  # still the first one

        ksem.sim.https_port = first.port
        result = await _authorize_and_finish(hass, ksem, await _reauth(hass, entry))
        assert result["reason"] == "reauth_successful"
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    finally:
        await first.stop()
        await second.stop()


async def test_pending_tokens_keyed_by_usable_hosts(hass: HomeAssistant) -> None:
    """Host spellings that reach the same address share a key; unusable ones none."""
    assert pairing.same_host("KSEM-1.local", "http://ksem-1.local:80/")
    assert not pairing.same_host("ksem-1.local", "https://ksem-1.local")
    assert not pairing.same_host("http://", "http://")
    pairing.keep_pending_token(hass, "http://", "eyJ.a.b", [], None)
    pairing.forget_pending_token(hass, "http://")
    assert pairing.pending_token(hass, "http://") is None
    assert pairing.token_code("My HA") is None


async def test_certificate_names_the_meter_before_any_token(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The self-signed certificate's `ksem-<serial>.local` (no token needed) finds the entry."""
    ksem_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(ksem_entry, data={**ksem_entry.data, "host": "10.0.0.9"})
    https = await ksem.sim.serve_https()
    monkeypatch.setattr(ksem_client, "HTTPS_PORT", https.port)
    try:
        result = await _start(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": ksem.host}
        )
        assert result["reason"] == "ksem_already_configured"
        assert result["description_placeholders"] == {"title": ksem_entry.title}
        assert ksem_entry.data["host"] == "10.0.0.9"  # Reconfigure changes it, not a new flow
        assert len(ksem.sim.tokens) == 1  # the entry's own
        # Another meter: the certificate's serial serves when the token may not read one.
        await hass.config_entries.async_remove(ksem_entry.entry_id)
        ksem.sim.flags.api_reads_device_settings = False
        result = await _start(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": ksem.host}
        )
        result = await _authorize_and_finish(hass, ksem, result)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == SERIAL
    finally:
        await https.stop()


async def test_second_flow_for_a_discovered_meter_says_in_progress(
    hass: HomeAssistant, ksem: RunningKsem
) -> None:
    """The user types the host a discovery is already pairing: a translated abort."""
    info = DhcpServiceInfo(ip=ksem.host, hostname=f"ksem-{SERIAL}", macaddress="0050c2112233")
    await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_DHCP}, data=info)
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": f"ksem-{SERIAL}"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_in_progress"
    assert not ksem.sim.tokens


async def test_https_host_pins_the_certificate_on_first_use(
    hass: HomeAssistant, ksem: RunningKsem
) -> None:
    """An https:// host: its self-signed certificate is trusted from the first answer on.

    Re-pairing against another certificate is a form error and a repair issue; the pinned
    one back, the re-pairing completes and the issue goes. Reconfigure keeps to the pin too.
    """
    first = self_signed_context(f"ksem-{SERIAL}.local")
    https = await ksem.sim.serve_https(certificate=first)
    port = https.port
    host = f"https://127.0.0.1:{port}"
    try:
        result = await _start(hass)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": host})
        result = await _authorize_and_finish(hass, ksem, result)
        entry = result["result"]
        assert entry.data["host"] == host
        assert entry.data["certificate_sha256"] == first[1]

        await https.stop()
        https = await ksem.sim.serve_https(port=port)  # a new certificate, same address
        entry.async_start_reauth(hass)
        await hass.async_block_till_done()
        [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        assert result["errors"] == {"base": "ksem_certificate_changed"}
        issue_id = f"ksem_certificate_changed_{entry.entry_id}"
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

        await https.stop()
        https = await ksem.sim.serve_https(port=port, certificate=first)
        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        result = await _authorize_and_finish(hass, ksem, result)
        assert result["reason"] == "reauth_successful"
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

        await https.stop()
        https = await ksem.sim.serve_https(port=port)
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
        )
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"host": host})
        assert result["errors"] == {"base": "ksem_certificate_changed"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": ksem.host}
        )
        assert result["reason"] == "reconfigure_successful"
        assert entry.data["certificate_sha256"] == first[1]
    finally:
        await https.stop()


async def test_reconfigure_to_https_pins_the_certificate(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    ksem_entry.add_to_hass(hass)
    https = await ksem.sim.serve_https()
    try:
        result = await ksem_entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": f"https://127.0.0.1:{https.port}"}
        )
        assert result["reason"] == "reconfigure_successful"
        assert ksem_entry.data["certificate_sha256"] == ksem.sim.certificate_sha256
    finally:
        await https.stop()
