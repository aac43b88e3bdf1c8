"""Typed models of what the KSEM reports, converted from milli-units (ksem-api.md §4.3)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

from .exceptions import KsemInvalidTokenError, KsemProtocolError

STATUS_OK = "STATUS_OK"
_JWT_PARTS = 3  # header.payload.signature

# Tokens created without expiry carry exp = 9999-12-31 (ksem-api.md §3.2.1).
_NO_EXPIRY_AFTER = datetime(9000, 1, 1, tzinfo=UTC)


def _scaled(raw: Mapping[str, int], key: str, divisor: int) -> float | None:
    """Milli-unit integer -> unit float (correctly rounded, so 6730100/1000 == 6730.1)."""
    value = raw.get(key)
    return None if value is None else value / divisor


def _net(raw: Mapping[str, int], plus: str, minus: str) -> float | None:
    """Import minus export, subtracted in milli-units so the result stays exact."""
    imp, exp = raw.get(plus), raw.get(minus)
    return None if imp is None or exp is None else (imp - exp) / 1000


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
    def from_milli(cls, raw: Mapping[str, int], phase: int) -> Self:
        """Build from JSON-interface keys (`active_power_+_L1`, ...)."""
        sfx = f"_L{phase}"
        return cls(
            power=_net(raw, f"active_power_+{sfx}", f"active_power_-{sfx}"),
            power_import=_scaled(raw, f"active_power_+{sfx}", 1000),
            power_export=_scaled(raw, f"active_power_-{sfx}", 1000),
            current=_scaled(raw, f"current{sfx}", 1000),
            voltage=_scaled(raw, f"voltage{sfx}", 1000),
            power_factor=_scaled(raw, f"power_factor{sfx}", 1000),
            energy_import=_scaled(raw, f"active_energy_+{sfx}", 1_000_000),
            energy_export=_scaled(raw, f"active_energy_-{sfx}", 1_000_000),
        )


@dataclass(frozen=True, slots=True)
class MeterValues:
    """One reading of the grid meter: W, Hz, kWh; power factor as a fraction.

    `grid_power` is signed: + = import, - = export (ksem-api.md §4.1.6).
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
        cls, raw: Mapping[str, int], status: str = STATUS_OK, timestamp: datetime | None = None
    ) -> Self:
        """Build from a `values` mapping in milli-units (JSON keys)."""
        return cls(
            status=status,
            timestamp=timestamp,
            grid_power=_net(raw, "active_power_+", "active_power_-"),
            power_import=_scaled(raw, "active_power_+", 1000),
            power_export=_scaled(raw, "active_power_-", 1000),
            power_factor=_scaled(raw, "power_factor", 1000),
            frequency=_scaled(raw, "supply_frequency", 1000),
            energy_import=_scaled(raw, "active_energy_+", 1_000_000),
            energy_export=_scaled(raw, "active_energy_-", 1_000_000),
            phases=(
                PhaseValues.from_milli(raw, 1),
                PhaseValues.from_milli(raw, 2),
                PhaseValues.from_milli(raw, 3),
            ),
        )

    @classmethod
    def from_json(cls, body: Any) -> Self:
        """Parse `GET /api/json/local/values/smart-meter` (ksem-api.md §4.1.2)."""
        try:
            meter = body["smart-meter"]
            values = meter["values"]
            status = str(meter.get("status", ""))
            ts = meter.get("timestamp") or {}
            raw = {str(k): int(v) for k, v in values.items()}
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise KsemProtocolError(f"Unexpected smart-meter answer: {err!r}") from err
        timestamp = None
        if isinstance(ts, Mapping) and "seconds" in ts:
            timestamp = datetime.fromtimestamp(
                int(ts["seconds"]) + int(ts.get("nanos", 0)) / 1e9, tz=UTC
            )
        return cls.from_milli(raw, status, timestamp)


@dataclass(frozen=True, slots=True)
class EnergyFlow:
    """Energy-flow sums (`kostal-energyflow/sumvalues` flex values) in W and %."""

    pv_power: float | None
    house_power: float | None
    battery_power: float | None
    battery_soc: float | None
    wallbox_power: float | None

    @classmethod
    def from_flex(cls, flex: Mapping[str, int]) -> Self:
        """Powers are mW, the state of charge whole percent (ksem-api.md §4.4.2, P)."""
        soc = flex.get("systemStateOfCharge")
        return cls(
            pv_power=_scaled(flex, "pvPowerTotal", 1000),
            house_power=_scaled(flex, "housePowerTotal", 1000),
            battery_power=_scaled(flex, "batteryPowerTotal", 1000),
            battery_soc=None if soc is None else float(soc),
            wallbox_power=_scaled(flex, "wallboxPowerTotal", 1000),
        )


@dataclass(frozen=True, slots=True)
class DeviceSettings:
    """`GET /api/device-settings` (ksem-api.md §5.1)."""

    serial: str
    mac: str | None
    product_name: str | None
    device_type: str | None
    firmware_version: str | None
    hostname: str | None

    @classmethod
    def from_json(cls, body: Any) -> Self:
        """Parse the device-settings answer; the serial is required."""
        if not isinstance(body, Mapping) or not body.get("Serial"):
            raise KsemProtocolError("device-settings answer without a serial")

        def opt(key: str) -> str | None:
            value = body.get(key)
            return None if value in (None, "") else str(value)

        return cls(
            serial=str(body["Serial"]),
            mac=opt("Mac"),
            product_name=opt("ProductName"),
            device_type=opt("DeviceType"),
            firmware_version=opt("FirmwareVersion"),
            hostname=opt("hostname"),
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
        except (binascii.Error, ValueError) as err:
            raise KsemInvalidTokenError("JWT payload is not base64 JSON") from err
        if not isinstance(claims, dict):
            raise KsemInvalidTokenError("JWT payload is not an object")
        expires: datetime | None = None
        exp = claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            try:
                expires = datetime.fromtimestamp(exp, tz=UTC)
            except OverflowError, OSError, ValueError:
                expires = None
            if expires is not None and expires >= _NO_EXPIRY_AFTER:
                expires = None
        aud = claims.get("aud")
        return cls(
            name=None if aud is None else str(aud),
            expires=expires,
            token_id=None if claims.get("jti") is None else str(claims["jti"]),
            role=None if claims.get("role") is None else str(claims["role"]),
        )
