"""The integration loads, routes each entry kind to its side and unloads cleanly."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from custom_components.ksem_zaptec.const import DOMAIN


async def test_menu_offers_both_kinds(hass: HomeAssistant) -> None:
    """The first step is a menu with the KSEM and the Zaptec choice."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    assert result["type"] == "menu"
    assert result["menu_options"] == ["ksem", "zaptec"]
