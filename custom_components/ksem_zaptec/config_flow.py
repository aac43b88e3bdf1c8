"""Config flow: a menu, then the KSEM steps or the Zaptec steps.

The steps of each side live next to its client (`ksem/config_flow.py`,
`zaptec/config_flow.py`) as mixins; this class only joins them and routes the flows that
Home Assistant starts for an existing entry (reauth, reconfigure) to the entry's side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback

from .const import CONF_KIND, DOMAIN, KIND_KSEM, KIND_ZAPTEC
from .ksem.config_flow import KsemFlowMixin, KsemOptionsFlow
from .zaptec.config_flow import ZaptecFlowMixin, ZaptecOptionsFlow


class KsemZaptecConfigFlow(KsemFlowMixin, ZaptecFlowMixin, domain=DOMAIN):
    """Add a KOSTAL Smart Energy Meter or a Zaptec account."""

    VERSION = 1
    MINOR_VERSION = 2

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user pick what to add."""
        return self.async_show_menu(step_id="user", menu_options=[KIND_KSEM, KIND_ZAPTEC])

    async def async_step_ksem(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Menu choice: a KOSTAL Smart Energy Meter."""
        return await self.async_step_ksem_host()

    async def async_step_zaptec(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Menu choice: a Zaptec account."""
        return await self.async_step_zaptec_user()

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Route a reauth to the side the entry belongs to."""
        if entry_data[CONF_KIND] == KIND_KSEM:
            return await self.async_step_ksem_reauth(entry_data)
        return await self.async_step_zaptec_reauth(entry_data)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Route a reconfigure to the side the entry belongs to."""
        if self._get_reconfigure_entry().data[CONF_KIND] == KIND_KSEM:
            return await self.async_step_ksem_reconfigure()
        return await self.async_step_zaptec_reconfigure()

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """KSEM: how often states are written; Zaptec: the available current's rate guard."""
        if config_entry.data.get(CONF_KIND) == KIND_KSEM:
            return KsemOptionsFlow()
        return ZaptecOptionsFlow()
