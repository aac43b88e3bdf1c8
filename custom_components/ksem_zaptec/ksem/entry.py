"""Set up and unload a KSEM config entry."""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_HOST, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ..const import DOMAIN
from .api import KsemClient
from .const import CONF_CERTIFICATE_SHA256
from .coordinator import KsemConfigEntry, KsemCoordinator, KsemRuntimeData
from .device import ksem_device_info
from .repairs import (
    async_check_token_expiry,
    async_delete_firmware_issue,
    async_delete_repair_issues,
)

PLATFORMS: list[Platform] = [Platform.SENSOR]

# Sensor keys renamed to one word order (`import_power` / `import_energy`): old -> new. The
# unique id is `<serial>_<key>`; migrating it keeps the entity, its id and its history.
RENAMED_KEYS: dict[str, str] = {
    "energy_import": "import_energy",
    "energy_export": "export_energy",
    "house_consumption": "house_power",
    **{
        f"energy_{direction}_l{phase}": f"{direction}_energy_l{phase}"
        for direction in ("import", "export")
        for phase in (1, 2, 3)
    },
}


async def async_migrate_unique_ids(hass: HomeAssistant, entry: KsemConfigEntry) -> None:
    """Give entities of renamed keys their new unique id (a taken one is left alone)."""
    registry = er.async_get(hass)
    prefix = f"{entry.unique_id}_"

    @callback
    def migrate(entity: er.RegistryEntry) -> dict[str, Any] | None:
        new_key = RENAMED_KEYS.get(entity.unique_id.removeprefix(prefix))
        if entity.domain != Platform.SENSOR or new_key is None:
            return None
        new_unique_id = prefix + new_key
        if registry.async_get_entity_id(Platform.SENSOR, DOMAIN, new_unique_id) is not None:
            return None
        return {"new_unique_id": new_unique_id}

    await er.async_migrate_entries(hass, entry.entry_id, migrate)


async def async_setup_entry(hass: HomeAssistant, entry: KsemConfigEntry) -> bool:
    """Connect to the meter, read it once, start the push stream, add the sensors."""
    client = KsemClient(
        entry.data[CONF_HOST],
        async_get_clientsession(hass),
        entry.data[CONF_TOKEN],
        entry.data.get(CONF_CERTIFICATE_SHA256),
    )
    await async_migrate_unique_ids(hass, entry)
    coordinator = KsemCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    # A reading works: a firmware issue of an earlier (retried) setup is solved.
    async_delete_firmware_issue(hass, entry)
    entry.runtime_data = KsemRuntimeData(coordinator=coordinator)
    # The meter first: the home battery's device links to it.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **ksem_device_info(coordinator)
    )
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
    """The meter and its home battery come and go with the entry: remove the entry instead."""
    return False
