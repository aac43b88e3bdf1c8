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

Only the paths and bodies live here (no I/O): the client sends them and confirms each write
by reading the object back (`ZaptecClient._confirm`); a value that does not change raises
ZaptecWriteNotConfirmedError, so a wrong guess fails loudly. If Zaptec changes or documents
these calls, fix the paths and bodies below (and nothing else).
"""

from __future__ import annotations


def installation_write(installation_id: str, required: bool) -> tuple[str, dict[str, object]]:
    """Path and body of the installation write (plausible)."""
    return (
        f"/api/installation/{installation_id}",
        {"Id": installation_id, "IsRequiredAuthentication": required},
    )


def charger_write(charger_id: str, required: bool) -> tuple[str, dict[str, object]]:
    """Path and body of the charger write (unverified); the field is "authentication disabled"."""
    return f"/api/chargers/{charger_id}", {"PropertyAuthenticationDisabled": not required}
