"""Asynchronous client of the KOSTAL Smart Energy Meter's local HTTP/WebSocket API."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import ssl
import statistics
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from http import HTTPStatus
from typing import Any, Final, NamedTuple

import aiohttp
from yarl import URL

from . import pairing
from .exceptions import (
    KsemAuthError,
    KsemCertificateChangedError,
    KsemConnectionError,
    KsemNotSupportedError,
    KsemPairingNotSupportedError,
    KsemProtocolError,
    KsemRateLimitError,
)
from .models import DeviceSettings, EnergyFlow, MeterValues, certificate_common_name
from .obis import obis_to_json
from .pairing import Probe, TokenGrant
from .protobuf import Gdr, decode_gdrs

VALUES_PATH: Final = "/api/json/local/values/smart-meter"
DEVICE_SETTINGS_PATH: Final = "/api/device-settings"
WS_PATH: Final = "/api/data-transfer/ws/protobuf/gdr/local/values/"
TOPIC_SMART_METER: Final = "smart-meter"
TOPIC_ENERGY_FLOW: Final = "kostal-energyflow/sumvalues"

REQUEST_TIMEOUT: Final = 10.0
# The meter's HTTPS port (nginx), and how long the certificate may take to arrive there.
HTTPS_PORT: Final = 443
CERTIFICATE_TIMEOUT: Final = 3.0
# Watchdog of a push stream: the meter pushes about once a second, so a socket that brings no
# decodable frame for 3 push intervals is dead (or stuck) and is reconnected. The interval is
# learned from the stream (median of recent gaps), so a topic that pushes more slowly is not
# reconnected needlessly. (A receive timeout, not aiohttp's heartbeat, whose timer outlives a
# closed socket.)
WS_SILENCE_FACTOR: Final = 3.0
WS_SILENCE_MIN: Final = 3.0
WS_SILENCE_MAX: Final = 60.0
WS_SILENCE_INITIAL: Final = 15.0  # until a few gaps have been seen
_WS_GAPS_KEPT: Final = 9
# The meter's nginx allows one POST per second on token routes (docs/ksem.md#rate-limits).
MIN_POST_INTERVAL: Final = 1.0
WS_CLOSE_POLICY_VIOLATION: Final = 1008
_APP_MISSING = (HTTPStatus.NOT_FOUND, HTTPStatus.BAD_GATEWAY)
_LOGGER = logging.getLogger(__name__)
_SCHEME_ONLY: Final = re.compile(r"https?:?", re.IGNORECASE)
# A login dialog for people (a router, a NAS): never the meter, which uses bearer tokens.
_HUMAN_LOGIN: Final = re.compile(r"\s*(basic|digest)\b", re.IGNORECASE)


def normalize_host(host: str) -> URL:
    """`host`, `host:port` or `http(s)://host[:port]` -> base URL; ValueError if unusable."""
    text = host.strip().rstrip("/")
    if not text:
        raise ValueError("empty host")
    if _SCHEME_ONLY.fullmatch(text):  # "http://" is no host called "http"
        raise ValueError(f"invalid host {host!r}: no host name after the scheme")
    if "://" not in text:
        text = f"http://{text}"
    try:
        url = URL(text)
        port = url.port
    except ValueError as err:
        raise ValueError(f"invalid host {host!r}") from err
    if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/"):
        raise ValueError(f"invalid host {host!r}")
    if url.query_string or url.fragment or url.user:
        raise ValueError(f"invalid host {host!r}")
    return URL.build(scheme=url.scheme, host=url.host, port=port)


class _Answer(NamedTuple):
    status: int
    body: Any
    challenge: str  # WWW-Authenticate, "" when absent
    location: str = ""  # Location of a redirect, "" when absent


def _unverified_tls() -> ssl.SSLContext:
    """TLS without certificate checks: only to read the certificate that is then pinned."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except KeyError, ValueError:
        return None


