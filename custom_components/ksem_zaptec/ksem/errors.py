"""The one place where KSEM client exceptions become Home Assistant exceptions.

Used through the shared decorator of `../errors.py` on the coordinator's update and set-up.
"""

from __future__ import annotations

from typing import Protocol

from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import UpdateFailed

from ..const import DOMAIN
from .api import KsemAuthError, KsemError, KsemRateLimitError


class NoTokenAccessError(KsemError):
    """JSON interface missing and the WebSocket refuses the token: the firmware is too old."""


class BacksOff(Protocol):
    """The coordinator: how long to wait after this failure (None: the poll interval)."""

    def failure_backoff(self) -> float | None:
        """Seconds until the next poll."""


def map_update_error(coordinator: BacksOff, err: Exception) -> Exception | None:
    """Token refused -> reauth; anything else -> a translated UpdateFailed, backing off."""
    if not isinstance(err, KsemError):
        return None
    if isinstance(err, KsemAuthError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="ksem_auth_failed")
    retry_after = coordinator.failure_backoff()
    if isinstance(err, NoTokenAccessError):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="ksem_firmware_too_old",
            retry_after=retry_after,
        )
    if isinstance(err, KsemRateLimitError):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="ksem_rate_limited",
            retry_after=max(err.retry_after or 0.0, retry_after or 0.0) or None,
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="ksem_communication_error",
        translation_placeholders={"error": str(err)},
        retry_after=retry_after,
    )
