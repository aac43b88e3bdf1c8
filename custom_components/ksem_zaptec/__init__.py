"""KOSTAL KSEM & Zaptec: one integration, two kinds of config entry.

`entry.data["kind"]` decides which side sets the entry up: everything about the KOSTAL Smart
Energy Meter lives in `ksem/`, everything about the Zaptec cloud in `zaptec/`.
"""

from __future__ import annotations

from types import ModuleType

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import CONF_KIND, KIND_KSEM
from .ksem import setup as ksem_setup
from .zaptec import setup as zaptec_setup


def _side(entry: ConfigEntry) -> ModuleType:
    return ksem_setup if entry.data.get(CONF_KIND) == KIND_KSEM else zaptec_setup


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set up a KSEM or a Zaptec account entry."""
    result: bool = await _side(entry).async_setup_entry(hass, entry)
    return result


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Unload an entry of either kind."""
    result: bool = await _side(entry).async_unload_entry(hass, entry)
    return result


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A deleted entry takes its leftovers along (repair issues, a cached client)."""
    await _side(entry).async_remove_entry(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: ConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user remove a device the backend no longer reports."""
    result: bool = await _side(entry).async_remove_config_entry_device(hass, entry, device)
    return result