class SilenceWatchdog:
    """How long a push stream may stay silent: three learned push intervals, within bounds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Nothing seen yet: the initial limit applies."""
        self._clock = clock
        self._gaps: deque[float] = deque(maxlen=_WS_GAPS_KEPT)
        self._last: float | None = None

    def reset(self) -> None:
        """A new connection: the gap across a reconnect says nothing about the push rate."""
        self._last = None

    def frame(self) -> None:
        """A decodable frame arrived."""
        now = self._clock()
        if self._last is not None:
            self._gaps.append(now - self._last)
        self._last = now

    @property
    def limit(self) -> float:
        """Seconds without a decodable frame after which the socket counts as dead."""
        if len(self._gaps) < 3:  # noqa: PLR2004 - a median needs a few gaps
            return WS_SILENCE_INITIAL
        learned = WS_SILENCE_FACTOR * statistics.median(self._gaps)
        return min(max(learned, WS_SILENCE_MIN), WS_SILENCE_MAX)

    def remaining(self) -> float:
        """Seconds left before the limit, counted from the last frame (or the connect)."""
        if self._last is None:
            self._last = self._clock()
        return max(self._last + self.limit - self._clock(), 0.0)


class KsemClient:
    """Talks to one meter; the aiohttp session is injected and never closed here."""

    def __init__(
        self,
        host: str,
        session: aiohttp.ClientSession,
        token: str | None = None,
        pinned_certificate: str | None = None,
    ) -> None:
        """Bind to a meter; `host` is normalised (raises ValueError if unusable).

        `pinned_certificate` (SHA-256, hex) pins the meter's self-signed certificate for an https://
        host: that certificate is trusted, and only it (docs/ksem.md#https-and-the-certificate).
        """
        self.base_url = normalize_host(host)
        self.session = session
        self.token = token
        self.pinned_certificate = pinned_certificate
        self._last_post = -MIN_POST_INTERVAL
        # Every request of the pairing and its answer, for the diagnostics (`request_token`).
        self.probes: list[Probe] = []

    @property
    def web_ui_url(self) -> str:
        """Where a person opens the meter's web UI."""
        return str(self.base_url)

    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        json: Any = None,
        base: URL | None = None,
        fingerprint: str | None = None,
    ) -> _Answer:
        """Send one request: status, JSON body, challenge, redirect; only transport errors raise.

        With `fingerprint` (SHA-256 hex) the HTTPS peer must present exactly that certificate:
        the meter's self-signed one, trusted for this host only.
        """
        try:
            async with self.session.request(
                method,
                (base or self.base_url).with_path(path),
                headers=self._headers(token),
                json=json,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
                allow_redirects=False,
                ssl=self._tls(fingerprint or self._pin_for(base)),
            ) as response:
                if response.status == HTTPStatus.TOO_MANY_REQUESTS:
                    raise KsemRateLimitError(_retry_after(response))
                body: Any = None
                if response.content_type == "application/json":
                    try:
                        body = await response.json()
                    except ValueError:
                        body = None
                return _Answer(
                    response.status,
                    body,
                    response.headers.get("WWW-Authenticate", ""),
                    response.headers.get("Location", ""),
                )
        except aiohttp.ServerFingerprintMismatch as err:
            raise KsemCertificateChangedError(err.got.hex(), err.expected.hex()) from err
        except (TimeoutError, aiohttp.ClientError) as err:
            raise KsemConnectionError(f"Cannot reach {self.base_url}: {err!r}") from err

    def _pin_for(self, base: URL | None) -> str | None:
        """The pinned certificate applies to this meter's own address only."""
        return self.pinned_certificate if base in (None, self.base_url) else None

    @staticmethod
    def _tls(fingerprint: str | None) -> aiohttp.Fingerprint | bool:
        """An HTTPS peer must present this certificate (a pin), or one an authority signed."""
        return True if fingerprint is None else aiohttp.Fingerprint(bytes.fromhex(fingerprint))

    async def _get_authorized(self, path: str) -> Any:
        """GET with the token: map TQ's REST status codes (docs/ksem.md#status-codes)."""
        status, body, *_ = await self._request("GET", path, token=self.token)
        if status == HTTPStatus.OK:
            return body
        if status == HTTPStatus.UNAUTHORIZED:
            raise KsemAuthError(f"Token refused on {path}")
        if status in _APP_MISSING:
            raise KsemNotSupportedError(f"{path} answered {status}: app not available")
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise KsemConnectionError(f"{path} answered {status}")
        raise KsemProtocolError(f"{path} answered {status}")

    async def probe(self) -> None:
        """Check that a KSEM with a JSON interface answers, without a token.

        A KSEM answers 401 to an unauthenticated read. 404/502 there means the JSON app is
        missing only if the meter's REST framework still answers 401 on device-settings;
        otherwise this is some other web server.
        """
        status, _, challenge, _ = await self._request("GET", VALUES_PATH, token=None)
        if status == HTTPStatus.UNAUTHORIZED and not _HUMAN_LOGIN.match(challenge):
            return
        if status in _APP_MISSING:
            other, _, challenge, _ = await self._request("GET", DEVICE_SETTINGS_PATH, token=None)
            if other == HTTPStatus.UNAUTHORIZED and not _HUMAN_LOGIN.match(challenge):
                raise KsemNotSupportedError("JSON interface missing (firmware too old?)")
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR and status not in _APP_MISSING:
            raise KsemConnectionError(f"Meter answered {status}")
        raise KsemProtocolError(f"Not a KSEM: {VALUES_PATH} answered {status}")

    async def get_values(self) -> MeterValues:
        """Read the grid meter through the JSON interface."""
        return MeterValues.from_json(await self._get_authorized(VALUES_PATH))

    async def check_token(self) -> bool:
        """True once the token is authorized; False while pending (or revoked)."""
        try:
            await self.get_values()
        except KsemAuthError:
            return False
        return True

    async def get_device_settings(self) -> DeviceSettings:
        """Serial, MAC, firmware; raises KsemAuthError if the token's role may not read it."""
        return DeviceSettings.from_json(await self._get_authorized(DEVICE_SETTINGS_PATH))

    async def _respect_post_limit(self) -> None:
        wait = self._last_post + MIN_POST_INTERVAL - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_post = time.monotonic()

    async def _peer_certificate(self, url: URL, *, quick: bool = False) -> bytes:
        """The certificate (DER) the HTTPS server at `url` presents, unverified."""
        try:
            async with asyncio.timeout(CERTIFICATE_TIMEOUT if quick else REQUEST_TIMEOUT):
                _, writer = await asyncio.open_connection(
                    url.host, url.port, ssl=_unverified_tls(), server_hostname=url.host
                )
        except (TimeoutError, OSError) as err:  # ssl.SSLError is an OSError
            raise KsemConnectionError(f"No TLS handshake with {url}: {err!r}") from err
        try:
            der: bytes = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return der

    async def certificate_sha256(self, url: URL) -> str:
        """SHA-256 (hex) of the certificate the HTTPS server at `url` presents, unverified."""
        return hashlib.sha256(await self._peer_certificate(url)).hexdigest()

    async def certificate_host_name(self) -> str | None:
        """The name in the meter's self-signed certificate (`<hostname>.local`), no token needed.

        The meter generates it with its host name, by default `ksem-<serial>`
        (docs/ksem.md#https-and-the-certificate). None if HTTPS does not answer in time.
        """
        url = self.base_url
        if url.scheme != "https":
            url = URL.build(scheme="https", host=str(url.host), port=HTTPS_PORT)
        try:
            der = await self._peer_certificate(url, quick=True)
        except KsemConnectionError as err:
            _LOGGER.debug("No certificate from %s: %s", url, err)
            return None
        return certificate_common_name(der)

    async def _probe(
        self, path: str, *, base: URL | None = None, fingerprint: str | None = None
    ) -> _Answer | None:
        """GET a candidate token route without a token; record what came back."""
        url = base or self.base_url
        answer: _Answer | None = None
        status: int | None = None
        try:
            answer = await self._request(
                pairing.TOKEN_PROBE_METHOD, path, token=None, base=base, fingerprint=fingerprint
            )
            status = answer.status
        except KsemRateLimitError:
            status = HTTPStatus.TOO_MANY_REQUESTS
        except KsemConnectionError:
            pass
        self.probes.append(Probe(pairing.TOKEN_PROBE_METHOD, url.scheme, path, status))
        return answer

    def _https_target(self, path: str, location: str) -> URL | None:
        """Where an HTTP->HTTPS redirect of a versioned public route leads, if it stays here."""
        if not location or not pairing.PUBLIC_ROUTE.match(path):
            return None
        target = self.base_url.join(URL(location))
        host = self.base_url.host
        if target.scheme != "https" or target.host != host or target.path != path or not host:
            return None
        return URL.build(scheme="https", host=host, port=target.port)

    async def find_token_route(self, pinned: str | None = None) -> tuple[URL, str, str | None]:
        """GET every candidate route (changes nothing, not rate-limited); the first 405 wins.

        A versioned public route that redirects to HTTPS on this host is asked again there,
        trusting the meter's self-signed certificate by its fingerprint: `pinned` if one was
        stored at an earlier pairing (KsemCertificateChangedError if the meter now shows
        another), else the one it presents now. Returns (base URL, path, fingerprint or None);
        KsemPairingNotSupportedError if no candidate exists.
        """
        found: tuple[URL, str, str | None] | None = None
        for path in pairing.TOKEN_ROUTE_CANDIDATES:
            answer = await self._probe(path)
            if answer is not None and answer.status in pairing.REDIRECTS:
                https = self._https_target(path, answer.location)
                if https is None:
                    continue
                try:
                    seen = await self.certificate_sha256(https)
                except KsemConnectionError:
                    self.probes.append(Probe("TLS", "https", path, None))
                    continue
                if pinned is not None and seen != pinned:
                    raise KsemCertificateChangedError(seen, pinned)
                await self._probe(path, base=https, fingerprint=seen)
                if found is None and self.probes[-1].route_exists:
                    found = (https, path, seen)
            elif found is None and self.probes[-1].route_exists:
                found = (self.base_url, path, None)
        _LOGGER.debug(
            "KSEM token routes at %s: %s", self.base_url, ", ".join(map(str, self.probes))
        )
        if found is None:
            raise KsemPairingNotSupportedError("No token route answered 405 to a GET")
        return found

    async def request_token(self, name: str, pinned: str | None = None) -> TokenGrant:
        """Find the access-token app's route, then ask it once for a pending token `name`.

        The request is a guess (see `pairing.py`): any refusal raises
        KsemPairingNotSupportedError. A 429 is retried once after the meter's delay.
        """
        base, path, fingerprint = await self.find_token_route(pinned)
        for attempt in range(2):
            await self._respect_post_limit()
            try:
                status, body, _, _ = await self._request(
                    pairing.TOKEN_REQUEST_METHOD,
                    path,
                    token=None,
                    json=pairing.token_request_body(name),
                    base=base,
                    fingerprint=fingerprint,
                )
            except KsemRateLimitError as err:
                self.probes.append(Probe(pairing.TOKEN_REQUEST_METHOD, base.scheme, path, 429))
                if attempt:
                    raise
                await asyncio.sleep(err.retry_after or MIN_POST_INTERVAL)
                continue
            break
        self.probes.append(Probe(pairing.TOKEN_REQUEST_METHOD, base.scheme, path, status))
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR and status not in _APP_MISSING:
            raise KsemConnectionError(f"Token request answered {status}")
        token = body.get(pairing.TOKEN_RESPONSE_FIELD) if isinstance(body, dict) else None
        if status not in (HTTPStatus.OK, HTTPStatus.CREATED) or not isinstance(token, str):
            raise KsemPairingNotSupportedError(f"Token request refused ({status})")
        return TokenGrant(token, fingerprint)

    # WebSocket (data-transfer app, protobuf GDRs, docs/ksem.md#websocket)

    def _ws_url(self, topic: str) -> URL:
        scheme = "wss" if self.base_url.scheme == "https" else "ws"
        return self.base_url.with_scheme(scheme).with_path(WS_PATH + topic)

    async def _stream(self, topic: str, watchdog: SilenceWatchdog) -> AsyncGenerator[Gdr]:
        """Yield the first GDR of every decodable message; raise when the socket ends."""
        watchdog.reset()
        try:
            async with self.session.ws_connect(
                self._ws_url(topic),
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=REQUEST_TIMEOUT),
                ssl=self._tls(self.pinned_certificate),
            ) as ws:
                await ws.send_str(f"Bearer {self.token}")
                async for gdr in _frames(ws, topic, watchdog):
                    yield gdr
                if ws.close_code == WS_CLOSE_POLICY_VIOLATION:
                    raise KsemAuthError("WebSocket closed 1008: token not accepted")
                raise KsemConnectionError(f"WebSocket closed ({ws.close_code})")
        except aiohttp.WSServerHandshakeError as err:
            if err.status == HTTPStatus.UNAUTHORIZED:
                raise KsemAuthError("WebSocket upgrade refused (401)") from err
            if err.status in _APP_MISSING:
                raise KsemNotSupportedError("data-transfer app not available") from err
            raise KsemConnectionError(f"WebSocket upgrade failed: {err.status}") from err
        except aiohttp.ServerFingerprintMismatch as err:
            raise KsemCertificateChangedError(err.got.hex(), err.expected.hex()) from err
        except (TimeoutError, aiohttp.ClientError) as err:
            raise KsemConnectionError(f"WebSocket to {self.base_url} failed: {err!r}") from err

    async def stream_values(
        self, watchdog: SilenceWatchdog | None = None
    ) -> AsyncGenerator[MeterValues]:
        """Push stream of the grid meter, about one reading per second."""
        stream = self._stream(TOPIC_SMART_METER, watchdog or SilenceWatchdog())
        async with contextlib.aclosing(stream):
            async for gdr in stream:
                yield MeterValues.from_milli(obis_to_json(gdr.values), gdr.status, gdr.timestamp)

    async def stream_energy_flow(
        self, watchdog: SilenceWatchdog | None = None
    ) -> AsyncGenerator[EnergyFlow]:
        """Push stream of the energy-flow sums (PV, house, battery, wallbox)."""
        stream = self._stream(TOPIC_ENERGY_FLOW, watchdog or SilenceWatchdog())
        async with contextlib.aclosing(stream):
            async for gdr in stream:
                yield EnergyFlow.from_flex(gdr.flex_values, gdr.timestamp)

    async def read_values_once(self) -> MeterValues:
        """One reading from the stream (when the JSON interface is missing)."""
        return await _first(self.stream_values(), self)

    async def read_energy_flow_once(self) -> EnergyFlow:
        """One energy-flow reading; KsemAuthError if the token may not read that topic."""
        return await _first(self.stream_energy_flow(), self)


