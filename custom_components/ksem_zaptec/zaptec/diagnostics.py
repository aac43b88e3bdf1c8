"""Diagnostics of a Zaptec account entry, with personal data and secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .api import Observation
from .coordinator import ZaptecConfigEntry

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
# Who authorized the session (RFID tag or user id) and the signed meter record (meter serial).
_PRIVATE_OBSERVATIONS = {Observation.CHARGER_CURRENT_USER_UUID, Observation.SIGNED_METER_VALUE}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry
) -> dict[str, Any]:
    """What the integration knows about the account, safe to paste into an issue."""
    zaptec_entry: ZaptecConfigEntry = entry
    runtime = zaptec_entry.runtime_data
    details = runtime.details.data
    states = runtime.state.data or {}
    return {
        "entry": {
            "title": REDACTED,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
        },
        "installations": [
            async_redact_data(installation.raw, TO_REDACT)
            for installation in details.installations.values()
        ],
        "chargers": [
            async_redact_data(charger.raw, TO_REDACT) for charger in details.chargers.values()
        ],
        "states": {
            charger_id: {
                "meter_reading_kwh": state.meter_reading_kwh,
                "observations": {
                    observation.name: REDACTED
                    if observation in _PRIVATE_OBSERVATIONS and value.value
                    else value.value
                    for observation, value in sorted(state.values.items())
                },
            }
            for charger_id, state in sorted(states.items())
        },
        "polling": {
            "details_ok": runtime.details.last_update_success,
            "state_ok": runtime.state.last_update_success,
            "no_state_access": sorted(runtime.state.no_access),
        },
    }
