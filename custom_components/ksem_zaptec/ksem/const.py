"""Constants of the KSEM side."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

CONF_TOKEN_NAME: Final = "token_name"  # noqa: S105 - a data key, not a secret
# What the meter answered to each request of the pairing (diagnostics), and the SHA-256 of its
# self-signed HTTPS certificate when the pairing went over HTTPS (pinned on first use).
CONF_PAIRING_PROBES: Final = "pairing_probes"
CONF_CERTIFICATE_SHA256: Final = "certificate_sha256"
CONF_SERIAL: Final = "serial"
CONF_NEW_TOKEN: Final = "new_token"  # noqa: S105 - a form field, not a secret
CONF_WRITE_INTERVAL: Final = "write_interval"
CONF_POLL_INTERVAL: Final = "poll_interval"
CONF_STALE_AFTER: Final = "stale_after"

# How often pushed readings become state writes (the stream is ~1/s), seconds.
DEFAULT_WRITE_INTERVAL: Final = 5
MIN_WRITE_INTERVAL: Final = 1
MAX_WRITE_INTERVAL: Final = 60
# A push this much earlier than the write interval is still written at once, seconds.
WRITE_JITTER: Final = 0.25
# A held-back reading is written this long after its interval if no further push comes.
WRITE_STALL: Final = 1.5
# Polling of the JSON interface when the WebSocket is not available, seconds.
DEFAULT_POLL_INTERVAL: Final = 5
MIN_POLL_INTERVAL: Final = 2
MAX_POLL_INTERVAL: Final = 60
# After this many failed polls in a row the poll interval doubles per failure, up to once a
# minute; the first good reading restores it.
POLL_FAILURES_BEFORE_BACKOFF: Final = 3
POLL_BACKOFF_MAX: Final = 60.0
# Entities turn unavailable when no valid reading arrived for this long (push or poll), seconds.
DEFAULT_STALE_AFTER: Final = 60
MIN_STALE_AFTER: Final = 10
MAX_STALE_AFTER: Final = 900

# Pairing: check every 3 s whether the user authorized HA's token, for up to 10 minutes.
PAIRING_CHECK_INTERVAL: Final = 3.0
PAIRING_TIMEOUT: Final = 600.0
# A flow closed while its token was pending leaves it to the next flow for the same host.
PENDING_TOKEN_LIFETIME: Final = 600.0

# WebSocket reconnects: exponential backoff between these bounds, seconds. A connection has to
# have lasted WS_STABLE_AFTER before the backoff starts again from the bottom, so a socket the
# meter drops right after each connect is not reopened every few seconds.
WS_BACKOFF_MIN: Final = 5.0
WS_BACKOFF_MAX: Final = 300.0
WS_STABLE_AFTER: Final = 60.0
# A WebSocket that refused the token from the start (older firmware, or a role without push) is
# asked again this often while the entry polls: a firmware update or a new role brings push back.
WS_REFUSED_RETRY: Final = 600.0

# Raise a repair issue this long before a token with a finite expiry runs out.
TOKEN_EXPIRY_WARNING: Final = timedelta(days=7)

MANUFACTURER: Final = "KOSTAL"
MODEL: Final = "Smart Energy Meter"
