"""Switch platform: "Authorization required" per Zaptec installation and charger."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .zaptec import switch as zaptec_switch

# Writes go to the Zaptec cloud: one at a time keeps within its request budget.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the Zaptec switches."""
    await zaptec_switch.async_setup_entry(hass, entry, async_add_entities)
