"""Set up and unload a KSEM config entry."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api import KsemClient
from .const import CONF_CERTIFICATE_SHA256
from .coordinator import KsemConfigEntry, KsemCoordinator, KsemRuntimeData
from .repairs import (
    async_check_token_expiry,
    async_delete_firmware_issue,
    async_delete_repair_issues,
)

PLATFORMS: list[Platform] = [Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: KsemConfigEntry) -> bool:
    """Connect to the meter, read it once, start the push stream, add the sensors."""
    client = KsemClient(
        entry.data[CONF_HOST],
        async_get_clientsession(hass),
        entry.data[CONF_TOKEN],
        entry.data.get(CONF_CERTIFICATE_SHA256),
    )
    coordinator = KsemCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    # A reading works: a firmware issue of an earlier (retried) setup is solved.
    async_delete_firmware_issue(hass, entry)
    entry.runtime_data = KsemRuntimeData(coordinator=coordinator)
    async_check_token_expiry(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_push()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: KsemConfigEntry) -> bool:
    """Unload the sensors; background tasks end with the entry."""
    async_delete_firmware_issue(hass, entry)
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: KsemConfigEntry) -> None:
    """Delete the entry's repair issues (unload is skipped when setup never succeeded)."""
    async_delete_repair_issues(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: KsemConfigEntry, device: dr.DeviceEntry
) -> bool:
    """The meter is the entry's only device: remove the entry instead."""
    return False
