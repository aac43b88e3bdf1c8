"""Zaptec push protocol pieces without Home Assistant: credentials, message decoder, receiver.

Property tests (hypothesis): any bytes give an observation or `ZaptecPushMessageError`; any
JSON gives credentials or `ZaptecPushUnavailableError`; every message the simulator encodes
comes out exactly. The receiver is tested against the simulator's broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from azure.servicebus.exceptions import (
    ServiceBusAuthenticationError,
    ServiceBusConnectionError,
)
from hypothesis import given
from hypothesis import strategies as st

from custom_components.ksem_zaptec.zaptec.api import (
    Observation,
    ZaptecClient,
    ZaptecForbiddenError,
    ZaptecNotFoundError,
    ZaptecProtocolError,
    ZaptecPushAuthenticationError,
    ZaptecPushConnectionError,
    ZaptecPushMessageError,
    ZaptecPushUnavailableError,
    push,
)
from custom_components.ksem_zaptec.zaptec.api.push import (
    PushCredentials,
    PushTuning,
    decode_message,
    decode_nbfx_text,
    parse_observation,
)
from simulator import server
from simulator.servicebus import ServiceBusBroker, make_certificates
from simulator.zaptec import ZaptecSimulator
from simulator.zaptec_model import nbfx_string
from tests.property import parser_settings

CHARGER = "22222222-2222-2222-2222-222222222222"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
DETAIL_KEYS = ("Host", "Port", "UseSSL", "Username", "Password", "Topic", "Subscription", "Type")

# azure-servicebus before 7.15 (the oldest supported HA's venv has 7.10.0, the version HA's own
# azure_service_bus integration pins) sends a custom endpoint over AMQP-over-WebSockets, which
# the Proton broker does not speak: the end-to-end tests need the newer SDK.
SDK_VERSION = tuple(int(part) for part in version("azure-servicebus").split(".")[:2])
needs_broker_sdk = pytest.mark.skipif(
    SDK_VERSION < (7, 15), reason="this azure-servicebus reaches a custom endpoint by WebSocket"
)


def observation_json(**overrides: Any) -> str:
    """A pushed observation as Zaptec sends it."""
    data = {
        "ChargerId": CHARGER,
        "DeviceId": "ZPR012345",
        "DeviceType": 1,
        "StateId": 710,
        "Timestamp": "2026-12-02T10:11:12.345Z",
        "ValueAsString": "2",
    }
    return json.dumps(data | overrides)


# -- message bodies ------------------------------------------------------------------------


def test_decodes_what_zaptec_sends() -> None:
    """MC-NBFX string element around the observation JSON -> the observation."""
    pushed = decode_message(nbfx_string(observation_json()))
    assert pushed.charger_id == CHARGER
    assert pushed.observation is Observation.CHARGER_OPERATION_MODE
    assert pushed.value == "2"
    assert pushed.timestamp == datetime(2026, 12, 2, 10, 11, 12, 345000, tzinfo=UTC)


def test_long_and_unread_observations() -> None:
    """A long value (Chars16Text) decodes; an id the integration does not read has no member."""
    ocmf = "OCMF|" + json.dumps({"RD": [{"RV": 1.5}] * 40}) + "|{}"
    pushed = decode_message(nbfx_string(observation_json(StateId=554, ValueAsString=ocmf)))
    assert pushed.value == ocmf
    assert len(ocmf.encode()) > 255
    other = decode_message(nbfx_string(observation_json(StateId=854)))
    assert other.observation is None
    assert other.state_id == 854


@pytest.mark.parametrize(
    ("body", "text"),
    [
        # Element with a prefix, a prefixed namespace, text in two chunks, the last one
        # closing the element (Chars8TextWithEndElement).
        (b"\x41\x01a\x06string\x09\x01a\x02ns\x98\x02ab\x99\x01c", "abc"),
        # Chars32Text, EmptyText, UnicodeChars8Text, then EndElement.
        (b"\x40\x01s" + b"\x9c" + struct.pack("<I", 2) + b"hi\xa8\xb6\x02h\x00\x01", "hih"),
        (b"\x40\x01s\xb8\x02\x00h\x00\x01", "h"),
        (b"\x40\x01s\xba\x02\x00\x00\x00h\x00\x01", "h"),
    ],
)
def test_nbfx_records(body: bytes, text: str) -> None:
    """Every text and attribute record the decoder takes."""
    assert decode_nbfx_text(body) == text


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x01",  # not an element
        b"\x40\x01s\x01",  # no text
        b"\x40\x01s\x98\x05ab",  # truncated
        b"\x40\x01s\x98\x01a\x01\x00",  # trailing bytes
        b"\x40\x01s\x56\x01",  # a record the decoder does not read
        b"\x40\x01s\x98\x01\xff\x01",  # not UTF-8
        b"\x40\x01s\xb6\x01h\x01",  # half a UTF-16 code unit
        b"\x40\xff\xff\xff\xff\xff\x01",  # a length of more than five bytes
        b"\x40" + b"\x01s" + b"\x98" + bytes([200]) + b"x" * 200 + b"\x01" + b"x" * (1 << 20),
    ],
)
def test_broken_bodies(body: bytes) -> None:
    """Malformed MC-NBFX is the client's own error."""
    with pytest.raises(ZaptecPushMessageError):
        decode_nbfx_text(body)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "NaN",
        "[]",
        json.dumps({"StateId": 710}),
        json.dumps({"ChargerId": "a/b", "StateId": 710}),
        json.dumps({"ChargerId": CHARGER, "StateId": "x"}),
    ],
)
def test_text_that_is_no_observation(text: str) -> None:
    """JSON that is not one observation with both ids is refused."""
    with pytest.raises(ZaptecPushMessageError):
        parse_observation(text)


