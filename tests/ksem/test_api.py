"""The KSEM client without Home Assistant.

aioresponses for status codes, the simulator for the wire formats (JSON, protobuf WebSocket,
token states).
"""

from __future__ import annotations

import ast
import base64
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses
from yarl import URL

from custom_components.ksem_zaptec.ksem.api import (
    KsemAuthError,
    KsemCertificateChangedError,
    KsemClient,
    KsemConnectionError,
    KsemInvalidTokenError,
    KsemNotSupportedError,
    KsemPairingNotSupportedError,
    KsemProtocolError,
    KsemRateLimitError,
    MeterValues,
    TokenGrant,
    TokenInfo,
    normalize_host,
)
from custom_components.ksem_zaptec.ksem.api import client as client_module
from custom_components.ksem_zaptec.ksem.api.models import certificate_common_name
from custom_components.ksem_zaptec.ksem.api.obis import OBIS_TO_JSON, obis_key
from custom_components.ksem_zaptec.ksem.api.protobuf import decode_gdrs
from simulator import server
from simulator.ksem import TOKEN_REQUEST_PUBLIC_PATH
from simulator.ksem_protobuf import OBIS_CD, encode_gdrs, obis

from .conftest import RunningKsem, authorized_token

BASE = "http://ksem.test"
VALUES = f"{BASE}/api/json/local/values/smart-meter"
SETTINGS = f"{BASE}/api/device-settings"
TOKEN_REQUEST = f"{BASE}/api/access-token/token"

# The real response logged in evcc-io/evcc#16765 (docs/ksem.md#json-interface), abridged as there.
EXAMPLE = {
    "smart-meter": {
        "configuration_id": "84b60b",
        "status": "STATUS_OK",
        "timestamp": {"seconds": 1729699542, "nanos": 583875718},
        "values": {
            "active_energy_+": 124596300,
            "active_energy_+_L1": 42895100,
            "active_energy_-": 0,
            "active_power_+": 6730100,
            "active_power_+_L1": 2248800,
            "active_power_+_L2": 2264500,
            "active_power_+_L3": 2216800,
            "active_power_-": 0,
            "apparent_energy_+": 125622500,
        },
    }
}


def jwt_like(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.sig"


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as sess:
        yield sess


@pytest.fixture
def mocked() -> Any:
    with aioresponses() as mock:
        yield mock


def test_api_package_has_no_home_assistant_imports() -> None:
    api_dir = Path(__file__).parents[2] / "custom_components/ksem_zaptec/ksem/api"
    for path in api_dir.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "homeassistant" for n in names), path


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("192.168.1.50", "http://192.168.1.50"),
        (" ksem-123 ", "http://ksem-123"),
        ("127.0.0.1:8091", "http://127.0.0.1:8091"),
        ("http://ksem.local/", "http://ksem.local"),
        ("https://10.0.0.2:8443", "https://10.0.0.2:8443"),
    ],
)
def test_normalize_host(host: str, expected: str) -> None:
    assert str(normalize_host(host)) == expected


@pytest.mark.parametrize(
    "host",
    [
        "",
        "   ",
        "ftp://x",
        "http://x/path",
        "http://:80",
        "host:notaport",
        "http://u@h",
        "http://",
        "HTTPS://",
        "http:",
    ],
)
def test_normalize_host_rejects(host: str) -> None:
    with pytest.raises(ValueError, match="host"):
        normalize_host(host)


async def test_example_conversion(session: aiohttp.ClientSession, mocked: Any) -> None:
    """The example: grid power 6730.1 W, import energy 124.5963 kWh, exactly."""
    mocked.get(VALUES, payload=EXAMPLE)
    values = await KsemClient("ksem.test", session, "tok").get_values()
    assert values.ok
    assert values.grid_power == 6730.1
    assert values.power_import == 6730.1
    assert values.power_export == 0.0
    assert values.energy_import == 124.5963
    assert values.energy_export == 0.0
    assert values.phases[0].power_import == 2248.8
    assert values.phases[0].energy_import == 42.8951
    assert values.phases[1].energy_import is None
    assert values.phases[0].power is None  # export of L1 missing from the abridged sample
    assert values.frequency is None
    assert values.timestamp is not None
    assert values.timestamp.year == 2024
    request = next(iter(mocked.requests.values()))[0]
    assert request.kwargs["headers"]["Authorization"] == "Bearer tok"


