"""Sensor platform: the KSEM meter values and the Zaptec charger/installation values."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .kinds import is_ksem
from .ksem import sensor as ksem_sensor
from .zaptec import sensor as zaptec_sensor

# Read-only entities fed by coordinators: no per-entity update calls to limit.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of the entry's kind."""
    if is_ksem(entry):
        await ksem_sensor.async_setup_entry(hass, entry, async_add_entities)
    else:
        await zaptec_sensor.async_setup_entry(hass, entry, async_add_entities)