@parser_settings
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_raise_the_clients_error(body: bytes) -> None:
    """Total: an observation or ZaptecPushMessageError (a ZaptecProtocolError)."""
    assert issubclass(ZaptecPushMessageError, ZaptecProtocolError)
    try:
        pushed = decode_message(body)
    except ZaptecPushMessageError:
        return
    assert pushed.charger_id
    assert pushed.timestamp is None or pushed.timestamp.tzinfo is UTC


@parser_settings
@given(
    st.builds(lambda prefix, body: prefix + body, st.sampled_from([b"\x40", b"\x41"]), st.binary())
)
def test_element_prefixed_bytes_decode_or_raise(body: bytes) -> None:
    """The same for bodies that start like an element (reaches the record loop)."""
    with contextlib.suppress(ZaptecPushMessageError):
        decode_message(body)


@parser_settings
@given(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.none() | st.text(max_size=300),
)
def test_every_encoded_observation_comes_back(state_id: int, value: str | None) -> None:
    """What the simulator encodes, the decoder reads back exactly."""
    pushed = decode_message(nbfx_string(observation_json(StateId=state_id, ValueAsString=value)))
    assert (pushed.charger_id, pushed.state_id, pushed.value) == (CHARGER, state_id, value)


# -- credentials ---------------------------------------------------------------------------


def details(**overrides: Any) -> dict[str, Any]:
    """Connection details as the simulator (and, per the sources, Zaptec) send them."""
    return {
        "Type": 1,
        "Host": "zaptec-prod.servicebus.windows.net",
        "Port": 5671,
        "UseSSL": True,
        "Username": "listen-key",
        "Password": "c2VjcmV0",
        "Topic": "zaptec-observations",
        "Subscription": "sub-123",
    } | overrides


def test_credentials_and_connection_string() -> None:
    """The connection string of Zaptec's descriptor; the key never shows in repr."""
    credentials = PushCredentials.from_api(details())
    assert credentials.connection_string == (
        "Endpoint=sb://zaptec-prod.servicebus.windows.net/;"
        "SharedAccessKeyName=listen-key;SharedAccessKey=c2VjcmV0"
    )
    assert "c2VjcmV0" not in repr(credentials)
    assert credentials.port == 5671
    odd = PushCredentials.from_api(details(Port=True, UseSSL="yes"))
    assert (odd.port, odd.use_ssl) == (None, True)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        details(Host=""),
        details(Host="https://x/"),
        details(Password=None),
        details(Topic="a/b"),
    ],
)
def test_unusable_credentials(data: Any) -> None:
    """Anything unusable means push is not available."""
    with pytest.raises(ZaptecPushUnavailableError):
        PushCredentials.from_api(data)


@parser_settings
@given(st.dictionaries(st.sampled_from(DETAIL_KEYS), JSON) | JSON)
def test_any_json_gives_credentials_or_unavailable(data: Any) -> None:
    """Total: credentials with every field usable, or ZaptecPushUnavailableError."""
    try:
        credentials = PushCredentials.from_api(data)
    except ZaptecPushUnavailableError:
        return
    assert credentials.host
    assert credentials.password
    assert credentials.port is None or 0 < credentials.port <= 65535


class _Topic:
    """A topic that only hands out credentials."""

    def connection_details(self) -> dict[str, Any]:
        return details()

    def publish(self, body: bytes) -> None:  # pragma: no cover - not used here
        raise AssertionError


