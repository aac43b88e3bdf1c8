"""Zaptec push: Service Bus credentials, the message body decoder, the receiver (no HA imports).

Zaptec publishes charger state observations on an Azure Service Bus topic; an installation
(older model) or a user group (current model) gets a subscription, and
`GET .../messagingConnectionDetails` gives its credentials (docs/zaptec.md, "Push").

Each message body is .NET binary XML (MC-NBFX) of one serialized string,
`<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">{json}</string>`, and the
JSON is one observation `{"ChargerId", "StateId", "Timestamp", "ValueAsString", ...}`: the
same fields as a row of `GET /api/chargers/{id}/state`.

Every parser here is total: a valid value or `ZaptecPushMessageError` / `ZaptecProtocolError`.
The receiver wraps Microsoft's `azure-servicebus` async receiver; the SDK is imported only
when a receiver opens, so everything else works without it.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from .exceptions import (
    ZaptecPushAuthenticationError,
    ZaptecPushConnectionError,
    ZaptecPushMessageError,
    ZaptecPushUnavailableError,
)
from .models import Observation, parse_observation_row

# MC-NBFX record types (Microsoft's [MC-NBFX] specification, section 2.2.3).
_END_ELEMENT: Final = 0x01
_SHORT_XMLNS_ATTRIBUTE: Final = 0x08
_XMLNS_ATTRIBUTE: Final = 0x09
_SHORT_ELEMENT: Final = 0x40
_ELEMENT: Final = 0x41
# Text records: Chars8/16/32Text and their ...WithEndElement twins (record type + 1).
_CHARS_LENGTH_BYTES: Final = {0x98: 1, 0x9A: 2, 0x9C: 4}
_UNICODE_CHARS_LENGTH_BYTES: Final = {0xB6: 1, 0xB8: 2, 0xBA: 4}
_EMPTY_TEXT: Final = 0xA8
_MAX_BODY: Final = 1 << 20  # an observation is a few hundred bytes; a megabyte is garbage
_MAX_INT31_BYTES: Final = 5

# A Service Bus namespace host name (also what the simulator gives); never a URL.
_HOST: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", re.ASCII)
_ENTITY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,259}", re.ASCII)
_MAX_PORT: Final = 65535


@dataclass(frozen=True, slots=True)
class PushCredentials:
    """Zaptec's `ConnectionDescriptor`: where and how to receive the pushed observations."""

    host: str
    username: str
    password: str = field(repr=False)
    topic: str
    subscription: str
    port: int | None = None
    use_ssl: bool = True

    @classmethod
    def from_api(cls, data: Any) -> PushCredentials:
        """Parse `{Host, Port, UseSSL, Username, Password, Topic, Subscription}` (total)."""
        if not isinstance(data, dict):
            raise ZaptecPushUnavailableError("No messaging connection details in the reply")

        def text(key: str, pattern: re.Pattern[str] | None = None) -> str:
            value = data.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ZaptecPushUnavailableError(f"Messaging connection details without {key}")
            value = value.strip()
            if pattern is not None and not pattern.fullmatch(value):
                raise ZaptecPushUnavailableError(f"Messaging connection details: bad {key}")
            return value

        port = data.get("Port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= _MAX_PORT:
            port = None
        use_ssl = data.get("UseSSL")
        return cls(
            host=text("Host", _HOST),
            username=text("Username"),
            password=text("Password"),
            topic=text("Topic", _ENTITY),
            subscription=text("Subscription", _ENTITY),
            port=port,
            use_ssl=use_ssl if isinstance(use_ssl, bool) else True,
        )

    @property
    def connection_string(self) -> str:
        """The SDK's connection string (the key is in it: never log it)."""
        return (
            f"Endpoint=sb://{self.host}/;SharedAccessKeyName={self.username};"
            f"SharedAccessKey={self.password}"
        )


@dataclass(frozen=True, slots=True)
class PushObservation:
    """One pushed observation; `observation` is None for ids the integration does not read."""

    charger_id: str
    state_id: int
    observation: Observation | None
    value: str | None
    timestamp: datetime | None


class _Reader:
    """Bounds-checked reads of a message body."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if size < 0 or end > len(self.data):
            raise ZaptecPushMessageError("Truncated message body")
        chunk, self.pos = self.data[self.pos : end], end
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def int31(self) -> int:
        """MC-NBFX MultiByteInt31: 7 bits per byte, least significant first, at most 5 bytes."""
        value = 0
        for index in range(_MAX_INT31_BYTES):
            byte = self.byte()
            value |= (byte & 0x7F) << (7 * index)
            if not byte & 0x80:
                return value
        raise ZaptecPushMessageError("Bad length in message body")

    def string(self) -> str:
        return _utf8(self.take(self.int31()))


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ZaptecPushMessageError("Message text is not UTF-8") from err


def _text_record(reader: _Reader, record: int) -> str | None:
    """The text of a text record (None if `record` is not one we read)."""
    base = record & ~1  # the ...WithEndElement twin has the low bit set
    if base in _CHARS_LENGTH_BYTES:
        size = _CHARS_LENGTH_BYTES[base]
        length = int.from_bytes(reader.take(size), "little")
        return _utf8(reader.take(length))
    if base in _UNICODE_CHARS_LENGTH_BYTES:
        size = _UNICODE_CHARS_LENGTH_BYTES[base]
        length = int.from_bytes(reader.take(size), "little")
        try:
            return reader.take(length).decode("utf-16-le")
        except UnicodeDecodeError as err:
            raise ZaptecPushMessageError("Message text is not UTF-16") from err
    if base == _EMPTY_TEXT:
        return ""
    return None


def _open_element(reader: _Reader) -> None:
    record = reader.byte()
    if record == _SHORT_ELEMENT:
        reader.string()
    elif record == _ELEMENT:
        reader.string()  # prefix
        reader.string()  # name
    else:
        raise ZaptecPushMessageError(f"Message body does not start with an element: {record:#x}")


def _skip_attribute(reader: _Reader, record: int) -> bool:
    """Skip a namespace declaration; False if `record` is none."""
    if record == _SHORT_XMLNS_ATTRIBUTE:
        reader.string()
        return True
    if record == _XMLNS_ATTRIBUTE:
        reader.string()  # prefix
        reader.string()  # namespace
        return True
    return False


def decode_nbfx_text(body: bytes) -> str:
    """The text content of a message body: one element holding a string (MC-NBFX).

    Reads the records Zaptec's messages use (an element, its namespace declaration, text in
    one or more chunks, the end of the element) and rejects everything else.
    """
    if not isinstance(body, bytes | bytearray) or len(body) > _MAX_BODY:
        raise ZaptecPushMessageError("Message body is not a short byte string")
    reader = _Reader(bytes(body))
    _open_element(reader)
    parts: list[str] = []
    while (record := reader.byte()) != _END_ELEMENT:
        if _skip_attribute(reader, record):
            continue
        text = _text_record(reader, record)
        if text is None:
            raise ZaptecPushMessageError(f"Unexpected record {record:#x} in message body")
        parts.append(text)
        if record & 1:  # ...WithEndElement
            break
    if reader.pos != len(reader.data):
        raise ZaptecPushMessageError("Trailing bytes after the message element")
    if not parts:
        raise ZaptecPushMessageError("Message body without text")
    return "".join(parts)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_STRICT_JSON: Final = json.JSONDecoder(parse_constant=_reject_constant)


def parse_observation(text: str) -> PushObservation:
    """Parse the observation JSON of one message (total)."""
    try:
        data = _STRICT_JSON.decode(text)
    except (ValueError, RecursionError) as err:
        raise ZaptecPushMessageError("Message text is not JSON") from err
    row = parse_observation_row(data)
    if row is None:
        raise ZaptecPushMessageError("Message is not a charger observation")
    charger_id, state_id, observation, value = row
    return PushObservation(charger_id, state_id, observation, value.value, value.timestamp)


def decode_message(body: bytes) -> PushObservation:
    """Message body (MC-NBFX around JSON) -> observation; ZaptecPushMessageError otherwise."""
    return parse_observation(decode_nbfx_text(body))


# -- the receiver --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushTuning:
    """Options of the SDK's receiver; tests shrink the retries.

    `ca_file` is for a test broker only: trust this CA and connect to the credentials'
    `Host:Port` directly (Azure is reached by name on its standard port otherwise).
    """

    retry_total: int = 3
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 120.0
    prefetch: int = 20
    ca_file: str | None = None


def _sdk_error(err: Exception) -> Exception:
    """The SDK's exceptions -> the client's own (auth refused or no connection)."""
    from azure.servicebus.exceptions import (  # noqa: PLC0415 - the SDK is optional
        ServiceBusAuthenticationError,
        ServiceBusAuthorizationError,
        ServiceBusError,
    )

    if isinstance(err, ServiceBusAuthenticationError | ServiceBusAuthorizationError):
        return ZaptecPushAuthenticationError(f"Service Bus refused the credentials: {err!r}")
    if isinstance(err, ServiceBusError):
        return ZaptecPushConnectionError(f"Service Bus connection failed: {err!r}")
    return err


def _build_client(credentials: PushCredentials, tuning: PushTuning) -> Any:
    """The SDK's client and subscription receiver (blocking: loads the CA certificates)."""
    try:
        from azure.servicebus import ServiceBusReceiveMode, TransportType  # noqa: PLC0415
        from azure.servicebus.aio import ServiceBusClient  # noqa: PLC0415
    except ImportError as err:
        raise ZaptecPushUnavailableError("azure-servicebus is not installed") from err
    options: dict[str, Any] = {
        "retry_total": tuning.retry_total,
        "retry_backoff_factor": tuning.retry_backoff_factor,
        "retry_backoff_max": tuning.retry_backoff_max,
        "transport_type": TransportType.Amqp,
        # Made here, in the executor: the SDK would load the CA certificates inside the event
        # loop at every connect otherwise (a blocking call). Older SDKs ignore the option.
        "ssl_context": ssl.create_default_context(cafile=tuning.ca_file),
    }
    if tuning.ca_file is not None:
        port = credentials.port or 5671
        options["custom_endpoint_address"] = f"sb://{credentials.host}:{port}"
        options["connection_verify"] = tuning.ca_file
    client = ServiceBusClient.from_connection_string(credentials.connection_string, **options)
    receiver = client.get_subscription_receiver(
        topic_name=credentials.topic,
        subscription_name=credentials.subscription,
        receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE,
        prefetch_count=tuning.prefetch,
    )
    return client, receiver


async def receive(
    credentials: PushCredentials,
    tuning: PushTuning,
    on_connected: Callable[[], None],
) -> AsyncIterator[bytes]:
    """Message bodies from the subscription until the connection fails or the caller stops.

    `on_connected` runs once the receiver is open (TLS, SASL, token, link). The SDK retries a
    short outage by itself; a longer one, or refused credentials, ends the iteration with
    `ZaptecPushConnectionError` or `ZaptecPushAuthenticationError`.
    """
    loop = asyncio.get_running_loop()
    client, receiver = await loop.run_in_executor(None, _build_client, credentials, tuning)
    try:
        async with client, receiver:
            on_connected()
            async for message in receiver:
                yield b"".join(message.body)
    except asyncio.CancelledError:
        raise
    except Exception as err:
        mapped = _sdk_error(err)
        if mapped is err:
            raise
        raise mapped from err
