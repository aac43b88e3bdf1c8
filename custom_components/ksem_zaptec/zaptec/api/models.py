"""Typed models of the Zaptec cloud JSON, parsed leniently but totally.

Only `Id` is required. Every other field may be missing (for example `AuthenticationType` on
installations where the account has the User role only), so each has a safe default.

Every parser returns a valid typed value or raises `ZaptecProtocolError`: no NaN or infinity,
no number outside `PLAUSIBLE_LIMITS`, no timestamp outside [2000-01-01, 2100-01-01) UTC. A
value that parses but that physics rejects becomes None (unknown), with one debug line.
"""

from __future__ import annotations

import json
import logging
import math
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, IntEnum, IntFlag
from types import MappingProxyType
from typing import Any, Final

from .exceptions import ZaptecProtocolError

_LOGGER = logging.getLogger(__name__)


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
    CHARGER_MAX_CURRENT = 510
    CHARGER_MIN_CURRENT = 511
    TOTAL_CHARGE_POWER_SESSION = 553
    SIGNED_METER_VALUE = 554
    CHARGE_CURRENT_SET = 708
    CHARGER_OPERATION_MODE = 710
    FINAL_STOP_ACTIVE = 718
    CHARGER_CURRENT_USER_UUID = 722
    COMPLETED_SESSION = 723
    NEXT_SCHEDULE_EVENT = 763
    MAINBOARD_SOFTWARE_VERSION = 908
    COMPUTER_SOFTWARE_VERSION = 911


@dataclass(frozen=True, slots=True)
class Limit:
    """The closed range [low, high] a value must lie in to be believed."""

    low: float
    high: float
    unit: str
    why: str

    def __contains__(self, value: float) -> bool:
        """Whether `value` is physically plausible."""
        return self.low <= value <= self.high


# The one table of plausibility limits: an observation (charger state) or a JSON field name
# (installation/charger list and detail) -> the range its value must lie in. Generous on
# purpose: they catch garbage (1e30 kWh, a kilovolt), not unusual but real readings.
_PHASE_VOLTAGE: Final = Limit(0, 500, "V", "230/400 V grids; never twice the nominal voltage")
_PHASE_CURRENT: Final = Limit(0, 100, "A", "a Zaptec charger delivers at most 32 A per phase")
_INSTALLATION_CURRENT: Final = Limit(0, 1000, "A", "no home or car park fuse reaches 1000 A")
_LIFETIME_ENERGY: Final = Limit(0, 1e7, "kWh", "22 kW day and night for 50 years is 9.6e6 kWh")
_FLAG: Final = Limit(0, 1, "", "a 0/1 flag")
PLAUSIBLE_LIMITS: Final[Mapping[Observation | str, Limit]] = MappingProxyType(
    {
        Observation.IS_ONLINE: _FLAG,
        Observation.AUTHENTICATION_REQUIRED: _FLAG,
        Observation.VOLTAGE_PHASE1: _PHASE_VOLTAGE,
        Observation.VOLTAGE_PHASE2: _PHASE_VOLTAGE,
        Observation.VOLTAGE_PHASE3: _PHASE_VOLTAGE,
        Observation.CURRENT_PHASE1: _PHASE_CURRENT,
        Observation.CURRENT_PHASE2: _PHASE_CURRENT,
        Observation.CURRENT_PHASE3: _PHASE_CURRENT,
        Observation.CHARGER_MAX_CURRENT: _PHASE_CURRENT,
        Observation.CHARGER_MIN_CURRENT: _PHASE_CURRENT,
        Observation.FINAL_STOP_ACTIVE: _FLAG,
        Observation.TOTAL_CHARGE_POWER: Limit(
            0, 100_000, "W", "3 x 32 A x 230 V is 22 kW; a charger does not feed back"
        ),
        Observation.TOTAL_CHARGE_POWER_SESSION: Limit(
            0, 1000, "kWh", "one session; the largest car batteries hold about 200 kWh"
        ),
        Observation.SIGNED_METER_VALUE: _LIFETIME_ENERGY,  # the OCMF reading, RD[].RV
        Observation.COMPLETED_SESSION: Limit(
            0, 1000, "kWh", "one session's Energy; the largest car batteries hold about 200 kWh"
        ),
        Observation.CHARGE_CURRENT_SET: _INSTALLATION_CURRENT,
        Observation.CHARGER_OPERATION_MODE: Limit(
            0, 5, "", "an OperatingMode value; `operating_mode` checks membership too"
        ),
        "AvailableCurrentPhase1": _INSTALLATION_CURRENT,
        "AvailableCurrentPhase2": _INSTALLATION_CURRENT,
        "AvailableCurrentPhase3": _INSTALLATION_CURRENT,
        "MaxCurrent": _INSTALLATION_CURRENT,
        "ThreeToOnePhaseSwitchCurrent": _PHASE_CURRENT,
        "SignedMeterValueKwh": _LIFETIME_ENERGY,
    }
)


