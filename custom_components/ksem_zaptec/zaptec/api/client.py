"""Async client of the Zaptec cloud API (documented read endpoints, login, retries)."""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import aiohttp

from .budget import RequestBudget
from .exceptions import (
    ZaptecAuthenticationError,
    ZaptecConnectionError,
    ZaptecExternallyManagedError,
    ZaptecForbiddenError,
    ZaptecNotFoundError,
    ZaptecNotSupportedError,
    ZaptecProtocolError,
    ZaptecRateLimitError,
    ZaptecResponseError,
    ZaptecWriteNotConfirmedError,
)
from .models import (
    Charger,
    ChargerCommand,
    ChargerFirmware,
    ChargerState,
    CommandResult,
    Installation,
)
from .push import PushCredentials

DEFAULT_BASE_URL: Final = "https://api.zaptec.com"
PAGE_SIZE: Final = 100  # the most Zaptec serves per page since 2025-03
_MAX_PAGES: Final = 1000  # guard against a server that never stops paging
_TRANSIENT: Final = frozenset({429, 502, 503, 504})
_DEFAULT_EXPIRES_IN: Final = 3600.0  # only if a token reply lacks expires_in (never seen)
# A token lifetime outside these bounds is not believed (a day is far above Zaptec's hour).
_MIN_EXPIRES_IN: Final = 60.0
_MAX_EXPIRES_IN: Final = 86400.0
_DELTA_SECONDS: Final = re.compile(r"\s*\d+(\.\d+)?\s*")
_MAX_RETRY_AFTER: Final = 86400.0
# `ErrorCodes` of `/api/constants` that the documented writes decode (docs/zaptec.md#commands).
CODE_NOT_SUPPORTED: Final = 527  # e.g. "Cannot update installation when using APM"
CODE_COMMAND_REJECTED: Final = 528  # the command would change nothing in this state
# What deauthorize-and-stop's HTTP 500 carries while it still executes: nothing more specific.
_UNKNOWN_FAILURE_CODES: Final = frozenset({None, 500, 505})
_CURRENT_TOLERANCE: Final = 0.05  # A; a read-back within this shows the value written


@dataclass(frozen=True, slots=True)
class ClientTuning:
    """Limits and timings of the client; tests shrink the waits."""

    rate: float = 5.0  # requests per second (Zaptec's limit is 10 per account)
    max_in_flight: int = 3
    timeout: float = 15.0
    # A cloud-wide fault (429, 502/503/504, a timeout, no connection) pauses every request of
    # the account: `pause_base` after the first fault, doubling per failed probe (one per
    # pause, however many requests failed with it) up to `pause_cap` after a 429 (Zaptec asks
    # for exponential backoff there) and up to `pause_cap_unavailable` otherwise; a longer
    # Retry-After is honoured as it is, never shortened. Nothing is retried inside a call, so a
    # fault never costs more requests than health.
    pause_base: float = 60.0
    pause_cap: float = 600.0
    # An unavailable cloud (5xx, timeouts) is probed at most this often: recovery follows
    # within that much after the cloud is back, instead of up to 10 minutes. The integration
    # sets it to its healthy charger-list interval (zaptec/coordinator.py, create_client).
    pause_cap_unavailable: float = 175.0
    token_margin: float = 120.0  # log in again this long before the token expires
    confirm_delay: float = 2.0  # second read-back after a write, if the first one is stale


def _monotonic() -> float:
    # Looked up at call time, so a test clock that replaces time.monotonic is followed.
    return time.monotonic()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date).

    None when the header is missing or unusable; at most a day (a longer wait is more likely
    a broken header than a real request, and the account must come back some day).
    """
    if not value:
        return None
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except TypeError, ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        seconds = _MAX_RETRY_AFTER
    return min(max(0.0, seconds), _MAX_RETRY_AFTER)


def _json_or_none(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError, RecursionError:
        return None


def _token_lifetime(expires_in: Any) -> float:
    """Seconds a new token lives: the reply's `expires_in` if it is a sane number."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        return _DEFAULT_EXPIRES_IN
    if not math.isfinite(expires_in):
        return _DEFAULT_EXPIRES_IN
    return min(max(float(expires_in), _MIN_EXPIRES_IN), _MAX_EXPIRES_IN)


