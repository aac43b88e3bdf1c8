"""Simulated KOSTAL Smart Energy Meter (KSEM G2): the HTTP/WebSocket API of docs/ksem.md.

- web-login (password -> admin JWT), the `access-token` app (HA's guessed request at
  `Flags.token_route`, one of `TOKEN_ROUTES` or none; the web UI's list/add/authorize/revoke),
  tokens pending -> authorized -> revoked, 401 (empty body) for pending/revoked tokens, 429 on
  more than one POST per second on token routes;
- TQ's REST framework and nginx as documented: 404 (JSON error) for an unknown path of a
  running app, 405 (JSON error) for a known path asked with the wrong method, 502 for an app
  that does not run, 308 from HTTP to HTTPS for versioned public routes
  (`/api/<app>/public/v<N>/…`), served with a self-signed certificate (`serve_https`);
- the JSON interface (milli-units; by default the example of docs/ksem.md#json-interface),
  device-settings;
- the protobuf data-transfer WebSocket (first frame `Bearer <token>`, close 1008 on refusal);
- a small web UI at `/` (log in, Profile -> Access tokens, key icon to authorize, revoke);
- a control API under `/_sim/` for tests and people (values, tokens, flags, offline) and for
  the fault benchmark: request counts per path, an unreachable meter (connections reset, or
  no answer at all), WebSocket faults (dropped, silent, garbage frames).

Tokens are HMAC-signed JWTs with the claims of real KSEM tokens (the meter signs RS256).
This module must not import the integration: it is the independent other side of the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import socket
import ssl
import struct
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import jwt
from aiohttp import WSCloseCode, WSMsgType, web

from . import server
from .ksem_protobuf import encode_gdrs
from .ksem_ui import INDEX_HTML

_LOGGER = logging.getLogger(__name__)

# Where HA's token request may live (the same guesses as the integration's `api/pairing.py`,
# kept separate on purpose); `Flags.token_route` picks one, or None for a meter without any.
TOKEN_REQUEST_PATH = "/api/access-token/token"
TOKEN_REQUEST_PUBLIC_PATH = "/api/access-token/public/v1/token"
TOKEN_ROUTES = (TOKEN_REQUEST_PATH, TOKEN_REQUEST_PUBLIC_PATH)
# Apps this meter runs: an unknown path under them is 404, any other app 502 (nginx).
APPS = ("web-login", "access-token", "json", "device-settings", "data-transfer")
_OTHER_APP = r"(?!(?:" + "|".join(APPS) + r")(?:/|$))[^/]+"
PUBLIC_ROUTE = re.compile(r"^/api/[^/]+/public/v\d+/")
NO_EXPIRY = 253402214400  # 9999-12-31, what the meter writes for "no expiry"
WS_PREFIX = "/api/data-transfer/ws/protobuf/gdr/local/values/"
TOPIC_SMART_METER = "smart-meter"
TOPIC_ENERGY_FLOW = "kostal-energyflow/sumvalues"

PENDING = "pending"
AUTHORIZED = "authorized"
REVOKED = "revoked"

# WebSocket faults (`Flags.websocket_fault`); they apply to open and new sockets alike.
WS_SILENT = "silent"  # open, but no frames: a socket that saw it stays silent (half-open TCP)
WS_GARBAGE = "garbage"  # bytes that are no protobuf frame instead of each frame
WS_CLOSE = "close"  # closed with 1001 (going away) after `websocket_fault_after` frames
WS_RESET = "reset"  # dropped without a close frame (1006 at the client) after that many frames
WEBSOCKET_FAULTS = (WS_SILENT, WS_GARBAGE, WS_CLOSE, WS_RESET)
# A length-delimited field that claims 100 bytes and has 4: no decoder can read it.
GARBAGE_FRAME = b"\x0a\x64\x00\x00\x00\x00"

# How the meter is unreachable (`Flags.unreachable`, set with `set_unreachable`).
UNREACHABLE_RESET = "reset"  # every connection is reset without an answer (reboot, port shut)
UNREACHABLE_BLACKHOLE = "blackhole"  # nothing answers, requests hang (meter off the network)
UNREACHABLE_MODES = (UNREACHABLE_RESET, UNREACHABLE_BLACKHOLE)
# Flags that only their own method switches (they act on open connections too).
_FLAGS_WITH_SIDE_EFFECTS = frozenset({"offline", "unreachable"})


def default_values() -> dict[str, int]:
    """The abridged real response of docs/ksem.md#json-interface, completed with plausible phases.

    The export counters are not 0 as in that (consumption-only) sample: a KOSTAL PV system
    exports, and a counter of 0 reads as "unknown" (the integration's glitch rule).
    """
    return {
        "active_power_+": 6730100,
        "active_power_-": 0,
        "active_power_+_L1": 2248800,
        "active_power_+_L2": 2264500,
        "active_power_+_L3": 2216800,
        "active_power_-_L1": 0,
        "active_power_-_L2": 0,
        "active_power_-_L3": 0,
        "active_energy_+": 124596300,
        "active_energy_-": 35210400,
        "active_energy_+_L1": 42895100,
        "active_energy_+_L2": 41000000,
        "active_energy_+_L3": 40701200,
        "active_energy_-_L1": 11736800,
        "active_energy_-_L2": 11736800,
        "active_energy_-_L3": 11736800,
        "current_L1": 9773,
        "current_L2": 9838,
        "current_L3": 9637,
        "voltage_L1": 230100,
        "voltage_L2": 230300,
        "voltage_L3": 230000,
        "power_factor": 998,
        "power_factor_L1": 999,
        "power_factor_L2": 998,
        "power_factor_L3": 997,
        "supply_frequency": 50012,
    }


def default_energy_flow() -> dict[str, int]:
    """Energy-flow flex values: powers in mW, state of charge in %."""
    return {
        "gridPowerTotal": 6730100,
        "pvPowerTotal": 3500000,
        "housePowerTotal": 2730100,
        "batteryPowerTotal": 500000,
        "wallboxPowerTotal": 7000000,
        "systemStateOfCharge": 76,
    }


@dataclass(slots=True)
class SimToken:
    """An access token as the meter keeps it."""

    name: str
    role: str
    jwt: str
    jti: str
    state: str = PENDING
    expires: int = NO_EXPIRY

    def public(self) -> dict[str, Any]:
        """What the web UI lists (never the token itself)."""
        return {
            "id": self.jti,
            "name": self.name,
            "role": self.role,
            "state": self.state,
            "expires": self.expires,
        }


@dataclass(slots=True)
class Flags:
    """Behaviour switches a test can flip (all True/None = a friendly current firmware)."""

    api_reads_device_settings: bool = True
    websocket_accepts_api: bool = True
    api_reads_energy_flow: bool = True
    json_interface: bool = True
    device_settings_app: bool = True
    # The path of HA's token request (None: the app has none, every guess is 404).
    token_route: str | None = TOKEN_REQUEST_PATH
    # None: HA's token request works; an int (404, 405, ...): the app answers that status.
    token_request_status: int | None = None
    # None: the JSON interface answers normally; an int (429, 500, ...): it answers that.
    values_status: int | None = None
    offline: bool = False
    # None, or one of WEBSOCKET_FAULTS; "close"/"reset" end every socket after this many
    # frames (0: right after its token message, before any frame).
    websocket_fault: str | None = None
    websocket_fault_after: int = 0
    # None, or one of UNREACHABLE_MODES (see `KsemSimulator.set_unreachable`).
    unreachable: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON view for `/_sim/state`."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class _Socket:
    """One open WebSocket: its request (for a reset), its token, whether it went silent."""

    request: web.BaseRequest
    token: str | None = None
    silent: bool = False


@dataclass(slots=True)
class _Sockets:
    open: dict[web.WebSocketResponse, _Socket] = field(default_factory=dict)


def _reset(request: web.BaseRequest) -> None:
    """Drop the connection at once, without an answer or a close frame (TCP RST)."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0: close() sends RST, as a rebooting meter's kernel would.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class KsemSimulator:
    """A scriptable KSEM; `app` is the aiohttp application to serve."""

    def __init__(
        self,
        *,
        password: str = "admin1234",  # noqa: S107 - the simulated meter's known password
        serial: str = "76555758",
        ws_interval: float = 1.0,
        post_interval: float = 1.0,
    ) -> None:
        """Create the meter; `ws_interval` is the push period, `post_interval` the POST limit."""
        self.password = password
        self.serial = serial
        self.ws_interval = ws_interval
        self.post_interval = post_interval
        self.values = default_values()
        self.energy_flow = default_energy_flow()
        # The energy-flow frames' timestamps (the meter's clock); a test may run it faster.
        self.energy_flow_clock: Callable[[], float] = time.time
        # A prepared sequence of (timestamp, flex values) instead (`replay_energy_flow`).
        self._energy_flow_replay: Iterator[tuple[float, dict[str, int]]] | None = None
        self.meter_status = 1  # GDR status OK
        self.flags = Flags()
        self.device_settings: dict[str, Any] = {
            "Mac": "00:50:c2:11:22:33",
            "Serial": serial,
            "ProductName": "KOSTAL Smart Energy Meter",
            "DeviceType": "hw0100",
            "FirmwareVersion": "2.7.1",
            "hostname": f"ksem-{serial}",
            "network": {"ip": "127.0.0.1", "mask": "255.255.255.0", "gateway": "", "dns": []},
        }
        self.tokens: dict[str, SimToken] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) log for tests
        # Requests per path (WebSocket upgrades included, /_sim/ not), and frames pushed.
        self.request_counts: Counter[str] = Counter()
        self.websocket_frames = 0
        self._reachable = asyncio.Event()
        self._reachable.set()
        self._secret = secrets.token_bytes(32)
        self._admin_tokens: set[str] = set()
        self._last_post: dict[str, float] = {}
        self._sockets = _Sockets()
        # The HTTPS side (`serve_https`): its port, and its certificate's SHA-256 (hex).
        self.https_port: int | None = None
        self.certificate_sha256: str | None = None
        self.app = web.Application(middlewares=[self._middleware])
        self._add_routes()

    async def serve_https(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        certificate: tuple[ssl.SSLContext, str] | None = None,
    ) -> server.RunningServer:
        """Serve the same app over HTTPS with a new self-signed certificate (as the meter does).

        The meter's certificate names `<hostname>.local` (docs/ksem.md#https-and-the-certificate);
        an EC key here instead of the meter's RSA-2048, to start quickly. `certificate` (a
        context and its SHA-256 from `self_signed_context`) serves an earlier one again.
        """
        certificate = certificate or self_signed_context(f"ksem-{self.serial}.local")
        context, self.certificate_sha256 = certificate
        running = await server.start(self.app, host, port, ssl_context=context)
        self.https_port = running.port
        return running

    # ---- scripting helpers (used in-process by tests and by /_sim/) -------------------------

    def set_values(self, **values: int) -> None:
        """Set smart-meter values by JSON name (milli-units)."""
        self.values.update(values)

    def replay_energy_flow(self, frames: Iterable[tuple[float, dict[str, int]]]) -> None:
        """Push these energy-flow frames (timestamp, flex values), one per push, then nothing.

        For the energy benchmark: a simulated day at the push rate, each frame with its own
        timestamp. `skip_energy_flow` drops frames the way a meter's clock runs on while no
        socket is open.
        """
        self._energy_flow_replay = iter(frames)

    def skip_energy_flow(self, frames: int) -> None:
        """Let `frames` replayed frames pass unsent (the meter's time while disconnected)."""
        if self._energy_flow_replay is not None:
            for _ in range(frames):
                next(self._energy_flow_replay, None)

    def create_token(self, name: str, role: str = "api", expires: int | None = None) -> SimToken:
        """Issue a pending token (what the access-token app does on a request)."""
        jti = str(uuid.uuid4())
        claims = {
            "aud": name,
            "cre": int(time.time()),
            "exp": expires or NO_EXPIRY,
            "iss": "TQS",
            "jti": jti,
            "nonc": secrets.randbelow(2**31),
            "role": role,
            "sub": "EMOS",
        }
        token = SimToken(
            name=name,
            role=role,
            jwt=jwt.encode(claims, self._secret, algorithm="HS256"),
            jti=jti,
            expires=expires or NO_EXPIRY,
        )
        self.tokens[jti] = token
        return token

    def _select(self, name: str | None) -> list[SimToken]:
        return [t for t in self.tokens.values() if name in (None, "*", t.name, t.jti)]

    def authorize(self, name: str | None = None) -> int:
        """Authorize pending tokens by name (None/"*" = all); returns how many changed."""
        changed = [t for t in self._select(name) if t.state == PENDING]
        for tok in changed:
            tok.state = AUTHORIZED
        return len(changed)

    async def revoke(self, name: str | None = None) -> int:
        """Revoke tokens by name (None/"*" = all) and drop their open WebSockets."""
        changed = [t for t in self._select(name) if t.state != REVOKED]
        for tok in changed:
            tok.state = REVOKED
        revoked = {t.jwt for t in changed}
        await self._close_sockets(WSCloseCode.POLICY_VIOLATION, revoked)
        return len(changed)

    async def set_offline(self, offline: bool) -> None:
        """Offline: every API call answers 503 and WebSockets drop."""
        self.flags.offline = offline
        if offline:
            await self._close_sockets(WSCloseCode.TRY_AGAIN_LATER)

    async def set_unreachable(self, mode: str | None) -> None:
        """Make the meter unreachable (one of UNREACHABLE_MODES) or reachable again (None).

        "reset": every request and WebSocket upgrade is answered by a connection reset, open
        WebSockets are reset too. "blackhole": requests get no answer until the mode ends (then
        their connections are reset), open WebSockets stay open but silent for good.
        """
        if mode is not None and mode not in UNREACHABLE_MODES:
            raise ValueError(f"unknown unreachable mode {mode!r}")
        self.flags.unreachable = mode
        if mode is None:
            self._reachable.set()
            return
        self._reachable.clear()
        if mode == UNREACHABLE_RESET:
            await self.drop_websockets()
        else:
            for sock in self._sockets.open.values():
                sock.silent = True

    def set_websocket_fault(self, fault: str | None, after: int = 0) -> None:
        """A WebSocket fault (one of WEBSOCKET_FAULTS) or None; `after`: see Flags."""
        if fault is not None and fault not in WEBSOCKET_FAULTS:
            raise ValueError(f"unknown WebSocket fault {fault!r}")
        self.flags.websocket_fault = fault
        self.flags.websocket_fault_after = max(0, after)

    async def drop_websockets(
        self, *, abrupt: bool = True, code: int = WSCloseCode.GOING_AWAY
    ) -> int:
        """End every open WebSocket now; returns how many.

        abrupt: the connection is reset without a close frame (the client sees 1006);
        otherwise a close frame with `code` is sent.
        """
        dropped = list(self._sockets.open.items())
        for ws, sock in dropped:
            if abrupt:
                _reset(sock.request)
            else:
                with contextlib.suppress(Exception):
                    await ws.close(code=code)
        return len(dropped)

    def request_stats(self) -> dict[str, Any]:
        """Requests received per path since the last reset, and WebSocket frames pushed."""
        return {
            "total": self.request_counts.total(),
            "by_path": dict(self.request_counts),
            "websocket_frames": self.websocket_frames,
        }

    def reset_requests(self) -> None:
        """Empty the request log and the counters."""
        self.requests.clear()
        self.request_counts.clear()
        self.websocket_frames = 0

    def state(self) -> dict[str, Any]:
        """Everything a test or a person wants to see."""
        return {
            "values": self.values,
            "energy_flow": self.energy_flow,
            "flags": self.flags.as_dict(),
            "tokens": [t.public() for t in self.tokens.values()],
            "websockets": len(self._sockets.open),
            "requests": self.request_stats(),
            "password": self.password,
        }

    # ---- plumbing -----------------------------------------------------------------------------

    def _add_routes(self) -> None:
        r = self.app.router
        r.add_get("/", self._index)
        r.add_post("/api/web-login/token", self._login)
        r.add_get("/api/access-token/tokens", self._list_tokens)
        r.add_post("/api/access-token/tokens", self._add_token)
        r.add_put("/api/access-token/tokens/{jti}/authorize", self._ui_authorize)
        r.add_delete("/api/access-token/tokens/{jti}", self._ui_revoke)
        r.add_route("*", "/api/access-token/{tail:.*}", self._token_route)
        r.add_get("/api/json/local/values/smart-meter", self._values)
        r.add_get("/api/device-settings", self._device_settings)
        r.add_get(WS_PREFIX + "{topic:.+}", self._websocket)
        r.add_get("/_sim/state", self._sim_state)
        r.add_get("/_sim/requests", self._sim_requests)
        r.add_delete("/_sim/requests", self._sim_reset_requests)
        r.add_post("/_sim/unreachable", self._sim_unreachable)
        r.add_post("/_sim/websockets", self._sim_websocket_fault)
        r.add_post("/_sim/websockets/drop", self._sim_drop_websockets)
        r.add_post("/_sim/values", self._sim_values)
        r.add_post("/_sim/energy_flow", self._sim_energy_flow)
        r.add_post("/_sim/tokens/authorize", self._sim_authorize)
        r.add_post("/_sim/tokens/revoke", self._sim_revoke)
        r.add_post("/_sim/offline", self._sim_offline)
        r.add_post("/_sim/flags", self._sim_flags)
        r.add_route("*", "/api/{app:" + _OTHER_APP + "}/{tail:.*}", self._no_app)
        r.add_route("*", "/api/{app:" + _OTHER_APP + "}", self._no_app)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.path.startswith("/_sim/"):
            result: web.StreamResponse = await handler(request)
            return result
        self.request_counts[request.path] += 1
        if self.flags.unreachable is not None:
            if self.flags.unreachable == UNREACHABLE_BLACKHOLE:
                await self._reachable.wait()  # no answer until the meter is back
            _reset(request)
            # Never reaches the client: the connection is gone.
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        if self.flags.offline:
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE, text="offline")
        limited = request.path.startswith(("/api/web-login", "/api/access-token"))
        if limited and request.method == "POST":
            peer = request.remote or "?"
            now = time.monotonic()
            if now - self._last_post.get(peer, -1e9) < self.post_interval:
                return web.Response(
                    status=HTTPStatus.TOO_MANY_REQUESTS,
                    headers={"Retry-After": f"{self.post_interval:g}"},
                )
            self._last_post[peer] = now
        return await self._dispatch(request, handler)

    async def _dispatch(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """The HTTPS redirect of nginx, then the app, with TQ's JSON answers to 404 and 405."""
        if PUBLIC_ROUTE.match(request.path) and not request.secure:
            # nginx: versioned public routes only over HTTPS (the meter's port 443).
            port = f":{self.https_port}" if self.https_port else ""
            target = f"https://{request.url.host}{port}{request.path_qs}"
            return web.Response(status=HTTPStatus.PERMANENT_REDIRECT, headers={"Location": target})
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPMethodNotAllowed:
            return self._error(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
        except web.HTTPNotFound:
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        return response

    def _bearer(self, value: str | None) -> str | None:
        if not value or not value.startswith("Bearer "):
            return None
        return value.removeprefix("Bearer ").strip()

    def _role(self, token: str | None) -> str | None:
        """Role of a valid token: "admin" (web login or admin token), "api", or None."""
        if token is None:
            return None
        if token in self._admin_tokens:
            try:
                jwt.decode(token, self._secret, algorithms=["HS256"], audience="admin")
            except jwt.PyJWTError:
                return None
            return "admin"
        for tok in self.tokens.values():
            if tok.jwt == token:
                return tok.role if tok.state == AUTHORIZED else None
        return None

    def _check(self, request: web.Request, *roles: str) -> bool:
        return self._role(self._bearer(request.headers.get("Authorization"))) in roles

    @staticmethod
    def _unauthorized() -> web.Response:
        return web.Response(status=HTTPStatus.UNAUTHORIZED)

    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        return web.json_response({"error": {"message": message}}, status=status)

    async def _close_sockets(self, code: int, tokens: set[str] | None = None) -> None:
        for ws, sock in list(self._sockets.open.items()):
            if tokens is None or sock.token in tokens:
                with contextlib.suppress(Exception):
                    await ws.close(code=code)

    # ---- handlers -----------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text=INDEX_HTML, content_type="text/html")

    async def _no_app(self, request: web.Request) -> web.Response:
        return web.Response(status=HTTPStatus.BAD_GATEWAY, text="502 Bad Gateway")

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("password") != self.password or form.get("username") != "admin":
            return web.json_response({"error": "invalid_grant"}, status=HTTPStatus.BAD_REQUEST)
        expires_in = 7 * 24 * 3600
        claims = {
            "aud": "admin",
            "exp": int(time.time()) + expires_in,
            "iss": "TQS",
            "nonc": secrets.randbelow(2**31),
            "role": "admin,user",
            "sub": "EMOS",
        }
        token = jwt.encode(claims, self._secret, algorithm="HS256")
        self._admin_tokens.add(token)
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
        )

    async def _token_route(self, request: web.Request) -> web.Response:
        """Any other path of the access-token app: HA's token request if it is that route."""
        if request.path != self.flags.token_route:
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        if request.method != "POST":
            return self._error(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
        return await self._token_request(request)

    async def _token_request(self, request: web.Request) -> web.Response:
        if self.flags.token_request_status is not None:
            return self._error(self.flags.token_request_status, "not supported")
        try:
            body = await request.json()
            name = str(body["name"]).strip()
        except ValueError, KeyError, TypeError:
            return self._error(HTTPStatus.BAD_REQUEST, "name required")
        if not name:
            return self._error(HTTPStatus.BAD_REQUEST, "name required")
        token = self.create_token(name, str(body.get("role") or "api"), body.get("expires"))
        _LOGGER.info("Access token requested for %r (pending)", name)
        return web.json_response({"access_token": token.jwt, "id": token.jti})

    async def _list_tokens(self, request: web.Request) -> web.Response:
        if not self._check(request, "admin"):
            return self._unauthorized()
        return web.json_response([t.public() for t in self.tokens.values()])

    async def _add_token(self, request: web.Request) -> web.Response:
        if not self._check(request, "admin"):
            return self._unauthorized()
        body = await request.json()
        token = self.create_token(str(body.get("name") or "token"), str(body.get("role") or "api"))
        return web.json_response({"access_token": token.jwt, **token.public()})

    async def _ui_authorize(self, request: web.Request) -> web.Response:
        if not self._check(request, "admin"):
            return self._unauthorized()
        token = self.tokens.get(request.match_info["jti"])
        if token is None:
            return self._error(HTTPStatus.NOT_FOUND, "no such token")
        if token.state == PENDING:
            token.state = AUTHORIZED
        return web.json_response(token.public())

    async def _ui_revoke(self, request: web.Request) -> web.Response:
        if not self._check(request, "admin"):
            return self._unauthorized()
        token = self.tokens.get(request.match_info["jti"])
        if token is None:
            return self._error(HTTPStatus.NOT_FOUND, "no such token")
        await self.revoke(token.jti)
        return web.Response(status=HTTPStatus.NO_CONTENT)

    async def _values(self, request: web.Request) -> web.Response:
        if not self.flags.json_interface:
            return self._no_app_response()
        if not self._check(request, "api", "admin"):
            return self._unauthorized()
        if self.flags.values_status is not None:
            return web.Response(status=self.flags.values_status, headers={"Retry-After": "30"})
        now = time.time()
        status = {1: "STATUS_OK", 2: "STATUS_WARNING", 3: "STATUS_ERROR"}
        return web.json_response(
            {
                "smart-meter": {
                    "configuration_id": "84b6" + "0" * 34 + "0b",
                    "status": status.get(self.meter_status, "STATUS_UNKNOWN"),
                    "timestamp": {"seconds": int(now), "nanos": int(now % 1 * 1e9)},
                    "values": dict(self.values),
                }
            }
        )

    @staticmethod
    def _no_app_response() -> web.Response:
        return web.Response(status=HTTPStatus.BAD_GATEWAY, text="502 Bad Gateway")

    async def _device_settings(self, request: web.Request) -> web.Response:
        if not self.flags.device_settings_app:
            return self._no_app_response()
        roles = ("admin", "api") if self.flags.api_reads_device_settings else ("admin",)
        if not self._check(request, *roles):
            return self._unauthorized()
        return web.json_response(self.device_settings)

    def _frame(self, topic: str) -> bytes | None:
        """The next frame of a topic; None when a replayed energy flow has run out."""
        if topic == TOPIC_ENERGY_FLOW and self._energy_flow_replay is not None:
            replayed = next(self._energy_flow_replay, None)
            if replayed is None:
                return None
            return encode_gdrs(
                "kostal-energyflow", {}, flex_values=replayed[1], timestamp=replayed[0]
            )
        if topic == TOPIC_ENERGY_FLOW:
            return encode_gdrs(
                "kostal-energyflow",
                {},
                flex_values=self.energy_flow,
                timestamp=self.energy_flow_clock(),
            )
        return encode_gdrs(
            "smart-meter", self.values, status=self.meter_status, timestamp=time.time()
        )

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        topic = request.match_info["topic"]
        if topic not in (TOPIC_SMART_METER, TOPIC_ENERGY_FLOW):
            return self._error(HTTPStatus.NOT_FOUND, "unknown topic")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sock = _Socket(request)
        self._sockets.open[ws] = sock
        try:
            first = await ws.receive(timeout=10)
            allowed = ["admin"]
            if self.flags.websocket_accepts_api and (
                topic == TOPIC_SMART_METER or self.flags.api_reads_energy_flow
            ):
                allowed.append("api")
            token = self._bearer(first.data) if first.type is WSMsgType.TEXT else None
            sock.token = token
            if self._role(token) not in allowed:
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"unauthorized")
                return ws
            await self._push(ws, sock, topic, allowed)
        except TimeoutError, ConnectionError, asyncio.CancelledError:
            pass
        finally:
            self._sockets.open.pop(ws, None)
        return ws

    async def _push(
        self, ws: web.WebSocketResponse, sock: _Socket, topic: str, allowed: list[str]
    ) -> None:
        """Send a frame every `ws_interval` until the socket ends (or a fault ends it)."""
        frames = 0
        while not ws.closed:
            if self._role(sock.token) not in allowed:  # revoked while open
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"unauthorized")
                return
            fault = self.flags.websocket_fault
            if fault in (WS_CLOSE, WS_RESET) and frames >= self.flags.websocket_fault_after:
                if fault == WS_RESET:
                    _reset(sock.request)
                else:
                    await ws.close(code=WSCloseCode.GOING_AWAY)
                return
            sock.silent = sock.silent or fault == WS_SILENT
            if not sock.silent:
                frame = GARBAGE_FRAME if fault == WS_GARBAGE else self._frame(topic)
                if frame is not None:
                    await ws.send_bytes(frame)
                    frames += 1
                    self.websocket_frames += 1
            with contextlib.suppress(TimeoutError):
                msg = await ws.receive(timeout=self.ws_interval)
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                    return

    # ---- control API --------------------------------------------------------------------------

    async def _sim_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def _sim_requests(self, request: web.Request) -> web.Response:
        return web.json_response(self.request_stats())

    async def _sim_reset_requests(self, request: web.Request) -> web.Response:
        self.reset_requests()
        return web.Response(status=HTTPStatus.NO_CONTENT)

    async def _sim_unreachable(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        try:
            await self.set_unreachable(body.get("mode", UNREACHABLE_RESET))
        except ValueError as err:
            return self._error(HTTPStatus.BAD_REQUEST, str(err))
        return web.json_response(self.flags.as_dict())

    async def _sim_websocket_fault(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        try:
            self.set_websocket_fault(body.get("fault"), int(body.get("after", 0)))
        except (ValueError, TypeError) as err:
            return self._error(HTTPStatus.BAD_REQUEST, str(err))
        return web.json_response(self.flags.as_dict())

    async def _sim_drop_websockets(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        dropped = await self.drop_websockets(
            abrupt=bool(body.get("abrupt", True)),
            code=int(body.get("code", WSCloseCode.GOING_AWAY)),
        )
        return web.json_response({"dropped": dropped})

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = {}
        return body if isinstance(body, dict) else {}

    async def _sim_values(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if "status" in body:
            self.meter_status = int(body.pop("status"))
        self.values.update({str(k): int(v) for k, v in body.items()})
        return web.json_response(self.values)

    async def _sim_energy_flow(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        self.energy_flow.update({str(k): int(v) for k, v in body.items()})
        return web.json_response(self.energy_flow)

    async def _sim_authorize(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        return web.json_response({"changed": self.authorize(body.get("name"))})

    async def _sim_revoke(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        return web.json_response({"changed": await self.revoke(body.get("name"))})

    async def _sim_offline(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        await self.set_offline(bool(body.get("offline", True)))
        return web.json_response(self.flags.as_dict())

    async def _sim_flags(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        for name, value in body.items():
            if name in Flags.__slots__ and name not in _FLAGS_WITH_SIDE_EFFECTS:
                setattr(self.flags, name, value)
        return web.json_response(self.flags.as_dict())


def self_signed_context(common_name: str) -> tuple[ssl.SSLContext, str]:
    """A server TLS context with a new self-signed certificate, and its SHA-256 (hex)."""
    from cryptography import x509  # noqa: PLC0415 - only when HTTPS is served
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=36525))
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as work:
        cert_file, key_file = Path(work, "cert.pem"), Path(work, "key.pem")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context.load_cert_chain(cert_file, key_file)
    der = cert.public_bytes(serialization.Encoding.DER)
    return context, hashlib.sha256(der).hexdigest()