def test_other_units() -> None:
    values = MeterValues.from_milli(
        {
            "voltage_L2": 230300,
            "current_L3": 9637,
            "power_factor": -998,
            "supply_frequency": 50012,
            "active_power_+": 0,
            "active_power_-": 1500500,
            "active_power_+_L1": 100,
            "active_power_-_L1": 300,
        }
    )
    assert values.phases[1].voltage == 230.3
    assert values.phases[2].current == 9.637
    assert values.power_factor == -0.998
    assert values.frequency == 50.012
    assert values.grid_power == -1500.5
    assert values.phases[0].power == -0.2


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, None, KsemAuthError),
        (404, None, KsemNotSupportedError),
        (502, None, KsemNotSupportedError),
        (503, None, KsemConnectionError),
        (418, None, KsemProtocolError),
        (200, {"nope": 1}, KsemProtocolError),
        (200, {"smart-meter": {"values": {"a": "x"}}}, KsemProtocolError),
    ],
)
async def test_get_values_errors(
    session: aiohttp.ClientSession,
    mocked: Any,
    status: int,
    body: Any,
    error: type[Exception],
) -> None:
    mocked.get(VALUES, status=status, payload=body)
    with pytest.raises(error):
        await KsemClient(BASE, session, "tok").get_values()


async def test_rate_limit_and_transport_errors(session: aiohttp.ClientSession, mocked: Any) -> None:
    mocked.get(VALUES, status=429, headers={"Retry-After": "7"})
    with pytest.raises(KsemRateLimitError) as err:
        await KsemClient(BASE, session, "tok").get_values()
    assert err.value.retry_after == 7.0
    mocked.get(VALUES, status=429)
    with pytest.raises(KsemRateLimitError) as err:
        await KsemClient(BASE, session, "tok").get_values()
    assert err.value.retry_after is None
    mocked.get(VALUES, exception=aiohttp.ClientConnectionError("refused"))
    with pytest.raises(KsemConnectionError):
        await KsemClient(BASE, session, "tok").get_values()
    mocked.get(VALUES, exception=TimeoutError())
    with pytest.raises(KsemConnectionError):
        await KsemClient(BASE, session, "tok").get_values()
    mocked.get(VALUES, body="{not json", content_type="application/json")
    with pytest.raises(KsemProtocolError):
        await KsemClient(BASE, session, "tok").get_values()


async def test_check_token(session: aiohttp.ClientSession, mocked: Any) -> None:
    mocked.get(VALUES, status=401)
    mocked.get(VALUES, payload=EXAMPLE)
    client = KsemClient(BASE, session, "tok")
    assert await client.check_token() is False
    assert await client.check_token() is True


@pytest.mark.parametrize(
    ("values_status", "settings_status", "error"),
    [
        (401, None, None),
        (404, 401, KsemNotSupportedError),
        (502, 401, KsemNotSupportedError),
        (404, 404, KsemProtocolError),
        (200, None, KsemProtocolError),
        (503, None, KsemConnectionError),
    ],
)
async def test_probe(
    session: aiohttp.ClientSession,
    mocked: Any,
    values_status: int,
    settings_status: int | None,
    error: type[Exception] | None,
) -> None:
    mocked.get(VALUES, status=values_status)
    if settings_status:
        mocked.get(SETTINGS, status=settings_status)
    client = KsemClient(BASE, session)
    if error is None:
        await client.probe()
    else:
        with pytest.raises(error):
            await client.probe()
    request = mocked.requests[
        ("GET", client.base_url.with_path("/api/json/local/values/smart-meter"))
    ][0]
    assert "Authorization" not in request.kwargs["headers"]


