"""Typed models of what the KSEM reports, converted from milli-units (docs/ksem.md#json-interface).

Every parser here is total: it returns a model whose numbers are finite and plausible (or None),
or raises KsemProtocolError / KsemInvalidTokenError. Nothing else escapes.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Self

from cryptography import x509
from cryptography.x509.oid import NameOID

from .exceptions import KsemInvalidTokenError, KsemProtocolError

# ---- Plausibility limits -------------------------------------------------------------------
# Field name -> (low, high), inclusive, in the unit the model reports. A value that parses but
# lies outside becomes None (the sensor shows unknown) and is logged at debug level. One entry
# serves the total and the per-phase field of the same name. Whether an energy counter rises
# plausibly over time needs state: that is checked on the Home Assistant side, not here.
PLAUSIBLE_LIMITS: Final[dict[str, tuple[float, float]]] = {
    # Hz. 50/60 Hz grids; protection disconnects long before they drift by 10 Hz.
    "frequency": (40.0, 70.0),
    # V, phase to neutral. 230 V or 120/277 V nominal; 0 V while a phase is dead.
    "voltage": (0.0, 500.0),
    # A, per phase. Magnitude; far above any connection a KSEM meters.
    "current": (0.0, 2000.0),
    # W, unsigned registers (total and per phase): never negative; 1 MW is far beyond a home.
    "power_import": (0.0, 1_000_000.0),
    "power_export": (0.0, 1_000_000.0),
    # W, signed (+ import, - export), total and per phase: the difference of the two above.
    "grid_power": (-1_000_000.0, 1_000_000.0),
    "power": (-1_000_000.0, 1_000_000.0),
    # Fraction. |cos phi| cannot exceed 1; the sign's meaning varies, so both signs pass.
    "power_factor": (-1.0, 1.0),
    # kWh, monotonic registers: never negative; 1e9 kWh (1 TWh) is beyond any meter's life.
    "energy_import": (0.0, 1e9),
    "energy_export": (0.0, 1e9),
    # W, energy-flow sums. Signed, and sign conventions differ between firmware versions.
    "pv_power": (-1_000_000.0, 1_000_000.0),
    "house_power": (-1_000_000.0, 1_000_000.0),
    "battery_power": (-1_000_000.0, 1_000_000.0),
    "wallbox_power": (-1_000_000.0, 1_000_000.0),
    # %. A state of charge.
    "battery_soc": (0.0, 100.0),
}
# [start, end) UTC for reading timestamps and token expiries: outside it the meter's clock (or
# the frame) is broken, and a far date would overflow datetime arithmetic downstream.
TIMESTAMP_WINDOW: Final = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
# ---------------------------------------------------------------------------------------------

STATUS_OK = "STATUS_OK"
_JWT_PARTS = 3  # header.payload.signature
_MILLI: Final = 1000
_MILLI_KILO: Final = 1_000_000  # mWh -> kWh
_NANOS_PER_SECOND: Final = 1_000_000_000
_FIRST_SECOND: Final = int(TIMESTAMP_WINDOW[0].timestamp())
_END_SECOND: Final = int(TIMESTAMP_WINDOW[1].timestamp())

_LOGGER = logging.getLogger(__name__)


def _in_window(when: datetime) -> datetime | None:
    if when.utcoffset() is None or not TIMESTAMP_WINDOW[0] <= when < TIMESTAMP_WINDOW[1]:
        _LOGGER.debug("Dropping implausible timestamp %s", when)
        return None
    return when


def _whole(value: object) -> int | None:
    """An int, or a finite float truncated as int() does; None for anything else."""
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def utc_timestamp(seconds: object, nanos: object = 0) -> datetime | None:
    """A protobuf-style (seconds, nanos) timestamp, or None if unusable or outside the window."""
    whole, frac = _whole(seconds), _whole(nanos)
    if (
        whole is None
        or frac is None
        or not 0 <= frac < _NANOS_PER_SECOND
        or not _FIRST_SECOND <= whole < _END_SECOND
    ):
        _LOGGER.debug("Dropping implausible timestamp %s s + %s ns", whole, frac)
        return None
    # The float sum rounded to microseconds, as the stream decoder has always produced it.
    return _in_window(datetime.fromtimestamp(whole + frac / 1e9, tz=UTC))


def _plausible(field: str, key: str, milli: int, divisor: int) -> float | None:
    """`milli / divisor` if PLAUSIBLE_LIMITS[field] admits it, else None (logged)."""
    low, high = PLAUSIBLE_LIMITS[field]
    try:
        value = milli / divisor  # int / int is correctly rounded: 6730100 / 1000 == 6730.1
    except OverflowError:
        value = math.inf
    if low <= value <= high:
        return value
    _LOGGER.debug("Dropping implausible %s (%s): %s, allowed %s..%s", field, key, value, low, high)
    return None


class _MilliReader:
    """Reads milli-unit integers from one raw mapping; each key is checked (and logged) once."""

    __slots__ = ("_checked", "_raw")

    def __init__(self, raw: object) -> None:
        if not isinstance(raw, Mapping):
            raise KsemProtocolError(f"expected a mapping of values, not {type(raw).__name__}")
        self._raw: Mapping[object, object] = raw
        self._checked: dict[str, int | None] = {}

    def milli(self, field: str, key: str, divisor: int) -> int | None:
        """The raw integer if present and plausible for `field`, else None."""
        if key not in self._checked:
            self._checked[key] = self._read(field, key, divisor)
        return self._checked[key]

    def value(self, field: str, key: str, divisor: int) -> float | None:
        """The value in the model's unit if present and plausible, else None."""
        milli = self.milli(field, key, divisor)
        return None if milli is None else milli / divisor

    def net(self, field: str, plus: str, minus: str) -> float | None:
        """Import minus export (W), subtracted in milli-units so the result stays exact."""
        imp = self.milli("power_import", plus, _MILLI)
        exp = self.milli("power_export", minus, _MILLI)
        if imp is None or exp is None:
            return None
        return _plausible(field, f"{plus} - {minus}", imp - exp, _MILLI)

    def _read(self, field: str, key: str, divisor: int) -> int | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if isinstance(value, float):
            if not math.isfinite(value):  # Python's json reads NaN, Infinity and 1e400
                _LOGGER.debug("Dropping %s (%s): %s is not a finite number", field, key, value)
                return None
            value = int(value)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise KsemProtocolError(f"value {key} is a {type(value).__name__}, not a number")
        return None if _plausible(field, key, value, divisor) is None else value


