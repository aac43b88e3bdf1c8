"""KSEM config flow steps (placeholder)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST

from ..const import CONF_KIND, KIND_KSEM


class KsemFlowMixin(ConfigFlow):
    """Steps that pair a KOSTAL Smart Energy Meter."""

    async def async_step_ksem_host(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the meter's host."""
        if user_input is not None:
            return self.async_create_entry(
                title="KOSTAL Smart Energy Meter",
                data={CONF_KIND: KIND_KSEM, CONF_HOST: user_input[CONF_HOST]},
            )
        return self.async_show_form(
            step_id="ksem_host", data_schema=vol.Schema({vol.Required(CONF_HOST): str})
        )

    async def async_step_ksem_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Pair the meter again."""
        return self.async_abort(reason="not_implemented")

    async def async_step_ksem_reconfigure(self) -> ConfigFlowResult:
        """Change the meter's host."""
        return self.async_abort(reason="not_implemented")


class KsemOptionsFlow(OptionsFlow):
    """KSEM options."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """No options yet."""
        return self.async_create_entry(data={})
