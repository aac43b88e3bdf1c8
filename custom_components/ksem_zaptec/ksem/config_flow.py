"""KSEM config flow: pair with the meter the way KOSTAL's Solar App does.

host -> HA requests an access token -> the user authorizes it in the meter's web UI while a
progress step checks every 3 s -> entry (host + token, never the meter password). A meter
that refuses HA's token request (the request shape is a guess, `api/pairing.py`) leads to the
paste step instead. Reauth pairs again; reconfigure changes the host of the same meter.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    SOURCE_IGNORE,
    SOURCE_REAUTH,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import format_mac
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo

from ..const import CONF_KIND, DOMAIN, KIND_KSEM, LOGGER
from . import const, pairing, repairs
from .api import (
    KsemAuthError,
    KsemCertificateChangedError,
    KsemClient,
    KsemConnectionError,
    KsemError,
    KsemInvalidTokenError,
    KsemNotSupportedError,
    KsemPairingNotSupportedError,
    KsemProtocolError,
    KsemRateLimitError,
    TokenInfo,
)

# Default host name of a KSEM: ksem-<serial> (docs/ksem.md#host-names).
_BEARER_PREFIX = re.compile(r"^(authorization:)?bearer", re.IGNORECASE)
_SERIAL_FROM_HOSTNAME = re.compile(r"^(?:https?://)?ksem-(\d+)(?:[.:/]|$)", re.IGNORECASE)
# What a failed probe of the host tells the user (anything else: "unknown").
_PROBE_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (ValueError, "ksem_invalid_host"),
    (KsemConnectionError, "cannot_connect"),
    (KsemNotSupportedError, "ksem_json_interface_missing"),
    (KsemProtocolError, "ksem_not_a_ksem"),
)
# A serial as printed on the label and shown in the web UI (8 digits seen; some slack).
_SERIAL = re.compile(r"\d{5,16}")


def serial_from_hostname(host: str | None) -> str | None:
    """The serial in a default `ksem-<serial>` host name, if the host is one."""
    match = _SERIAL_FROM_HOSTNAME.match(host.strip()) if host else None
    return match.group(1) if match else None


class KsemFlowMixin(ConfigFlow):
    """Steps that pair a KOSTAL Smart Energy Meter."""

    _ksem_host: str
    _ksem_hostname: str | None = None
    _ksem_mac: str | None = None
    _ksem_token: str | None = None
    _ksem_wait: asyncio.Task[bool] | None = None
    _ksem_probes: list[str] | None = None
    _ksem_certificate: str | None = None

    def _ksem_client(self, token: str | None = None) -> KsemClient:
        return KsemClient(
            self._ksem_host, async_get_clientsession(self.hass), token, self._ksem_certificate
        )

    def _ksem_token_name(self) -> str:
        return TokenInfo.from_token(self._ksem_token or "").name or "Home Assistant"

    def _ksem_placeholders(self) -> dict[str, str]:
        url = self._ksem_client().web_ui_url
        placeholders = {"url": url, "host": self._ksem_host}
        if self._ksem_token:
            name = self._ksem_token_name()
            placeholders["token_name"] = name
            placeholders["token_code"] = pairing.token_code(name) or name
        return placeholders

    def _ksem_abort_if_configured(self, updates: dict[str, Any] | None = None) -> None:
        """Abort when this meter already has an entry, naming it: the user may have renamed it."""
        existing = self.hass.config_entries.async_entry_for_domain_unique_id(
            self.handler, str(self.unique_id)
        )
        self._abort_if_unique_id_configured(
            updates=updates,
            error="ksem_already_configured",
            description_placeholders={"title": existing.title if existing else ""},
        )

    def _ksem_entries(self) -> list[ConfigEntry]:
        return [
            entry
            for entry in self._async_current_entries(include_ignore=False)
            if entry.data.get(CONF_KIND) == KIND_KSEM
        ]

    def _ksem_abort_if_host_configured(self) -> None:
        """Before any token exists: the host (or IP address) of a meter already set up."""
        for entry in self._ksem_entries():
            if pairing.same_host(entry.data[CONF_HOST], self._ksem_host):
                raise AbortFlow("ksem_already_configured", {"title": entry.title})

    # ---- 1. host ------------------------------------------------------------------------------

    async def _ksem_probe(self) -> str | None:
        """Probe the host; returns an error key or None.

        An https:// host without a pinned certificate: the certificate it presents now is
        trusted from here on, and only it (docs/ksem.md#https-and-the-certificate).
        """
        try:
            client = self._ksem_client()
            if client.base_url.scheme == "https" and self._ksem_certificate is None:
                self._ksem_certificate = await client.certificate_sha256(client.base_url)
                client = self._ksem_client()
            await client.probe()
        except KsemCertificateChangedError as err:
            self._ksem_certificate_changed(err)
            return "ksem_certificate_changed"
        except (ValueError, KsemError) as err:
            for kind, key in _PROBE_ERRORS:
                if isinstance(err, kind):
                    return key
            LOGGER.exception("Unexpected error probing the KSEM")
            return "unknown"
        return None

    async def async_step_ksem_host(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the meter's host and check that a KSEM answers there."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._ksem_host = user_input[CONF_HOST].strip()
            self._ksem_certificate = None  # another host: its own certificate
            if (serial := serial_from_hostname(self._ksem_host)) is not None:
                await self.async_set_unique_id(serial)
                self._ksem_abort_if_configured()
            self._ksem_abort_if_host_configured()
            if (error := await self._ksem_probe()) is None:
                await self._ksem_abort_if_certificate_names_known_meter()
                return await self.async_step_ksem_create_token()
            errors["base"] = error
        return self.async_show_form(
            step_id="ksem_host",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_HOST): str}), user_input
            ),
            errors=errors,
        )

    async def _ksem_abort_if_certificate_names_known_meter(self) -> None:
        """Still no token: the meter's HTTPS certificate names it `ksem-<serial>.local`.

        A meter set up before (under another address) aborts here, naming its entry (whose
        address stays: Reconfigure changes it); otherwise the serial is kept for an entry whose
        token may not read it.
        """
        name = await self._ksem_client().certificate_host_name()
        if (serial := serial_from_hostname(name)) is None:
            return
        self._ksem_hostname = name
        await self.async_set_unique_id(serial, raise_on_progress=False)
        self._ksem_abort_if_configured()

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """A `ksem-<serial>` host (or the MAC address of a known meter) appeared."""
        mac = format_mac(discovery_info.macaddress)
        self._ksem_host = discovery_info.ip
        self._ksem_hostname = discovery_info.hostname
        self._ksem_mac = mac
        self._ksem_abort_if_mac_configured(mac)
        serial = serial_from_hostname(discovery_info.hostname)
        await self.async_set_unique_id(serial or mac)
        self._ksem_abort_if_configured(updates={CONF_HOST: discovery_info.ip})
        self._ksem_abort_if_host_configured()
        self.context["title_placeholders"] = {"name": f"KSEM {serial or discovery_info.ip}"}
        return await self.async_step_ksem_discovery_confirm()

    def _ksem_abort_if_mac_configured(self, mac: str) -> None:
        """A meter set up earlier whose device carries this MAC: follow its new address."""
        device = dr.async_get(self.hass).async_get_device(
            connections={(dr.CONNECTION_NETWORK_MAC, mac)}
        )
        owners = [e for e in self._ksem_entries() if device and e.entry_id in device.config_entries]
        if not owners:
            return
        entry = owners[0]
        if entry.data[CONF_HOST] != self._ksem_host:
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_HOST: self._ksem_host}
            )
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        raise AbortFlow("ksem_already_configured", {"title": entry.title})

    async def async_step_ksem_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm pairing with a discovered meter."""
        serial = serial_from_hostname(self._ksem_hostname)
        return await self._ksem_confirm_then_pair(
            "ksem_discovery_confirm",
            user_input,
            {"serial": serial or "?", "host": self._ksem_host},
        )

    async def _ksem_confirm_then_pair(
        self, step_id: str, user_input: dict[str, Any] | None, placeholders: dict[str, str]
    ) -> ConfigFlowResult:
        """A form with only a Submit button; on submit, probe the meter and request a token."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if (error := await self._ksem_probe()) is None:
                return await self.async_step_ksem_create_token()
            errors["base"] = error
        return self.async_show_form(
            step_id=step_id, errors=errors, description_placeholders=placeholders
        )

    # ---- 2. token -----------------------------------------------------------------------------

    def _ksem_certificate_changed(self, err: KsemCertificateChangedError) -> None:
        """Not the pinned certificate: no token goes there; a re-pairing entry gets an issue."""
        LOGGER.warning(
            "The HTTPS certificate of the KSEM at %s is not the one pinned at pairing (%s)",
            self._ksem_host,
            err,
        )
        if self.source == SOURCE_REAUTH:
            repairs.async_raise_certificate_changed(self.hass, self._get_reauth_entry())

    async def async_step_ksem_create_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the meter for a token named after this Home Assistant, unless one is pending."""
        if (pending := pairing.pending_token(self.hass, self._ksem_host)) is not None:
            LOGGER.debug("Taking over the pending KSEM token of an earlier flow")
            self._ksem_token = pending.token
            self._ksem_probes = list(pending.probes)
            self._ksem_certificate = pending.certificate_sha256 or self._ksem_certificate
            return await self.async_step_ksem_authorize()
        client = self._ksem_client()
        name = pairing.token_name(self.hass.config.location_name)
        try:
            grant = await client.request_token(name, self._ksem_certificate)
        except KsemCertificateChangedError as err:
            self._ksem_certificate_changed(err)  # no token request there: paste one instead
            return await self._ksem_paste_after(client)
        except (KsemPairingNotSupportedError, KsemRateLimitError) as err:
            LOGGER.info("KSEM did not issue a token (%s); asking the user to paste one", err)
            return await self._ksem_paste_after(client)
        except KsemError as err:
            LOGGER.debug("Token request failed: %s", err)
            return await self._ksem_paste_after(client)
        self._ksem_token = grant.token
        self._ksem_probes = [str(probe) for probe in client.probes]
        self._ksem_certificate = grant.certificate_sha256 or self._ksem_certificate
        pairing.keep_pending_token(
            self.hass, self._ksem_host, grant.token, self._ksem_probes, self._ksem_certificate
        )
        return await self.async_step_ksem_authorize()

    async def _ksem_paste_after(self, client: KsemClient) -> ConfigFlowResult:
        self._ksem_probes = [str(probe) for probe in client.probes]
        return await self.async_step_ksem_paste_token()

    async def async_step_ksem_paste_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Fallback: the user creates a token in the web UI and pastes it here."""
        errors: dict[str, str] = {}
        if user_input is not None:
            # Whitespace from copying goes; so does an "Authorization: Bearer" prefix.
            token = _BEARER_PREFIX.sub("", "".join(user_input[CONF_TOKEN].split()))
            try:
                TokenInfo.from_token(token)
                authorized = await self._ksem_client(token).check_token()
            except KsemInvalidTokenError:
                errors[CONF_TOKEN] = "ksem_invalid_token"
            except KsemConnectionError:
                errors["base"] = "cannot_connect"
            except KsemError:
                LOGGER.exception("Unexpected error checking a pasted KSEM token")
                errors["base"] = "unknown"
            else:
                self._ksem_token = token
                if authorized:
                    return await self.async_step_ksem_finish()
                return await self.async_step_ksem_authorize()
        return self.async_show_form(
            step_id="ksem_paste_token",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_TOKEN): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.PASSWORD)
                    )
                }
            ),
            errors=errors,
            description_placeholders=self._ksem_placeholders(),
        )

    # ---- 3. wait for the user to authorize the token -------------------------------------------

    async def _ksem_wait_for_authorization(self) -> bool:
        """Check every few seconds (GET, not rate-limited) until authorized or timed out."""
        client = self._ksem_client(self._ksem_token)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + const.PAIRING_TIMEOUT
        while True:
            try:
                if await client.check_token():
                    return True
            except KsemError as err:
                LOGGER.debug("Waiting for authorization: %s", err)
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(const.PAIRING_CHECK_INTERVAL)

    async def async_step_ksem_authorize(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show how to authorize the token and wait until the meter accepts it."""
        if self._ksem_wait is None:
            self._ksem_wait = self.hass.async_create_task(self._ksem_wait_for_authorization())
        if not self._ksem_wait.done():
            return self.async_show_progress(
                step_id="ksem_authorize",
                progress_action="ksem_wait_for_authorization",
                progress_task=self._ksem_wait,
                description_placeholders=self._ksem_placeholders(),
            )
        task, self._ksem_wait = self._ksem_wait, None
        authorized = task.result()
        return self.async_show_progress_done(
            next_step_id="ksem_finish" if authorized else "ksem_authorize_timeout"
        )

    async def async_step_ksem_authorize_timeout(
        self, user_input: dict[str, Any] | None = None, errors: dict[str, str] | None = None
    ) -> ConfigFlowResult:
        """Not authorized in time (or the meter vanished): wait again, or for a new token.

        A new token only on request: the user may have deleted the pending one in the web UI.
        """
        if user_input is not None:
            if not user_input.get(const.CONF_NEW_TOKEN):
                return await self.async_step_ksem_authorize()
            pairing.forget_pending_token(self.hass, self._ksem_host)
            self._ksem_token = self._ksem_certificate = None
            return await self.async_step_ksem_create_token()
        return self.async_show_form(
            step_id="ksem_authorize_timeout",
            data_schema=vol.Schema({vol.Optional(const.CONF_NEW_TOKEN, default=False): bool}),
            errors=errors,
            description_placeholders=self._ksem_placeholders(),
        )

    # ---- 4. entry -----------------------------------------------------------------------------

    async def _ksem_serial(self, client: KsemClient) -> str | None:
        """The meter's serial: from device-settings if readable, else from a ksem-* name."""
        try:
            return (await client.get_device_settings()).serial
        except KsemAuthError, KsemNotSupportedError, KsemProtocolError:
            return serial_from_hostname(self._ksem_hostname) or serial_from_hostname(
                self._ksem_host
            )

    async def async_step_ksem_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The token works: identify the meter (never giving up now) and store the entry."""
        try:
            serial = await self._ksem_serial(self._ksem_client(str(self._ksem_token)))
        except KsemError:
            return await self.async_step_ksem_authorize_timeout(errors={"base": "cannot_connect"})
        if serial is None and self.source == SOURCE_REAUTH:
            # The meter at the entry's host issued this token: it is the same meter.
            serial = self._get_reauth_entry().unique_id
        if serial is None and self._ksem_mac is not None:
            serial = self._ksem_mac  # from DHCP: stable, though not the serial
        if serial is None:
            return await self.async_step_ksem_serial()
        return await self._ksem_store(serial)

    async def async_step_ksem_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The token may not read the serial: the user copies it from the label or web UI."""
        errors: dict[str, str] = {}
        if user_input is not None:
            serial = "".join(str(user_input[const.CONF_SERIAL]).split())
            if _SERIAL.fullmatch(serial):
                return await self._ksem_store(serial)
            errors[const.CONF_SERIAL] = "ksem_invalid_serial"
        return self.async_show_form(
            step_id="ksem_serial",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(const.CONF_SERIAL): str}), user_input
            ),
            errors=errors,
            description_placeholders=self._ksem_placeholders(),
        )

    async def _ksem_store(self, serial: str) -> ConfigFlowResult:
        """Create the entry; or update the entry this meter already has (re-pair or reauth)."""
        token = str(self._ksem_token)
        data: dict[str, Any] = {
            CONF_HOST: self._ksem_host,
            CONF_TOKEN: token,
            const.CONF_TOKEN_NAME: self._ksem_token_name(),
            const.CONF_PAIRING_PROBES: self._ksem_probes or [],
        }
        if self._ksem_certificate is not None:
            data[const.CONF_CERTIFICATE_SHA256] = self._ksem_certificate
        pairing.forget_pending_token(self.hass, self._ksem_host)
        if self.source == SOURCE_REAUTH:
            await self.async_set_unique_id(serial)
            self._abort_if_unique_id_mismatch(reason="ksem_wrong_device")
            entry = self._get_reauth_entry()
            if self._ksem_certificate is not None:  # the pinned certificate answered again
                ir.async_delete_issue(self.hass, DOMAIN, repairs.certificate_issue_id(entry))
            return self.async_update_reload_and_abort(entry, data_updates=data)
        await self.async_set_unique_id(serial, raise_on_progress=False)
        existing = self.hass.config_entries.async_entry_for_domain_unique_id(self.handler, serial)
        if existing is not None and existing.source != SOURCE_IGNORE:
            return self._ksem_repair(existing, data)
        return self.async_create_entry(title=f"KSEM {serial}", data={CONF_KIND: KIND_KSEM, **data})

    def _ksem_repair(self, entry: ConfigEntry, data: dict[str, Any]) -> ConfigFlowResult:
        """Authorized for a meter that is already set up: the entry takes the new token.

        Aborting here would leave an authorized token nobody uses; instead the entry switches
        to it, and the user learns which old token to revoke in the meter's web UI.
        """
        old_token = entry.data.get(CONF_TOKEN)
        if old_token == data[CONF_TOKEN]:
            raise AbortFlow("ksem_already_configured", {"title": entry.title})
        old_name = entry.data.get(const.CONF_TOKEN_NAME) or "?"
        self.hass.config_entries.async_update_entry(entry, data={**entry.data, **data})
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(
            reason="ksem_repaired",
            description_placeholders={
                "title": entry.title,
                "old_token_name": str(old_name),
                "token_name": data[const.CONF_TOKEN_NAME],
            },
        )

    # ---- reauth / reconfigure -----------------------------------------------------------------

    async def async_step_ksem_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The stored token was refused: pair again (new token, same entry)."""
        self._ksem_host = entry_data[CONF_HOST]
        self._ksem_certificate = entry_data.get(const.CONF_CERTIFICATE_SHA256)
        return await self.async_step_ksem_reauth_confirm()

    async def async_step_ksem_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Explain why, then request a new token."""
        return await self._ksem_confirm_then_pair(
            "ksem_reauth_confirm",
            user_input,
            {
                "host": self._ksem_host,
                "token_name": str(self._get_reauth_entry().data.get(const.CONF_TOKEN_NAME)),
            },
        )

    async def async_step_ksem_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the host or IP address of the same meter."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            self._ksem_host = user_input[CONF_HOST].strip()
            # The same meter: the certificate pinned with the entry, if any, must answer.
            self._ksem_certificate = entry.data.get(const.CONF_CERTIFICATE_SHA256)
            if (error := await self._ksem_probe()) is None:
                client = self._ksem_client(entry.data[CONF_TOKEN])
                try:
                    serial = await self._ksem_serial(client)
                    accepted = await client.check_token()
                except KsemError:
                    errors["base"] = "cannot_connect"
                else:
                    if serial is not None:
                        await self.async_set_unique_id(serial)
                        self._abort_if_unique_id_mismatch(reason="ksem_wrong_device")
                    if accepted:
                        updates = {CONF_HOST: self._ksem_host}
                        if self._ksem_certificate is not None:
                            updates[const.CONF_CERTIFICATE_SHA256] = self._ksem_certificate
                        return self.async_update_reload_and_abort(entry, data_updates=updates)
                    # Tokens are issued per meter: refused means another meter (or another
                    # server that wants a token). The user may have mistyped: ask again.
                    errors["base"] = "ksem_token_refused_here"
            else:
                errors["base"] = error
        return self.async_show_form(
            step_id="ksem_reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_HOST): str}), user_input or entry.data
            ),
            errors=errors,
        )


