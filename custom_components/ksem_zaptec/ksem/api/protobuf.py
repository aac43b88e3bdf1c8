"""Minimal decoder for TQ's `GDRs` protobuf messages (tq-systems/em-gdr `gdr.proto`).

Only the fields the integration reads are decoded; unknown fields are skipped, as protobuf
requires. Schema (docs/ksem.md#websocket):
    GDRs { map<string, GDR> GDRs = 1; string config_uuid = 2; }
    GDR  { string id = 1; Status status = 2; Timestamp timestamp = 3;
           map<uint64, uint64> values = 4; map<string, FlexValue> flexValues = 5; }
    FlexValue { int64 int_value = 1; string string_value = 2; }
Values are uint64 on the wire and are reinterpreted as signed int64 (same section).

Total: any input gives GDRs with int64 values and a timestamp inside the models' window (or
None), or raises KsemProtocolError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .exceptions import KsemProtocolError
from .models import utc_timestamp

# Field numbers of GDR (gdr.proto).
_GDR_ID, _GDR_STATUS, _GDR_TIMESTAMP, _GDR_VALUES, _GDR_FLEX = 1, 2, 3, 4, 5
_MAX_VARINT_SHIFT = 63
_UINT64 = (1 << 64) - 1

_VARINT = 0
_I64 = 1
_LEN = 2
_I32 = 5

# GDR.Status enum -> the JSON interface's status strings.
_STATUS_NAMES = {0: "STATUS_UNKNOWN", 1: "STATUS_OK", 2: "STATUS_WARNING", 3: "STATUS_ERROR"}


@dataclass(slots=True)
class Gdr:
    """One decoded GDR: OBIS-keyed values and named flex values, both signed ints."""

    id: str = ""
    status: str = "STATUS_UNKNOWN"
    timestamp: datetime | None = None
    values: dict[int, int] = field(default_factory=dict)
    flex_values: dict[str, int] = field(default_factory=dict)


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf) or shift > _MAX_VARINT_SHIFT:
            raise KsemProtocolError("truncated or oversized varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            # A 10th byte carries 7 bits; as protobuf does, keep only the low 64.
            return result & _UINT64, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """Split a message into (field number, varint value or bytes) pairs."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == _LEN:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise KsemProtocolError("truncated length-delimited field")
            out.append((number, buf[pos : pos + length]))
            pos += length
        elif wire == _I64:
            pos += 8
        elif wire == _I32:
            pos += 4
        else:
            raise KsemProtocolError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise KsemProtocolError("truncated fixed-size field")
    return out


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise KsemProtocolError("expected a length-delimited field")
    return value


def _int(value: int | bytes) -> int:
    if isinstance(value, bytes):
        raise KsemProtocolError("expected a varint field")
    return value


def _decode_gdr(buf: bytes) -> Gdr:
    gdr = Gdr()
    for number, value in _fields(buf):
        if number == _GDR_ID:
            gdr.id = _bytes(value).decode()
        elif number == _GDR_STATUS:
            gdr.status = _STATUS_NAMES.get(_int(value), "STATUS_UNKNOWN")
        elif number == _GDR_TIMESTAMP:
            # google.protobuf.Timestamp: int64 seconds, int32 nanos (sign-extended on the wire).
            ts = dict(_fields(_bytes(value)))
            seconds = _signed64(_int(ts.get(1, 0)))
            nanos = _signed64(_int(ts.get(2, 0)))
            gdr.timestamp = utc_timestamp(seconds, nanos)
        elif number == _GDR_VALUES:
            entry = dict(_fields(_bytes(value)))
            gdr.values[_int(entry.get(1, 0))] = _signed64(_int(entry.get(2, 0)))
        elif number == _GDR_FLEX:
            entry = dict(_fields(_bytes(value)))
            flex = dict(_fields(_bytes(entry.get(2, b""))))
            if 1 in flex:
                key = _bytes(entry.get(1, b"")).decode()
                gdr.flex_values[key] = _signed64(_int(flex[1]))
    return gdr


def decode_gdrs(buf: bytes) -> dict[str, Gdr]:
    """Decode a `GDRs` message into its GDRs by map key."""
    out: dict[str, Gdr] = {}
    try:
        for number, value in _fields(buf):
            if number == 1:
                entry = dict(_fields(_bytes(value)))
                key = _bytes(entry.get(1, b"")).decode()
                out[key] = _decode_gdr(_bytes(entry.get(2, b"")))
    except UnicodeDecodeError as err:
        raise KsemProtocolError("invalid UTF-8 in a GDR string") from err
    return out
