"""Binary sensor platform (Zaptec entries only; KSEM entries do not forward it)."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .zaptec import binary_sensor as zaptec_binary_sensor

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the Zaptec binary sensors."""
    await zaptec_binary_sensor.async_setup_entry(hass, entry, async_add_entities)
