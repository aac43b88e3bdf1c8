"""Typed models of the Zaptec cloud JSON, parsed leniently.

Only `Id` is required. Every other field may be missing (for example `AuthenticationType` on
installations where the account has the User role only), so each has a safe default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, IntFlag
from typing import Any

from .exceptions import ZaptecError


class UserRole(IntFlag):
    """Bits of `CurrentUserRoles` (from `/api/constants` `UserRoles`)."""

    NONE = 0
    USER = 1
    OWNER = 2
    MAINTAINER = 4  # shown as "Service" in the portal
    ADMINISTRATOR = 8


class AuthenticationType(IntEnum):
    """`AuthenticationType` of installations and chargers."""

    NATIVE = 0
    WEBHOOKS = 1
    OCPP = 2
    OCPP_NATIVE = 3


class OperatingMode(IntEnum):
    """Observation 710 `ChargerOperationMode` / list field `OperatingMode`."""

    UNKNOWN = 0
    DISCONNECTED = 1
    CONNECTED_REQUESTING = 2
    CONNECTED_CHARGING = 3
    CONNECTED_FINISHED = 5


class DeviceType(IntEnum):
    """`DeviceType` of chargers (selection of `/api/constants` `DeviceTypes`)."""

    UNKNOWN = 0
    SMART = 1  # Zaptec Pro / Home
    PORTABLE = 2
    APOLLO = 4  # Zaptec Go / Go 2


class Observation(IntEnum):
    """State observation ids the integration reads (`/api/constants` `Observations`)."""

    IS_ONLINE = -2
    AUTHENTICATION_REQUIRED = 120
    VOLTAGE_PHASE1 = 501
    VOLTAGE_PHASE2 = 502
    VOLTAGE_PHASE3 = 503
    CURRENT_PHASE1 = 507
    CURRENT_PHASE2 = 508
    CURRENT_PHASE3 = 509
    TOTAL_CHARGE_POWER = 513
    TOTAL_CHARGE_POWER_SESSION = 553
    SIGNED_METER_VALUE = 554
    CHARGE_CURRENT_SET = 708
    CHARGER_OPERATION_MODE = 710
    CHARGER_CURRENT_USER_UUID = 722
    MAINBOARD_SOFTWARE_VERSION = 908
    COMPUTER_SOFTWARE_VERSION = 911


# Serial number prefixes per model (Zaptec's "identify device types" list).
_MODEL_PREFIXES: dict[str, tuple[str, ...]] = {
    "Zaptec Pro": ("ZCS", "ZPR", "ZCH", "ZPG"),
    "Zaptec Go": ("ZAP", "ZGB", "ZAG"),
    "Zaptec Go 2": ("GPN", "GPG"),
    "Zaptec Sense": ("APH", "APG", "APM"),
}


def model_from_serial(serial: str | None) -> str | None:
    """Return the product name for a serial number, or None when the prefix is unknown."""
    if not serial:
        return None
    prefix = serial[:3].upper()
    for model, prefixes in _MODEL_PREFIXES.items():
        if prefix in prefixes:
            return model
    return None


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except TypeError, ValueError:
        return None


def _float(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except TypeError, ValueError:
        return None


def _bool(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def _require_id(data: Any, what: str) -> str:
    if not isinstance(data, dict) or not data.get("Id"):
        raise ZaptecError(f"{what} without an Id: {str(data)[:80]}")
    return str(data["Id"])


@dataclass(frozen=True, slots=True)
class InstallationUser:
    """A user listed on an installation (used to name who authorized a session)."""

    user_id: str
    full_name: str | None


@dataclass(frozen=True, slots=True)
class Installation:
    """An installation (list item or detail)."""

    id: str
    name: str
    roles: UserRole = UserRole.NONE
    authentication_type: int | None = None
    is_required_authentication: bool | None = None
    available_current_phase1: float | None = None
    available_current_phase2: float | None = None
    available_current_phase3: float | None = None
    max_current: float | None = None
    active: bool | None = None
    users: tuple[InstallationUser, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> Installation:
        """Parse an installation from `/api/installation` or `/api/installation/{id}`."""
        installation_id = _require_id(data, "Installation")
        users = tuple(
            InstallationUser(str(user["UserId"]), _str(user, "UserFullName"))
            for user in data.get("InstallationUsers") or ()
            if isinstance(user, dict) and user.get("UserId")
        )
        # The support group logo can be hundreds of kB of base64: never keep it.
        raw = {key: value for key, value in data.items() if key != "SupportGroup"}
        return cls(
            id=installation_id,
            name=_str(data, "Name") or installation_id,
            roles=UserRole(_int(data, "CurrentUserRoles") or 0),
            authentication_type=_int(data, "AuthenticationType"),
            is_required_authentication=_bool(data, "IsRequiredAuthentication"),
            available_current_phase1=_float(data, "AvailableCurrentPhase1"),
            available_current_phase2=_float(data, "AvailableCurrentPhase2"),
            available_current_phase3=_float(data, "AvailableCurrentPhase3"),
            max_current=_float(data, "MaxCurrent"),
            active=_bool(data, "Active"),
            users=users,
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class Charger:
    """A charger (item of `/api/chargers` or `/api/chargers/{id}`)."""

    id: str
    name: str
    serial: str | None = None
    installation_id: str | None = None
    device_type: int | None = None
    roles: UserRole = UserRole.NONE
    authentication_type: int | None = None
    is_authorization_required: bool | None = None
    authentication_disabled: bool | None = None  # PropertyAuthenticationDisabled (detail only)
    operating_mode: int | None = None  # list only, slower than observation 710
    is_online: bool | None = None  # list only
    signed_meter_value_kwh: float | None = None
    active: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> Charger:
        """Parse a charger from the list or the detail endpoint."""
        charger_id = _require_id(data, "Charger")
        return cls(
            id=charger_id,
            name=_str(data, "Name") or charger_id,
            serial=_str(data, "DeviceId") or _str(data, "SerialNo"),
            installation_id=_str(data, "InstallationId"),
            device_type=_int(data, "DeviceType"),
            roles=UserRole(_int(data, "CurrentUserRoles") or 0),
            authentication_type=_int(data, "AuthenticationType"),
            is_authorization_required=_bool(data, "IsAuthorizationRequired"),
            authentication_disabled=_bool(data, "PropertyAuthenticationDisabled"),
            operating_mode=_int(data, "OperatingMode"),
            is_online=_bool(data, "IsOnline"),
            signed_meter_value_kwh=_float(data, "SignedMeterValueKwh"),
            active=_bool(data, "Active"),
            raw=dict(data),
        )

    @property
    def model(self) -> str | None:
        """Product name from the serial number prefix."""
        return model_from_serial(self.serial)


@dataclass(frozen=True, slots=True)
class HierarchyCharger:
    """A charger as listed in an installation's hierarchy."""

    id: str
    name: str
    serial: str | None
    device_type: int | None


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """Circuits and chargers of an installation; `accessible` is False on 204/403."""

    installation_id: str
    accessible: bool
    circuits: dict[str, tuple[HierarchyCharger, ...]] = field(default_factory=dict)

    @classmethod
    def from_api(cls, installation_id: str, data: Any) -> Hierarchy:
        """Parse `/api/installation/{id}/hierarchy`; missing or empty parts are fine."""
        circuits: dict[str, tuple[HierarchyCharger, ...]] = {}
        if isinstance(data, dict):
            for circuit in data.get("Circuits") or ():
                if not isinstance(circuit, dict) or not circuit.get("Id"):
                    continue
                circuits[str(circuit["Id"])] = tuple(
                    HierarchyCharger(
                        id=str(charger["Id"]),
                        name=_str(charger, "Name") or str(charger["Id"]),
                        serial=_str(charger, "DeviceId"),
                        device_type=_int(charger, "DeviceType"),
                    )
                    for charger in circuit.get("Chargers") or ()
                    if isinstance(charger, dict) and charger.get("Id")
                )
        return cls(installation_id=installation_id, accessible=True, circuits=circuits)

    @property
    def charger_ids(self) -> list[str]:
        """Ids of all chargers of all circuits."""
        return [charger.id for chargers in self.circuits.values() for charger in chargers]