def _error_fields(body: Any) -> tuple[int | None, str | None]:
    """`{Code, Details}` (or `{errorCode, message}`) of an error body, case-insensitively."""
    if not isinstance(body, dict):
        return None, None
    lowered = {str(key).lower(): value for key, value in body.items()}
    code = lowered.get("code", lowered.get("errorcode"))
    details = lowered.get("details", lowered.get("message", lowered.get("error_description")))
    try:
        text = str(details) if details else None
    except ValueError:  # an int too long to print
        text = None
    return code if isinstance(code, int) and not isinstance(code, bool) else None, text


def _error_for(status: int, body: Any, path: str) -> ZaptecResponseError:
    code, details = _error_fields(body)
    kind = {403: ZaptecForbiddenError, 404: ZaptecNotFoundError}.get(status, ZaptecResponseError)
    return kind(status, code, details, path)


@dataclass(slots=True)
class _Reply:
    status: int
    body: Any
    text: str
    retry_after: float | None


# -- UNDOCUMENTED portal writes: "authorization required" ---------------------------------------
# Zaptec's public API has no documented way to change "authorization required"
# (docs/zaptec.md#authorization-required-writes). These two are the calls the Zaptec portal
# itself makes; Zaptec's fair-use policy discourages undocumented calls, so their paths and
# bodies live here and nowhere else:
# - installation (plausible: used by the Homey app and formerly by the HACS integration):
#   `PUT /api/installation/{id}` with `{"Id": id, "IsRequiredAuthentication": bool}`;
# - charger (unverified: seen in one unattributed client, verified there on a Zaptec Pro):
#   `PUT /api/chargers/{id}` with `{"PropertyAuthenticationDisabled": bool}` (inverse
#   meaning: true = no authorization needed on this charger).
# The client confirms each write by reading the object back (`ZaptecClient._confirm`); a value
# that does not change raises ZaptecWriteNotConfirmedError, so a wrong guess fails loudly. If
# Zaptec changes or documents these calls, fix the two functions below (and nothing else).


def _installation_authorization_write(
    installation_id: str, required: bool
) -> tuple[str, dict[str, object]]:
    """Path and body of the installation write (plausible)."""
    return (
        f"/api/installation/{installation_id}",
        {"Id": installation_id, "IsRequiredAuthentication": required},
    )


def _charger_authorization_write(charger_id: str, required: bool) -> tuple[str, dict[str, object]]:
    """Path and body of the charger write (unverified); the field is "authentication disabled"."""
    return f"/api/chargers/{charger_id}", {"PropertyAuthenticationDisabled": not required}


