"""Exceptions raised by the Zaptec client (no Home Assistant imports)."""

from __future__ import annotations


class ZaptecError(Exception):
    """Base class of everything the client raises."""


class ZaptecConnectionError(ZaptecError):
    """The cloud could not be reached, timed out, or answered with a transient error.

    `retry_after` is how long the client pauses the account before it sends anything again
    (seconds), so the caller can schedule its next try for when that is over.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep the wait (seconds), if the client paused the account."""
        super().__init__(message)
        self.retry_after = retry_after


class ZaptecAuthenticationError(ZaptecError):
    """The credentials were refused (HTTP 400 on the token endpoint, or 401 after a new login)."""


class ZaptecRateLimitError(ZaptecConnectionError):
    """HTTP 429: Zaptec asked the account to slow down (the client pauses all its requests)."""


class ZaptecProtocolError(ZaptecError):
    """The cloud's answer has an unexpected shape (for example an object without a usable Id)."""


class ZaptecResponseError(ZaptecError):
    """The cloud answered with an error status; `code`/`details` come from its `{Code, Details}`."""

    def __init__(
        self, status: int, code: int | None = None, details: str | None = None, path: str = ""
    ) -> None:
        """Build a message that says what the cloud said."""
        text = f"HTTP {status}"
        if path:
            text += f" on {path}"
        if code is not None:
            text += f": code {code}"
        if details:
            text += f": {details}"
        super().__init__(text)
        self.status = status
        self.code = code
        self.details = details


class ZaptecForbiddenError(ZaptecResponseError):
    """HTTP 403: the account's role on this object is not enough (Owner or Service needed)."""


class ZaptecNotFoundError(ZaptecResponseError):
    """HTTP 404: the object does not exist (any more)."""


class ZaptecWriteNotConfirmedError(ZaptecError):
    """A write was accepted, but reading the object back does not show the new value."""


class ZaptecPushUnavailableError(ZaptecError):
    """Push cannot be used: no subscription, unusable connection details, or no SDK."""


class ZaptecPushConnectionError(ZaptecError):
    """The Service Bus connection failed or ended (the supervisor reconnects with backoff)."""


class ZaptecPushAuthenticationError(ZaptecPushConnectionError):
    """Service Bus refused the credentials: fresh connection details are needed."""


class ZaptecPushMessageError(ZaptecProtocolError):
    """A pushed message body is not an observation (MC-NBFX text of an observation JSON)."""


class ZaptecNotSupportedError(ZaptecResponseError):
    """Code 527 (NotSupported): e.g. the installation's current is managed by Zaptec Sense/APM."""


class ZaptecExternallyManagedError(ZaptecForbiddenError):
    """HTTP 403 on a charger update: an external load management system controls the charger.

    (A role that is not enough also answers 403; the integration offers the write only to
    Owner or Service, so there the external system is the likely reason.)
    """
