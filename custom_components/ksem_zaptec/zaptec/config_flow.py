"""Zaptec config flow steps (placeholder)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME

from ..const import CONF_KIND, KIND_ZAPTEC


class ZaptecFlowMixin(ConfigFlow):
    """Steps that log in to a Zaptec account."""

    async def async_step_zaptec_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the account's credentials."""
        if user_input is not None:
            return self.async_create_entry(
                title=user_input[CONF_USERNAME],
                data={CONF_KIND: KIND_ZAPTEC, **user_input},
            )
        return self.async_show_form(
            step_id="zaptec_user",
            data_schema=vol.Schema(
                {vol.Required(CONF_USERNAME): str, vol.Required(CONF_PASSWORD): str}
            ),
        )

    async def async_step_zaptec_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask for the password again."""
        return self.async_abort(reason="not_implemented")

    async def async_step_zaptec_reconfigure(self) -> ConfigFlowResult:
        """Change the account's credentials."""
        return self.async_abort(reason="not_implemented")