_WS_END = (
    aiohttp.WSMsgType.CLOSE,
    aiohttp.WSMsgType.CLOSING,
    aiohttp.WSMsgType.CLOSED,
    aiohttp.WSMsgType.ERROR,
)


async def _frames(
    ws: aiohttp.ClientWebSocketResponse, topic: str, watchdog: SilenceWatchdog
) -> AsyncGenerator[Gdr]:
    """The first GDR of each decodable frame, until the socket closes or stays silent.

    A frame that does not decode is skipped (logged at debug level): one bad frame is no reason
    to drop a working connection. Only decodable frames feed the watchdog, so a socket that
    brings nothing but garbage is reconnected like a silent one.
    """
    while True:
        # receive(timeout=0) would mean "no timeout" to aiohttp: check for 0 first.
        remaining = watchdog.remaining()
        msg: aiohttp.WSMessage | None = None
        if remaining > 0:
            with contextlib.suppress(TimeoutError):
                msg = await ws.receive(timeout=remaining)
        if msg is None:
            raise KsemConnectionError(f"WebSocket {topic} silent for {watchdog.limit:.1f} s")
        if msg.type in _WS_END:
            return
        if msg.type is not aiohttp.WSMsgType.BINARY:
            continue
        try:
            gdr = next(iter(decode_gdrs(msg.data).values()), None)
        except KsemProtocolError as err:
            _LOGGER.debug("Skipping an undecodable %s frame: %s", topic, err)
            continue
        if gdr is not None:
            watchdog.frame()
            yield gdr


async def _first[T](stream: AsyncGenerator[T], client: KsemClient) -> T:
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            async for item in stream:
                return item
    except TimeoutError as err:
        raise KsemConnectionError(f"No data from {client.base_url} in time") from err
    finally:
        await stream.aclose()
    raise KsemConnectionError("stream ended without data")  # pragma: no cover
