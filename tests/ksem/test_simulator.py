"""The simulated KSEM's web UI API and control API (what the browser test and people use)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import aiohttp
import pytest

from simulator.ksem import GARBAGE_FRAME, TOKEN_REQUEST_PATH, TOKEN_REQUEST_PUBLIC_PATH

from .conftest import RunningKsem

LOGIN_FORM = {
    "grant_type": "password",
    "client_id": "emos",
    "client_secret": "56951025",
    "username": "admin",
}


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as sess:
        yield sess


async def test_web_ui_token_lifecycle(ksem: RunningKsem, session: aiohttp.ClientSession) -> None:
    """Log in, list, authorize (key icon), use, revoke: as the page's JavaScript does."""
    async with session.get(ksem.url) as resp:
        page = await resp.text()
    assert 'id="password"' in page
    assert "Log in" in page
    assert 'aria-label", "Authorize "' in page
    async with session.post(
        f"{ksem.url}/api/web-login/token", data={**LOGIN_FORM, "password": "wrong"}
    ) as resp:
        assert resp.status == 400
        assert "error" in await resp.json()
    ksem.sim.post_interval = 0
    async with session.post(
        f"{ksem.url}/api/web-login/token", data={**LOGIN_FORM, "password": ksem.sim.password}
    ) as resp:
        login = await resp.json()
    admin = {"Authorization": f"Bearer {login['access_token']}"}
    assert login["expires_in"] == 7 * 24 * 3600

    async with session.post(
        f"{ksem.url}/api/access-token/tokens", json={"name": "evcc", "role": "api"}, headers=admin
    ) as resp:
        created = await resp.json()
    api = {"Authorization": f"Bearer {created['access_token']}"}
    values_url = f"{ksem.url}/api/json/local/values/smart-meter"
    async with session.get(values_url, headers=api) as resp:
        assert resp.status == 401  # pending
    async with session.get(f"{ksem.url}/api/access-token/tokens", headers=admin) as resp:
        assert [t["state"] for t in await resp.json()] == ["pending"]
    async with session.put(
        f"{ksem.url}/api/access-token/tokens/{created['id']}/authorize", headers=admin
    ) as resp:
        assert (await resp.json())["state"] == "authorized"
    async with session.get(values_url, headers=api) as resp:
        assert resp.status == 200
    async with session.delete(
        f"{ksem.url}/api/access-token/tokens/{created['id']}", headers=admin
    ) as resp:
        assert resp.status == 204
    async with session.get(values_url, headers=api) as resp:
        assert resp.status == 401  # revoked
        assert await resp.read() == b""
    for method, path in (
        ("GET", "/api/access-token/tokens"),
        ("PUT", f"/api/access-token/tokens/{created['id']}/authorize"),
        ("DELETE", f"/api/access-token/tokens/{created['id']}"),
    ):
        async with session.request(method, ksem.url + path, headers=api) as resp:
            assert resp.status == 401  # api tokens cannot manage tokens
    async with session.put(
        f"{ksem.url}/api/access-token/tokens/nope/authorize", headers=admin
    ) as resp:
        assert resp.status == 404


async def test_rate_limit_and_missing_apps(
    ksem: RunningKsem, session: aiohttp.ClientSession
) -> None:
    ksem.sim.post_interval = 5
    url = f"{ksem.url}/api/access-token/token"
    async with session.post(url, json={"name": "a"}) as resp:
        assert resp.status == 200
    async with session.post(url, json={"name": "b"}) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "5"
    ksem.sim.post_interval = 0
    async with session.post(url, json={"name": " "}) as resp:
        assert resp.status == 400
    async with session.post(url, data=b"x") as resp:
        assert resp.status == 400
    async with session.get(f"{ksem.url}/api/dxs.json") as resp:
        assert resp.status == 502
    ksem.sim.flags.device_settings_app = False
    async with session.get(f"{ksem.url}/api/device-settings") as resp:
        assert resp.status == 502