@dataclass(frozen=True, slots=True)
class PhaseValues:
    """One phase (L1, L2 or L3) in W, A, V, kWh; power factor as a fraction.

    `power` is signed: + = import from the grid, - = export.
    """

    power: float | None
    power_import: float | None
    power_export: float | None
    current: float | None
    voltage: float | None
    power_factor: float | None
    energy_import: float | None
    energy_export: float | None

    @classmethod
    def from_milli(cls, raw: Mapping[str, int | float | None], phase: int) -> Self:
        """Build from JSON-interface keys (`active_power_+_L1`, ...)."""
        return cls._read(_MilliReader(raw), phase)

    @classmethod
    def _read(cls, raw: _MilliReader, phase: int) -> Self:
        sfx = f"_L{phase}"
        return cls(
            power=raw.net("power", f"active_power_+{sfx}", f"active_power_-{sfx}"),
            power_import=raw.value("power_import", f"active_power_+{sfx}", _MILLI),
            power_export=raw.value("power_export", f"active_power_-{sfx}", _MILLI),
            current=raw.value("current", f"current{sfx}", _MILLI),
            voltage=raw.value("voltage", f"voltage{sfx}", _MILLI),
            power_factor=raw.value("power_factor", f"power_factor{sfx}", _MILLI),
            energy_import=raw.value("energy_import", f"active_energy_+{sfx}", _MILLI_KILO),
            energy_export=raw.value("energy_export", f"active_energy_-{sfx}", _MILLI_KILO),
        )


