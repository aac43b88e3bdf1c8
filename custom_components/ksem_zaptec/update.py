"""Update platform: the firmware of Zaptec chargers."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .zaptec import update as zaptec_update

# Upgrade commands go to the Zaptec cloud: one at a time keeps within its request budget.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the Zaptec firmware entities."""
    await zaptec_update.async_setup_entry(hass, entry, async_add_entities)
