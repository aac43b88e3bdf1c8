"""One token per Home Assistant per meter: names, pending tokens of abandoned flows, same host.

A flow that reached the authorize step and was closed leaves a pending token on the meter. A
new flow for the same host within `PENDING_TOKEN_LIFETIME` takes that token over instead of
requesting another one (kept in memory only: after a restart a new token is requested).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from . import const
from .api import normalize_host

# Letters and digits nobody confuses (no 0/O, 1/I/L).
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 4
_CODE = re.compile(rf"^(?P<prefix>.+) (?P<code>[{_CODE_ALPHABET}]{{{_CODE_LENGTH}}})$")


@dataclass(frozen=True, slots=True)
class PendingToken:
    """A token requested by a flow, not yet stored in an entry."""

    token: str
    probes: tuple[str, ...]
    certificate_sha256: str | None
    expires: float  # event loop time


_PENDING: HassKey[dict[str, PendingToken]] = HassKey(f"{DOMAIN}_ksem_pending_tokens")


def token_name(location: str) -> str:
    """`Home Assistant (<home>) 7K4Q`: unique among the meter's tokens, easy to read out."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    return f"Home Assistant ({location}) {code}"


def token_code(name: str) -> str | None:
    """The code at the end of a name `token_name` made, None for other names."""
    match = _CODE.match(name)
    return match.group("code") if match else None


def host_key(host: str) -> str | None:
    """The host as the client reaches it (scheme, lower-case name, port), None if unusable."""
    try:
        url = normalize_host(host)
    except ValueError:
        return None
    return f"{url.scheme}://{str(url.host).lower()}:{url.port}"


def same_host(one: str, other: str) -> bool:
    """Whether two host entries lead to the same address (http://a and a:80 do)."""
    key = host_key(one)
    return key is not None and key == host_key(other)


def pending_token(hass: HomeAssistant, host: str) -> PendingToken | None:
    """The pending token an earlier flow requested from `host`, if still fresh."""
    pending = hass.data.setdefault(_PENDING, {})
    now = hass.loop.time()
    for stale in [key for key, item in pending.items() if item.expires <= now]:
        del pending[stale]
    key = host_key(host)
    return None if key is None else pending.get(key)


def keep_pending_token(
    hass: HomeAssistant,
    host: str,
    token: str,
    probes: list[str],
    certificate_sha256: str | None,
) -> None:
    """Remember a freshly requested token for the next flow to the same host."""
    if (key := host_key(host)) is not None:
        hass.data.setdefault(_PENDING, {})[key] = PendingToken(
            token,
            tuple(probes),
            certificate_sha256,
            hass.loop.time() + const.PENDING_TOKEN_LIFETIME,
        )


def forget_pending_token(hass: HomeAssistant, host: str) -> None:
    """The token went into an entry: no flow may take it over."""
    if (key := host_key(host)) is not None:
        hass.data.setdefault(_PENDING, {}).pop(key, None)