@pytest.mark.parametrize("challenge", ['Basic realm="router"', "Digest realm=nas, nonce=1"])
async def test_a_login_dialog_is_no_ksem(
    session: aiohttp.ClientSession, mocked: Any, challenge: str
) -> None:
    """A router that asks people for a password answers 401 too, but it is not a meter."""
    mocked.get(VALUES, status=401, headers={"WWW-Authenticate": challenge})
    with pytest.raises(KsemProtocolError):
        await KsemClient(BASE, session).probe()


async def test_device_settings(session: aiohttp.ClientSession, mocked: Any) -> None:
    mocked.get(
        SETTINGS,
        payload={
            "Mac": "00:50:C2:11:22:33",
            "Serial": 76555758,
            "ProductName": "KOSTAL Smart Energy Meter",
            "DeviceType": "hw0100",
            "FirmwareVersion": "",
        },
    )
    settings = await KsemClient(BASE, session, "tok").get_device_settings()
    assert settings.serial == "76555758"
    assert settings.mac == "00:50:C2:11:22:33"
    assert settings.firmware_version is None
    assert settings.hostname is None
    mocked.get(SETTINGS, payload={"Mac": "x"})
    with pytest.raises(KsemProtocolError):
        await KsemClient(BASE, session, "tok").get_device_settings()


async def test_request_token(
    session: aiohttp.ClientSession, mocked: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """GETs find the route (405 = exists, 404 = unknown, no answer), then the one POST."""
    caplog.set_level(logging.DEBUG, logger=client_module.__name__)
    mocked.get(TOKEN_REQUEST, status=405, payload={"error": {"message": "x"}})
    mocked.get(f"{BASE}/api/access-token/request", status=404)
    mocked.post(TOKEN_REQUEST, payload={"access_token": "eyJ.new.token"})
    client = KsemClient(BASE, session)
    grant = await client.request_token("Home Assistant (Home)")
    assert grant == TokenGrant("eyJ.new.token", None)
    request = mocked.requests[("POST", client.base_url.with_path("/api/access-token/token"))][0]
    assert request.kwargs["json"] == {
        "name": "Home Assistant (Home)",
        "role": "api",
        "expires": None,
    }
    assert "Authorization" not in request.kwargs["headers"]
    assert [str(p) for p in client.probes] == [
        "GET http /api/access-token/token 405",
        "GET http /api/access-token/request 404",
        "GET http /api/access-token/public/v1/token no answer",
        "GET http /api/access-token/public/v1/tokens no answer",
        "GET http /api/access-token/public/v1/request no answer",
        "POST http /api/access-token/token 200",
    ]
    # One debug line with every probe's answer (the POST comes after it).
    [line] = [r.getMessage() for r in caplog.records if "token routes" in r.getMessage()]
    assert line == (
        "KSEM token routes at http://ksem.test: " + ", ".join(map(str, client.probes[:-1]))
    )


async def test_request_token_without_route_sends_no_post(
    session: aiohttp.ClientSession, mocked: Any
) -> None:
    """No candidate answers 405 (404, 401, a redirect elsewhere): nothing is created."""
    mocked.get(TOKEN_REQUEST, status=404)
    mocked.get(f"{BASE}/api/access-token/request", status=401)
    public = f"{BASE}/api/access-token/public/v1/token"
    mocked.get(public, status=308, headers={"Location": "https://other.test/x"})
    mocked.get(f"{BASE}/api/access-token/public/v1/tokens", status=302)
    mocked.get(f"{BASE}/api/access-token/public/v1/request", status=429)
    client = KsemClient(BASE, session)
    with pytest.raises(KsemPairingNotSupportedError):
        await client.request_token("HA")
    assert not [key for key in mocked.requests if key[0] == "POST"]
    assert "GET http /api/access-token/public/v1/token 308" in map(str, client.probes)
    assert str(client.probes[-1]) == "GET http /api/access-token/public/v1/request 429"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, None),
        (405, {"error": {"message": "x"}}),
        (401, None),
        (400, None),
        (200, {"x": 1}),
        (502, None),
    ],
)
async def test_request_token_refused(
    session: aiohttp.ClientSession, mocked: Any, status: int, body: Any
) -> None:
    mocked.get(TOKEN_REQUEST, status=405)
    mocked.post(TOKEN_REQUEST, status=status, payload=body)
    with pytest.raises(KsemPairingNotSupportedError):
        await KsemClient(BASE, session).request_token("HA")