async def test_control_api(ksem: RunningKsem, session: aiohttp.ClientSession) -> None:
    sim_url = f"{ksem.url}/_sim"
    ksem.sim.create_token("Home Assistant (Home)")
    async with session.post(f"{sim_url}/values", json={"active_power_+": 5, "status": 2}) as resp:
        assert (await resp.json())["active_power_+"] == 5
    assert ksem.sim.meter_status == 2
    async with session.post(f"{sim_url}/energy_flow", json={"pvPowerTotal": 7}) as resp:
        assert (await resp.json())["pvPowerTotal"] == 7
    async with session.post(f"{sim_url}/tokens/authorize", json={"name": "nobody"}) as resp:
        assert (await resp.json())["changed"] == 0
    async with session.post(f"{sim_url}/tokens/authorize") as resp:
        assert (await resp.json())["changed"] == 1
    async with session.post(f"{sim_url}/tokens/revoke", json={}) as resp:
        assert (await resp.json())["changed"] == 1
    async with session.post(
        f"{sim_url}/flags", json={"websocket_accepts_api": False, "offline": True, "x": 1}
    ) as resp:
        flags = await resp.json()
    assert flags["websocket_accepts_api"] is False
    assert flags["offline"] is False  # only /_sim/offline switches that
    async with session.post(f"{sim_url}/offline", json={"offline": True}) as resp:
        assert (await resp.json())["offline"] is True
    async with session.get(f"{ksem.url}/api/device-settings") as resp:
        assert resp.status == 503
    async with session.get(f"{sim_url}/state") as resp:
        state = await resp.json()
    assert state["tokens"][0]["state"] == "revoked"
    assert "jwt" not in str(state["tokens"])
    async with session.post(f"{sim_url}/offline", data=b"not json") as resp:
        assert (await resp.json())["offline"] is True


WS_URL = "/api/data-transfer/ws/protobuf/gdr/local/values/smart-meter"


async def _open_socket(
    ksem: RunningKsem, session: aiohttp.ClientSession, token: str
) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(ksem.url + WS_URL)
    await ws.send_str(f"Bearer {token}")
    return ws


def _api_token(ksem: RunningKsem) -> str:
    token = ksem.sim.create_token("bench")
    ksem.sim.authorize(token.jti)
    return token.jwt