@dataclass(frozen=True, slots=True)
class StateValue:
    """One observation: the raw string (None for e.g. the pulse) and its UTC timestamp."""

    value: str | None
    timestamp: datetime | None


def _parse_timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    # Zaptec sends UTC without an offset.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _known_observation(state_id: int) -> Observation | None:
    try:
        return Observation(state_id)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ChargerState:
    """The observations of one charger we know; unknown ids are dropped while parsing."""

    charger_id: str
    values: dict[Observation, StateValue] = field(default_factory=dict)

    @classmethod
    def from_api(cls, charger_id: str, data: Any) -> ChargerState:
        """Parse `/api/chargers/{id}/state` (a list of `{StateId, Timestamp, ValueAsString}`)."""
        values: dict[Observation, StateValue] = {}
        for item in data if isinstance(data, list) else ():
            if not isinstance(item, dict):
                continue
            state_id = _int(item, "StateId")
            observation = None if state_id is None else _known_observation(state_id)
            if observation is None:
                continue
            values[observation] = StateValue(
                _str(item, "ValueAsString"), _parse_timestamp(item.get("Timestamp"))
            )
        return cls(charger_id=charger_id, values=values)

    def text(self, observation: Observation) -> str | None:
        """The raw string of an observation, None when missing or empty."""
        item = self.values.get(observation)
        return item.value if item is not None and item.value not in (None, "") else None

    def number(self, observation: Observation) -> float | None:
        """An observation parsed as a number, None when missing or not a number."""
        text = self.text(observation)
        if text is None:
            return None
        try:
            return float(text)
        except ValueError:
            return None

    def flag(self, observation: Observation) -> bool | None:
        """An observation "1"/"0" (or "true"/"false") as a bool."""
        number = self.number(observation)
        if number is not None:
            return number != 0
        text = (self.text(observation) or "").lower()
        return {"true": True, "false": False}.get(text)

    @property
    def operating_mode(self) -> int | None:
        """Observation 710 as an int."""
        number = self.number(Observation.CHARGER_OPERATION_MODE)
        return None if number is None else int(number)

    @property
    def meter_reading_kwh(self) -> float | None:
        """Lifetime meter reading (kWh) from the OCMF string of observation 554."""
        return parse_ocmf_reading(self.text(Observation.SIGNED_METER_VALUE))


def parse_ocmf_reading(text: str | None) -> float | None:
    """Largest `RD[].RV` of an OCMF record `OCMF|{json}|{signature}` (kWh), None if unusable."""
    if not text or not text.startswith("OCMF|"):
        return None
    try:
        payload = json.loads(text.split("|")[1])
    except ValueError:
        return None
    readings: list[float] = []
    for reading in payload.get("RD") or () if isinstance(payload, dict) else ():
        value = reading.get("RV") if isinstance(reading, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            readings.append(float(value))
    return max(readings) if readings else None