async def test_request_token_transport(session: aiohttp.ClientSession, mocked: Any) -> None:
    mocked.get(TOKEN_REQUEST, status=405, repeat=True)
    mocked.post(TOKEN_REQUEST, status=503)
    with pytest.raises(KsemConnectionError):
        await KsemClient(BASE, session).request_token("HA")
    mocked.post(TOKEN_REQUEST, status=429, headers={"Retry-After": "0"})
    mocked.post(TOKEN_REQUEST, status=429, headers={"Retry-After": "0"})
    client = KsemClient(BASE, session)
    with pytest.raises(KsemRateLimitError):
        await client.request_token("HA")
    assert [str(p) for p in client.probes][-2:] == [
        "POST http /api/access-token/token 429",
        "POST http /api/access-token/token 429",
    ]


async def test_token_route_behind_https_redirect(
    ksem: RunningKsem, session: aiohttp.ClientSession
) -> None:
    """A versioned public route: 308 to HTTPS, the meter's own certificate pinned."""
    ksem.sim.flags.token_route = TOKEN_REQUEST_PUBLIC_PATH
    https = await ksem.sim.serve_https()
    try:
        client = KsemClient(ksem.host, session)
        grant = await client.request_token("HA")
        assert grant.certificate_sha256 == ksem.sim.certificate_sha256
        assert ksem.sim.tokens[TokenInfo.from_token(grant.token).token_id or ""].name == "HA"
        probes = [str(p) for p in client.probes]
        assert probes[0] == "GET http /api/access-token/token 404"
        assert "GET http /api/access-token/public/v1/token 308" in probes
        assert "GET https /api/access-token/public/v1/token 405" in probes
        assert "GET https /api/access-token/public/v1/tokens 404" in probes
        assert probes[-1] == "POST https /api/access-token/public/v1/token 200"
        # The same certificate pinned: fine. Another one: no request goes to that server.
        grant = await KsemClient(ksem.host, session).request_token("HA 2", grant.certificate_sha256)
        assert grant.certificate_sha256 == ksem.sim.certificate_sha256
        with pytest.raises(KsemCertificateChangedError) as err:
            await KsemClient(ksem.host, session).request_token("HA 3", "00" * 32)
        assert err.value.seen == ksem.sim.certificate_sha256
        assert len(ksem.sim.tokens) == 2
    finally:
        await https.stop()
    # HTTPS gone: the redirect leads nowhere, and no other route exists.
    client = KsemClient(ksem.host, session)
    with pytest.raises(KsemPairingNotSupportedError):
        await client.request_token("HA 4")
    assert "TLS https /api/access-token/public/v1/token no answer" in map(str, client.probes)


