"""HA's request for a new access token: route DISCOVERED, request shape an UNVERIFIED GUESS.

KOSTAL's Solar App asks the meter's `access-token` app for a token that the user then
authorizes in the KSEM web UI. The exact request is not in any public source
(docs/ksem.md#pairing-and-access-tokens). What is known: nginx routes `/api/access-token…` to the
app and rate-limits POSTs there to 1/s (GETs are not limited); TQ's REST framework answers 405
to a known path asked with the wrong method and 404 to an unknown path; nginx redirects plain
HTTP to HTTPS (308) for versioned public routes `/api/<app>/public/v<N>/…`; the request carries
the application's name (and optionally an expiry); the app gets the JWT back at once; the token
stays pending until a logged-in user presses the key icon.

So the client first asks every candidate route below with a GET (not rate-limited, changes
nothing): a 405 says the route exists for another method, and only then is the single POST sent,
to the first such route. What each candidate answered is kept (`Probe`) and ends up in the
diagnostics, so one user's diagnostics can settle the open question. Any refusal raises
`KsemPairingNotSupportedError`, and the config flow asks the user to paste a token created in the
web UI, which is documented and always works.

To fix the guess after capturing the real request (browser dev tools on the KSEM web UI, or a
proxy in front of the Solar App): put the route first in `TOKEN_ROUTE_CANDIDATES` and, if
needed, change `token_request_body` and `TOKEN_RESPONSE_FIELD`. `simulator/ksem.py` serves its
own copy of the routes (`TOKEN_ROUTES`).
"""

# The constants name token routes and a field, not secrets.
# ruff: noqa: S105

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

TOKEN_REQUEST_METHOD: Final = "POST"
TOKEN_PROBE_METHOD: Final = "GET"
# In order of preference: our first guess mirrors the password login (`/api/web-login/token`);
# the others are the shapes TQ uses elsewhere (plural resources, versioned public routes).
TOKEN_ROUTE_CANDIDATES: Final = (
    "/api/access-token/token",
    "/api/access-token/request",
    "/api/access-token/public/v1/token",
    "/api/access-token/public/v1/tokens",
    "/api/access-token/public/v1/request",
)
TOKEN_RESPONSE_FIELD: Final = "access_token"
TOKEN_ROLE: Final = "api"
# nginx sends plain HTTP on to HTTPS only for these (docs/ksem.md#https-and-the-certificate).
PUBLIC_ROUTE: Final = re.compile(r"^/api/[^/]+/public/v\d+/")
REDIRECTS: Final = frozenset(
    {
        HTTPStatus.MOVED_PERMANENTLY,
        HTTPStatus.FOUND,
        HTTPStatus.TEMPORARY_REDIRECT,
        HTTPStatus.PERMANENT_REDIRECT,
    }
)


def token_request_body(name: str) -> dict[str, Any]:
    """JSON body of the request: the application's name, role api, no expiry."""
    return {"name": name, "role": TOKEN_ROLE, "expires": None}


@dataclass(frozen=True, slots=True)
class Probe:
    """One request of the pairing and what the meter answered (None: no answer at all)."""

    method: str
    scheme: str
    path: str
    status: int | None

    def __str__(self) -> str:
        """`GET http /api/access-token/token 405`: the diagnostics and the debug line."""
        answer = "no answer" if self.status is None else str(self.status)
        return f"{self.method} {self.scheme} {self.path} {answer}"

    @property
    def route_exists(self) -> bool:
        """A non-mutating request got 405: the path exists for another method (the POST)."""
        return self.method != TOKEN_REQUEST_METHOD and self.status == HTTPStatus.METHOD_NOT_ALLOWED


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A pending token the meter issued, and the certificate it was fetched over (if HTTPS)."""

    token: str
    certificate_sha256: str | None = None
