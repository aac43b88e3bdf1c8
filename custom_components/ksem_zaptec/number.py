"""Number platform: Zaptec installation and charger currents."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .zaptec import number as zaptec_number

# Writes go to the Zaptec cloud: one at a time keeps within its request budget.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the Zaptec current numbers."""
    await zaptec_number.async_setup_entry(hass, entry, async_add_entities)
