"""The simulated KSEM's web UI API and control API (what the browser test and people use)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp
import pytest

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
