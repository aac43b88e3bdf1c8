"""Repair issues: token expiry, firmware too old, HTTPS certificate changed.

A token with a finite expiry runs out within a week; the firmware offers no way to read the
meter with a token; the meter's HTTPS certificate is no longer the one pinned at pairing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from .api import KsemInvalidTokenError, TokenInfo
from .const import TOKEN_EXPIRY_WARNING

if TYPE_CHECKING:  # the coordinator imports this module
    from homeassistant.config_entries import ConfigEntry

    from .coordinator import KsemConfigEntry


def issue_id(entry: ConfigEntry) -> str:
    """One issue per entry."""
    return f"ksem_token_expiring_{entry.entry_id}"


@callback
def async_check_token_expiry(hass: HomeAssistant, entry: KsemConfigEntry) -> None:
    """Raise the issue now if the expiry is near, or schedule the check for when it is."""
    try:
        expires = TokenInfo.from_token(entry.data[CONF_TOKEN]).expires
    except KsemInvalidTokenError:
        expires = None
    if expires is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry))
        return
    warn_at = expires - TOKEN_EXPIRY_WARNING
    if dt_util.utcnow() < warn_at:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry))

        @callback
        def _recheck(_now: datetime) -> None:
            async_check_token_expiry(hass, entry)

        entry.async_on_unload(async_track_point_in_utc_time(hass, _recheck, warn_at))
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="ksem_token_expiring",
        translation_placeholders={
            "title": entry.title,
            "token_name": str(TokenInfo.from_token(entry.data[CONF_TOKEN]).name),
            "expires": dt_util.as_local(expires).strftime("%Y-%m-%d %H:%M"),
        },
    )


def firmware_issue_id(entry: ConfigEntry) -> str:
    """One issue per entry."""
    return f"ksem_firmware_too_old_{entry.entry_id}"


@callback
def async_create_firmware_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """No JSON interface and a WebSocket that refuses the token: only an update helps."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        firmware_issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="ksem_firmware_too_old",
        translation_placeholders={"title": entry.title, "host": entry.data[CONF_HOST]},
    )


@callback
def async_delete_firmware_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A reading works again, or the entry goes away."""
    ir.async_delete_issue(hass, DOMAIN, firmware_issue_id(entry))


def certificate_issue_id(entry: ConfigEntry) -> str:
    """One issue per entry."""
    return f"ksem_certificate_changed_{entry.entry_id}"


@callback
def async_raise_certificate_changed(
    hass: HomeAssistant, entry: ConfigEntry, *, running: bool = False
) -> None:
    """Another HTTPS certificate than the one pinned: found by pairing again, or by a read."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        certificate_issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=(
            "ksem_certificate_changed_running" if running else "ksem_certificate_changed"
        ),
        translation_placeholders={"title": entry.title, "host": entry.data[CONF_HOST]},
    )


@callback
def async_delete_certificate_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The pinned certificate answers again."""
    ir.async_delete_issue(hass, DOMAIN, certificate_issue_id(entry))


@callback
def async_delete_repair_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The entry is deleted: none of its issues stays behind."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry))
    ir.async_delete_issue(hass, DOMAIN, firmware_issue_id(entry))
    ir.async_delete_issue(hass, DOMAIN, certificate_issue_id(entry))
