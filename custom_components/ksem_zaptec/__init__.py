"""KOSTAL KSEM & Zaptec: one integration, two kinds of config entry.

`entry.data["kind"]` decides which side sets the entry up: everything about the KOSTAL Smart
Energy Meter lives in `ksem/`, everything about the Zaptec cloud in `zaptec/`.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .kinds import is_ksem
from .ksem import entry as ksem_entry
from .zaptec import entry as zaptec_entry
from .zaptec.services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's action (Zaptec: per-phase available current)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set up a KSEM or a Zaptec account entry."""
    if is_ksem(entry):
        return await ksem_entry.async_setup_entry(hass, entry)
    return await zaptec_entry.async_setup_entry(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Unload an entry of either kind."""
    if is_ksem(entry):
        return await ksem_entry.async_unload_entry(hass, entry)
    return await zaptec_entry.async_unload_entry(hass, entry)


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A deleted entry takes its leftovers along (repair issues, a cached client)."""
    if is_ksem(entry):
        await ksem_entry.async_remove_entry(hass, entry)
    else:
        await zaptec_entry.async_remove_entry(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: ConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user remove a device the backend no longer reports."""
    if is_ksem(entry):
        return await ksem_entry.async_remove_config_entry_device(hass, entry, device)
    return await zaptec_entry.async_remove_config_entry_device(hass, entry, device)
