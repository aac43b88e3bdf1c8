"""Diagnostics: each side redacts its own secrets (tokens, passwords, serials, e-mails)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .kinds import is_ksem
from .ksem import diagnostics as ksem_diagnostics
from .zaptec import diagnostics as zaptec_diagnostics


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry
) -> dict[str, Any]:
    """Return the diagnostics of a KSEM or a Zaptec entry."""
    if is_ksem(entry):
        return await ksem_diagnostics.async_get_config_entry_diagnostics(hass, entry)
    return await zaptec_diagnostics.async_get_config_entry_diagnostics(hass, entry)


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """Return the diagnostics of one device: a KSEM, a Zaptec charger or installation."""
    if is_ksem(entry):
        return await ksem_diagnostics.async_get_device_diagnostics(hass, entry, device)
    return await zaptec_diagnostics.async_get_device_diagnostics(hass, entry, device)