class ZaptecClient:
    """One Zaptec account: login, a shared request budget, paging, retries.

    The session is injected (Home Assistant's shared one); the password stays in memory
    because Zaptec has no usable refresh token: every new token is a new password grant.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        username: str,
        password: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        tuning: ClientTuning | None = None,
        user_agent: str = "ksem_zaptec",
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Prepare the client; nothing is sent before the first call."""
        self._session = session
        self._username = username
        self._password = password
        self._base_url = base_url.rstrip("/")
        self.tuning = tuning or ClientTuning()
        self._user_agent = user_agent
        self._clock = clock or _monotonic
        self._budget = RequestBudget(self.tuning.rate, self.tuning.max_in_flight, self._clock)
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._login_lock = asyncio.Lock()
        self._faults = 0  # cloud-wide faults in a row; the pause doubles with each
        self._paused_until = 0.0
        self._pause_rate_limited = False
        self._probing = False  # the one request sent after a pause is under way

    def uses(self, username: str, password: str) -> bool:
        """True when this client was made for these credentials."""
        return (username, password) == (self._username, self._password)

    # -- authentication -------------------------------------------------------------------

    async def login(self) -> None:
        """Get a new token with the password grant (raises ZaptecAuthenticationError on 400)."""
        async with self._login_lock:
            await self._login()

    async def _login(self) -> None:
        # `scope=openid`: what Zaptec support asked for after its 2025 identity-provider
        # move (no legacy scopes); see docs/zaptec.md, "Login".
        reply = await self._send(
            "POST",
            "/oauth/token",
            data={
                "grant_type": "password",
                "username": self._username,
                "password": self._password,
                "scope": "openid",
            },
            token=None,
        )
        if reply.status in (400, 401):
            _, details = _error_fields(reply.body)
            raise ZaptecAuthenticationError(f"Login refused: {details or reply.status}")
        if reply.status >= 400:  # noqa: PLR2004
            raise _error_for(reply.status, reply.body, "/oauth/token")
        body = reply.body if isinstance(reply.body, dict) else {}
        token = body.get("access_token")
        token_type = str(body.get("token_type", "bearer"))
        if not isinstance(token, str) or not token or token_type.lower() != "bearer":
            raise ZaptecProtocolError("Login reply without a bearer token")
        lifetime = _token_lifetime(body.get("expires_in"))
        self._token = token
        margin = min(self.tuning.token_margin, lifetime / 2)
        self._token_expires_at = self._clock() + lifetime - margin

    async def _valid_token(self) -> str:
        async with self._login_lock:
            if self._token is None or self._clock() >= self._token_expires_at:
                await self._login()
            assert self._token is not None  # noqa: S101 - set by _login or it raised
            return self._token

    def _drop_token(self, token: str) -> None:
        # Only the first of several concurrent 401s drops it; the others reuse the new one.
        if self._token == token:
            self._token = None

    # -- HTTP -------------------------------------------------------------------------------

    @property
    def paused_for(self) -> float:
        """Seconds until requests may be sent again after a cloud-wide fault (0 if none)."""
        return max(self._paused_until - self._clock(), 0.0)

    def _pause(self, retry_after: float | None, *, rate_limited: bool) -> float:
        """Pause the account after a cloud-wide fault; returns the seconds to wait."""
        now = self._clock()
        if now >= self._paused_until:
            self._faults += 1  # several requests failing in one burst count as one fault
            self._pause_rate_limited = False
        cap = self.tuning.pause_cap
        if not rate_limited and not self._pause_rate_limited:
            cap = min(cap, self.tuning.pause_cap_unavailable)
        wait: float = min(cap, self.tuning.pause_base * 2.0 ** (self._faults - 1))
        wait *= 1 + random.uniform(0, 0.1)  # noqa: S311 - jitter, not crypto
        wait = max(wait, retry_after or 0.0)
        self._paused_until = max(self._paused_until, now + wait)
        self._pause_rate_limited = self._pause_rate_limited or rate_limited
        return self._paused_until - now

    def _check_pause(self, method: str, path: str) -> None:
        """Raise at once, sending nothing, while the account is paused or a probe is out.

        After a pause the first request is a probe: until it succeeds (or fails and pauses the
        account again), every other request waits, so a recovering cloud sees one request,
        not every charger that became due meanwhile.
        """
        remaining = self.paused_for
        if remaining <= 0 and not self._probing:
            return
        if remaining <= 0:
            remaining = self.tuning.timeout  # the probe's answer comes within its timeout
        message = f"{method} {path} not sent: waiting {remaining:.0f} s after a cloud fault"
        if self._pause_rate_limited:
            raise ZaptecRateLimitError(message, retry_after=remaining)
        raise ZaptecConnectionError(message, retry_after=remaining)

    async def _exchange(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        params: dict[str, Any] | None,
        json_body: Any,
        data: dict[str, str] | None,
    ) -> _Reply:
        """One HTTP round trip, nothing else (no budget, no pause, no retry)."""
        async with self._session.request(
            method,
            self._base_url + path,
            params=params,
            json=json_body,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=self.tuning.timeout),
        ) as response:
            text = await response.text()
            return _Reply(
                response.status,
                _json_or_none(text),
                text,
                parse_retry_after(response.headers.get("Retry-After")),
            )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        data: dict[str, str] | None = None,
        token: str | None,
    ) -> _Reply:
        """Send one request; a cloud-wide fault raises and pauses the account."""
        self._check_pause(method, path)
        headers = {"Accept": "application/json", "User-Agent": self._user_agent}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        probe = False
        try:
            async with self._budget.slot():
                self._check_pause(method, path)  # a fault may have come while we waited
                probe = self._probing = self._faults > 0
                reply = await self._exchange(
                    method, path, headers, params=params, json_body=json_body, data=data
                )
        except (TimeoutError, aiohttp.ClientError) as err:
            wait = self._pause(None, rate_limited=False)
            raise ZaptecConnectionError(
                f"{method} {path} failed: {err!r}", retry_after=wait
            ) from err
        finally:
            if probe:
                self._probing = False
        if reply.status in _TRANSIENT:
            wait = self._pause(reply.retry_after, rate_limited=reply.status == 429)  # noqa: PLR2004
            message = f"{method} {path}: HTTP {reply.status}"
            if reply.status == 429:  # noqa: PLR2004
                raise ZaptecRateLimitError(message, retry_after=wait)
            raise ZaptecConnectionError(message, retry_after=wait)
        self._faults = 0
        return reply

    async def request(self, method: str, path: str, *, json_body: Any = None) -> Any:
        """Authenticated request: 401 logs in once more; error statuses raise; returns JSON."""
        token = await self._valid_token()
        reply = await self._send(method, path, json_body=json_body, token=token)
        if reply.status == 401:  # noqa: PLR2004
            self._drop_token(token)
            token = await self._valid_token()
            reply = await self._send(method, path, json_body=json_body, token=token)
            if reply.status == 401:  # noqa: PLR2004
                raise ZaptecAuthenticationError(f"{method} {path}: refused after a new login")
        if reply.status >= 400:  # noqa: PLR2004
            raise _error_for(reply.status, reply.body, path)
        return reply.body

    async def _get_paged(self, path: str) -> list[Any]:
        items: list[Any] = []
        for index in range(_MAX_PAGES):
            body = await self.request("GET", f"{path}?PageSize={PAGE_SIZE}&PageIndex={index}")
            if isinstance(body, list):  # an unpaged reply: take it as the whole list
                return body
            data = body.get("Data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise ZaptecProtocolError(f"GET {path}: no Data list in the reply")
            items.extend(data)
            pages = body.get("Pages")
            if isinstance(pages, int) and not isinstance(pages, bool):
                if index + 1 >= pages:
                    break
            elif len(data) < PAGE_SIZE:
                break
        return items

    # -- documented reads -------------------------------------------------------------------

    async def get_installations(self) -> list[Installation]:
        """All installations of the account (every page)."""
        return [Installation.from_api(item) for item in await self._get_paged("/api/installation")]

    async def get_installation(self, installation_id: str) -> Installation:
        """Detail of one installation (carries IsRequiredAuthentication and the roles)."""
        return Installation.from_api(
            await self.request("GET", f"/api/installation/{installation_id}")
        )

    async def get_chargers(self) -> list[Charger]:
        """All chargers the account can see (every page)."""
        return [Charger.from_api(item) for item in await self._get_paged("/api/chargers")]

    async def get_charger(self, charger_id: str) -> Charger:
        """Detail of one charger (carries PropertyAuthenticationDisabled)."""
        return Charger.from_api(await self.request("GET", f"/api/chargers/{charger_id}"))

    async def get_charger_state(self, charger_id: str) -> ChargerState:
        """Live observations (served from a 15 s cache by Zaptec)."""
        return ChargerState.from_api(
            charger_id, await self.request("GET", f"/api/chargers/{charger_id}/state")
        )

    async def get_messaging_details(self, installation_id: str) -> PushCredentials:
        """Service Bus credentials of an installation's message subscription (push)."""
        return PushCredentials.from_api(
            await self.request(
                "GET", f"/api/installation/{installation_id}/messagingConnectionDetails"
            )
        )

    async def get_user_group_messaging_details(self, user_group_id: str) -> PushCredentials:
        """Service Bus credentials of a user group's message subscription (current model)."""
        return PushCredentials.from_api(
            await self.request("GET", f"/api/userGroups/{user_group_id}/messagingConnectionDetails")
        )

    # -- undocumented writes (paths and bodies: see the section above the class) -----------

    async def set_installation_authorization_required(
        self, installation_id: str, required: bool
    ) -> Installation:
        """Write the installation's flag; return the installation as read back with it."""
        path, body = _installation_authorization_write(installation_id, required)
        await self.request("PUT", path, json_body=body)
        return await self._confirm(
            lambda: self.get_installation(installation_id),
            lambda installation: installation.is_required_authentication is required,
            f"installation {installation_id}: IsRequiredAuthentication={required}",
        )

    async def set_charger_authorization_required(self, charger_id: str, required: bool) -> Charger:
        """Write the charger's flag; return the charger as read back with it."""
        path, body = _charger_authorization_write(charger_id, required)
        await self.request("PUT", path, json_body=body)
        return await self._confirm(
            lambda: self.get_charger(charger_id),
            lambda charger: charger.authentication_disabled is (not required),
            f"charger {charger_id}: PropertyAuthenticationDisabled={not required}",
        )

    async def _confirm[T](
        self, read: Callable[[], Awaitable[T]], shows: Callable[[T], bool], wanted: str
    ) -> T:
        """The one read-back of a write: once at once, once more after `confirm_delay`.

        The second read only happens when the first still shows the old value (the portal's
        replicas can lag); a write that never shows raises ZaptecWriteNotConfirmedError.
        """
        value = await read()
        if shows(value):
            return value
        await asyncio.sleep(self.tuning.confirm_delay)
        value = await read()
        if shows(value):
            return value
        raise ZaptecWriteNotConfirmedError(f"Wrote {wanted}, but the cloud still shows {value}")

    # -- documented writes (Owner or Service role; docs/zaptec.md#control) ------------------

    async def _documented_write(self, path: str, body: Any = None) -> None:
        """POST a documented write; code 527 raises ZaptecNotSupportedError."""
        try:
            await self.request("POST", path, json_body=body)
        except ZaptecResponseError as err:
            if err.code == CODE_NOT_SUPPORTED and not isinstance(err, ZaptecForbiddenError):
                raise ZaptecNotSupportedError(err.status, err.code, err.details, path) from err
            raise

    async def send_command(self, charger_id: str, command: ChargerCommand) -> CommandResult:
        """Send a charger command; 528 is NOTHING_TO_DO, not an error.

        Deauthorize-and-stop is known to answer HTTP 500 while it executes: that is
        UNCONFIRMED, and the caller reads the charger's state to know.
        """
        path = f"/api/chargers/{charger_id}/sendCommand/{int(command)}"
        try:
            await self._documented_write(path)
        except ZaptecResponseError as err:
            if err.code == CODE_COMMAND_REJECTED:
                return CommandResult.NOTHING_TO_DO
            if (
                command is ChargerCommand.DEAUTHORIZE_AND_STOP
                and err.status == 500  # noqa: PLR2004
                and err.code in _UNKNOWN_FAILURE_CODES
            ):
                return CommandResult.UNCONFIRMED
            raise
        return CommandResult.SENT

    async def set_charger_currents(
        self, charger_id: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> None:
        """Set the charger's min and/or max charge current (A); 403: externally managed.

        Not read back here: the charger state that shows it is cached for 15 s by Zaptec.
        """
        body: dict[str, float] = {}
        if minimum is not None:
            body["minChargeCurrent"] = _current(minimum)
        if maximum is not None:
            body["maxChargeCurrent"] = _current(maximum)
        if not body:
            raise ValueError("Nothing to set")
        path = f"/api/chargers/{charger_id}/update"
        try:
            await self._documented_write(path, body)
        except ZaptecForbiddenError as err:
            raise ZaptecExternallyManagedError(err.status, err.code, err.details, path) from err

    async def set_available_current(
        self, installation_id: str, phases: tuple[float, float, float]
    ) -> Installation:
        """Set the installation's available current per phase; returns it as read back.

        Three equal values are sent as `AvailableCurrent` (all phases), others per phase
        (all three: a phase left out would be reset to its default).
        """
        wanted = tuple(_current(value) for value in phases)
        if wanted[0] == wanted[1] == wanted[2]:
            body: dict[str, float] = {"AvailableCurrent": wanted[0]}
        else:
            body = {f"AvailableCurrentPhase{n}": value for n, value in enumerate(wanted, 1)}
        await self._documented_write(f"/api/installation/{installation_id}/update", body)

        def shows(installation: Installation) -> bool:
            read = (
                installation.available_current_phase1,
                installation.available_current_phase2,
                installation.available_current_phase3,
            )
            return all(_same_current(got, want) for got, want in zip(read, wanted, strict=True))

        return await self._confirm(
            lambda: self.get_installation(installation_id),
            shows,
            f"installation {installation_id}: available current {wanted}",
        )

    async def set_three_to_one_phase_switch_current(
        self, installation_id: str, current: float
    ) -> Installation:
        """Set the 3-to-1-phase switch current (0 = always 3-phase, 32 = always 1-phase)."""
        wanted = _current(current)
        await self._documented_write(
            f"/api/installation/{installation_id}/update",
            {"ThreeToOnePhaseSwitchCurrent": wanted},
        )
        return await self._confirm(
            lambda: self.get_installation(installation_id),
            lambda i: _same_current(i.three_to_one_phase_switch_current, wanted),
            f"installation {installation_id}: 3-to-1-phase switch current {wanted}",
        )

    async def get_charger_firmware(self, installation_id: str) -> list[ChargerFirmware]:
        """Installed and available firmware of the installation's chargers."""
        return ChargerFirmware.list_from_api(
            await self.request("GET", f"/api/chargerFirmware/installation/{installation_id}")
        )


def _current(value: float) -> float:
    """A current to send: a finite, non-negative number of amperes."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"Not a current: {value!r}")
    if value < 0:
        raise ValueError(f"Negative current: {value!r}")
    return float(value)


def _same_current(read: float | None, wanted: float) -> bool:
    return read is not None and abs(read - wanted) <= _CURRENT_TOLERANCE
