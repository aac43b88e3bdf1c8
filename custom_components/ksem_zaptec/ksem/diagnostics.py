"""Diagnostics of a KSEM entry: entry, device, connection mode and the last reading.

The token, the serial and network identifiers are redacted. The entry's data keep what the
meter answered to each request of the pairing (`pairing_probes`, docs/ksem.md#token-route):
that is how one user's file settles where a real meter issues tokens.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .coordinator import KsemConfigEntry

TO_REDACT = {
    CONF_TOKEN,
    CONF_HOST,
    "serial",
    "unique_id",
    "title",
    "mac",
    "hostname",
    "token_id",
    "identifiers",
    "serial_number",
    "certificate_sha256",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: KsemConfigEntry
) -> dict[str, Any]:
    """What a bug report needs, without secrets."""
    coordinator = entry.runtime_data.coordinator
    data = coordinator.data
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "device": None if coordinator.device is None else asdict(coordinator.device),
            "connection": {
                "push_connected": coordinator.push_connected,
                "transport": coordinator.transport,
                "poll_transport": coordinator.poll_transport,
                "stale_after": coordinator.stale_after.total_seconds(),
                "has_energy_flow": coordinator.has_energy_flow,
                "update_interval": str(coordinator.update_interval),
                "write_interval": coordinator.write_interval,
                "last_update_success": coordinator.last_update_success,
            },
            "data": None if data is None else asdict(data),
        },
        TO_REDACT,
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: KsemConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """The meter and its home battery share the entry's file, redacted the same way."""
    return await async_get_config_entry_diagnostics(hass, entry)