async def test_request_token_respects_rate_limit(
    ksem: RunningKsem, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests in a row: the second waits for the meter's 1 POST/s window."""
    ksem.sim.post_interval = 0.3
    client = KsemClient(ksem.host, session)
    # Without client-side spacing the meter answers 429 and the client retries after it.
    first = await client.request_token("one")
    started = time.monotonic()
    second = await client.request_token("two")
    assert time.monotonic() - started >= 0.25
    assert first != second
    assert ("POST", "/api/access-token/token") in ksem.sim.requests
    assert len(ksem.sim.tokens) == 2
    # With client-side spacing no 429 is provoked at all.
    monkeypatch.setattr(client_module, "MIN_POST_INTERVAL", 0.3)
    client = KsemClient(ksem.host, session)
    ksem.sim.requests.clear()
    await client.request_token("three")
    await client.request_token("four")
    assert len(ksem.sim.tokens) == 4


def test_token_info() -> None:
    never = TokenInfo.from_token(
        jwt_like({"aud": "HA", "exp": 253402214400, "jti": "abc", "role": "api"})
    )
    assert never.name == "HA"
    assert never.expires is None
    assert never.token_id == "abc"
    assert never.role == "api"
    finite = TokenInfo.from_token(jwt_like({"aud": "x", "exp": 1767225600}))
    assert finite.expires is not None
    assert finite.expires.year == 2026
    bare = TokenInfo.from_token(jwt_like({"exp": 1e20}))
    assert bare.name is None
    assert bare.expires is None
    assert bare.role is None


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b", "..", "a.!!!.c", f"x.{base64.b64encode(b'[1]').decode()}.y"]
)
def test_token_info_rejects(token: str) -> None:
    with pytest.raises(KsemInvalidTokenError):
        TokenInfo.from_token(token)


def test_protobuf_roundtrip() -> None:
    """The simulator's independent encoder against the client's decoder."""
    values = {name: 1000 + i for i, name in enumerate(OBIS_CD)}
    values["active_power_-"] = -5  # int64 two's complement on the wire
    message = encode_gdrs(
        "smart-meter",
        values,
        flex_values={"pvPowerTotal": 3500000, "batteryPowerTotal": -200},
        status=1,
        timestamp=1729699542.5,
    )
    gdrs = decode_gdrs(message)
    gdr = gdrs["smart-meter"]
    assert gdr.id == "smart-meter"
    assert gdr.status == "STATUS_OK"
    assert gdr.timestamp is not None
    assert gdr.timestamp.timestamp() == 1729699542.5
    assert gdr.values[obis_key(1, 4)] == values["active_power_+"]
    assert gdr.values[obis_key(2, 4)] == -5
    assert gdr.flex_values == {"pvPowerTotal": 3500000, "batteryPowerTotal": -200}
    assert {OBIS_TO_JSON[k] for k in gdr.values} == set(OBIS_CD)
    assert obis(1, 4) == 0x0100_0104_00FF


@pytest.mark.parametrize(
    "data",
    [
        b"\x0a\x05\x0a\x03ab",  # length beyond the buffer
        b"\x08",  # truncated varint
        b"\x0b",  # wire type 3 (groups) is not supported
        b"\x0a\x04\x0a\x02\xff\xfe",  # invalid UTF-8 key
        b"\x0a\x02\x10\x01",  # GDR entry value is a varint, not a message
        b"\x09\x01\x02\x03",  # truncated fixed64
    ],
)
def test_protobuf_rejects(data: bytes) -> None:
    with pytest.raises(KsemProtocolError):
        decode_gdrs(data)


def test_protobuf_skips_unknown_fields() -> None:
    # field 7 fixed64, field 8 fixed32, then config_uuid
    data = b"\x39" + b"\0" * 8 + b"\x45" + b"\0" * 4 + b"\x12\x01x"
    assert decode_gdrs(data) == {}


async def test_stream_from_simulator(ksem: RunningKsem, session: aiohttp.ClientSession) -> None:
    client = KsemClient(ksem.url, session, authorized_token(ksem))
    values = await client.read_values_once()
    assert values.grid_power == 6730.1
    assert values.energy_import == 124.5963
    assert values.phases[2].voltage == 230.0
    flow = await client.read_energy_flow_once()
    assert flow.pv_power == 3500.0
    assert flow.battery_soc == 76.0
    seen = []
    async with contextlib.aclosing(client.stream_values()) as stream:
        async for reading in stream:
            seen.append(reading.power_import)
            if len(seen) == 1:
                ksem.sim.set_values(**{"active_power_+": 1234567})
            if reading.power_import == 1234.567:
                break
    assert seen[-1] == 1234.567


