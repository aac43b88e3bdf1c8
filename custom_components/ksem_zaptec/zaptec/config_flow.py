"""Zaptec config flow steps: add an account, reauthenticate, reconfigure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..const import CONF_KIND, KIND_ZAPTEC, LOGGER
from .api import ZaptecAuthenticationError, ZaptecError, ZaptecRateLimitError
from .coordinator import create_client, hand_over_client

_EMAIL = TextSelector(TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username"))
_PASSWORD = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)


def _unique_id(username: str) -> str:
    return username.strip().lower()


class ZaptecFlowMixin(ConfigFlow):
    """Steps that log in to a Zaptec account."""

    async def _async_try_login(self, username: str, password: str) -> str | None:
        """Log in and list the installations; an error key, or None when it worked.

        When it worked, the logged-in client is handed over to the entry's set-up (which
        follows at once), so adding or re-authenticating an account logs in only once.
        """
        client = create_client(self.hass, username, password)
        try:
            await client.login()
            await client.get_installations()
        except ZaptecAuthenticationError:
            return "zaptec_invalid_auth"
        except ZaptecRateLimitError as err:
            LOGGER.debug("Zaptec asked to slow down: %s", err)
            return "zaptec_rate_limited"
        except ZaptecError as err:
            LOGGER.debug("Zaptec cloud not reachable: %s", err)
            return "zaptec_cannot_connect"
        except Exception:  # noqa: BLE001 - any surprise must still end in a form error
            LOGGER.exception("Unexpected error while logging in to Zaptec")
            return "zaptec_unknown"
        hand_over_client(self.hass, _unique_id(username), client)
        return None

    async def async_step_zaptec_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the account's credentials."""
        errors: dict[str, str] = {}
        if user_input is not None:
            username = user_input[CONF_USERNAME].strip()
            await self.async_set_unique_id(_unique_id(username))
            self._abort_if_unique_id_configured(error="zaptec_already_configured")
            error = await self._async_try_login(username, user_input[CONF_PASSWORD])
            if error is None:
                return self.async_create_entry(
                    title=username,
                    data={
                        CONF_KIND: KIND_ZAPTEC,
                        CONF_USERNAME: username,
                        CONF_PASSWORD: user_input[CONF_PASSWORD],
                    },
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="zaptec_user",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {vol.Required(CONF_USERNAME): _EMAIL, vol.Required(CONF_PASSWORD): _PASSWORD}
                ),
                {CONF_USERNAME: (user_input or {}).get(CONF_USERNAME)},
            ),
            errors=errors,
        )

    async def async_step_zaptec_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The password stopped working: ask for it again."""
        return await self.async_step_zaptec_reauth_confirm()

    async def async_step_zaptec_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new password of the same account."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            error = await self._async_try_login(
                entry.data[CONF_USERNAME], user_input[CONF_PASSWORD]
            )
            if error is None:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_PASSWORD: user_input[CONF_PASSWORD]}
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="zaptec_reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_PASSWORD): _PASSWORD}),
            description_placeholders={"username": entry.data[CONF_USERNAME]},
            errors=errors,
        )

    async def async_step_zaptec_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the password (or the spelling of the user name) of the same account."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            username = user_input[CONF_USERNAME].strip()
            await self.async_set_unique_id(_unique_id(username))
            self._abort_if_unique_id_mismatch(reason="zaptec_wrong_account")
            error = await self._async_try_login(username, user_input[CONF_PASSWORD])
            if error is None:
                return self.async_update_reload_and_abort(
                    entry,
                    title=username,
                    data_updates={
                        CONF_USERNAME: username,
                        CONF_PASSWORD: user_input[CONF_PASSWORD],
                    },
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="zaptec_reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {vol.Required(CONF_USERNAME): _EMAIL, vol.Required(CONF_PASSWORD): _PASSWORD}
                ),
                {CONF_USERNAME: (user_input or entry.data)[CONF_USERNAME]},
            ),
            errors=errors,
        )