async def test_request_counts(ksem: RunningKsem, session: aiohttp.ClientSession) -> None:
    """Requests per path (WebSocket upgrades too, /_sim/ not), frames, reset over HTTP."""
    token = _api_token(ksem)
    values_url = f"{ksem.url}/api/json/local/values/smart-meter"
    for _ in range(2):
        async with session.get(values_url, headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 200
    ws = await _open_socket(ksem, session, token)
    assert (await ws.receive()).type is aiohttp.WSMsgType.BINARY
    await ws.close()
    async with session.get(f"{ksem.url}/_sim/requests") as resp:
        stats = await resp.json()
    assert stats["by_path"] == {"/api/json/local/values/smart-meter": 2, WS_URL: 1}
    assert stats["total"] == 3
    assert stats["websocket_frames"] >= 1
    async with session.get(f"{ksem.url}/_sim/state") as resp:
        assert (await resp.json())["requests"]["total"] == 3
    async with session.delete(f"{ksem.url}/_sim/requests") as resp:
        assert resp.status == 204
    assert ksem.sim.request_stats() == {"total": 0, "by_path": {}, "websocket_frames": 0}
    assert ksem.sim.requests == []


async def test_unreachable_reset(ksem: RunningKsem, session: aiohttp.ClientSession) -> None:
    """Connections are reset without an answer; open sockets end without a close frame."""
    token = _api_token(ksem)
    ws = await _open_socket(ksem, session, token)
    assert (await ws.receive()).type is aiohttp.WSMsgType.BINARY
    async with session.post(f"{ksem.url}/_sim/unreachable", json={"mode": "reset"}) as resp:
        assert (await resp.json())["unreachable"] == "reset"
    while (msg := await ws.receive()).type is aiohttp.WSMsgType.BINARY:
        pass
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert ws.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE
    # A POST: aiohttp retries an idempotent request once after a reset.
    with pytest.raises(aiohttp.ClientConnectionError):
        await session.post(ksem.url + TOKEN_REQUEST_PATH, json={"name": "x"})
    with pytest.raises(aiohttp.ClientConnectionError):
        await session.ws_connect(ksem.url + WS_URL)
    assert ksem.sim.request_counts[TOKEN_REQUEST_PATH] == 1
    assert ksem.sim.request_counts[WS_URL] >= 2
    async with session.post(f"{ksem.url}/_sim/unreachable", json={"mode": None}) as resp:
        assert (await resp.json())["unreachable"] is None
    async with session.get(f"{ksem.url}/api/device-settings") as resp:
        assert resp.status == 401
    async with session.post(f"{ksem.url}/_sim/unreachable", json={"mode": "moon"}) as resp:
        assert resp.status == 400
    async with session.post(f"{ksem.url}/_sim/flags", json={"unreachable": "reset"}) as resp:
        assert (await resp.json())["unreachable"] is None  # only /_sim/unreachable switches it


async def test_unreachable_blackhole(ksem: RunningKsem, session: aiohttp.ClientSession) -> None:
    """No answer until the meter is back; open sockets stay open but silent for good."""
    token = _api_token(ksem)
    ws = await _open_socket(ksem, session, token)
    assert (await ws.receive()).type is aiohttp.WSMsgType.BINARY
    await ksem.sim.set_unreachable("blackhole")
    frames = ksem.sim.websocket_frames
    timeout = aiohttp.ClientTimeout(total=0.2)
    with pytest.raises(TimeoutError):
        async with session.get(f"{ksem.url}/api/device-settings", timeout=timeout) as resp:
            await resp.read()
    hanging = asyncio.create_task(
        session.post(ksem.url + TOKEN_REQUEST_PATH, json={"name": "x"})  # not retried
    )
    await asyncio.sleep(0.1)
    assert not hanging.done()
    await ksem.sim.set_unreachable(None)
    with pytest.raises(aiohttp.ClientConnectionError):  # its connection died meanwhile
        await hanging
    with pytest.raises(TimeoutError):
        await ws.receive(timeout=0.2)  # a socket that went silent does not come back
    assert not ws.closed
    assert ksem.sim.websocket_frames == frames
    await ws.close()
    fresh = await _open_socket(ksem, session, token)
    assert (await fresh.receive()).type is aiohttp.WSMsgType.BINARY
    await fresh.close()


@pytest.mark.parametrize(
    ("abrupt", "code"),
    [(True, aiohttp.WSCloseCode.ABNORMAL_CLOSURE), (False, aiohttp.WSCloseCode.GOING_AWAY)],
)
async def test_drop_websockets(
    ksem: RunningKsem, session: aiohttp.ClientSession, abrupt: bool, code: int
) -> None:
    token = _api_token(ksem)
    ws = await _open_socket(ksem, session, token)
    assert (await ws.receive()).type is aiohttp.WSMsgType.BINARY
    async with session.post(f"{ksem.url}/_sim/websockets/drop", json={"abrupt": abrupt}) as resp:
        assert (await resp.json())["dropped"] == 1
    while (await ws.receive()).type is aiohttp.WSMsgType.BINARY:
        pass
    assert ws.close_code == code


@pytest.mark.parametrize(
    ("fault", "after", "code"),
    [
        ("reset", 0, aiohttp.WSCloseCode.ABNORMAL_CLOSURE),
        ("reset", 2, aiohttp.WSCloseCode.ABNORMAL_CLOSURE),
        ("close", 0, aiohttp.WSCloseCode.GOING_AWAY),
        ("close", 1, aiohttp.WSCloseCode.GOING_AWAY),
    ],
)
async def test_websocket_dropped_after_frames(
    ksem: RunningKsem, session: aiohttp.ClientSession, fault: str, after: int, code: int
) -> None:
    """Every socket ends after `after` frames, again and again."""
    token = _api_token(ksem)
    async with session.post(
        f"{ksem.url}/_sim/websockets", json={"fault": fault, "after": after}
    ) as resp:
        flags = await resp.json()
    assert (flags["websocket_fault"], flags["websocket_fault_after"]) == (fault, after)
    for _ in range(2):
        ws = await _open_socket(ksem, session, token)
        received = 0
        while (await ws.receive()).type is aiohttp.WSMsgType.BINARY:
            received += 1
        assert (received, ws.close_code) == (after, code)
    assert ksem.sim.request_counts[WS_URL] == 2


async def _frames_until_quiet(ws: aiohttp.ClientWebSocketResponse) -> int:
    """Binary frames received until none came for 0.2 s (20 push periods)."""
    frames = 0
    try:
        while (await ws.receive(timeout=0.2)).type is aiohttp.WSMsgType.BINARY:
            frames += 1
    except TimeoutError:
        return frames
    raise AssertionError("the socket ended")


async def test_websocket_silent_and_garbage(
    ksem: RunningKsem, session: aiohttp.ClientSession
) -> None:
    """Silent: open, no frames, for good; garbage: bytes that are no protobuf frame."""
    token = _api_token(ksem)
    ws = await _open_socket(ksem, session, token)
    assert (await ws.receive()).type is aiohttp.WSMsgType.BINARY
    ksem.sim.set_websocket_fault("silent")
    late = await _open_socket(ksem, session, token)
    assert await _frames_until_quiet(ws) <= 1  # one may have left before the fault was seen
    assert await _frames_until_quiet(late) == 0
    ksem.sim.set_websocket_fault("garbage")
    with pytest.raises(TimeoutError):
        await ws.receive(timeout=0.2)  # went silent: stays silent
    fresh = await _open_socket(ksem, session, token)
    msg = await fresh.receive()
    assert msg.data == GARBAGE_FRAME
    ksem.sim.set_websocket_fault(None)
    msg = await fresh.receive()
    assert msg.type is aiohttp.WSMsgType.BINARY
    assert msg.data != GARBAGE_FRAME
    for sock in (ws, late, fresh):
        await sock.close()
    async with session.post(f"{ksem.url}/_sim/websockets", json={"fault": "loud"}) as resp:
        assert resp.status == 400
    with pytest.raises(ValueError, match="unknown WebSocket fault"):
        ksem.sim.set_websocket_fault("loud")


async def test_answers_like_tq_framework_and_nginx(
    ksem: RunningKsem, session: aiohttp.ClientSession
) -> None:
    """404 for an unknown path of a running app, 405 for a wrong method, 502 for no app."""
    async with session.get(f"{ksem.url}{TOKEN_REQUEST_PATH}") as resp:
        assert resp.status == 405
        assert "error" in await resp.json()
    async with session.get(f"{ksem.url}/api/access-token/nope") as resp:
        assert resp.status == 404
        assert "error" in await resp.json()
    async with session.post(f"{ksem.url}/api/device-settings") as resp:
        assert resp.status == 405
    async with session.get(f"{ksem.url}/api/json/nope") as resp:
        assert resp.status == 404
    async with session.get(f"{ksem.url}/api/kostal-energyflow/configuration") as resp:
        assert resp.status == 502
    # No app-initiated token route at all: every guess is 404.
    ksem.sim.flags.token_route = None
    async with session.post(f"{ksem.url}{TOKEN_REQUEST_PATH}", json={"name": "x"}) as resp:
        assert resp.status == 404


async def test_public_routes_redirect_to_https(
    ksem: RunningKsem, session: aiohttp.ClientSession
) -> None:
    """308 to HTTPS for /api/<app>/public/v<N>/…, served with a self-signed certificate."""
    ksem.sim.flags.token_route = TOKEN_REQUEST_PUBLIC_PATH
    url = f"{ksem.url}{TOKEN_REQUEST_PUBLIC_PATH}?x=1"
    async with session.get(url, allow_redirects=False) as resp:
        assert resp.status == 308
        assert resp.headers["Location"] == f"https://127.0.0.1{TOKEN_REQUEST_PUBLIC_PATH}?x=1"
    https = await ksem.sim.serve_https()
    try:
        async with session.get(url, allow_redirects=False) as resp:
            location = resp.headers["Location"]
        assert location.startswith(f"https://127.0.0.1:{https.port}/")
        fingerprint = aiohttp.Fingerprint(bytes.fromhex(ksem.sim.certificate_sha256 or ""))
        async with session.post(location, json={"name": "x"}, ssl=fingerprint) as resp:
            assert resp.status == 200
    finally:
        await https.stop()
