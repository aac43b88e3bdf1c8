"""Data of the simulated Zaptec cloud and its JSON rendering (PascalCase, like the real API)."""

from __future__ import annotations

import json
import struct
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_NAMESPACE = uuid.UUID("6f1d2a52-5a8c-4a4e-9a53-2c1f0f1f7a10")

OWNER_ROLES = 3  # User + Owner
ROLE_OWNER = 2
ROLE_MAINTAINER = 4
DEVICE_TYPE_PRO = 1
DEVICE_TYPE_GO = 4


def stable_id(*parts: object) -> str:
    """A uuid that is the same on every run for the same parts (stable snapshots)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(part) for part in parts)))


def device_type_for(serial: str) -> int:
    """Pro/Home serials start with ZPR/ZCS/ZCH/ZPG, everything else is treated as a Go."""
    return DEVICE_TYPE_PRO if serial[:3] in {"ZPR", "ZCS", "ZCH", "ZPG"} else DEVICE_TYPE_GO


def _timestamp(when: datetime) -> str:
    # Zaptec sends UTC without an offset.
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


@dataclass
class SimInstallation:
    """An installation: its authorization settings and the account's roles on it."""

    id: str
    name: str
    authentication_type: int = 0
    required: bool = True
    roles: int = OWNER_ROLES
    max_current: float = 40.0
    available_current: tuple[float, float, float] = (32.0, 32.0, 32.0)
    # "Message subscription" (Service Bus push); only rendered when on.
    messaging_enabled: bool = False
    three_to_one_phase_switch_current: float | None = 0.0  # None: not rendered (a Go 1 site)
    # Refusals of the documented writes, one flag each (see ZaptecSimulator):
    apm: bool = False  # Zaptec Sense/APM manages the current: installation update -> 527

    def to_json(self) -> dict[str, Any]:
        """Render like `GET /api/installation/{id}`."""
        return {
            "Id": self.id,
            "Name": self.name,
            "Address": "Sim street 1",
            "ZipCode": "0150",
            "City": "Oslo",
            "ContactEmail": "owner@example.com",
            "Latitude": 59.91,
            "Longitude": 10.75,
            "InstallationType": 0,
            "NetworkType": 4,
            "MaxCurrent": self.max_current,
            **(
                {"ThreeToOnePhaseSwitchCurrent": self.three_to_one_phase_switch_current}
                if self.three_to_one_phase_switch_current is not None
                else {}
            ),
            "AvailableCurrentPhase1": self.available_current[0],
            "AvailableCurrentPhase2": self.available_current[1],
            "AvailableCurrentPhase3": self.available_current[2],
            "IsRequiredAuthentication": self.required,
            "AuthenticationType": self.authentication_type,
            "CurrentUserRoles": self.roles,
            "Active": True,
            "InstallationUsers": [
                {
                    "UserId": stable_id("user", "owner"),
                    "UserFullName": "Demo Owner",
                    "UserEmail": "owner@example.com",
                }
            ],
            "SupportGroup": {"Name": "Sim installer", "LogoBase64": "AAAA"},
        } | ({"MessagingEnabled": True} if self.messaging_enabled else {})


