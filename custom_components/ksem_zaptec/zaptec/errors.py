"""The one place where Zaptec client exceptions become Home Assistant exceptions.

Used through the shared decorators of `../errors.py`: `map_update_error` for the coordinators'
updates, `map_action_error` for switch presses.
"""

from __future__ import annotations

from typing import Protocol

from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed

from ..const import DOMAIN
from ..errors import ActionError
from .api import (
    ZaptecAuthenticationError,
    ZaptecConnectionError,
    ZaptecError,
    ZaptecExternallyManagedError,
    ZaptecForbiddenError,
    ZaptecNotSupportedError,
    ZaptecRateLimitError,
    ZaptecWriteNotConfirmedError,
)


class BacksOff(Protocol):
    """A coordinator that knows how long to wait after a failure the client did not pause."""

    def failure_backoff(self) -> float | None:
        """Seconds until the next try (None: the normal interval)."""


def map_update_error(coordinator: BacksOff, err: Exception) -> Exception | None:
    """Auth -> reauth; a cloud fault -> retry when the client's pause ends; rest -> failed.

    UpdateFailed during the first refresh becomes ConfigEntryNotReady, and at runtime the
    coordinator logs "unavailable" once and "recovered" once. Errors the client did not pause
    for wait for the coordinator's own `failure_backoff`.
    """
    if not isinstance(err, ZaptecError):
        return None
    if isinstance(err, ZaptecAuthenticationError):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="zaptec_auth_failed"
        )
    if isinstance(err, ZaptecRateLimitError):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="zaptec_rate_limited",
            translation_placeholders={"seconds": f"{err.retry_after or 0:.0f}"},
            retry_after=err.retry_after,
        )
    retry_after = err.retry_after if isinstance(err, ZaptecConnectionError) else None
    if retry_after is None:
        retry_after = coordinator.failure_backoff()
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="zaptec_update_failed",
        translation_placeholders={"error": str(err)},
        retry_after=retry_after,
    )


def map_action_error(err: Exception) -> ActionError | None:
    """Around a write or command: every failure is a translated HomeAssistantError."""
    if not isinstance(err, ZaptecError):
        return None
    if isinstance(err, ZaptecAuthenticationError):
        error = HomeAssistantError(translation_domain=DOMAIN, translation_key="zaptec_auth_failed")
        return ActionError(error, reauth=True)
    if isinstance(err, ZaptecExternallyManagedError):
        key, placeholders = "zaptec_externally_managed", None
    elif isinstance(err, ZaptecForbiddenError):
        key, placeholders = "zaptec_write_forbidden", None
    elif isinstance(err, ZaptecNotSupportedError):
        key, placeholders = "zaptec_not_supported", None
    elif isinstance(err, ZaptecWriteNotConfirmedError):
        key, placeholders = "zaptec_write_not_confirmed", None
    else:
        key, placeholders = "zaptec_write_failed", {"error": str(err)}
    return ActionError(
        HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        )
    )
