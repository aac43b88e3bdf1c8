"""Exceptions of the KSEM client: one small tree, mapped to Home Assistant in one place."""

from __future__ import annotations


class KsemError(Exception):
    """Base class of every error the KSEM client raises."""


class KsemConnectionError(KsemError):
    """The meter cannot be reached, timed out or answered 5xx (busy, rebooting)."""


class KsemAuthError(KsemError):
    """401 (or WebSocket close 1008): the token is missing, not yet authorized or revoked."""


class KsemRateLimitError(KsemError):
    """429: the meter allows one POST per second on its token routes."""

    def __init__(self, retry_after: float | None = None) -> None:
        """Remember how long the meter asked us to wait (seconds), if it said so."""
        super().__init__(f"Rate limited by the meter (retry after {retry_after} s)")
        self.retry_after = retry_after


class KsemNotSupportedError(KsemError):
    """404/502 on a required app: this firmware does not run it."""


class KsemPairingNotSupportedError(KsemNotSupportedError):
    """The meter refused HA's access-token request (the request shape is a guess)."""


class KsemCertificateChangedError(KsemError):
    """The meter's self-signed HTTPS certificate is not the one pinned at pairing."""

    def __init__(self, seen: str, pinned: str) -> None:
        """Both SHA-256 fingerprints (hex)."""
        super().__init__(f"Certificate changed: SHA-256 {seen}, pinned {pinned}")
        self.seen = seen
        self.pinned = pinned


class KsemProtocolError(KsemError):
    """The answer does not look like a KSEM (wrong status, shape or content type)."""


class KsemInvalidTokenError(KsemError):
    """A pasted token is not a JWT."""