@dataclass(frozen=True, slots=True)
class MeterValues:
    """One reading of the grid meter: W, Hz, kWh; power factor as a fraction.

    `grid_power` is signed: + = import, - = export (docs/ksem.md#json-interface).
    """

    status: str
    timestamp: datetime | None
    grid_power: float | None
    power_import: float | None
    power_export: float | None
    power_factor: float | None
    frequency: float | None
    energy_import: float | None
    energy_export: float | None
    phases: tuple[PhaseValues, PhaseValues, PhaseValues]

    @property
    def ok(self) -> bool:
        """True when the meter itself reports a good reading."""
        return self.status == STATUS_OK

    @classmethod
    def from_milli(
        cls,
        raw: Mapping[str, int | float | None],
        status: str = STATUS_OK,
        timestamp: datetime | None = None,
    ) -> Self:
        """Build from a `values` mapping in milli-units (JSON keys); implausible values -> None."""
        reader = _MilliReader(raw)
        return cls(
            status=status,
            timestamp=None if timestamp is None else _in_window(timestamp),
            grid_power=reader.net("grid_power", "active_power_+", "active_power_-"),
            power_import=reader.value("power_import", "active_power_+", _MILLI),
            power_export=reader.value("power_export", "active_power_-", _MILLI),
            power_factor=reader.value("power_factor", "power_factor", _MILLI),
            frequency=reader.value("frequency", "supply_frequency", _MILLI),
            energy_import=reader.value("energy_import", "active_energy_+", _MILLI_KILO),
            energy_export=reader.value("energy_export", "active_energy_-", _MILLI_KILO),
            phases=(
                PhaseValues._read(reader, 1),  # noqa: SLF001 - one reader: each key logged once
                PhaseValues._read(reader, 2),  # noqa: SLF001
                PhaseValues._read(reader, 3),  # noqa: SLF001
            ),
        )

    @classmethod
    def from_json(cls, body: Any) -> Self:
        """Parse `GET /api/json/local/values/smart-meter` (docs/ksem.md#json-interface)."""
        meter = body.get("smart-meter") if isinstance(body, Mapping) else None
        if not isinstance(meter, Mapping):
            raise KsemProtocolError("Unexpected smart-meter answer: no smart-meter object")
        values = meter.get("values")
        if not isinstance(values, Mapping):
            raise KsemProtocolError("Unexpected smart-meter answer: no values object")
        status = meter.get("status")
        if status is None:
            status = ""
        elif not isinstance(status, str):
            raise KsemProtocolError("Unexpected smart-meter answer: status is not a string")
        raw: dict[str, int | float | None] = {}
        for key, value in values.items():
            # All values are JSON integers; null is taken as "not measured".
            if isinstance(value, bool) or not isinstance(value, int | float | None):
                raise KsemProtocolError(f"Unexpected smart-meter answer: {key!r} is no number")
            raw[str(key)] = value
        ts = meter.get("timestamp")
        timestamp = None
        if isinstance(ts, Mapping) and "seconds" in ts:
            timestamp = utc_timestamp(ts["seconds"], ts.get("nanos", 0))
        return cls.from_milli(raw, status, timestamp)


