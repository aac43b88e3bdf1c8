"""Simulated Zaptec cloud: login, paged lists, details, state, firmware, writes, commands.

Speaks the wire format of docs/zaptec.md (PascalCase JSON, `{Pages, Data}` pages, string
observation values, 400 on a bad password, 401 on an expired token, 429 over 10 requests per
second, 204 hierarchy without access). The documented writes and commands change the
simulated chargers the way docs/zaptec.md#control describes, and refuse like Zaptec does: 528
for a command that would change nothing, 527 (HTTP 500) for an installation managed by
Sense/APM (`SimInstallation.apm`), 403 for a User role or an externally managed charger
(`SimCharger.externally_managed`), HTTP 500 from deauthorize-and-stop although it executes
(`SimCharger.deauthorize_answers_500`). Everything under `/_sim/` is the control API used by
tests, the fault benchmark and people trying the development instance: faults (an error
status, with or without Retry-After, or no answer for a while; for some requests or until
cleared), expired tokens. Imports nothing from the integration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web

from .zaptec_model import (
    DEVICE_TYPE_PRO,
    ROLE_MAINTAINER,
    ROLE_OWNER,
    SimCharger,
    SimInstallation,
    device_type_for,
    nbfx_string,
    observation_message,
    stable_id,
)


class PushTopic(Protocol):
    """Where the simulated cloud pushes observations (simulator/servicebus.py's broker)."""

    def connection_details(self) -> dict[str, Any]:
        """Zaptec's `ConnectionDescriptor` for the subscription."""

    def publish(self, body: bytes) -> None:
        """Put one message on the topic."""


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request the simulated cloud received (the password is never recorded)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    time: float


@dataclass(slots=True)
class Fault:
    """The next `count` requests whose path matches `pattern` fail with `status`.

    count None: every such request, until the fault is cleared. delay: the answer comes this
    many seconds late (a client with a shorter timeout sees a timeout); status None with a
    delay: the late answer is the normal one.
    """

    pattern: str
    status: int | None
    count: int | None = 1
    method: str | None = None
    body: Any = None
    retry_after: str | None = None
    delay: float = 0.0

    @property
    def active(self) -> bool:
        """Whether it still applies to a request."""
        return self.count is None or self.count > 0

    def matches(self, request: web.Request) -> bool:
        """Whether it applies to this request."""
        return (
            self.active
            and re.search(self.pattern, request.path) is not None
            and (not self.method or self.method == request.method)
        )


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers)


