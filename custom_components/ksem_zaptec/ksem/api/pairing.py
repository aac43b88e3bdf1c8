"""HA's request for a new access token: an UNVERIFIED GUESS, kept in this one module.

KOSTAL's Solar App asks the meter's `access-token` app for a token that the user then
authorizes in the KSEM web UI. The exact request is not in any public source
(docs/ksem.md#pairing-and-access-tokens). What is known: nginx routes `/api/access-token…` to the
app and rate-limits POSTs there to 1/s; the request carries the application's name (and
optionally an expiry); the app gets the JWT back at once; the token stays pending until a
logged-in user presses the key icon.

The guess below mirrors the meter's own password-login endpoint (`POST /api/web-login/token`
answering `{"access_token": …}`). Any refusal (404, 405, 401, 400, an answer without the
field, …) raises `KsemPairingNotSupportedError`, and the config flow then asks the user to
create the token in the web UI and paste it, which is documented and always works.

To fix the guess after capturing the real request (browser dev tools on the KSEM web UI, or
a proxy in front of the Solar App): change the four constants below and, if needed,
`token_request_body`. `simulator/ksem.py` has the same path in `TOKEN_REQUEST_PATH`.
"""

# The constants name a token route and field, not secrets.
# ruff: noqa: S105

from __future__ import annotations

from typing import Any, Final

TOKEN_REQUEST_METHOD: Final = "POST"
TOKEN_REQUEST_PATH: Final = "/api/access-token/token"
TOKEN_RESPONSE_FIELD: Final = "access_token"
TOKEN_ROLE: Final = "api"


def token_request_body(name: str) -> dict[str, Any]:
    """JSON body of the request: the application's name, role api, no expiry."""
    return {"name": name, "role": TOKEN_ROLE, "expires": None}