# Serial number prefixes per model (Zaptec's "identify device types" list).
_MODEL_PREFIXES: dict[str, tuple[str, ...]] = {
    "Zaptec Pro": ("ZCS", "ZPR", "ZCH", "ZPG"),
    "Zaptec Go": ("ZAP", "ZGB", "ZAG"),
    "Zaptec Go 2": ("GPN", "GPG"),
    "Zaptec Sense": ("APH", "APG", "APM"),
}

# Zaptec ids are uuids; whatever else comes, it goes into URL paths and unique ids, so only
# URL-safe characters (no "/", "?", "%", spaces) are accepted.
_ID: Final = re.compile(r"[A-Za-z0-9_.~-]{1,128}", re.ASCII)
# Plain decimal notation only: float() would also take "nan", "1_000" and non-ASCII digits.
_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_INTEGER: Final = re.compile(r"[+-]?[0-9]{1,19}", re.ASCII)
# The cloud is .NET: its int fields are 32 bits.
_INT32_LOW: Final = -(2**31)
_INT32_HIGH: Final = 2**31
_KNOWN_ROLES: Final = UserRole.USER | UserRole.OWNER | UserRole.MAINTAINER | UserRole.ADMINISTRATOR
_OPERATING_MODES: Final = frozenset(OperatingMode)
_CONNECTED_MODES: Final = frozenset(
    {
        OperatingMode.CONNECTED_REQUESTING,
        OperatingMode.CONNECTED_CHARGING,
        OperatingMode.CONNECTED_FINISHED,
    }
)
_EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)


def model_from_serial(serial: str | None) -> str | None:
    """Return the product name for a serial number, or None when the prefix is unknown."""
    if not isinstance(serial, str) or not serial:
        return None
    prefix = serial[:3].upper()
    for model, prefixes in _MODEL_PREFIXES.items():
        if prefix in prefixes:
            return model
    return None


def _name(key: Observation | str) -> str:
    return key.name if isinstance(key, Observation) else key


