"""Hypothesis strategies for the KSEM parsers: valid wire data and garbage.

Each `*_cases` strategy yields `Case`s for one parser: about half valid input (frames of the
simulator's independent protobuf encoder, simulator/ksem_protobuf.py; JSON in the meter's
documented shapes) that carries what went into it, half garbage (random bytes, mutated valid
frames, protobuf-shaped trees with right and wrong wire types at the decoder's field numbers,
JSON-like trees, and odd numbers: huge, negative, float, NaN, inf, numbers as text, bools).

Speed: every parser gets 10,000 examples, and hypothesis spends most of a millisecond on each
value it draws. So a case is built from ONE drawn byte string, read by `Draw` (past its end
every read is 0, the simplest choice: shrinking the bytes shrinks the case). Odd values come
from fixed pools, random machine words and small recursive trees.

When the protocol grows a field, add its key to the `*_KEYS` tables: the property tests check
every key listed there; the plausible ranges come from the models' PLAUSIBLE_LIMITS.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any, Final

from hypothesis import strategies as st

from custom_components.ksem_zaptec.ksem.api.models import PLAUSIBLE_LIMITS
from custom_components.ksem_zaptec.ksem.api.obis import OBIS_TO_JSON
from simulator.ksem_protobuf import OBIS_CD, encode_gdrs, obis

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
UINT64: Final = 2**64 - 1
WINDOW_START: Final = 946_684_800  # 2000-01-01T00:00:00Z
WINDOW_END: Final = 4_102_444_800  # 2100-01-01T00:00:00Z (excluded)

# -- what the parsers read: JSON key -> (model field = PLAUSIBLE_LIMITS key, divisor) ----------

METER_KEYS: Final[dict[str, tuple[str, int]]] = {
    "active_power_+": ("power_import", 1000),
    "active_power_-": ("power_export", 1000),
    "power_factor": ("power_factor", 1000),
    "supply_frequency": ("frequency", 1000),
    "active_energy_+": ("energy_import", 1_000_000),
    "active_energy_-": ("energy_export", 1_000_000),
}


def phase_keys(phase: int) -> dict[str, tuple[str, int]]:
    """The keys of one phase, by the same scheme."""
    sfx = f"_L{phase}"
    return {
        f"active_power_+{sfx}": ("power_import", 1000),
        f"active_power_-{sfx}": ("power_export", 1000),
        f"current{sfx}": ("current", 1000),
        f"voltage{sfx}": ("voltage", 1000),
        f"power_factor{sfx}": ("power_factor", 1000),
        f"active_energy_+{sfx}": ("energy_import", 1_000_000),
        f"active_energy_-{sfx}": ("energy_export", 1_000_000),
    }


ALL_METER_KEYS: Final[dict[str, tuple[str, int]]] = {
    **METER_KEYS,
    **phase_keys(1),
    **phase_keys(2),
    **phase_keys(3),
}
FLEX_KEYS: Final[dict[str, tuple[str, int]]] = {
    "pvPowerTotal": ("pv_power", 1000),
    "housePowerTotal": ("house_power", 1000),
    "batteryPowerTotal": ("battery_power", 1000),
    "wallboxPowerTotal": ("wallbox_power", 1000),
    "systemStateOfCharge": ("battery_soc", 1),
}
# Keys the meter sends that the parsers ignore.
OTHER_METER_KEYS: Final = ("reactive_power_+", "apparent_energy_-_L2", "reactive_energy_+")
OTHER_FLEX_KEYS: Final = ("gridPowerTotal", "inverterCurtailment", "smartGridLimit")
DEVICE_KEYS: Final = ("Mac", "ProductName", "DeviceType", "FirmwareVersion", "hostname")
STATUSES: Final = ("STATUS_OK", "STATUS_WARNING", "STATUS_ERROR", "STATUS_UNKNOWN", "")
NO_EXPIRY: Final = 253_402_214_400  # 9999-12-31, what the meter writes into unlimited tokens


def milli_bounds(name: str, divisor: int) -> tuple[int, int]:
    """The smallest and largest raw integer whose scaled value lies inside the limits."""
    low, high = PLAUSIBLE_LIMITS[name]
    return math.ceil(Fraction(low) * divisor), math.floor(Fraction(high) * divisor)


# -- pools of odd values ----------------------------------------------------------------------

ODD_INTS: Final = (
    *(0, 1, -1, 5, -5, 1000, 40_000, 50_000, 70_001, 230_000, 999_999_999, 10**9, 10**15),
    *(10**15 + 1, 2**31 - 1, -(2**31), INT64_MAX, INT64_MIN, UINT64, 2**64, 10**20, -(10**20)),
    *(10**400, -(10**400), WINDOW_START, WINDOW_END, NO_EXPIRY),
)
ODD_FLOATS: Final = (
    *(math.nan, math.inf, -math.inf, float("1e400"), -0.0, 0.5, 1e20, -1e20, 1e300, -1e300),
    *(5e-324, 1.7976931348623157e308, 50000.0, 6730100.0, 6730100.7, 1e15, 1e15 + 2, -0.5),
)
ODD_SCALARS: Final = (
    *(None, True, False, "", "1", "NaN", "Infinity", "1e400", "50000", "\ud800", "x" * 50),
    *([], {}, [1], [[[]]], {"seconds": 1}, ["NaN"], {"a": {"b": [None, 1e400]}}),
)
ALPHABET: Final = (
    *("a", "b", "x", "0", "1", "-", "_", ".", " ", "é", "ß", "€", "😀", "\x00", "\n", "\u202e"),
)
JSON_KEYS: Final = (
    *("smart-meter", "values", "status", "timestamp", "seconds", "nanos", "Serial", "Mac"),
    *("active_power_+", "supply_frequency", "pvPowerTotal", "systemStateOfCharge", "exp"),
)
GDR_IDS: Final = ("smart-meter", "kostal-energyflow", "")
FLEX_NAMES: Final = tuple(key.encode() for key in FLEX_KEYS)
OBIS_NAMES: Final = tuple(OBIS_CD)
OBIS_KEYS: Final = tuple(OBIS_TO_JSON)
WIRE_VARINTS: Final = (
    *(0, 1, 2, 3, 4, WINDOW_START, WINDOW_END - 1, WINDOW_END, 999_999_999, 10**9),
    *(INT64_MAX, 2**63, UINT64, UINT64 - 4, obis(1, 4), obis(14, 4), obis(32, 4)),
)
WIRE_STRINGS: Final = (
    *(b"", b"smart-meter", b"pvPowerTotal", b"systemStateOfCharge"),
    *(b"\xff\xfe", b"\xc3", b"\xed\xa0\x80"),  # invalid UTF-8: stray, truncated, surrogate
)
FIELD_NUMBERS: Final = (1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 0, 6, 7, 15, 16, 2**29 - 1)
TIMESTAMP_EDGES: Final = (
    *(0.0, -1.5, 946684799.999, 946684800.0, 4102444799.0, 4102444799.9999995, 4102444800.0),
    *(1e20, -1e20, 2.0**63, 2.0**64, 253402300800.0, 1729699542.583875718, 1e30, -1e30),
)


class Draw:
    """Choices read from a drawn byte string; past its end every read is 0."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        """Read `data` from its start."""
        self._data = data
        self._pos = 0

    def raw(self, size: int) -> bytes:
        """The next `size` bytes, zero-padded."""
        chunk = self._data[self._pos : self._pos + size]
        self._pos += size
        return chunk + bytes(size - len(chunk))

    def below(self, n: int) -> int:
        """0 <= result < n."""
        if n <= 1:
            return 0
        size = ((n - 1).bit_length() + 7) // 8
        return int.from_bytes(self.raw(size), "little") % n

    def chance(self, num: int, den: int) -> bool:
        """True with probability num/den."""
        return self.below(den) >= den - num  # False when the bytes have run out

    def pick[T](self, items: Sequence[T]) -> T:
        """One of `items` (the first when the bytes have run out)."""
        return items[self.below(len(items))]

    def int64(self) -> int:
        """Any signed 64-bit integer."""
        return int.from_bytes(self.raw(8), "little", signed=True)

    def uint64(self) -> int:
        """Any unsigned 64-bit integer."""
        return int.from_bytes(self.raw(8), "little")

    def float64(self) -> float:
        """Any IEEE double, NaN, inf and subnormals included."""
        value: float = struct.unpack("<d", self.raw(8))[0]
        return value

    def text(self, max_len: int) -> str:
        """Up to `max_len` characters from ALPHABET."""
        return "".join(self.pick(ALPHABET) for _ in range(self.below(max_len + 1)))

    def blob(self, max_len: int) -> bytes:
        """Up to `max_len` raw bytes."""
        return self.raw(self.below(max_len + 1))


@dataclass(frozen=True, slots=True)
class Case:
    """One input of a parser; a valid one carries what went into it (`spec`)."""

    data: Any
    valid: bool = False
    spec: Any = None


def _cases(build: Callable[[Draw], Case], size: int = 256) -> st.SearchStrategy[Case]:
    # A fixed size: hypothesis draws a variable-size byte string one "more?" decision per byte.
    return st.binary(min_size=size, max_size=size).map(lambda b: build(Draw(b)))


# -- numbers -----------------------------------------------------------------------------------


def plausible(d: Draw, name: str, divisor: int) -> int:
    """A raw integer the limits admit; the bounds themselves often."""
    lo, hi = milli_bounds(name, divisor)
    match d.below(6):
        case 0:
            return lo
        case 1:
            return hi
        case 2:
            return min(max(0, lo), hi)
        case _:
            return lo + d.uint64() % (hi - lo + 1)


def any_int64(d: Draw, name: str, divisor: int) -> int:
    """What the stream can carry for a field: mostly plausible, sometimes not."""
    match d.below(8):
        case 0 | 1 | 2 | 3:
            return plausible(d, name, divisor)
        case 4:
            lo, hi = milli_bounds(name, divisor)
            return d.pick((lo - 1, hi + 1))
        case 5:
            return d.pick((0, -1, -5, INT64_MIN, INT64_MAX, 6_730_100, 50_012))
        case _:
            return d.int64()


def _near_limit(d: Draw) -> int:
    lo, hi = milli_bounds(*d.pick(tuple(ALL_METER_KEYS.values())))
    return d.pick((lo - 1, hi + 1, lo, hi))


_ODD_NUMBERS: Final[tuple[Callable[[Draw], int | float], ...]] = (
    lambda d: d.pick(ODD_INTS),
    lambda d: d.pick(ODD_FLOATS),
    Draw.int64,
    Draw.float64,  # NaN, inf and subnormals included
    lambda d: int.from_bytes(d.raw(1 + d.below(40)), "little", signed=True),  # up to 320 bits
    lambda d: d.int64() / 1000,
    _near_limit,
    lambda d: float(plausible(d, *d.pick(tuple(ALL_METER_KEYS.values())))),
    lambda d: -d.uint64(),
)


def odd_number(d: Draw) -> int | float:
    """Every kind of number JSON (as Python reads it) can hold, and a few more."""
    return d.pick(_ODD_NUMBERS)(d)


def odd_scalar(d: Draw) -> Any:
    match d.below(6):
        case 0 | 1 | 2:
            return odd_number(d)
        case 3:
            return d.pick(ODD_SCALARS)
        case 4:
            return d.text(10)
        case _:
            return d.pick((None, True, False))


def odd_json(d: Draw, depth: int = 3) -> Any:
    """A JSON-like tree (as Python's json reads it, NaN and all)."""
    kind = d.below(6) if depth else 0
    if kind <= 2:
        return odd_scalar(d)
    if kind == 3:
        return [odd_json(d, depth - 1) for _ in range(d.below(4))]
    return {_json_key(d): odd_json(d, depth - 1) for _ in range(d.below(4))}


def _json_key(d: Draw) -> str:
    return d.pick(JSON_KEYS) if d.chance(1, 2) else d.text(6)


def odd_value(d: Draw) -> Any:
    """Mostly numbers (they reach the plausibility checks), sometimes anything."""
    return odd_number(d) if d.chance(3, 4) else odd_json(d, 2)


def odd_map(d: Draw, keys: dict[str, tuple[str, int]]) -> dict[Any, Any]:
    """Known keys (and strangers) with odd values."""
    out: dict[Any, Any] = {}
    for _ in range(d.below(9)):
        key: Any = d.pick(tuple(keys)) if d.chance(3, 4) else d.pick((d.text(6), 0, 7, None))
        out[key] = odd_value(d)
    return out


def odd_datetime(d: Draw) -> datetime | None:
    """None, or any datetime Python can hold, aware or naive."""
    if not d.chance(3, 4):
        return None
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    when = first + timedelta(
        microseconds=d.uint64() % ((last - first) // timedelta(microseconds=1))
    )
    return when if d.chance(1, 2) else when.replace(tzinfo=None)


# -- valid maps --------------------------------------------------------------------------------


PLAUSIBLE, INT64, NUMBERS = "plausible", "int64", "numbers"


def value_map(d: Draw, keys: dict[str, tuple[str, int]], kind: str) -> dict[str, Any]:
    """Any subset of the keys, with values of one kind.

    PLAUSIBLE: what a healthy meter sends. INT64: what the stream can carry. NUMBERS: any
    number Python's json can read (NaN, inf, huge, fractional) or null; still a valid shape, so
    the result is exactly predictable (floats truncate like int(), non-finite ones are None).
    """
    out: dict[str, Any] = {}
    for key, (name, divisor) in keys.items():
        if not d.chance(2, 3):
            continue
        if kind == PLAUSIBLE:
            out[key] = plausible(d, name, divisor)
        elif kind == INT64 or d.chance(1, 2):
            out[key] = any_int64(d, name, divisor)
        else:
            out[key] = None if d.chance(1, 8) else odd_number(d)
    if d.chance(1, 3):
        out[d.pick(OTHER_METER_KEYS)] = d.int64() if kind != NUMBERS else odd_number(d)
    return out


def in_window_seconds(d: Draw) -> int:
    return d.pick(
        (
            WINDOW_START,
            WINDOW_END - 1,
            1_729_699_542,
            WINDOW_START + d.uint64() % (WINDOW_END - WINDOW_START),
        )
    )


def in_window_datetime(d: Draw) -> datetime:
    seconds = in_window_seconds(d)
    return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=d.below(1_000_000))


# -- decode_gdrs -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    """What went into one `GDRs` message of the simulator's encoder."""

    gdr_id: str
    values: dict[str, int]
    flex: dict[str, int]
    status: int
    timestamp: float

    @property
    def raw(self) -> dict[int, int]:
        """The values by packed OBIS key, as the stream carries them."""
        return {obis(*OBIS_CD[name]): value for name, value in self.values.items()}

    def encode(self) -> bytes:
        """The message, by the simulator's encoder."""
        return encode_gdrs(
            self.gdr_id,
            self.values,
            flex_values=self.flex,
            status=self.status,
            timestamp=self.timestamp,
        )


def _timestamp_float(d: Draw) -> float:
    match d.below(6):
        case 0 | 1 | 2:
            return WINDOW_START + d.uint64() % (WINDOW_END - WINDOW_START) + d.below(10**6) / 1e6
        case 3:
            return d.pick(TIMESTAMP_EDGES)
        case 4:
            value = d.float64()
            return value if math.isfinite(value) and abs(value) < 1e30 else 0.0
        case _:
            return float(d.int64())


def frame(d: Draw) -> Frame:
    """A frame as the meter could send it: any int64 values, any status, any timestamp."""
    gdr_id = d.pick(GDR_IDS) if d.chance(3, 4) else d.text(12)
    values: dict[str, int] = {}
    for _ in range(d.below(12)):
        name = d.pick(OBIS_NAMES)
        values[name] = any_int64(d, *ALL_METER_KEYS[name])
    flex: dict[str, int] = {}
    for _ in range(d.below(6)):
        key = d.pick((*FLEX_KEYS, *OTHER_FLEX_KEYS)) if d.chance(3, 4) else d.text(8)
        flex[key] = any_int64(d, *FLEX_KEYS[key]) if key in FLEX_KEYS else d.int64()
    status = d.pick((1, 1, 0, 2, 3, 4, -1, UINT64)) if d.chance(3, 4) else d.uint64()
    return Frame(gdr_id, values, flex, status, _timestamp_float(d))


def _varint(value: int) -> bytes:
    """A small protobuf encoder for garbage (the simulator's encoder only writes valid frames)."""
    value &= UINT64
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def varint_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def pb_message(d: Draw, depth: int) -> bytes:
    """A protobuf-shaped message: fields of every wire type, nested, odd values."""
    out = bytearray()
    for _ in range(d.below(5)):
        number = d.pick(FIELD_NUMBERS)
        match d.below(8):
            case 0 | 1:
                value = d.pick(WIRE_VARINTS) if d.chance(1, 2) else d.uint64()
                out += varint_field(number, value)
            case 2 | 3 | 4:
                nested = depth > 0 and d.chance(2, 3)
                payload = pb_message(d, depth - 1) if nested else d.pick(WIRE_STRINGS)
                out += len_field(number, payload)
            case 5:
                out += _varint(number << 3 | 1) + d.raw(8)
            case 6:
                out += _varint(number << 3 | 5) + d.raw(4)
            case _:  # groups and undefined wire types, sometimes cut short
                out += _varint(number << 3 | d.pick((3, 4, 6, 7))) + d.blob(3)
    return bytes(out)


def _wire_number(d: Draw) -> int:
    return d.pick(
        (
            lambda: d.pick(WIRE_VARINTS),
            lambda: WINDOW_START + d.uint64() % (WINDOW_END - WINDOW_START),
            lambda: d.int64() & UINT64,  # negative int64 as the wire carries it
            d.uint64,
        )
    )()


def odd_gdr(d: Draw) -> bytes:
    """A GDR of well-formed fields with odd content (ids, statuses, timestamps, values, flex)."""
    out = bytearray()
    for _ in range(d.below(9)):
        match d.below(8):
            case 0:
                out += len_field(1, _wire_string(d))
            case 1:
                out += varint_field(2, _wire_number(d))
            case 2 | 3:
                seconds = varint_field(1, _wire_number(d)) if d.chance(7, 8) else b""
                nanos = varint_field(
                    2, _wire_number(d) % 10**9 if d.chance(1, 2) else _wire_number(d)
                )
                out += len_field(3, seconds + (nanos if d.chance(3, 4) else b""))
            case 4 | 5:
                key = d.pick(OBIS_KEYS) if d.chance(3, 4) else _wire_number(d)
                out += len_field(4, varint_field(1, key) + varint_field(2, _wire_number(d)))
            case 6:
                flex = varint_field(1, _wire_number(d)) if d.chance(7, 8) else b""
                if d.chance(1, 4):
                    flex += len_field(2, b"text")  # FlexValue.string_value
                name = d.pick(FLEX_NAMES) if d.chance(3, 4) else _wire_string(d)
                out += len_field(5, len_field(1, name) + len_field(2, flex))
            case _:
                out += _other_field(d)
    return bytes(out)


def _wire_string(d: Draw) -> bytes:
    """Mostly valid UTF-8; the decoder rejects the whole message for one invalid string."""
    return d.pick(WIRE_STRINGS) if d.chance(1, 4) else d.text(8).encode()


def _other_field(d: Draw) -> bytes:
    """An unknown field (skipped), or now and then a known one with the wrong wire type."""
    number = d.pick((6, 7, 15, 16, 2**29 - 1)) if d.chance(3, 4) else 1 + d.below(5)
    match d.below(4):
        case 0:
            return varint_field(number, d.uint64())
        case 1:
            return len_field(number, d.blob(6))
        case 2:
            return _varint(number << 3 | 1) + d.raw(8)
        case _:
            return _varint(number << 3 | 5) + d.raw(4)


def mutate(d: Draw, data: bytes) -> bytes:
    """1-3 of: truncation, bit flip, inserted, deleted or repeated bytes, an inserted field."""
    buf = bytearray(data)
    for _ in range(1 + d.below(3)):
        pos = d.below(len(buf) + 1)
        match d.below(6):
            case 0:
                del buf[pos:]
            case 1 if buf:
                buf[min(pos, len(buf) - 1)] ^= 1 << d.below(8)
            case 2:
                buf[pos:pos] = d.raw(1 + d.below(6))
            case 3:
                del buf[pos : pos + 1 + d.below(4)]
            case 4:
                buf[pos:pos] = buf[pos : pos + 1 + d.below(12)]
            case _:
                buf[pos:pos] = pb_message(d, 1)
    return bytes(buf)


def _gdr_case(d: Draw) -> Case:
    match d.below(10):
        case 0 | 1 | 2 | 3:
            spec = frame(d)
            return Case(spec.encode(), valid=True, spec=spec)
        case 4:
            return Case(d.blob(64))
        case 5 | 6:
            return Case(mutate(d, frame(d).encode()))
        case 7 | 8:  # well-framed GDRs whose fields carry odd content
            gdrs = b""
            for _ in range(1 + d.below(2)):
                entry = len_field(1, _wire_string(d)) + len_field(2, odd_gdr(d))
                gdrs += len_field(1, entry)
            return Case(gdrs + len_field(2, b"sim-config"))
        case _:
            return Case(pb_message(d, 4))


gdr_cases: Final = _cases(_gdr_case, 384)


# -- obis_to_json ------------------------------------------------------------------------------


def _obis_case(d: Draw) -> Case:
    match d.below(4):
        case 0 | 1:
            values = {d.pick(OBIS_KEYS): any_int64(d, "power", 1000) for _ in range(d.below(12))}
            for _ in range(d.below(3)):
                values[d.uint64()] = d.int64()
            return Case(values, valid=True)
        case 2:
            odd_keys = (float(obis(1, 4)), True, False, None, "1.4", (1, 4), 10**30, -1, 0)
            odd: dict[Any, Any] = {}
            for _ in range(d.below(6)):
                key = d.pick(OBIS_KEYS) if d.chance(1, 2) else d.pick(odd_keys)
                odd[key] = odd_value(d) if d.chance(1, 2) else d.int64()
            return Case(odd)
        case _:
            return Case(odd_json(d))


obis_cases: Final = _cases(_obis_case, 192)


# -- MeterValues -------------------------------------------------------------------------------


def _timestamp_json(d: Draw) -> Any:
    match d.below(4):
        case 0 | 1:
            return {"seconds": odd_scalar(d), "nanos": odd_scalar(d)}
        case 2:
            return {"seconds": in_window_seconds(d), "nanos": odd_scalar(d)}
        case _:
            return odd_json(d, 2)


def _smart_meter_case(d: Draw) -> Case:
    match d.below(4):
        case 0 | 1:
            meter: dict[str, Any] = {
                "configuration_id": "84b60b",
                "status": d.pick(STATUSES),
                "values": value_map(d, ALL_METER_KEYS, d.pick((PLAUSIBLE, NUMBERS))),
            }
            if d.chance(3, 4):
                meter["timestamp"] = {"seconds": in_window_seconds(d), "nanos": d.below(10**9)}
            return Case({"smart-meter": meter}, valid=True)
        case 2:  # any part of the answer wrong
            odd_meter: dict[str, Any] = {}
            if d.chance(3, 4):
                odd_meter["status"] = d.pick(STATUSES) if d.chance(1, 2) else odd_scalar(d)
            if d.chance(3, 4):
                odd_meter["timestamp"] = _timestamp_json(d)
            if d.chance(3, 4):
                odd_meter["values"] = odd_map(d, ALL_METER_KEYS) if d.chance(3, 4) else odd_json(d)
            return Case({"smart-meter": odd_meter})
        case _:
            return Case(odd_json(d) if d.chance(1, 2) else {"smart-meter": odd_json(d)})


smart_meter_cases: Final = _cases(_smart_meter_case)


def _milli_case(d: Draw) -> Case:
    """Data: (raw values, timestamp, a phase number for PhaseValues.from_milli)."""
    match d.below(4):
        case 0 | 1:
            raw = value_map(d, ALL_METER_KEYS, d.pick((INT64, NUMBERS)))
            timestamp = in_window_datetime(d) if d.chance(2, 3) else None
            return Case((raw, timestamp, 1 + d.below(3)), valid=True)
        case 2:
            return Case((odd_map(d, ALL_METER_KEYS), odd_datetime(d), d.below(5)))
        case _:
            return Case((odd_json(d), odd_datetime(d), d.below(5)))


milli_cases: Final = _cases(_milli_case)


# -- EnergyFlow --------------------------------------------------------------------------------


def _flex_case(d: Draw) -> Case:
    match d.below(4):
        case 0 | 1:
            return Case(value_map(d, FLEX_KEYS, d.pick((INT64, NUMBERS))), valid=True)
        case 2:
            return Case(odd_map(d, FLEX_KEYS))
        case _:
            return Case(odd_json(d))


flex_cases: Final = _cases(_flex_case, 128)


# -- DeviceSettings ----------------------------------------------------------------------------


def _device_case(d: Draw) -> Case:
    match d.below(4):
        case 0 | 1:
            body: dict[str, Any] = {"Serial": d.text(11) + d.pick(("7", "é", "x"))}
            for key in DEVICE_KEYS:
                if d.chance(3, 4):
                    body[key] = d.text(16)
            if d.chance(1, 2):
                body["network"] = {"ip": "192.0.2.7", "dns": []}
            return Case(body, valid=True)
        case 2:
            odd: dict[str, Any] = {}
            for key in ("Serial", *DEVICE_KEYS):
                if d.chance(2, 3):
                    odd[key] = odd_scalar(d) if d.chance(3, 4) else odd_json(d, 2)
            return Case(odd)
        case _:
            return Case(odd_json(d))


device_cases: Final = _cases(_device_case, 128)


# -- TokenInfo ---------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWTs carry their parts."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(payload: bytes, header: str = "eyJhbGciOiJSUzI1NiJ9", signature: str = "c2ln") -> str:
    """A token with the given payload bytes (the signature is never checked)."""
    return f"{header}.{b64url(payload)}.{signature}"


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """The claims a valid token carries (`exp` None: issued without expiry)."""

    aud: str
    exp: int | None
    jti: str
    role: str


def _token_case(d: Draw) -> Case:
    match d.below(4):
        case 0 | 1:
            spec = TokenSpec(
                aud=d.text(16),
                exp=in_window_seconds(d) if d.chance(2, 3) else None,
                jti=d.text(16),
                role=d.pick(("api", "admin", "user")),
            )
            claims: dict[str, Any] = {"aud": spec.aud, "jti": spec.jti, "role": spec.role}
            claims["exp"] = NO_EXPIRY if spec.exp is None else spec.exp
            return Case(jwt(json.dumps(claims).encode()), valid=True, spec=spec)
        case 2:
            odd: dict[str, Any] = {}
            for key in ("aud", "exp", "jti", "role"):
                if d.chance(2, 3):
                    odd[key] = odd_number(d) if key == "exp" and d.chance(3, 4) else odd_json(d, 2)
            payload = json.dumps(odd if d.chance(3, 4) else odd_json(d)).encode()
            return Case(jwt(payload))
        case _:
            parts = (d.text(6), d.text(12), d.text(6))
            return Case(d.pick((".".join(parts), d.text(40), jwt(d.blob(24)), f" {jwt(b'{}')}\n")))


token_cases: Final = _cases(_token_case, 128)
