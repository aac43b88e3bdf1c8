"""Repair issue: a token with a finite expiry runs out within a week."""

from __future__ import annotations

from datetime import datetime

from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from .api import KsemInvalidTokenError, TokenInfo
from .const import TOKEN_EXPIRY_WARNING
from .coordinator import KsemConfigEntry


def issue_id(entry: KsemConfigEntry) -> str:
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
