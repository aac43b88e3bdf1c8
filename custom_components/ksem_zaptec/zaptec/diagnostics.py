"""Diagnostics of a Zaptec account entry or of one of its devices, personal data redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from ..const import DOMAIN
from .api import ChargerState, Observation
from .coordinator import ZaptecConfigEntry, ZaptecRuntimeData

REDACTED = "**REDACTED**"
TO_REDACT = {
    CONF_PASSWORD,
    CONF_USERNAME,
    "access_token",
    # People and places
    "Address",
    "ZipCode",
    "City",
    "Latitude",
    "Longitude",
    "ContactEmail",
    "UserEmail",
    "UserFullName",
    "UserId",
    "UserTokens",
    "VatNumber",
    "Notes",
    # Devices and their secrets
    "DeviceId",
    "SerialNo",
    "MID",
    "Mid",
    "Pin",
    "PropertyOcppPassword",
    "OcppInitialChargePointPassword",
    "WebhooksAuthPayload",
    "WebhooksAuthUrl",
    "WebhooksSessionStartUrl",
    "WebhooksSessionEndUrl",
}
# Who authorized the session (RFID tag or user id), the signed meter record (meter serial) and
# the last completed session (its authentication code and signed record).
_PRIVATE_OBSERVATIONS = {
    Observation.CHARGER_CURRENT_USER_UUID,
    Observation.SIGNED_METER_VALUE,
    Observation.COMPLETED_SESSION,
}


def _entry(entry: ZaptecConfigEntry) -> dict[str, Any]:
    return {"title": REDACTED, "data": async_redact_data(dict(entry.data), TO_REDACT)}


def _state(state: ChargerState) -> dict[str, Any]:
    return {
        "meter_reading_kwh": state.meter_reading_kwh,
        "observations": {
            observation.name: REDACTED
            if observation in _PRIVATE_OBSERVATIONS and value.value
            else value.value
            for observation, value in sorted(state.values.items())
        },
    }


def _polling(runtime: ZaptecRuntimeData) -> dict[str, Any]:
    return {
        "details_ok": runtime.details.last_update_success,
        "state_ok": runtime.state.last_update_success,
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ZaptecConfigEntry
) -> dict[str, Any]:
    """What the integration knows about the account, safe to paste into an issue."""
    runtime = entry.runtime_data
    details = runtime.details.data
    states = runtime.state.data or {}
    return {
        "entry": _entry(entry),
        "installations": [
            async_redact_data(installation.raw, TO_REDACT)
            for installation in details.installations.values()
        ],
        "chargers": [
            async_redact_data(charger.raw, TO_REDACT) for charger in details.chargers.values()
        ],
        "states": {charger_id: _state(state) for charger_id, state in sorted(states.items())},
        "polling": {**_polling(runtime), "no_state_access": sorted(runtime.state.no_access)},
        "control": _control(runtime),
    } | _push(runtime)


def _push(runtime: ZaptecRuntimeData) -> dict[str, Any]:
    """Push status, only for accounts with a message subscription (no credentials in it)."""
    push = runtime.push
    if push is None or not (enabled := push.enabled):
        return {}
    return {
        "push": {
            "model": push.model,
            "enabled": sorted(enabled),
            "connected": sorted(push.connected),
            "messages": push.messages,
            "undecodable": push.undecodable,
        }
    }


def _control(runtime: ZaptecRuntimeData) -> dict[str, Any]:
    """Rate guard, Sense/APM refusals and firmware versions (no secrets in any of them)."""
    limiter = runtime.limiter
    return {
        "pending_available_current": {
            installation_id: list(phases) for installation_id, phases in limiter.pending.items()
        },
        "managed_by_apm": sorted(limiter.managed_by_apm),
        "firmware_ok": runtime.firmware.last_update_success,
        "firmware": {
            charger_id: {
                "installed": item.current_version,
                "available": item.available_version,
                "up_to_date": item.is_up_to_date,
            }
            for charger_id, item in sorted((runtime.firmware.data or {}).items())
        },
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: ZaptecConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """One charger or installation of the account, redacted like the entry's diagnostics.

    A charger's file holds its details, its latest observations and whether they are fresh; an
    installation's file holds its details and which chargers belong to it. The rest of the
    account (other installations, their people and addresses) stays out.
    """
    runtime = entry.runtime_data
    details = runtime.details.data
    ids = {identifier for domain, identifier in device.identifiers if domain == DOMAIN}
    result: dict[str, Any] = {"entry": _entry(entry), "polling": _polling(runtime)}
    if charger := next((details.chargers[i] for i in ids if i in details.chargers), None):
        state = (runtime.state.data or {}).get(charger.id)
        result["charger"] = async_redact_data(charger.raw, TO_REDACT)
        result["state"] = None if state is None else _state(state)
        result["polling"] |= {
            "state_access": charger.id not in runtime.state.no_access,
            "state_available": runtime.state.is_available(charger.id),
        }
    elif installation := next(
        (details.installations[i] for i in ids if i in details.installations), None
    ):
        result["installation"] = async_redact_data(installation.raw, TO_REDACT)
        result["charger_ids"] = sorted(
            c.id for c in details.chargers.values() if c.installation_id == installation.id
        )
    else:
        # Left in the registry after the account stopped reporting it.
        result["not_reported_by_account"] = True
    return result