@dataclass
class SimCharger:
    """A charger and the live values its state endpoint reports."""

    id: str
    name: str
    serial: str
    installation_id: str
    device_type: int = DEVICE_TYPE_PRO
    operating_mode: int = 1
    power_w: float = 0.0
    session_kwh: float = 0.0
    meter_kwh: float = 1234.5
    online: bool = True
    auth_disabled: bool = False
    current_user: str = ""
    firmware: str = "4.1.0.1"
    latest_firmware: str = "4.1.0.1"
    final_stop: bool = False  # observation 718: paused by command 506
    schedule_active: bool = False  # observation 763 set: resume (507) is refused
    max_current: float = 32.0  # observations 510/511, set by POST /api/chargers/{id}/update
    min_current: float = 6.0
    resume_power_w: float = 7360.0  # what a resumed session draws
    completed_session_kwh: float | None = None  # observation 723, set when a session ends
    # Refusals, one flag each (see ZaptecSimulator):
    externally_managed: bool = False  # an external load system: charger update -> 403
    deauthorize_answers_500: bool = False  # 10001 executes, but answers HTTP 500
    updated: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def effective_required(self, installation: SimInstallation) -> bool:
        """What the cloud reports as IsAuthorizationRequired (a guess: installation AND charger)."""
        native = installation.authentication_type == 0
        return native and installation.required and not self.auth_disabled

    def to_list_json(self, installation: SimInstallation) -> dict[str, Any]:
        """Render like an item of `GET /api/chargers`."""
        return {
            "OperatingMode": self.operating_mode,
            "IsOnline": self.online,
            "Id": self.id,
            "DeviceId": self.serial,
            "Name": self.name,
            "CircuitId": stable_id("circuit", self.installation_id),
            "Active": True,
            "CurrentUserRoles": installation.roles,
            "Pin": "1234",
            "DeviceType": self.device_type,
            "InstallationName": installation.name,
            "InstallationId": self.installation_id,
            "AuthenticationType": installation.authentication_type,
            "IsAuthorizationRequired": self.effective_required(installation),
        }

    def to_detail_json(self, installation: SimInstallation) -> dict[str, Any]:
        """Render like `GET /api/chargers/{id}` (no OperatingMode/IsOnline there)."""
        data = self.to_list_json(installation)
        del data["OperatingMode"], data["IsOnline"]
        data["PropertyAuthenticationDisabled"] = self.auth_disabled
        data["SignedMeterValueKwh"] = round(self.meter_kwh, 3)
        return data

    def ocmf(self) -> str:
        """Observation 554: the signed meter value as an OCMF record."""
        payload = {
            "FV": "1.0",
            "GI": "ZAPTEC",
            "RD": [
                {"TM": _timestamp(self.updated) + ",000+00:00 R", "RV": round(self.meter_kwh, 3)}
            ],
        }
        return "OCMF|" + json.dumps(payload, separators=(",", ":")) + "|{}"

    def completed_session(self) -> str | None:
        """Observation 723: the last completed session as a JSON string (None: none yet)."""
        if self.completed_session_kwh is None:
            return None
        session = {
            "SessionId": stable_id("session", self.id, self.completed_session_kwh),
            "Energy": round(self.completed_session_kwh, 3),
            "StartDateTime": _timestamp(self.updated),
            "EndDateTime": _timestamp(self.updated),
            "ReliableClock": True,
            "StoppedByRFID": False,
            "AuthenticationCode": "",
            "SignedSession": "",
        }
        return json.dumps(session, separators=(",", ":"))

    def state_json(self, installation: SimInstallation) -> list[dict[str, Any]]:
        """Render like `GET /api/chargers/{id}/state`: all values are strings."""
        charging = self.operating_mode == 3
        phase_current = self.power_w / 230.0 / 3 if charging else 0.0
        values: dict[int, str | None] = {
            -1: None,  # the pulse has no ValueAsString
            -2: "1" if self.online else "0",
            120: "1" if self.effective_required(installation) else "0",
            501: "230.1",
            502: "229.8",
            503: "231.0",
            507: f"{phase_current:.2f}",
            508: f"{phase_current:.2f}",
            509: f"{phase_current:.2f}",
            510: f"{self.max_current:g}",
            511: f"{self.min_current:g}",
            513: f"{self.power_w:.1f}",
            553: f"{self.session_kwh:.3f}",
            554: self.ocmf(),
            708: "16" if self.operating_mode in (2, 3) else "0",
            710: str(self.operating_mode),
            718: "1" if self.final_stop else "0",
            722: self.current_user,
            723: self.completed_session(),
            763: "2026-01-01T22:00:00Z" if self.schedule_active else None,
            854: "PilotTestResults: not parsed",  # an id the integration ignores
            908: self.firmware,
            911: self.firmware,
        }
        stamp = _timestamp(self.updated)
        result: list[dict[str, Any]] = []
        for state_id, value in values.items():
            item: dict[str, Any] = {"ChargerId": self.id, "StateId": state_id, "Timestamp": stamp}
            if value is not None:
                item["ValueAsString"] = value
            result.append(item)
        return result


def observation_message(charger: SimCharger, item: dict[str, Any]) -> dict[str, Any]:
    """A pushed observation: a state row plus the charger's serial and type, ISO time with Z."""
    return {
        "ChargerId": charger.id,
        "DeviceId": charger.serial,
        "DeviceType": charger.device_type,
        "StateId": item["StateId"],
        "Timestamp": item["Timestamp"] + "Z",
        "ValueAsString": item.get("ValueAsString"),
    }


def nbfx_string(text: str) -> bytes:
    """`text` as .NET binary XML (MC-NBFX) of a serialized string, as Zaptec's messages are.

    `<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">text</string>`: a
    ShortElement record, a ShortXmlnsAttribute, Chars8Text or Chars16Text (Chars32Text for
    longer text), EndElement.
    """
    name, namespace = b"string", b"http://schemas.microsoft.com/2003/10/Serialization/"
    data = text.encode()
    if len(data) < 1 << 8:
        chars = bytes([0x98, len(data)])
    elif len(data) < 1 << 16:
        chars = b"\x9a" + struct.pack("<H", len(data))
    else:
        chars = b"\x9c" + struct.pack("<I", len(data))
    return (
        bytes([0x40, len(name)])
        + name
        + bytes([0x08, len(namespace)])
        + namespace
        + chars
        + data
        + b"\x01"
    )