@dataclass(frozen=True, slots=True)
class EnergyFlow:
    """Energy-flow sums (`kostal-energyflow/sumvalues` flex values) in W and %.

    Signs as the meter sends them (docs/ksem.md#energy-flow): `battery_power` is + while the
    battery charges, - while it discharges; the sensors turn it into Home Assistant's
    convention. `timestamp` is the frame's own (the meter's clock), None if it had none.
    """

    pv_power: float | None
    house_power: float | None
    battery_power: float | None
    battery_soc: float | None
    wallbox_power: float | None
    timestamp: datetime | None = None

    @classmethod
    def from_flex(
        cls, flex: Mapping[str, int | float | None], timestamp: datetime | None = None
    ) -> Self:
        """Powers in mW, state of charge in whole % (unverified: docs/ksem.md#energy-flow)."""
        raw = _MilliReader(flex)
        return cls(
            pv_power=raw.value("pv_power", "pvPowerTotal", _MILLI),
            house_power=raw.value("house_power", "housePowerTotal", _MILLI),
            battery_power=raw.value("battery_power", "batteryPowerTotal", _MILLI),
            battery_soc=raw.value("battery_soc", "systemStateOfCharge", 1),
            wallbox_power=raw.value("wallbox_power", "wallboxPowerTotal", _MILLI),
            timestamp=None if timestamp is None else _in_window(timestamp),
        )


def _text(value: object) -> str | None:
    """A JSON scalar as display text; None for containers, "" and unstorable strings."""
    if isinstance(value, str):
        try:
            value.encode()  # lone surrogates (JSON "\ud800") would break HA's storage later
        except UnicodeEncodeError:
            return None
        return value or None
    if isinstance(value, float):
        return str(value) if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # beyond the int -> str digit limit
            return None
    return None


@dataclass(frozen=True, slots=True)
class DeviceSettings:
    """`GET /api/device-settings` (docs/ksem.md#device-settings)."""

    serial: str
    mac: str | None
    product_name: str | None
    device_type: str | None
    firmware_version: str | None
    hostname: str | None

    @classmethod
    def from_json(cls, body: Any) -> Self:
        """Parse the device-settings answer; the serial is required."""
        serial = _text(body.get("Serial")) if isinstance(body, Mapping) else None
        if serial is None:
            raise KsemProtocolError("device-settings answer without a serial")
        return cls(
            serial=serial,
            mac=_text(body.get("Mac")),
            product_name=_text(body.get("ProductName")),
            device_type=_text(body.get("DeviceType")),
            firmware_version=_text(body.get("FirmwareVersion")),
            hostname=_text(body.get("hostname")),
        )


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """Claims of an access token, read WITHOUT verifying its signature (display only)."""

    name: str | None
    expires: datetime | None
    token_id: str | None
    role: str | None

    @classmethod
    def from_token(cls, token: str) -> Self:
        """Decode a JWT's payload; raise KsemInvalidTokenError if it is not a JWT."""
        parts = token.strip().split(".")
        if len(parts) != _JWT_PARTS or not all(parts[:2]):
            raise KsemInvalidTokenError("not a JWT (three dot-separated parts expected)")
        try:
            payload = parts[1] + "=" * (-len(parts[1]) % 4)
            claims = json.loads(base64.urlsafe_b64decode(payload))
        except (ValueError, RecursionError) as err:  # base64, UTF-8 and JSON errors; deep nesting
            raise KsemInvalidTokenError("JWT payload is not base64 JSON") from err
        if not isinstance(claims, dict):
            raise KsemInvalidTokenError("JWT payload is not an object")
        # Tokens created without expiry carry 9999-12-31: outside the window, so None as well.
        exp = claims.get("exp")
        expires = None
        if (
            isinstance(exp, int | float)
            and not isinstance(exp, bool)
            and _FIRST_SECOND <= exp < _END_SECOND  # also False for NaN
        ):
            expires = _in_window(datetime.fromtimestamp(exp, tz=UTC))
        return cls(
            name=_text(claims.get("aud")),
            expires=expires,
            token_id=_text(claims.get("jti")),
            role=_text(claims.get("role")),
        )


def certificate_common_name(der: bytes) -> str | None:
    """The subject's common name of a DER certificate; None if absent or unreadable."""
    try:
        names = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(
            NameOID.COMMON_NAME
        )
    except ValueError:
        return None
    return next((name.value for name in names if isinstance(name.value, str)), None)
