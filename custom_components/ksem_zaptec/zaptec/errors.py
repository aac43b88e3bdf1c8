"""The one place where Zaptec client exceptions become Home Assistant exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed

from ..const import DOMAIN
from .api import (
    ZaptecAuthenticationError,
    ZaptecConnectionError,
    ZaptecError,
    ZaptecForbiddenError,
    ZaptecRateLimitError,
    ZaptecWriteNotConfirmedError,
)


@contextmanager
def update_errors() -> Iterator[None]:
    """Inside a coordinator update: auth -> reauth, cloud fault -> retry when the pause ends.

    UpdateFailed during the first refresh becomes ConfigEntryNotReady, and at runtime the
    coordinator logs "unavailable" once and "recovered" once.
    """
    try:
        yield
    except ZaptecAuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="zaptec_auth_failed"
        ) from err
    except ZaptecRateLimitError as err:
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="zaptec_rate_limited",
            translation_placeholders={"seconds": f"{err.retry_after or 0:.0f}"},
            retry_after=err.retry_after,
        ) from err
    except ZaptecConnectionError as err:
        # The client paused the account: the next try is due when the pause is over.
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="zaptec_update_failed",
            translation_placeholders={"error": str(err)},
            retry_after=err.retry_after,
        ) from err
    except ZaptecError as err:
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="zaptec_update_failed",
            translation_placeholders={"error": str(err)},
        ) from err


class ZaptecReauthRequiredError(HomeAssistantError):
    """A command found the password no longer works; the caller starts the reauth flow."""


@contextmanager
def command_errors() -> Iterator[None]:
    """Around a switch write: every failure is a translated HomeAssistantError."""
    try:
        yield
    except ZaptecAuthenticationError as err:
        raise ZaptecReauthRequiredError(
            translation_domain=DOMAIN, translation_key="zaptec_auth_failed"
        ) from err
    except ZaptecForbiddenError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="zaptec_write_forbidden"
        ) from err
    except ZaptecWriteNotConfirmedError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="zaptec_write_not_confirmed"
        ) from err
    except ZaptecError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="zaptec_write_failed",
            translation_placeholders={"error": str(err)},
        ) from err
