"""May this account change "authorization required" here? Reasons logged once, repair issues.

A switch is available only when the account is Owner or Service and the installation uses
Zaptec's own (native) authorization. The reason it is not is logged once per change, and when
the user can do something about it (ask for the Owner role) a repair issue says so.
"""

from __future__ import annotations

from enum import StrEnum

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN, LOGGER
from . import const
from .api import AuthenticationType, Charger, DeviceType, Installation, UserRole
from .coordinator import ZaptecConfigEntry, has_write_role


class Blocked(StrEnum):
    """Why a switch cannot write."""

    ROLE = "role"
    AUTHENTICATION_TYPE = "authentication_type"


_REASONS = {
    Blocked.ROLE: "the account is neither Owner nor Service of it",
    Blocked.AUTHENTICATION_TYPE: (
        "it does not use Zaptec's native authorization (a payment or OCPP operator manages "
        "access; change it there)"
    ),
}


def installation_blocked(installation: Installation) -> Blocked | None:
    """Why the installation switch cannot write, None when it can."""
    if not has_write_role(installation.roles):
        return Blocked.ROLE
    if installation.authentication_type != AuthenticationType.NATIVE:
        return Blocked.AUTHENTICATION_TYPE
    return None


def charger_blocked(charger: Charger, installation: Installation | None) -> Blocked | None:
    """Why the charger switch cannot write, None when it can."""
    roles = charger.roles | (installation.roles if installation else UserRole.NONE)
    auth = charger.authentication_type
    if auth is None and installation is not None:
        auth = installation.authentication_type
    if not has_write_role(roles):
        return Blocked.ROLE
    if auth != AuthenticationType.NATIVE:
        return Blocked.AUTHENTICATION_TYPE
    return None


def control_blocked(charger: Charger, installation: Installation | None) -> Blocked | None:
    """Why the account cannot send commands or set currents on a charger (the role only)."""
    roles = charger.roles | (installation.roles if installation else UserRole.NONE)
    return None if has_write_role(roles) else Blocked.ROLE


def deauthorize_blocked(charger: Charger, installation: Installation | None) -> Blocked | None:
    """Why the account cannot deauthorize sessions: the role, or an operator authorizes them.

    Zaptec documents deauthorize-and-stop for its native and its OCPP cloud authorization.
    """
    if (blocked := control_blocked(charger, installation)) is not None:
        return blocked
    auth = charger.authentication_type
    if auth is None and installation is not None:
        auth = installation.authentication_type
    if auth not in {AuthenticationType.NATIVE, AuthenticationType.OCPP}:
        return Blocked.AUTHENTICATION_TYPE
    return None


def installation_control_blocked(installation: Installation) -> Blocked | None:
    """Why the account cannot set an installation's currents (the role only)."""
    return None if has_write_role(installation.roles) else Blocked.ROLE


def has_charger_switch(charger: Charger) -> bool:
    """Only Pro/Home chargers have their own setting; Go is managed per installation."""
    return charger.device_type == DeviceType.SMART


def _issue_id(installation_id: str) -> str:
    return f"{const.ISSUE_INSUFFICIENT_ROLE}_{installation_id}"


class PermissionMonitor:
    """Logs each switch's block reason when it changes and keeps the repair issues current."""

    def __init__(self, hass: HomeAssistant, entry: ZaptecConfigEntry) -> None:
        """Follow one account."""
        self._hass = hass
        self._entry = entry
        self._reasons: dict[str, Blocked | None] = {}
        self._issues: set[str] = set()

    def _report(self, key: str, what: str, reason: Blocked | None) -> None:
        if key in self._reasons and self._reasons[key] == reason:
            return
        previous = self._reasons.get(key)
        self._reasons[key] = reason
        if reason is not None:
            LOGGER.info(
                '"Authorization required" of %s cannot be changed: %s', what, _REASONS[reason]
            )
        elif previous is not None:
            LOGGER.info('"Authorization required" of %s can be changed again', what)

    @callback
    def async_check(self) -> None:
        """Look at the latest details (a details coordinator listener)."""
        details = self._entry.runtime_data.details.data
        wanted_issues: dict[str, Installation] = {}
        for installation in details.installations.values():
            reason = installation_blocked(installation)
            self._report(installation.id, f"installation {installation.name}", reason)
            if reason is Blocked.ROLE:
                wanted_issues[_issue_id(installation.id)] = installation
        for charger in details.chargers.values():
            if not has_charger_switch(charger):
                continue
            parent = details.installations.get(charger.installation_id or "")
            self._report(charger.id, f"charger {charger.name}", charger_blocked(charger, parent))
        for issue_id, blocked in wanted_issues.items():
            if issue_id not in self._issues:
                ir.async_create_issue(
                    self._hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    is_persistent=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=const.ISSUE_INSUFFICIENT_ROLE,
                    translation_placeholders={
                        "installation": blocked.name,
                        "account": self._entry.title,
                    },
                )
        for issue_id in self._issues - wanted_issues.keys():
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
        self._issues = set(wanted_issues)

    @callback
    def async_clear(self) -> None:
        """Remove this account's issues (entry unloaded; a new setup raises them again)."""
        for issue_id in self._issues:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
        self._issues.clear()
