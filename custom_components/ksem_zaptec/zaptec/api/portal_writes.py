"""The two writes of "authorization required": UNDOCUMENTED Zaptec portal calls.

Zaptec's public API has no documented way to change "authorization required"
(docs/zaptec.md#authorization-required-writes). These are the calls the Zaptec portal itself
makes; Zaptec's fair-use policy discourages undocumented calls, so they live here and nowhere
else.

- Installation (plausible: used by the Homey app and formerly by the HACS integration):
  `PUT /api/installation/{id}` with `{"Id": id, "IsRequiredAuthentication": bool}`.
- Charger (unverified: seen in one unattributed client, verified there on a Zaptec Pro):
  `PUT /api/chargers/{id}` with `{"PropertyAuthenticationDisabled": bool}` (inverse meaning:
  true = no authorization needed on this charger).

Every write is confirmed by reading the object back; a value that does not change raises
ZaptecWriteNotConfirmedError, so a wrong guess fails loudly. If Zaptec changes or documents
these calls, fix the paths and bodies below (and nothing else).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .exceptions import ZaptecWriteNotConfirmedError
from .models import Charger, Installation

if TYPE_CHECKING:
    from .client import ZaptecClient


def installation_write(installation_id: str, required: bool) -> tuple[str, dict[str, object]]:
    """Path and body of the installation write (plausible)."""
    return (
        f"/api/installation/{installation_id}",
        {"Id": installation_id, "IsRequiredAuthentication": required},
    )


def charger_write(charger_id: str, required: bool) -> tuple[str, dict[str, object]]:
    """Path and body of the charger write (unverified); the field is "authentication disabled"."""
    return f"/api/chargers/{charger_id}", {"PropertyAuthenticationDisabled": not required}


async def set_installation_authorization_required(
    client: ZaptecClient, installation_id: str, required: bool
) -> Installation:
    """PUT the installation flag, then read it back until it shows the new value."""
    path, body = installation_write(installation_id, required)
    await client.request("PUT", path, json_body=body)
    for delay in (0.0, client.tuning.confirm_delay):
        await asyncio.sleep(delay)
        installation = await client.get_installation(installation_id)
        if installation.is_required_authentication is required:
            return installation
    raise ZaptecWriteNotConfirmedError(
        f"Installation still reports IsRequiredAuthentication="
        f"{installation.is_required_authentication} after writing {required}"
    )


async def set_charger_authorization_required(
    client: ZaptecClient, charger_id: str, required: bool
) -> Charger:
    """PUT the charger flag, then read it back until it shows the new value."""
    path, body = charger_write(charger_id, required)
    await client.request("PUT", path, json_body=body)
    for delay in (0.0, client.tuning.confirm_delay):
        await asyncio.sleep(delay)
        charger = await client.get_charger(charger_id)
        if charger.authentication_disabled is (not required):
            return charger
    raise ZaptecWriteNotConfirmedError(
        f"Charger still reports PropertyAuthenticationDisabled="
        f"{charger.authentication_disabled} after writing required={required}"
    )