class ZaptecSimulator:
    """One Zaptec account with its installations and chargers."""

    def __init__(
        self,
        username: str = "demo@example.com",
        password: str = "zaptec-demo",  # noqa: S107 - the documented demo login
        *,
        expires_in: int = 3600,
        rate_limit: int = 10,
        seed: bool = True,
        advance_energy: bool = True,
        clock: Callable[[], float] | None = None,
        push: PushTopic | None = None,
        user_group_push: PushTopic | None = None,
    ) -> None:
        """Create the account; `seed` adds "Home" with a Pro and a Go, both idle.

        `push`: a Service Bus topic; installations with `messaging_enabled` then serve its
        connection details and every change of a charger's state is published to it.
        `user_group_push`: the account's user group (`user_group_id`, owned by this account)
        has a subscription on this topic (Zaptec's current model): the group serves its
        connection details and every charger's changes are published to it.
        `user_group_forbidden` makes the group's endpoint answer 403.
        """
        self.username = username
        self.password = password
        self.expires_in = expires_in
        self.rate_limit = rate_limit
        self.rate_limited = 0  # requests answered 429 by the rate limit (benchmarks count them)
        self.advance_energy = advance_energy
        # Looked up at call time, so a frozen test clock is followed.
        self.clock = clock or (lambda: time.monotonic())  # noqa: PLW0108
        self.installations: dict[str, SimInstallation] = {}
        self.chargers: dict[str, SimCharger] = {}
        self.tokens: dict[str, float] = {}
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.push = push
        self.pushed = 0  # observations published
        self.user_group_id = stable_id("usergroup", username)
        self.user_group_push = user_group_push
        self.user_group_forbidden = False
        # Set to wake the requests a delay fault holds when the faults are cleared.
        self._release = asyncio.Event()
        self._recent: deque[float] = deque()
        self._last_advance = self.clock()
        if seed:
            home = self.add_installation("Home")
            self.add_charger(home.id, "ZPR012345", "Garage")
            self.add_charger(home.id, "ZAP049387", "Driveway")
        self.app = self._build_app()

    # -- in-process control (the /_sim/ API calls these) ------------------------------------

    def add_installation(
        self, name: str, chargers: int = 0, prefix: str = "ZPR"
    ) -> SimInstallation:
        """Add an installation, optionally with `chargers` chargers named after it."""
        installation = SimInstallation(id=stable_id("installation", name), name=name)
        self.installations[installation.id] = installation
        for number in range(chargers):
            self.add_charger(installation.id, f"{prefix}{number:06d}", f"{name} {number + 1}")
        return installation

    def add_charger(self, installation_id: str, serial: str, name: str | None = None) -> SimCharger:
        """Add a charger to an installation; the serial prefix decides Pro or Go."""
        charger = SimCharger(
            id=stable_id("charger", serial),
            name=name or serial,
            serial=serial,
            installation_id=installation_id,
            device_type=device_type_for(serial),
        )
        self.chargers[charger.id] = charger
        return charger

    def remove_charger(self, charger_id: str) -> None:
        """The charger disappears from every endpoint."""
        del self.chargers[charger_id]

    def set_charger(self, charger_id: str, **values: Any) -> SimCharger:
        """Change live values: operating_mode, power_w, session_kwh, meter_kwh, online, ..."""
        charger = self.chargers[charger_id]
        installation = self.installations[charger.installation_id]
        before = {row["StateId"]: row for row in charger.state_json(installation)}
        for key, value in values.items():
            if not hasattr(charger, key) or key in {"id", "installation_id"}:
                raise KeyError(key)
            setattr(charger, key, value)
        charger.updated = datetime.now(UTC)
        topics: list[PushTopic] = []
        if self.push is not None and installation.messaging_enabled:
            topics.append(self.push)
        if self.user_group_push is not None and self.user_group_push not in topics:
            topics.append(self.user_group_push)
        for row in charger.state_json(installation) if topics else ():
            old = before.get(row["StateId"])
            if old is None or old.get("ValueAsString") != row.get("ValueAsString"):
                body = nbfx_string(json.dumps(observation_message(charger, row)))
                for topic in topics:
                    topic.publish(body)
                    self.pushed += 1
        return charger

    def set_installation(self, installation_id: str, **values: Any) -> SimInstallation:
        """Change required, authentication_type, roles, name, ..."""
        installation = self.installations[installation_id]
        for key, value in values.items():
            if not hasattr(installation, key) or key == "id":
                raise KeyError(key)
            setattr(installation, key, value)
        return installation

    def expire_tokens(self) -> None:
        """Every token issued so far gets 401 from now on."""
        self.tokens.clear()

    def add_fault(
        self,
        pattern: str,
        status: int | None,
        count: int | None = 1,
        *,
        method: str | None = None,
        body: Any = None,
        retry_after: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Fail the next `count` requests matching `pattern` (a regex on the path).

        count None: until `clear_faults`. retry_after None: no Retry-After header. delay:
        answer that many seconds late (status None: then answer normally). See `Fault`.
        """
        self.faults.append(Fault(pattern, status, count, method, body, retry_after, delay))

    def clear_faults(self, pattern: str | None = None) -> int:
        """Remove the faults (all, or those added with this pattern); returns how many.

        Requests that delay faults hold (any of them) are answered at once; their clients may
        be gone.
        """
        active = [f for f in self.faults if f.active]
        kept = [f for f in active if pattern not in (None, f.pattern)]
        removed = len(active) - len(kept)
        self.faults = kept
        self._release.set()
        self._release = asyncio.Event()
        return removed

    def reset_requests(self) -> None:
        """Empty the request log."""
        self.requests.clear()

    def charger_by_serial(self, serial: str) -> SimCharger:
        """Look a charger up by its serial number."""
        return next(charger for charger in self.chargers.values() if charger.serial == serial)

    # -- plumbing ------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/oauth/token", self._token)
        app.router.add_get("/api/constants", self._constants)
        app.router.add_get("/api/installation", self._installations)
        app.router.add_get("/api/installation/{id}", self._installation)
        app.router.add_put("/api/installation/{id}", self._put_installation)
        app.router.add_get("/api/installation/{id}/hierarchy", self._hierarchy)
        app.router.add_get(
            "/api/installation/{id}/messagingConnectionDetails", self._messaging_details
        )
        app.router.add_get(
            "/api/userGroups/{id}/messagingConnectionDetails", self._user_group_messaging_details
        )
        app.router.add_get("/api/chargers", self._chargers)
        app.router.add_get("/api/chargers/{id}", self._charger)
        app.router.add_put("/api/chargers/{id}", self._put_charger)
        app.router.add_get("/api/chargers/{id}/state", self._state)
        app.router.add_post("/api/installation/{id}/update", self._update_installation)
        app.router.add_post("/api/chargers/{id}/update", self._update_charger)
        app.router.add_post("/api/chargers/{id}/sendCommand/{command}", self._send_command)
        app.router.add_get("/api/chargerFirmware/installation/{id}", self._firmware)
        app.router.add_get("/_sim/requests", self._sim_requests)
        app.router.add_delete("/_sim/requests", self._sim_reset_requests)
        app.router.add_get("/_sim/state", self._sim_state)
        app.router.add_post("/_sim/chargers", self._sim_add_charger)
        app.router.add_post("/_sim/chargers/{id}", self._sim_set_charger)
        app.router.add_delete("/_sim/chargers/{id}", self._sim_remove_charger)
        app.router.add_post("/_sim/installations", self._sim_add_installation)
        app.router.add_post("/_sim/installations/{id}", self._sim_set_installation)
        app.router.add_post("/_sim/password", self._sim_password)
        app.router.add_post("/_sim/expire_tokens", self._sim_expire_tokens)
        app.router.add_post("/_sim/faults", self._sim_fault)
        app.router.add_delete("/_sim/faults", self._sim_clear_faults)
        app.router.add_post("/_sim/config", self._sim_config)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        if request.path.startswith("/_sim/"):
            return await handler(request)
        now = self.clock()
        self.requests.append(
            LoggedRequest(
                request.method, request.path, dict(request.query), await self._body(request), now
            )
        )
        # A sliding one-second window per account (there is one account).
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            self.rate_limited += 1
            return _json({"Code": 429, "Details": "Too many requests"}, 429, {"Retry-After": "1"})
        self._recent.append(now)
        fault = next((f for f in self.faults if f.matches(request)), None)
        if fault is not None and fault.count is not None:
            fault.count -= 1
        self.faults = [f for f in self.faults if f.active]
        if fault is not None and (response := await self._fault(fault)) is not None:
            return response
        needs_token = request.path.startswith("/api/") and request.path != "/api/constants"
        if needs_token and not self._authorized(request):
            return web.Response(status=401)
        self._advance_energy(now)
        return await handler(request)

    async def _fault(self, fault: Fault) -> web.Response | None:
        """Apply a matching fault: its answer, or None for a late normal one."""
        if fault.delay > 0:
            release = self._release
            # On the loop's clock, so a frozen test clock decides when the delay is over.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), fault.delay)
        if fault.status is None:
            return None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
        if fault.body is None:
            return web.Response(status=fault.status, text="fault", headers=headers)
        return _json(fault.body, fault.status, headers)

    @staticmethod
    async def _body(request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type == "application/x-www-form-urlencoded":
            form = dict(await request.post())
            return {key: str(value) for key, value in form.items() if key != "password"}
        text = await request.text()
        try:
            return json.loads(text)
        except ValueError:
            return text

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expires = self.tokens.get(token)
        return scheme.lower() == "bearer" and expires is not None and self.clock() < expires

    def _advance_energy(self, now: float) -> None:
        elapsed, self._last_advance = now - self._last_advance, now
        if not self.advance_energy:
            return
        for charger in self.chargers.values():
            if charger.operating_mode == 3 and charger.power_w > 0:
                kwh = charger.power_w * elapsed / 3_600_000
                charger.session_kwh += kwh
                charger.meter_kwh += kwh

    def _paged(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        try:
            size = min(MAX_PAGE_SIZE, max(1, int(request.query.get("PageSize", DEFAULT_PAGE_SIZE))))
            index = max(0, int(request.query.get("PageIndex", 0)))
        except ValueError:
            return _json({"Code": 503, "Details": "Bad paging parameters"}, 400)
        pages = math.ceil(len(items) / size)
        return _json({"Pages": pages, "Data": items[index * size : (index + 1) * size]})

    def _installation_or_404(self, request: web.Request) -> SimInstallation:
        installation = self.installations.get(request.match_info["id"])
        if installation is None:
            raise web.HTTPNotFound(
                text=json.dumps({"Code": 540, "Details": "Unknown installation"}),
                content_type="application/json",
            )
        return installation

    def _charger_or_404(self, request: web.Request) -> SimCharger:
        charger = self.chargers.get(request.match_info["id"])
        if charger is None:
            raise web.HTTPNotFound(
                text=json.dumps({"errorCode": 512, "message": "Charger not found."}),
                content_type="application/json",
            )
        return charger

    @staticmethod
    def _privileged(roles: int) -> bool:
        return bool(roles & (ROLE_OWNER | ROLE_MAINTAINER))

    # -- the API --------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (
            form.get("grant_type") != "password"
            or str(form.get("username", "")).lower() != self.username.lower()
            or form.get("password") != self.password
        ):
            return _json(
                {"error": "invalid_grant", "error_description": "The credentials are invalid."},
                400,
            )
        token = secrets.token_urlsafe(24)
        self.tokens[token] = self.clock() + self.expires_in
        return _json(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.expires_in,
                "scope": "openid",
            }
        )

    async def _constants(self, request: web.Request) -> web.Response:
        return _json(
            {
                "ChargerOperationModes": {
                    "Unknown": 0,
                    "Disconnected": 1,
                    "Connected_Requesting": 2,
                    "Connected_Charging": 3,
                    "Connected_Finished": 5,
                },
                "InstallationAuthenticationType": {
                    "Native": 0,
                    "WebHooks": 1,
                    "Ocpp": 2,
                    "OcppNative": 3,
                },
                "UserRoles": {"None": 0, "User": 1, "Owner": 2, "Maintainer": 4},
                "DeviceTypes": {"Unknown": 0, "Smart": 1, "Portable": 2, "Apollo": 4},
                "Version": "sim",
            }
        )

    async def _installations(self, request: web.Request) -> web.Response:
        items = [installation.to_json() for installation in self.installations.values()]
        return self._paged(request, items)

    async def _installation(self, request: web.Request) -> web.Response:
        return _json(self._installation_or_404(request).to_json())

    async def _put_installation(self, request: web.Request) -> web.Response:
        installation = self._installation_or_404(request)
        if not self._privileged(installation.roles):
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        body = await request.json()
        if "IsRequiredAuthentication" in body:
            if installation.authentication_type != 0:
                return _json(
                    {"Code": 527, "Details": "Authentication is managed by a third party"}, 500
                )
            installation.required = bool(body["IsRequiredAuthentication"])
        return web.Response(status=200)

    async def _hierarchy(self, request: web.Request) -> web.Response:
        installation = self._installation_or_404(request)
        if not self._privileged(installation.roles):
            return web.Response(status=204)
        chargers = [c for c in self.chargers.values() if c.installation_id == installation.id]
        circuit = {
            "Id": stable_id("circuit", installation.id),
            "Name": "Circuit 1",
            "MaxCurrent": installation.max_current,
            "IsActive": True,
            "Chargers": [
                {
                    "Id": c.id,
                    "DeviceId": c.serial,
                    "Name": c.name,
                    "Active": True,
                    "DeviceType": c.device_type,
                }
                for c in chargers
            ],
        }
        return _json(
            {
                "Id": installation.id,
                "Name": installation.name,
                "NetworkType": 4,
                "Circuits": [circuit],
            }
        )

    async def _messaging_details(self, request: web.Request) -> web.Response:
        installation = self._installation_or_404(request)
        if not self._privileged(installation.roles):
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        if self.push is None or not installation.messaging_enabled:
            # What Zaptec answers without a subscription is not known; 526 FeatureNotEnabled.
            return _json({"Code": 526, "Details": "Message subscription not enabled"}, 404)
        return _json(self.push.connection_details())

    async def _user_group_messaging_details(self, request: web.Request) -> web.Response:
        if request.match_info["id"].lower() != self.user_group_id:
            return _json({"Code": 404, "Details": "User group not found"}, 404)
        if self.user_group_forbidden:
            # Not the group's owner (or no subscription): what Zaptec answers is assumed.
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        if self.user_group_push is None:
            return _json({"Code": 526, "Details": "Message subscription not enabled"}, 404)
        return _json(self.user_group_push.connection_details())

    async def _chargers(self, request: web.Request) -> web.Response:
        items = [
            charger.to_list_json(self.installations[charger.installation_id])
            for charger in self.chargers.values()
        ]
        return self._paged(request, items)

    async def _charger(self, request: web.Request) -> web.Response:
        charger = self._charger_or_404(request)
        installation = self.installations[charger.installation_id]
        if not self._privileged(installation.roles):
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        return _json(charger.to_detail_json(installation))

    async def _put_charger(self, request: web.Request) -> web.Response:
        charger = self._charger_or_404(request)
        if not self._privileged(self.installations[charger.installation_id].roles):
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        body = await request.json()
        if "PropertyAuthenticationDisabled" in body:
            charger.auth_disabled = bool(body["PropertyAuthenticationDisabled"])
        return web.Response(status=200)

    async def _state(self, request: web.Request) -> web.Response:
        charger = self._charger_or_404(request)
        installation = self.installations[charger.installation_id]
        if not self._privileged(installation.roles):
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        return _json(charger.state_json(installation))

    # -- documented writes and commands ----------------------------------------------------

    @staticmethod
    async def _fields(request: web.Request) -> dict[str, Any]:
        """The JSON body's fields by lower-case name (ASP.NET binds names case-insensitively)."""
        try:
            body = await request.json()  # read before by the middleware: aiohttp caches it
        except ValueError:
            return {}
        return {str(k).lower(): v for k, v in body.items()} if isinstance(body, dict) else {}

    @staticmethod
    def _amperes(value: Any, high: float) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if 0 <= value <= high else None

    async def _update_installation(self, request: web.Request) -> web.Response:
        installation = self._installation_or_404(request)
        if not self._privileged(installation.roles):
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        if installation.apm:
            return _json({"Code": 527, "Details": "Cannot update installation when using APM"}, 500)
        fields = await self._fields(request)
        high = installation.max_current
        if "availablecurrent" in fields:
            value = self._amperes(fields["availablecurrent"], high)
            if value is None:
                return _json({"Code": 503, "Details": "Invalid AvailableCurrent"}, 400)
            installation.available_current = (value, value, value)
        elif any(f"availablecurrentphase{n}" in fields for n in (1, 2, 3)):
            # A phase left out is reset to its default (the installation's maximum).
            phases = [
                self._amperes(fields.get(f"availablecurrentphase{n}", high), high)
                for n in (1, 2, 3)
            ]
            if None in phases:
                return _json({"Code": 503, "Details": "Invalid AvailableCurrentPhase"}, 400)
            installation.available_current = (phases[0] or 0.0, phases[1] or 0.0, phases[2] or 0.0)
        if "threetoonephaseswitchcurrent" in fields:
            value = self._amperes(fields["threetoonephaseswitchcurrent"], 32)
            if value is None or installation.three_to_one_phase_switch_current is None:
                return _json({"Code": 527, "Details": "Not supported"}, 500)
            installation.three_to_one_phase_switch_current = value
        return web.Response(status=200)

    async def _update_charger(self, request: web.Request) -> web.Response:
        charger = self._charger_or_404(request)
        if not self._privileged(self.installations[charger.installation_id].roles):
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        if charger.externally_managed:
            return _json({"Code": 533, "Details": "Managed by an external load system"}, 403)
        fields = await self._fields(request)
        values = {}
        for name, attribute in (
            ("minchargecurrent", "min_current"),
            ("maxchargecurrent", "max_current"),
        ):
            if name in fields:
                value = self._amperes(fields[name], 32)
                if value is None:
                    return _json({"Code": 503, "Details": f"Invalid {name}"}, 400)
                values[attribute] = value
        for attribute, value in values.items():
            setattr(charger, attribute, value)
        charger.updated = datetime.now(UTC)
        return web.Response(status=200)

    async def _send_command(self, request: web.Request) -> web.Response:
        charger = self._charger_or_404(request)
        installation = self.installations[charger.installation_id]
        if not self._privileged(installation.roles):
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        if not charger.online:
            return _json({"Code": 520, "Details": "Error communicating with device"}, 500)
        command = request.match_info["command"]
        handler = {
            "102": self._restart,
            "200": self._upgrade,
            "506": self._stop,
            "507": self._resume,
            "10001": self._deauthorize,
        }.get(command)
        if handler is None:
            return _json({"Code": 519, "Details": "Unknown command"}, 400)
        response = handler(charger, installation)
        charger.updated = datetime.now(UTC)
        return response or web.Response(status=200)

    @staticmethod
    def _rejected() -> web.Response:
        return _json({"Code": 528, "Details": "Device command rejected"}, 500)

    def _restart(self, charger: SimCharger, installation: SimInstallation) -> web.Response | None:
        return None  # the charger reboots; its state stays as it was

    def _upgrade(self, charger: SimCharger, installation: SimInstallation) -> web.Response | None:
        if charger.firmware == charger.latest_firmware:
            return self._rejected()
        charger.firmware = charger.latest_firmware
        return None

    def _stop(self, charger: SimCharger, installation: SimInstallation) -> web.Response | None:
        # Refused when already paused or disconnected (Zaptec's command validation).
        if charger.operating_mode == 1 or (charger.operating_mode == 5 and charger.final_stop):
            return self._rejected()
        if charger.power_w > 0:
            charger.resume_power_w = charger.power_w
        charger.operating_mode, charger.final_stop, charger.power_w = 5, True, 0.0
        return None

    def _resume(self, charger: SimCharger, installation: SimInstallation) -> web.Response | None:
        # Refused unless paused, and while a schedule is active.
        if not (charger.operating_mode == 5 and charger.final_stop) or charger.schedule_active:
            return self._rejected()
        charger.operating_mode, charger.final_stop = 3, False
        charger.power_w = charger.resume_power_w
        return None

    def _deauthorize(
        self, charger: SimCharger, installation: SimInstallation
    ) -> web.Response | None:
        if charger.operating_mode not in (2, 3, 5):
            return self._rejected()
        charger.completed_session_kwh, charger.session_kwh = charger.session_kwh, 0.0
        charger.current_user, charger.final_stop, charger.power_w = "", False, 0.0
        # With authorization required the car waits for a new one; else the session is over.
        charger.operating_mode = 2 if charger.effective_required(installation) else 5
        if charger.deauthorize_answers_500:
            return _json({"Code": 500, "Details": "An error has occurred"}, 500)
        return None

    async def _firmware(self, request: web.Request) -> web.Response:
        installation = self._installation_or_404(request)
        if not self._privileged(installation.roles):
            return _json({"Code": 533, "Details": "Forbidden"}, 403)
        return _json(
            [
                {
                    "ChargerId": c.id,
                    "DeviceType": c.device_type,
                    "IsOnline": c.online,
                    "CurrentVersion": c.firmware,
                    "AvailableVersion": c.latest_firmware,
                    "IsUpToDate": c.firmware == c.latest_firmware,
                }
                for c in self.chargers.values()
                if c.installation_id == installation.id
            ]
        )

    # -- the control API ------------------------------------------------------------------

    async def _sim_requests(self, request: web.Request) -> web.Response:
        return _json([asdict(item) for item in self.requests])

    async def _sim_reset_requests(self, request: web.Request) -> web.Response:
        self.reset_requests()
        return web.Response(status=204)

    async def _sim_state(self, request: web.Request) -> web.Response:
        return _json(
            {
                "installations": [asdict(i) for i in self.installations.values()],
                "chargers": [
                    {**asdict(c), "updated": c.updated.isoformat()} for c in self.chargers.values()
                ],
                "faults": [asdict(f) for f in self.faults if f.active],
            }
        )

    async def _sim_add_charger(self, request: web.Request) -> web.Response:
        body = await request.json()
        charger = self.add_charger(body["installation_id"], body["serial"], body.get("name"))
        return _json({"id": charger.id}, 201)

    async def _sim_set_charger(self, request: web.Request) -> web.Response:
        try:
            charger = self.set_charger(request.match_info["id"], **await request.json())
        except KeyError as err:
            return _json({"error": f"unknown charger or field {err}"}, 400)
        return _json({"id": charger.id})

    async def _sim_remove_charger(self, request: web.Request) -> web.Response:
        self.chargers.pop(request.match_info["id"], None)
        return web.Response(status=204)

    async def _sim_add_installation(self, request: web.Request) -> web.Response:
        body = await request.json()
        installation = self.add_installation(
            body["name"], int(body.get("chargers", 0)), body.get("prefix", "ZPR")
        )
        return _json({"id": installation.id}, 201)

    async def _sim_set_installation(self, request: web.Request) -> web.Response:
        try:
            installation = self.set_installation(request.match_info["id"], **await request.json())
        except KeyError as err:
            return _json({"error": f"unknown installation or field {err}"}, 400)
        return _json({"id": installation.id})

    async def _sim_password(self, request: web.Request) -> web.Response:
        self.password = str((await request.json())["password"])
        return web.Response(status=204)

    async def _sim_expire_tokens(self, request: web.Request) -> web.Response:
        self.expire_tokens()
        return web.Response(status=204)

    async def _sim_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        status, count = body.get("status"), body.get("count", 1)  # null: see add_fault
        self.add_fault(
            body["pattern"],
            None if status is None else int(status),
            None if count is None else int(count),
            method=body.get("method"),
            body=body.get("body"),
            retry_after=body.get("retry_after"),
            delay=float(body.get("delay", 0.0)),
        )
        return web.Response(status=204)

    async def _sim_clear_faults(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        return _json({"cleared": self.clear_faults(body.get("pattern"))})

    async def _sim_config(self, request: web.Request) -> web.Response:
        body = await request.json()
        for key in ("expires_in", "rate_limit", "advance_energy", "user_group_forbidden"):
            if key in body:
                setattr(self, key, body[key])
        return web.Response(status=204)


__all__ = ["DEVICE_TYPE_PRO", "LoggedRequest", "ZaptecSimulator"]