async def test_client_reads_the_installations_credentials(socket_enabled: None) -> None:
    """`get_messaging_details`: the installation's endpoint, through the client's budget."""
    sim = ZaptecSimulator(advance_energy=False)
    installation = next(iter(sim.installations.values()))
    running = await server.start(sim.app)
    try:
        async with ClientSession() as session:
            client = ZaptecClient(session, sim.username, sim.password, base_url=running.url)
            sim.set_installation(installation.id, roles=1)
            with pytest.raises(ZaptecForbiddenError):
                await client.get_messaging_details(installation.id)
            sim.set_installation(installation.id, roles=3)
            installation.messaging_enabled = True
            with pytest.raises(ZaptecNotFoundError):
                # Enabled, but the cloud has no topic: 404 here, no credentials.
                await client.get_messaging_details(installation.id)
            sim.push = _Topic()
            credentials = await client.get_messaging_details(installation.id)
            assert credentials == PushCredentials.from_api(details())
    finally:
        await running.stop()


async def test_client_reads_the_user_groups_credentials(socket_enabled: None) -> None:
    """`get_user_group_messaging_details`: the group's endpoint (current model) on the wire."""
    sim = ZaptecSimulator(advance_energy=False)
    running = await server.start(sim.app)
    try:
        async with ClientSession() as session:
            client = ZaptecClient(session, sim.username, sim.password, base_url=running.url)
            with pytest.raises(ZaptecNotFoundError):
                # The group exists but has no subscription.
                await client.get_user_group_messaging_details(sim.user_group_id)
            sim.user_group_push = _Topic()
            with pytest.raises(ZaptecNotFoundError):
                await client.get_user_group_messaging_details(GROUP_NOT_OURS)
            sim.user_group_forbidden = True
            with pytest.raises(ZaptecForbiddenError):
                await client.get_user_group_messaging_details(sim.user_group_id)
            sim.user_group_forbidden = False
            credentials = await client.get_user_group_messaging_details(sim.user_group_id)
            assert credentials == PushCredentials.from_api(details())
            paths = [(r.method, r.path) for r in sim.requests if r.path != "/oauth/token"]
            assert paths[-1] == (
                "GET",
                f"/api/userGroups/{sim.user_group_id}/messagingConnectionDetails",
            )
    finally:
        await running.stop()


GROUP_NOT_OURS = "ffffffff-0000-0000-0000-000000000000"


# -- the receiver --------------------------------------------------------------------------


def test_sdk_errors_become_the_clients_own() -> None:
    """Refused credentials and connection failures map; anything else stays as it is."""
    assert isinstance(
        push._sdk_error(ServiceBusAuthenticationError(message="no")), ZaptecPushAuthenticationError
    )
    mapped = push._sdk_error(ServiceBusConnectionError(message="down"))
    assert isinstance(mapped, ZaptecPushConnectionError)
    assert not isinstance(mapped, ZaptecPushAuthenticationError)
    other = ValueError("bug")
    assert push._sdk_error(other) is other


@needs_broker_sdk
async def test_receiver_against_the_broker(tmp_path: Path, socket_enabled: None) -> None:
    """Open (TLS, SASL, token, link), receive bodies, and fail cleanly with a wrong key."""
    broker = ServiceBusBroker(make_certificates(tmp_path))
    await asyncio.to_thread(broker.start)
    tuning = PushTuning(
        retry_total=0, retry_backoff_factor=0.1, ca_file=str(broker.certificates.ca_file)
    )
    try:
        credentials = PushCredentials.from_api(broker.connection_details())
        opened: list[bool] = []
        broker.publish(nbfx_string(observation_json()))
        async for body in push.receive(credentials, tuning, lambda: opened.append(True)):
            assert decode_message(body).value == "2"
            break
        assert opened == [True]

        wrong = PushCredentials.from_api(broker.connection_details() | {"Password": "wrong"})
        with pytest.raises(ZaptecPushConnectionError):
            async for _ in push.receive(wrong, tuning, lambda: None):
                pass  # pragma: no cover - nothing arrives with a refused token
        assert 401 in broker.token_checks

        def broken() -> None:
            raise ValueError("a bug of the caller")

        with pytest.raises(ValueError, match="a bug of the caller"):
            async for _ in push.receive(credentials, tuning, broken):
                pass  # pragma: no cover - raises on opening
    finally:
        await asyncio.to_thread(broker.stop)


async def test_sdk_client_builds_without_network() -> None:
    """The SDK takes every option the receiver passes (any supported azure-servicebus)."""
    credentials = PushCredentials.from_api(details())
    client, receiver = await asyncio.to_thread(push._build_client, credentials, PushTuning())
    async with client:
        assert receiver is not None


async def test_receiver_without_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """No azure-servicebus: push is unavailable (polling goes on)."""
    monkeypatch.setitem(__import__("sys").modules, "azure.servicebus.aio", None)
    credentials = PushCredentials.from_api(details())
    with pytest.raises(ZaptecPushUnavailableError):
        async for _ in push.receive(credentials, PushTuning(), lambda: None):
            pass  # pragma: no cover
