"""The simulated Zaptec cloud's control API (used by tests and by people in the dev instance)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from simulator.zaptec import ZaptecSimulator

from .conftest import SimHandle

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_control_api(zaptec_sim: SimHandle) -> None:
    sim = zaptec_sim.sim
    base = zaptec_sim.url
    async with aiohttp.ClientSession() as http:

        async def call(method: str, path: str, json: object = None) -> aiohttp.ClientResponse:
            async with http.request(method, base + path, json=json) as response:
                await response.read()
                return response

        home = next(iter(sim.installations.values()))
        assert (
            await call("POST", "/_sim/installations", {"name": "Cabin", "chargers": 2})
        ).status == 201
        assert len(sim.chargers) == 4
        added = await call("POST", "/_sim/chargers", {"installation_id": home.id, "serial": "GPN1"})
        assert added.status == 201
        go2 = sim.charger_by_serial("GPN1")
        assert (await call("POST", f"/_sim/chargers/{go2.id}", {"operating_mode": 3})).status == 200
        assert go2.operating_mode == 3
        assert (await call("POST", f"/_sim/chargers/{go2.id}", {"bogus": 1})).status == 400
        assert (await call("DELETE", f"/_sim/chargers/{go2.id}")).status == 204
        assert go2.id not in sim.chargers
        assert (
            await call("POST", f"/_sim/installations/{home.id}", {"required": False})
        ).status == 200
        assert home.required is False
        assert (await call("POST", f"/_sim/installations/{home.id}", {"id": "x"})).status == 400
        await call("POST", "/_sim/password", {"password": "new"})
        assert sim.password == "new"
        config = {"expires_in": 60, "rate_limit": 3, "user_group_forbidden": True}
        await call("POST", "/_sim/config", config)
        assert (sim.expires_in, sim.rate_limit, sim.user_group_forbidden) == (60, 3, True)
        await call("POST", "/_sim/faults", {"pattern": "^/api/constants$", "status": 502})
        assert (await call("GET", "/api/constants")).status == 502
        assert (await call("GET", "/api/constants")).status == 200
        assert (await call("GET", "/api/constants")).status == 200
        # Three requests per second: the fourth is refused.
        assert (await call("GET", "/api/constants")).status == 429
        async with http.get(base + "/_sim/requests") as response:
            logged = await response.json()
        assert [r["path"] for r in logged] == ["/api/constants"] * 4
        async with http.get(base + "/_sim/state") as response:
            state = await response.json()
        assert len(state["chargers"]) == 4
        assert (await call("DELETE", "/_sim/requests")).status == 204
        assert sim.requests == []
        await call("POST", "/_sim/expire_tokens")
        assert sim.tokens == {}


async def test_wire_format(zaptec_sim: SimHandle) -> None:
    sim = zaptec_sim.sim
    sim.add_installation("Many", chargers=120)
    sim.set_installation(next(iter(sim.installations)), roles=1)
    base = zaptec_sim.url
    async with aiohttp.ClientSession() as http:
        async with http.post(
            base + "/oauth/token",
            data={"grant_type": "password", "username": sim.username, "password": "bad"},
        ) as response:
            assert response.status == 400
            assert (await response.json())["error"] == "invalid_grant"
        async with http.post(
            base + "/oauth/token",
            data={"grant_type": "password", "username": sim.username, "password": sim.password},
        ) as response:
            token = (await response.json())["access_token"]
            assert sim.requests[-1].body == {"grant_type": "password", "username": sim.username}
        headers = {"Authorization": f"bearer {token}"}
        async with http.get(base + "/api/chargers", headers=headers) as response:
            page = await response.json()
            assert (page["Pages"], len(page["Data"])) == (3, 50)  # default page size 50
        async with http.get(base + "/api/chargers?PageSize=500", headers=headers) as response:
            assert len((await response.json())["Data"]) == 100  # at most 100
        async with http.get(base + "/api/chargers?PageSize=x", headers=headers) as response:
            assert response.status == 400
        home = next(iter(sim.installations.values()))
        garage = sim.charger_by_serial("ZPR012345")
        for path, status in (
            (f"/api/installation/{home.id}/hierarchy", 204),  # User role only
            (f"/api/chargers/{garage.id}", 403),
            (f"/api/chargers/{garage.id}/state", 403),
            ("/api/chargers/unknown/state", 404),
            ("/api/installation/unknown", 404),
        ):
            async with http.get(base + path, headers=headers) as response:
                assert response.status == status, path
        for path, body in (
            (f"/api/installation/{home.id}", {"IsRequiredAuthentication": False}),
            (f"/api/chargers/{garage.id}", {"PropertyAuthenticationDisabled": True}),
        ):
            async with http.put(base + path, json=body, headers=headers) as response:
                assert response.status == 403
        sim.set_installation(home.id, roles=3, authentication_type=1)
        async with http.put(
            base + f"/api/installation/{home.id}",
            json={"IsRequiredAuthentication": False},
            headers=headers,
        ) as response:
            assert response.status == 500
            assert (await response.json())["Code"] == 527
        async with http.get(
            base + f"/api/installation/{home.id}/hierarchy", headers=headers
        ) as response:
            tree = await response.json()
            assert len(tree["Circuits"][0]["Chargers"]) == 2
        async with http.get(base + "/api/constants") as response:
            assert "UserRoles" in await response.json()
        async with http.get(base + "/api/installation") as response:
            assert response.status == 401


async def test_energy_advances_while_charging() -> None:
    from simulator.zaptec import ZaptecSimulator  # noqa: PLC0415

    now = [0.0]
    sim = ZaptecSimulator(clock=lambda: now[0])
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=3, power_w=3600.0)
    now[0] = 3600.0
    sim._advance_energy(now[0])
    assert garage.session_kwh == pytest.approx(3.6)
    assert garage.meter_kwh == pytest.approx(1234.5 + 3.6)


async def test_faults_until_cleared(zaptec_sim: SimHandle) -> None:
    """A fault with count null lasts until DELETE /_sim/faults; 429 may lack Retry-After."""
    sim = zaptec_sim.sim
    base = zaptec_sim.url
    async with aiohttp.ClientSession() as http:
        fault = {"pattern": "^/api/constants$", "status": 429, "count": None}
        async with http.post(base + "/_sim/faults", json=fault) as response:
            assert response.status == 204
        sim.add_fault("^/api/chargers", 503, count=None, method="GET")
        for _ in range(5):
            async with http.get(base + "/api/constants") as response:
                assert response.status == 429
                assert "Retry-After" not in response.headers
        async with http.get(base + "/_sim/state") as response:
            faults = (await response.json())["faults"]
        assert [(f["pattern"], f["count"]) for f in faults] == [
            ("^/api/constants$", None),
            ("^/api/chargers", None),
        ]
        async with http.delete(base + "/_sim/faults", json={"pattern": "^/api/chargers"}) as resp:
            assert (await resp.json()) == {"cleared": 1}
        async with http.delete(base + "/_sim/faults") as response:
            assert (await response.json()) == {"cleared": 1}
        async with http.get(base + "/api/constants") as response:
            assert response.status == 200
    assert sim.faults == []
    assert len(sim.requests) == 6


async def test_delay_fault(zaptec_sim: SimHandle) -> None:
    """An answer later than the client's timeout; clearing the faults releases held requests."""
    sim = zaptec_sim.sim
    base = zaptec_sim.url
    short = aiohttp.ClientTimeout(total=0.1)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            base + "/_sim/faults",
            json={"pattern": "^/api/constants$", "status": None, "count": 1, "delay": 0.02},
        ) as response:
            assert response.status == 204
        async with http.get(base + "/api/constants") as response:
            assert "UserRoles" in await response.json()  # late, but the normal answer
        sim.add_fault("^/api/constants$", 504, count=None, delay=3600)
        with pytest.raises(TimeoutError):
            await http.get(base + "/api/constants", timeout=short)
        held = asyncio.create_task(http.get(base + "/api/constants"))
        await asyncio.sleep(0.1)
        assert not held.done()
        assert sim.clear_faults() == 1
        async with await held as response:
            assert response.status == 504
        async with http.get(base + "/api/constants") as response:
            assert response.status == 200
    assert [r.path for r in sim.requests] == ["/api/constants"] * 4