# Option -> (default, lowest, highest), seconds.
_OPTION_RANGES: dict[str, tuple[int, int, int]] = {
    const.CONF_WRITE_INTERVAL: (
        const.DEFAULT_WRITE_INTERVAL,
        const.MIN_WRITE_INTERVAL,
        const.MAX_WRITE_INTERVAL,
    ),
    const.CONF_POLL_INTERVAL: (
        const.DEFAULT_POLL_INTERVAL,
        const.MIN_POLL_INTERVAL,
        const.MAX_POLL_INTERVAL,
    ),
    const.CONF_STALE_AFTER: (
        const.DEFAULT_STALE_AFTER,
        const.MIN_STALE_AFTER,
        const.MAX_STALE_AFTER,
    ),
}
# The selector shows no bounds of its own: Home Assistant would reject a value outside them
# with an untranslated voluptuous message. The ranges are checked here (translated errors).
_SECONDS = NumberSelector(
    NumberSelectorConfig(step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX)
)


class KsemOptionsFlow(OptionsFlowWithReload):
    """Write interval, poll interval (without push) and when values count as stale."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form with the intervals; the entry reloads with the new values."""
        errors: dict[str, str] = {}
        if user_input is not None:
            values = {key: int(value) for key, value in user_input.items()}
            errors = {
                key: f"{key}_range"
                for key, (_, low, high) in _OPTION_RANGES.items()
                if not low <= values.get(key, low) <= high
            }
            if not errors:
                return self.async_create_entry(data=values)
        options = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Required(key, default=options.get(key, default)): _SECONDS
                for key, (default, _, _) in _OPTION_RANGES.items()
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders={
                f"{key}_{bound}": str(value)
                for key, (_, low, high) in _OPTION_RANGES.items()
                for bound, value in (("min", low), ("max", high))
            },
        )