async def test_stream_auth_and_errors(ksem: RunningKsem, session: aiohttp.ClientSession) -> None:
    pending = ksem.sim.create_token("pending").jwt
    with pytest.raises(KsemAuthError):
        await KsemClient(ksem.url, session, pending).read_values_once()
    token = authorized_token(ksem)
    ksem.sim.flags.api_reads_energy_flow = False
    with pytest.raises(KsemAuthError):
        await KsemClient(ksem.url, session, token).read_energy_flow_once()
    # revoked while streaming: the meter closes with 1008
    client = KsemClient(ksem.url, session, token)

    async def consume_while_revoking() -> None:
        async for _ in client.stream_values():
            await ksem.sim.revoke()

    with pytest.raises(KsemAuthError):
        await consume_while_revoking()
    # offline: the upgrade is answered 503
    await ksem.sim.set_offline(offline=True)
    with pytest.raises(KsemConnectionError):
        await KsemClient(ksem.url, session, token).read_values_once()


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, KsemAuthError), (502, KsemNotSupportedError), (500, KsemConnectionError)],
)
async def test_stream_handshake_statuses(
    socket_enabled: None, session: aiohttp.ClientSession, status: int, error: type[Exception]
) -> None:
    """A refused upgrade maps like a refused GET."""

    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=status)

    app = web.Application()
    app.router.add_get("/{tail:.*}", refuse)
    running = await server.start(app)
    try:
        with pytest.raises(error):
            await KsemClient(running.url, session, "tok").read_values_once()
    finally:
        await running.stop()


async def test_stream_closed_by_server(ksem: RunningKsem, session: aiohttp.ClientSession) -> None:
    client = KsemClient(ksem.url, session, authorized_token(ksem))

    async def consume_while_going_offline() -> None:
        async for _ in client.stream_values():
            await ksem.sim.set_offline(offline=True)

    with pytest.raises(KsemConnectionError, match="closed"):
        await consume_while_going_offline()


async def test_stream_no_data_in_time(
    socket_enabled: None, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket that accepts the token but stays silent: a connection error, not a hang."""

    async def silent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()
        await ws.receive()
        return ws

    app = web.Application()
    app.router.add_get("/{tail:.*}", silent)
    running = await server.start(app)
    monkeypatch.setattr(client_module, "REQUEST_TIMEOUT", 0.1)
    try:
        with pytest.raises(KsemConnectionError, match="in time"):
            await KsemClient(running.url, session, "tok").read_values_once()
    finally:
        await running.stop()


async def test_https_websocket_url(session: aiohttp.ClientSession) -> None:
    client = KsemClient("https://10.0.0.2", session, "tok")
    assert str(client._ws_url("smart-meter")).startswith("wss://10.0.0.2/")
    assert client.web_ui_url == "https://10.0.0.2"


def test_certificate_common_name_is_total() -> None:
    """Bytes that are no certificate give None, not an exception."""
    assert certificate_common_name(b"not a certificate") is None


async def test_https_host_trusts_only_the_pinned_certificate(
    ksem: RunningKsem, session: aiohttp.ClientSession
) -> None:
    """An https:// host: reads and the WebSocket go through with the meter's own certificate."""
    https = await ksem.sim.serve_https()
    host = f"https://127.0.0.1:{https.port}"
    try:
        token = authorized_token(ksem)
        pinned = await KsemClient(host, session).certificate_sha256(URL(host))
        assert pinned == ksem.sim.certificate_sha256
        client = KsemClient(host, session, token, pinned)
        assert (await client.get_values()).grid_power is not None
        assert (await client.read_values_once()).grid_power is not None
        other = KsemClient(host, session, token, "00" * 32)
        with pytest.raises(KsemCertificateChangedError) as err:
            await other.get_values()
        assert err.value.seen == pinned
        with pytest.raises(KsemCertificateChangedError):
            await other.read_values_once()
    finally:
        await ksem.sim.set_offline(offline=True)  # drop WebSockets before the server goes
        await https.stop()
