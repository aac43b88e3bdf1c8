"""Zaptec config flow steps: add an account, reauthenticate, reconfigure; the options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlowWithReload
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..const import CONF_KIND, KIND_ZAPTEC, LOGGER
from . import const
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


# No bounds in the selector: Home Assistant would reject a value outside them with an
# untranslated message. The range is checked in the step (a translated error).
_MINUTES = NumberSelector(
    NumberSelectorConfig(step=1, unit_of_measurement="min", mode=NumberSelectorMode.BOX)
)


_USER_GROUP = TextSelector(TextSelectorConfig(type=TextSelectorType.TEXT))
_USER_GROUP_ID = re.compile(const.USER_GROUP_ID_PATTERN, re.ASCII)


class ZaptecOptionsFlow(OptionsFlowWithReload):
    """The available current's rate guard (minutes) and the push subscription's user group."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The Zaptec form (its own step id: the KSEM's options use `init`'s texts)."""
        return await self.async_step_zaptec_options()

    async def async_step_zaptec_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The entry reloads with the options (a change waiting to be sent is dropped)."""
        key = const.CONF_AVAILABLE_CURRENT_INTERVAL
        group_key = const.CONF_PUSH_USER_GROUP
        low, high = const.MIN_AVAILABLE_CURRENT_INTERVAL, const.MAX_AVAILABLE_CURRENT_INTERVAL
        errors: dict[str, str] = {}
        if user_input is not None:
            minutes = int(user_input[key])
            group = str(user_input.get(group_key) or "").strip().strip("{}").lower()
            if not low <= minutes <= high:
                errors[key] = "zaptec_available_current_interval_range"
            if group and not _USER_GROUP_ID.fullmatch(group):
                errors[group_key] = "zaptec_push_user_group_invalid"
            if not errors:
                options: dict[str, Any] = {key: minutes}
                if group:
                    options[group_key] = group
                return self.async_create_entry(data=options)
        options_now = self.config_entry.options
        current = options_now.get(key, const.DEFAULT_AVAILABLE_CURRENT_INTERVAL)
        schema = vol.Schema(
            {
                vol.Required(key, default=current): _MINUTES,
                vol.Optional(group_key): _USER_GROUP,
            }
        )
        suggested = user_input or {group_key: options_now.get(group_key)}
        return self.async_show_form(
            step_id="zaptec_options",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={"min": str(low), "max": str(high)},
        )
