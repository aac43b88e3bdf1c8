"""The integration loads, routes each entry kind to its side and unloads cleanly."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ksem_zaptec.const import DOMAIN


async def test_menu_offers_both_kinds(hass: HomeAssistant) -> None:
    """The first step is a menu with the KSEM and the Zaptec choice."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    assert result["type"] == "menu"
    assert result["menu_options"] == ["ksem", "zaptec"]


async def test_both_kinds_have_options(hass: HomeAssistant) -> None:
    """Meters: write/poll intervals; Zaptec accounts: the available current's rate guard."""
    ksem = MockConfigEntry(domain=DOMAIN, data={"kind": "ksem", "host": "ksem-1"})
    zaptec = MockConfigEntry(domain=DOMAIN, data={"kind": "zaptec", "username": "a@b.c"})
    ksem.add_to_hass(hass)
    zaptec.add_to_hass(hass)
    assert ksem.supports_options is True
    assert zaptec.supports_options is True