class _Topic:
    """Records what the simulated cloud publishes."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def connection_details(self) -> dict[str, object]:
        return {}

    def publish(self, body: bytes) -> None:
        self.bodies.append(body)


def test_user_group_topic_gets_every_chargers_changes() -> None:
    """The group's topic carries every charger's changes; the installation's only its own."""
    sim = ZaptecSimulator(advance_energy=False)
    group, own = _Topic(), _Topic()
    sim.user_group_push = group
    sim.push = own
    cabin = sim.add_installation("Cabin", chargers=1)
    cabin.messaging_enabled = True
    garage = sim.charger_by_serial("ZPR012345")
    sim.set_charger(garage.id, operating_mode=2)
    home_changes = len(group.bodies)
    assert home_changes >= 1
    assert own.bodies == []  # "Home" has no subscription of its own
    sim.set_charger(sim.charger_by_serial("ZPR000000").id, operating_mode=2)
    assert own.bodies == group.bodies[home_changes:]
    assert own.bodies
    assert sim.pushed == len(group.bodies) + len(own.bodies)
    # One topic for both models (the development instance): published once.
    sim.push = group
    next(iter(sim.installations.values())).messaging_enabled = True
    before = len(group.bodies)
    sim.set_charger(garage.id, operating_mode=1)
    published = group.bodies[before:]
    assert published
    assert len(set(published)) == len(published)
