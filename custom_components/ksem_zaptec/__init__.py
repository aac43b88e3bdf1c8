"""KOSTAL KSEM & Zaptec: one integration, two kinds of config entry.

`entry.data["kind"]` decides which side sets the entry up: everything about the KOSTAL Smart
Energy Meter lives in `ksem/`, everything about the Zaptec cloud in `zaptec/`.
"""

from __future__ import annotations

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, LOGGER
from .kinds import is_ksem
from .ksem import entry as ksem_entry
from .zaptec import entry as zaptec_entry
from .zaptec.const import CONF_ZAPTEC_API_URL, CONF_ZAPTEC_SERVICEBUS_CA, LEGACY_CONF_API_URL
from .zaptec.coordinator import API_URL, SERVICEBUS_CA
from .zaptec.services import async_setup_services

# Set up through the UI only. The YAML keys are for the development instance and the tests:
# they point the Zaptec side at the simulator and its Service Bus broker (see zaptec/const.py).
CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional(DOMAIN): vol.Schema(
            {
                vol.Optional(CONF_ZAPTEC_API_URL): cv.url,
                vol.Optional(CONF_ZAPTEC_SERVICEBUS_CA): cv.string,
            }
        )
    },
    extra=vol.ALLOW_EXTRA,
)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions; take the development-only Zaptec URL from configuration.yaml."""
    async_setup_services(hass)
    development = config.get(DOMAIN, {})
    if url := development.get(CONF_ZAPTEC_API_URL):
        LOGGER.warning("The Zaptec side talks to %s instead of the Zaptec cloud", url)
        hass.data[API_URL] = url.rstrip("/")
    if ca_file := development.get(CONF_ZAPTEC_SERVICEBUS_CA):
        LOGGER.warning("Zaptec push trusts the test broker CA %s", ca_file)
        hass.data[SERVICEBUS_CA] = ca_file
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """1.1 → 1.2: a Zaptec entry no longer stores the cloud's URL."""
    # Newer Home Assistant refuses an entry of a newer major version before asking; the oldest
    # supported one asks (tests/zaptec/test_init.py checks both).
    if entry.version > 1:  # pragma: no cover - reached on the oldest supported HA only
        return False
    if entry.minor_version == 1:
        data = {k: v for k, v in entry.data.items() if k != LEGACY_CONF_API_URL}
        hass.config_entries.async_update_entry(entry, data=data, minor_version=2)
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
