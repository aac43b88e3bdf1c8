"""The Zaptec client against aioresponses: login, paging, retries, budget, writes, parsing."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from custom_components.ksem_zaptec.zaptec.api import (
    ClientTuning,
    ZaptecAuthenticationError,
    ZaptecConnectionError,
    ZaptecError,
    ZaptecForbiddenError,
    ZaptecNotFoundError,
    ZaptecRateLimitError,
    ZaptecResponseError,
    ZaptecWriteNotConfirmedError,
    parse_retry_after,
)
from custom_components.ksem_zaptec.zaptec.api import budget as budget_module
from custom_components.ksem_zaptec.zaptec.api.budget import RequestBudget
from custom_components.ksem_zaptec.zaptec.api.client import ZaptecClient

BASE = "https://api.zaptec.test"
TOKEN_URL = f"{BASE}/oauth/token"
INST = "11111111-1111-1111-1111-111111111111"
CHARGER = "22222222-2222-2222-2222-222222222222"
FAST = ClientTuning(rate=1000, confirm_delay=0.001)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:  # noqa: D107
        self.now = 1000.0

    def __call__(self) -> float:  # noqa: D102
        return self.now


def token_reply(
    token: str = "tok1",  # noqa: S107
    expires_in: int = 3600,
    token_type: str = "bearer",  # noqa: S107
) -> dict:
    return {"access_token": token, "token_type": token_type, "expires_in": expires_in}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(session: aiohttp.ClientSession, clock: Clock) -> ZaptecClient:
    return ZaptecClient(
        session, "me@example.com", "s3cret", base_url=BASE, tuning=FAST, clock=clock
    )


@pytest.fixture
def mock() -> Any:
    with aioresponses() as mocked:
        yield mocked


def calls(mock: Any, method: str, url: str) -> list[Any]:
    return [
        call
        for (verb, called), items in mock.requests.items()
        for call in items
        if verb == method and str(called).split("?")[0] == url
    ]


def auth_header(call: Any) -> str:
    return call.kwargs["headers"]["Authorization"]


async def test_login_is_form_encoded_and_token_is_used(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload=token_reply("abc", token_type="Bearer"))
    mock.get(f"{BASE}/api/installation/{INST}", payload={"Id": INST, "Name": "Home"})
    installation = await client.get_installation(INST)
    assert installation.name == "Home"
    (login,) = calls(mock, "POST", TOKEN_URL)
    assert login.kwargs["data"] == {
        "grant_type": "password",
        "username": "me@example.com",
        "password": "s3cret",
        # docs/zaptec.md, Login: Zaptec support asks for the password grant "without any
        # legacy scopes (or simply with scope=openid)" since its 2025 provider move.
        "scope": "openid",
    }
    (get,) = calls(mock, "GET", f"{BASE}/api/installation/{INST}")
    assert auth_header(get) == "Bearer abc"


async def test_lower_case_bearer_and_missing_expires_in(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload={"access_token": "abc", "token_type": "bearer"})
    await client.login()


async def test_non_bearer_token_is_an_error(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload=token_reply(token_type="mac"))
    with pytest.raises(ZaptecError, match="bearer"):
        await client.login()


async def test_bad_credentials_raise_authentication_error(client: ZaptecClient, mock: Any) -> None:
    mock.post(
        TOKEN_URL,
        status=400,
        payload={"error": "invalid_grant", "error_description": "The credentials are invalid."},
    )
    with pytest.raises(ZaptecAuthenticationError, match="credentials are invalid") as err:
        await client.login()
    assert "s3cret" not in str(err.value)


async def test_token_endpoint_server_error(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, status=500, payload={"Code": 500, "Details": "boom"})
    with pytest.raises(ZaptecResponseError, match="boom"):
        await client.login()


async def test_token_endpoint_503_pauses_then_logs_in(
    client: ZaptecClient, mock: Any, clock: Clock
) -> None:
    mock.post(TOKEN_URL, status=503, body="<html>nginx</html>")
    mock.post(TOKEN_URL, payload=token_reply())
    with pytest.raises(ZaptecConnectionError, match="HTTP 503"):
        await client.login()
    clock.now += client.paused_for
    await client.login()
    assert len(calls(mock, "POST", TOKEN_URL)) == 2


async def test_relogin_shortly_before_expiry(client: ZaptecClient, mock: Any, clock: Clock) -> None:
    url = f"{BASE}/api/chargers/{CHARGER}/state"
    mock.post(TOKEN_URL, payload=token_reply("first", expires_in=3600))
    mock.post(TOKEN_URL, payload=token_reply("second", expires_in=3600))
    mock.get(url, payload=[], repeat=True)
    await client.get_charger_state(CHARGER)
    clock.now += 3600 - 121  # still valid for more than the 120 s margin
    await client.get_charger_state(CHARGER)
    clock.now += 2  # inside the margin: log in again before using it
    await client.get_charger_state(CHARGER)
    assert [auth_header(c) for c in calls(mock, "GET", url)] == [
        "Bearer first",
        "Bearer first",
        "Bearer second",
    ]


async def test_short_lived_token_uses_half_its_life(
    client: ZaptecClient, mock: Any, clock: Clock
) -> None:
    mock.post(TOKEN_URL, payload=token_reply("a", expires_in=100))
    mock.post(TOKEN_URL, payload=token_reply("b", expires_in=100))
    mock.get(f"{BASE}/api/chargers/{CHARGER}/state", payload=[], repeat=True)
    await client.get_charger_state(CHARGER)
    clock.now += 49
    await client.get_charger_state(CHARGER)
    clock.now += 2
    await client.get_charger_state(CHARGER)
    assert len(calls(mock, "POST", TOKEN_URL)) == 2


async def test_401_relogs_once_and_retries(client: ZaptecClient, mock: Any) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply("old"))
    mock.post(TOKEN_URL, payload=token_reply("new"))
    mock.get(url, status=401)
    mock.get(url, payload={"Id": INST})
    await client.get_installation(INST)
    assert [auth_header(c) for c in calls(mock, "GET", url)] == ["Bearer old", "Bearer new"]


async def test_401_after_new_login_is_authentication_error(client: ZaptecClient, mock: Any) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply(), repeat=True)
    mock.get(url, status=401, repeat=True)
    with pytest.raises(ZaptecAuthenticationError):
        await client.get_installation(INST)


async def test_concurrent_requests_share_one_login(client: ZaptecClient, mock: Any) -> None:
    async def slow_token(url: URL, **kwargs: Any) -> CallbackResult:
        await asyncio.sleep(0.01)
        return CallbackResult(payload=token_reply())

    mock.post(TOKEN_URL, callback=slow_token, repeat=True)
    mock.get(re.compile(rf"{BASE}/api/chargers/.*/state"), payload=[], repeat=True)
    await asyncio.gather(*(client.get_charger_state(str(n)) for n in range(5)))
    assert len(calls(mock, "POST", TOKEN_URL)) == 1


async def test_concurrent_401s_share_one_relogin(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload=token_reply("old"))
    mock.post(TOKEN_URL, payload=token_reply("new"))
    await client.login()

    def by_token(url: URL, **kwargs: Any) -> CallbackResult:
        if kwargs["headers"]["Authorization"] == "Bearer old":
            return CallbackResult(status=401)
        return CallbackResult(payload=[])

    mock.get(re.compile(rf"{BASE}/api/chargers/.*/state"), callback=by_token, repeat=True)
    await asyncio.gather(*(client.get_charger_state(str(n)) for n in range(3)))
    assert len(calls(mock, "POST", TOKEN_URL)) == 2


async def test_paging_walks_all_pages(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload=token_reply())
    chargers = [{"Id": f"c{n}", "Name": f"C{n}", "DeviceId": f"ZPR{n:06d}"} for n in range(250)]
    for index in range(3):
        mock.get(
            f"{BASE}/api/chargers?PageSize=100&PageIndex={index}",
            payload={"Pages": 3, "Data": chargers[index * 100 : (index + 1) * 100]},
        )
    result = await client.get_chargers()
    assert [c.id for c in result] == [c["Id"] for c in chargers]
    assert result[0].model == "Zaptec Pro"


async def test_paging_without_pages_field_stops_on_short_page(
    client: ZaptecClient, mock: Any
) -> None:
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(
        f"{BASE}/api/installation?PageSize=100&PageIndex=0",
        payload={"Data": [{"Id": f"i{n}"} for n in range(100)]},
    )
    mock.get(f"{BASE}/api/installation?PageSize=100&PageIndex=1", payload={"Data": [{"Id": "x"}]})
    assert len(await client.get_installations()) == 101


async def test_paging_accepts_a_bare_list_and_rejects_garbage(
    client: ZaptecClient, mock: Any
) -> None:
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(f"{BASE}/api/installation?PageSize=100&PageIndex=0", payload=[{"Id": "i1"}])
    assert [i.id for i in await client.get_installations()] == ["i1"]
    mock.get(f"{BASE}/api/chargers?PageSize=100&PageIndex=0", payload={"Message": "?"})
    with pytest.raises(ZaptecError, match="no Data"):
        await client.get_chargers()


async def test_installation_without_authentication_type(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(
        f"{BASE}/api/installation?PageSize=100&PageIndex=0",
        payload={"Pages": 1, "Data": [{"Id": INST, "CurrentUserRoles": 1}]},
    )
    (installation,) = await client.get_installations()
    assert installation.authentication_type is None
    assert installation.is_required_authentication is None
    assert installation.name == INST


async def test_item_without_id_is_an_error(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(f"{BASE}/api/chargers/{CHARGER}", payload={"Name": "no id"})
    with pytest.raises(ZaptecError, match="without an Id"):
        await client.get_charger(CHARGER)


async def test_state_parsing_is_lenient(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload=token_reply())
    ocmf = 'OCMF|{"RD":[{"RV":1234.5},{"RV":1240.25},{"RV":"x"}]}|{}'
    mock.get(
        f"{BASE}/api/chargers/{CHARGER}/state",
        payload=[
            {"ChargerId": CHARGER, "StateId": -1, "Timestamp": "2026-01-01T10:00:00.123"},
            {"ChargerId": CHARGER, "StateId": -2, "ValueAsString": "1"},
            {"ChargerId": CHARGER, "StateId": 120, "ValueAsString": "false"},
            {"ChargerId": CHARGER, "StateId": 513, "ValueAsString": "7360.5"},
            {"ChargerId": CHARGER, "StateId": 554, "ValueAsString": ocmf},
            {"ChargerId": CHARGER, "StateId": 710, "ValueAsString": "3", "Timestamp": "bad"},
            {"ChargerId": CHARGER, "StateId": 708, "ValueAsString": "n/a"},
            {"ChargerId": CHARGER, "StateId": 99999, "ValueAsString": "ignored"},
            {"ChargerId": CHARGER, "StateId": "x"},
            "not a dict",
        ],
    )
    state = await client.get_charger_state(CHARGER)
    assert state.flag(_obs("IS_ONLINE")) is True
    assert state.flag(_obs("AUTHENTICATION_REQUIRED")) is False
    assert state.number(_obs("TOTAL_CHARGE_POWER")) == 7360.5
    assert state.number(_obs("CHARGE_CURRENT_SET")) is None
    assert state.flag(_obs("CHARGE_CURRENT_SET")) is None
    assert state.operating_mode == 3
    assert state.meter_reading_kwh == 1240.25
    assert 99999 not in [int(key) for key in state.values]
    assert state.text(_obs("CHARGER_CURRENT_USER_UUID")) is None


def _obs(name: str) -> Any:
    from custom_components.ksem_zaptec.zaptec.api import Observation  # noqa: PLC0415

    return Observation[name]


async def test_state_of_unknown_charger(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(
        f"{BASE}/api/chargers/{CHARGER}/state",
        status=404,
        payload={"errorCode": 512, "message": "Charger not found."},
    )
    with pytest.raises(ZaptecNotFoundError, match=r"code 512: Charger not found\."):
        await client.get_charger_state(CHARGER)


async def test_state_not_a_list_is_empty(client: ZaptecClient, mock: Any) -> None:
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(f"{BASE}/api/chargers/{CHARGER}/state", payload={"odd": True})
    assert (await client.get_charger_state(CHARGER)).values == {}


async def test_429_pauses_the_account_without_retrying(
    client: ZaptecClient, mock: Any, clock: Clock
) -> None:
    """One 429: nothing is retried in the call, and nothing is sent until the pause ends."""
    url = f"{BASE}/api/installation/{INST}"
    state_url = f"{BASE}/api/chargers/{CHARGER}/state"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(url, status=429, headers={"Retry-After": "5"})
    mock.get(state_url, payload=[])
    with pytest.raises(ZaptecRateLimitError) as err:
        await client.get_installation(INST)
    # Retry-After (5 s) is shorter than the first pause: the pause wins, it is never shorter.
    assert FAST.pause_base <= err.value.retry_after <= FAST.pause_base * 1.1
    assert len(calls(mock, "GET", url)) == 1
    with pytest.raises(ZaptecRateLimitError, match="not sent"):
        await client.get_charger_state(CHARGER)  # any other request waits too
    assert not calls(mock, "GET", state_url)
    clock.now += client.paused_for
    assert client.paused_for == 0
    await client.get_charger_state(CHARGER)
    assert len(calls(mock, "GET", state_url)) == 1


async def test_pause_doubles_per_fault_up_to_the_cap_and_resets(
    client: ZaptecClient, mock: Any, clock: Clock
) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(url, status=429, repeat=6)
    waits = []
    for _ in range(6):
        with pytest.raises(ZaptecRateLimitError) as err:
            await client.get_installation(INST)
        assert err.value.retry_after is not None
        waits.append(err.value.retry_after)
        clock.now += err.value.retry_after
    bases = [min(FAST.pause_base * 2**n, FAST.pause_cap) for n in range(6)]
    assert all(b <= w <= b * 1.1 for b, w in zip(bases, waits, strict=True))
    mock.get(url, payload={"Id": INST})
    await client.get_installation(INST)
    mock.get(url, status=503)
    with pytest.raises(ZaptecConnectionError) as err:
        await client.get_installation(INST)
    assert err.value.retry_after is not None
    assert err.value.retry_after <= FAST.pause_base * 1.1  # a success started it over


async def test_unavailable_cloud_is_probed_like_healthy_polling(
    client: ZaptecClient, mock: Any, clock: Clock
) -> None:
    """503s: the pause doubles only up to `pause_cap_unavailable`, not to the 429 cap."""
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(url, status=503, repeat=5)
    waits = []
    for _ in range(5):
        with pytest.raises(ZaptecConnectionError) as err:
            await client.get_installation(INST)
        assert err.value.retry_after is not None
        waits.append(err.value.retry_after)
        clock.now += err.value.retry_after
    cap = FAST.pause_cap_unavailable
    assert cap < FAST.pause_cap
    bases = [min(FAST.pause_base * 2**n, cap) for n in range(5)]
    assert all(b <= w <= b * 1.1 for b, w in zip(bases, waits, strict=True))
    assert len(calls(mock, "GET", url)) == 5  # one probe per pause, nothing in between


async def test_long_retry_after_is_honoured(client: ZaptecClient, mock: Any) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(url, status=429, headers={"Retry-After": "900"})
    with pytest.raises(ZaptecRateLimitError) as err:
        await client.get_installation(INST)
    assert err.value.retry_after == 900
    assert client.paused_for == 900
    assert len(calls(mock, "GET", url)) == 1


async def test_faults_of_one_burst_count_once(client: ZaptecClient, mock: Any) -> None:
    """Requests in flight together that all fail are one fault, not a doubled pause."""
    mock.post(TOKEN_URL, payload=token_reply())
    for index in range(3):
        mock.get(f"{BASE}/api/chargers/{index}/state", status=503)
    results = await asyncio.gather(
        *(client.get_charger_state(str(index)) for index in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, ZaptecConnectionError) for result in results)
    assert client.paused_for <= FAST.pause_base * 1.1


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 502, "body": "<html>gateway</html>"},
        {"status": 503},
        {"status": 504},
        {"exception": TimeoutError()},
        {"exception": aiohttp.ClientConnectionError("reset")},
    ],
)
async def test_cloud_faults_pause_without_retrying(
    client: ZaptecClient, mock: Any, failure: dict[str, Any]
) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(url, **failure)
    with pytest.raises(ZaptecConnectionError) as err:
        await client.get_installation(INST)
    assert not isinstance(err.value, ZaptecRateLimitError)
    assert err.value.retry_after is not None
    assert err.value.retry_after >= FAST.pause_base
    assert len(calls(mock, "GET", url)) == 1


async def test_get_500_is_not_retried_and_shows_code(client: ZaptecClient, mock: Any) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(url, status=500, payload={"Code": 527, "Details": "Cannot update when using APM"})
    with pytest.raises(ZaptecResponseError, match="code 527: Cannot update when using APM") as err:
        await client.get_installation(INST)
    assert err.value.code == 527
    assert len(calls(mock, "GET", url)) == 1
    assert client.paused_for == 0  # one object's error is not a cloud fault


async def test_put_500_is_never_retried(client: ZaptecClient, mock: Any) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.put(url, status=500, payload={"Code": 505, "Details": "Failed"})
    with pytest.raises(ZaptecResponseError, match="Failed"):
        await client.set_installation_authorization_required(INST, False)
    assert len(calls(mock, "PUT", url)) == 1


@pytest.mark.parametrize(
    "failure",
    [{"exception": TimeoutError()}, {"status": 503, "payload": {"Code": 505}}, {"status": 429}],
)
async def test_put_is_never_retried(
    client: ZaptecClient, mock: Any, failure: dict[str, Any]
) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.put(url, **failure)
    with pytest.raises(ZaptecConnectionError):
        await client.set_installation_authorization_required(INST, False)
    assert len(calls(mock, "PUT", url)) == 1


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [(float("inf"), 3600.0), (float("nan"), 3600.0), (5, 60.0), (10**9, 86400.0), ("1", 3600.0)],
)
async def test_odd_token_lifetimes_are_not_believed(
    client: ZaptecClient, mock: Any, clock: Clock, expires_in: Any, lifetime: float
) -> None:
    mock.post(TOKEN_URL, body=json.dumps({"access_token": "t", "expires_in": expires_in}))
    mock.post(TOKEN_URL, payload=token_reply("second"))
    mock.get(f"{BASE}/api/chargers/{CHARGER}/state", payload=[], repeat=True)
    await client.get_charger_state(CHARGER)
    clock.now += lifetime - min(FAST.token_margin, lifetime / 2) - 1
    await client.get_charger_state(CHARGER)
    assert len(calls(mock, "POST", TOKEN_URL)) == 1
    clock.now += 2
    await client.get_charger_state(CHARGER)
    assert len(calls(mock, "POST", TOKEN_URL)) == 2


async def test_installation_write_on_the_wire_and_read_back(
    client: ZaptecClient, mock: Any
) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.put(url, status=200)
    mock.get(url, payload={"Id": INST, "IsRequiredAuthentication": True})  # stale cache
    mock.get(url, payload={"Id": INST, "IsRequiredAuthentication": False})
    installation = await client.set_installation_authorization_required(INST, False)
    assert installation.is_required_authentication is False
    (put,) = calls(mock, "PUT", url)
    assert put.kwargs["json"] == {"Id": INST, "IsRequiredAuthentication": False}
    assert auth_header(put) == "Bearer tok1"


async def test_installation_write_not_confirmed(client: ZaptecClient, mock: Any) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.put(url, status=200)
    mock.get(url, payload={"Id": INST, "IsRequiredAuthentication": True}, repeat=True)
    with pytest.raises(ZaptecWriteNotConfirmedError):
        await client.set_installation_authorization_required(INST, False)


async def test_installation_write_forbidden(client: ZaptecClient, mock: Any) -> None:
    url = f"{BASE}/api/installation/{INST}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.put(url, status=403, payload={"Code": 533, "Details": "Forbidden"})
    with pytest.raises(ZaptecForbiddenError, match="HTTP 403"):
        await client.set_installation_authorization_required(INST, True)


async def test_charger_write_has_inverse_meaning(client: ZaptecClient, mock: Any) -> None:
    url = f"{BASE}/api/chargers/{CHARGER}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.put(url, status=200)
    mock.get(url, payload={"Id": CHARGER, "PropertyAuthenticationDisabled": True})
    charger = await client.set_charger_authorization_required(CHARGER, False)
    assert charger.authentication_disabled is True
    (put,) = calls(mock, "PUT", url)
    assert put.kwargs["json"] == {"PropertyAuthenticationDisabled": True}


async def test_charger_write_not_confirmed(client: ZaptecClient, mock: Any) -> None:
    url = f"{BASE}/api/chargers/{CHARGER}"
    mock.post(TOKEN_URL, payload=token_reply())
    mock.put(url, status=200)
    mock.get(url, payload={"Id": CHARGER}, repeat=True)
    with pytest.raises(ZaptecWriteNotConfirmedError):
        await client.set_charger_authorization_required(CHARGER, True)


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(None) is None
    assert parse_retry_after("3") == 3
    assert parse_retry_after("-3") is None  # not a delay: ignored
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon") is None
    future = (datetime.now(UTC) + timedelta(seconds=100)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 90 < (parse_retry_after(future) or 0) <= 100


async def test_budget_limits_rate_and_requests_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget_module, "WINDOW", 0.05)  # the real window is 1.05 s
    budget = RequestBudget(rate=2, max_in_flight=2)
    running = peak = 0

    async def one() -> None:
        nonlocal running, peak
        async with budget.slot():
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.gather(*(one() for _ in range(6)))
    # 2 starts per window: the 5th and 6th start only after two full windows.
    assert loop.time() - start >= 2 * budget_module.WINDOW
    assert peak == 2


async def test_default_budget_is_five_per_second(session: aiohttp.ClientSession) -> None:
    tuning = ClientTuning()
    assert (tuning.rate, tuning.max_in_flight) == (5.0, 3)
    assert tuning.rate <= 10 / 2


async def test_after_a_pause_one_probe_goes_first(
    client: ZaptecClient, mock: Any, clock: Clock
) -> None:
    """While the first request after a pause is out, the others wait instead of piling on."""
    mock.post(TOKEN_URL, payload=token_reply())
    mock.get(f"{BASE}/api/chargers/0/state", status=503)
    with pytest.raises(ZaptecConnectionError):
        await client.get_charger_state("0")
    clock.now += client.paused_for
    gate = asyncio.Event()
    sent = asyncio.Event()

    async def slow(*_: Any, **__: Any) -> Any:
        sent.set()
        await gate.wait()
        return CallbackResult(payload=[])

    for index in range(1, 4):
        mock.get(f"{BASE}/api/chargers/{index}/state", callback=slow)
    probe = asyncio.create_task(client.get_charger_state("1"))
    await sent.wait()
    for index in (2, 3):
        with pytest.raises(ZaptecConnectionError, match="not sent"):
            await client.get_charger_state(str(index))
    gate.set()
    await probe
    await client.get_charger_state("2")  # the probe succeeded: everything flows again
    assert [len(calls(mock, "GET", f"{BASE}/api/chargers/{i}/state")) for i in (1, 2, 3)] == [
        1,
        1,
        0,
    ]