def _finite(value: Any) -> float | None:
    """A JSON number or a decimal string as a finite float; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not _DECIMAL.fullmatch(value):
            return None
    elif not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        return None
    # + 0.0 turns "-0" into 0.0: Home Assistant would show "-0.0".
    return number + 0.0 if math.isfinite(number) else None


def _plausible(key: Observation | str, value: float | None) -> float | None:
    """`value` if it lies within the limit of `key` (or `key` has none), else None."""
    limit = PLAUSIBLE_LIMITS.get(key)
    if value is None or limit is None or value in limit:
        return value
    _LOGGER.debug(
        "Ignoring %s = %s %s: outside the plausible %s..%s",
        _name(key),
        value,
        limit.unit,
        limit.low,
        limit.high,
    )
    return None


def _operating_mode(value: float | None) -> int | None:
    """A known `OperatingMode` value as an int, else None."""
    if value is None:
        return None
    if value.is_integer() and int(value) in _OPERATING_MODES:
        return int(value)
    _LOGGER.debug("Ignoring operating mode %s: not a known mode", value)
    return None


def _id(value: Any) -> str | None:
    if isinstance(value, str) and _ID.fullmatch(value) and value.strip("."):
        return value
    return None


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        number = int(value) if _INTEGER.fullmatch(value) else None
    elif isinstance(value, int):
        number = int(value)  # a plain int, also for int subclasses such as enums
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        return None
    return number if number is not None and _INT32_LOW <= number < _INT32_HIGH else None


def _float(data: dict[str, Any], key: str) -> float | None:
    """A float field of a list/detail object, within its `PLAUSIBLE_LIMITS`."""
    return _plausible(key, _finite(data.get(key)))


def _bool(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _roles(data: dict[str, Any]) -> UserRole:
    bits = _int(data, "CurrentUserRoles")
    if bits is None or bits < 0:
        return UserRole.NONE
    # Bits we do not know (Onboarding, DeviceAdministrator, ...) grant us nothing.
    return UserRole(bits & _KNOWN_ROLES)


def _require_id(data: Any, what: str) -> str:
    identifier = _id(data.get("Id")) if isinstance(data, dict) else None
    if identifier is None:
        raise ZaptecProtocolError(
            f"{what} without an Id (or an unusable one): {reprlib.repr(data)}"
        )
    return identifier


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
    three_to_one_phase_switch_current: float | None = None
    users: tuple[InstallationUser, ...] = ()
    # "Message subscription" (Service Bus push) enabled for the installation (older model).
    messaging_enabled: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> Installation:
        """Parse an installation from `/api/installation` or `/api/installation/{id}`."""
        installation_id = _require_id(data, "Installation")
        users = tuple(
            InstallationUser(user_id, _str(user, "UserFullName"))
            for user in _list(data, "InstallationUsers")
            if isinstance(user, dict) and (user_id := _id(user.get("UserId"))) is not None
        )
        # The support group logo can be hundreds of kB of base64: never keep it.
        raw = {key: value for key, value in data.items() if key != "SupportGroup"}
        return cls(
            id=installation_id,
            name=_str(data, "Name") or installation_id,
            roles=_roles(data),
            authentication_type=_int(data, "AuthenticationType"),
            is_required_authentication=_bool(data, "IsRequiredAuthentication"),
            available_current_phase1=_float(data, "AvailableCurrentPhase1"),
            available_current_phase2=_float(data, "AvailableCurrentPhase2"),
            available_current_phase3=_float(data, "AvailableCurrentPhase3"),
            max_current=_float(data, "MaxCurrent"),
            three_to_one_phase_switch_current=_float(data, "ThreeToOnePhaseSwitchCurrent"),
            users=users,
            messaging_enabled=_bool(data, "MessagingEnabled") is True,
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
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> Charger:
        """Parse a charger from the list or the detail endpoint."""
        charger_id = _require_id(data, "Charger")
        return cls(
            id=charger_id,
            name=_str(data, "Name") or charger_id,
            serial=_str(data, "DeviceId") or _str(data, "SerialNo"),
            installation_id=_id(data.get("InstallationId")),
            device_type=_int(data, "DeviceType"),
            roles=_roles(data),
            authentication_type=_int(data, "AuthenticationType"),
            is_authorization_required=_bool(data, "IsAuthorizationRequired"),
            authentication_disabled=_bool(data, "PropertyAuthenticationDisabled"),
            operating_mode=_operating_mode(_finite(data.get("OperatingMode"))),
            is_online=_bool(data, "IsOnline"),
            signed_meter_value_kwh=_float(data, "SignedMeterValueKwh"),
            raw=dict(data),
        )

    @property
    def model(self) -> str | None:
        """Product name from the serial number prefix."""
        return model_from_serial(self.serial)


class ChargerCommand(IntEnum):
    """The `sendCommand` ids Zaptec supports for integrators (docs/zaptec.md#commands)."""

    RESTART_CHARGER = 102
    UPGRADE_FIRMWARE = 200
    STOP_CHARGING_FINAL = 506  # pause: the session stays, the charger stops delivering
    RESUME_CHARGING = 507
    DEAUTHORIZE_AND_STOP = 10001


class CommandResult(Enum):
    """What became of a command the cloud did not refuse outright."""

    SENT = "sent"  # accepted
    NOTHING_TO_DO = "nothing_to_do"  # code 528: the command would change nothing now
    UNCONFIRMED = "unconfirmed"  # HTTP 500 from deauthorize-and-stop: read the state to know


@dataclass(frozen=True, slots=True)
class ChargerFirmware:
    """One item of `/api/chargerFirmware/installation/{id}`."""

    charger_id: str
    current_version: str | None = None
    available_version: str | None = None
    is_up_to_date: bool | None = None
    is_online: bool | None = None

    @classmethod
    def list_from_api(cls, data: Any) -> list[ChargerFirmware]:
        """Parse the list; items without a usable `ChargerId` are dropped."""
        if not isinstance(data, list):
            raise ZaptecProtocolError(f"Firmware list expected, got {reprlib.repr(data)}")
        return [
            cls(
                charger_id=charger_id,
                current_version=_str(item, "CurrentVersion") or None,
                available_version=_str(item, "AvailableVersion") or None,
                is_up_to_date=_bool(item, "IsUpToDate"),
                is_online=_bool(item, "IsOnline"),
            )
            for item in data
            if isinstance(item, dict) and (charger_id := _id(item.get("ChargerId"))) is not None
        ]


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
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # Outside this window the clock of the charger or the cloud is wrong.
    return parsed if _EARLIEST <= parsed < _LATEST else None


def _state_value(item: dict[str, Any]) -> StateValue:
    return StateValue(_str(item, "ValueAsString"), _parse_timestamp(item.get("Timestamp")))


def parse_observation_row(
    data: Any,
) -> tuple[str, int, Observation | None, StateValue] | None:
    """One observation with its charger id (a pushed message): None unless it has both ids."""
    if not isinstance(data, dict):
        return None
    charger_id = _id(data.get("ChargerId"))
    state_id = _int(data, "StateId")
    if charger_id is None or state_id is None:
        return None
    return charger_id, state_id, _known_observation(state_id), _state_value(data)


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
            values[observation] = _state_value(item)
        return cls(charger_id=charger_id, values=values)

    def with_value(self, observation: Observation, value: StateValue) -> ChargerState:
        """A copy with one observation replaced (a pushed observation)."""
        return ChargerState(self.charger_id, {**self.values, observation: value})

    def text(self, observation: Observation) -> str | None:
        """The raw string of an observation, None when missing or empty."""
        item = self.values.get(observation)
        return item.value if item is not None and item.value not in (None, "") else None

    def number(self, observation: Observation) -> float | None:
        """An observation as a finite, plausible number; None when missing or not believable."""
        return _plausible(observation, _finite(self.text(observation)))

    def flag(self, observation: Observation) -> bool | None:
        """An observation "1"/"0" (or "true"/"false") as a bool; None for anything else."""
        text = self.text(observation)
        if text is None:
            return None
        word = {"true": True, "false": False}.get(text.strip().lower())
        if word is not None:
            return word
        number = self.number(observation)
        if number in {0, 1}:
            return number == 1
        if number is not None:
            _LOGGER.debug("Ignoring %s = %s: not a 0/1 flag", observation.name, number)
        return None

    @property
    def operating_mode(self) -> int | None:
        """Observation 710 as an int, None unless it is a known `OperatingMode` value."""
        return _operating_mode(self.number(Observation.CHARGER_OPERATION_MODE))

    @property
    def paused(self) -> bool:
        """Stopped by command 506: "finished" (710 = 5) with FinalStopActive (718 = 1)."""
        return (
            self.operating_mode == OperatingMode.CONNECTED_FINISHED
            and self.flag(Observation.FINAL_STOP_ACTIVE) is True
        )

    @property
    def schedule_active(self) -> bool:
        """A charging schedule is set (observation 763 has a value): resume is refused then."""
        return self.text(Observation.NEXT_SCHEDULE_EVENT) is not None

    def accepts(self, command: ChargerCommand) -> bool:
        """Whether Zaptec's command validation would accept `command` in this state.

        506 is refused when paused or disconnected, 507 unless paused or while a schedule is
        active (docs/zaptec.md#commands); deauthorize needs a connected car (plausible);
        restart and firmware upgrade have no state rule.
        """
        mode = self.operating_mode
        connected = mode in _CONNECTED_MODES
        if command is ChargerCommand.STOP_CHARGING_FINAL:
            return connected and not self.paused
        if command is ChargerCommand.RESUME_CHARGING:
            return self.paused and not self.schedule_active
        if command is ChargerCommand.DEAUTHORIZE_AND_STOP:
            return connected
        return True

    @property
    def completed_session_kwh(self) -> float | None:
        """`Energy` (kWh) of the last completed session (observation 723, a JSON object)."""
        text = self.text(Observation.COMPLETED_SESSION)
        if text is None:
            return None
        try:
            session = _OCMF_JSON.decode(text)  # strict JSON: no NaN or Infinity literals
        except ValueError, RecursionError:
            return None
        energy = session.get("Energy") if isinstance(session, dict) else None
        return _plausible(Observation.COMPLETED_SESSION, _finite(energy))

    @property
    def meter_reading_kwh(self) -> float | None:
        """Lifetime meter reading (kWh) from the OCMF string of observation 554."""
        return parse_ocmf_reading(self.text(Observation.SIGNED_METER_VALUE))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a meter reading")


# Python's json takes NaN/Infinity literals by default; OCMF (strict JSON) has none.
_OCMF_JSON: Final = json.JSONDecoder(parse_constant=_reject_constant)
# OCMF `RU`: the unit of `RV`. Zaptec sends kWh; a record without `RU` is taken as kWh.
_OCMF_DIVISORS: Final = {"kwh": 1, "wh": 1000}


def _ocmf_payload(record: str) -> Any:
    """The JSON between `OCMF|` and the `|{signature}` part, None if it is not JSON."""
    body = record.removeprefix("OCMF|").lstrip()
    try:
        payload, end = _OCMF_JSON.raw_decode(body)
    except ValueError, RecursionError:
        return None
    return payload if body[end:].lstrip()[:1] in {"", "|"} else None


def _ocmf_kwh(reading: Any) -> float | None:
    """`RV` of one `RD` entry in kWh; NaN for an energy reading that is not a finite number.

    None: not an energy reading we understand (no number, or a unit other than kWh/Wh).
    """
    if not isinstance(reading, dict):
        return None
    value, unit = reading.get("RV"), reading.get("RU", "kWh")
    if isinstance(value, bool) or not isinstance(value, int | float) or not isinstance(unit, str):
        return None
    divisor = _OCMF_DIVISORS.get(unit.strip().lower())
    if divisor is None:
        return None
    number = _finite(value)
    return math.nan if number is None else number / divisor + 0.0


def parse_ocmf_reading(text: str | None) -> float | None:
    """Largest `RD[].RV` of an OCMF record `OCMF|{json}|{signature}` (kWh), None if unusable.

    One implausible energy reading (not finite, negative, beyond `PLAUSIBLE_LIMITS`) makes the
    whole record unknown: the record itself is not to be trusted then.
    """
    if not isinstance(text, str) or not text.startswith("OCMF|"):
        return None
    payload = _ocmf_payload(text)
    entries = _list(payload, "RD") if isinstance(payload, dict) else []
    readings = [kwh for kwh in map(_ocmf_kwh, entries) if kwh is not None]
    if not readings:
        return None
    limit = PLAUSIBLE_LIMITS[Observation.SIGNED_METER_VALUE]
    if not all(kwh in limit for kwh in readings):  # NaN is never in a limit
        _LOGGER.debug("Ignoring OCMF record with implausible readings %s kWh", readings)
        return None
    return max(readings)
