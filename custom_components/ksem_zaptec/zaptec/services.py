"""The one Zaptec action: set an installation's available current per phase in one call.

An entity holds one value, so three phase currents that must change together are an action
(`ksem_zaptec.set_available_current`). It goes through the same rate guard as the number
entity (`current_limit.py`): at most one write every 15 minutes, the last value wins.
"""

from __future__ import annotations

from typing import Final

import voluptuous as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr

from ..const import DOMAIN
from ..kinds import is_ksem
from .api import Installation, ZaptecError
from .coordinator import ZaptecConfigEntry
from .errors import map_action_error
from .permissions import installation_control_blocked

SERVICE_SET_AVAILABLE_CURRENT: Final = "set_available_current"
ATTR_PHASES: Final = ("current_l1", "current_l2", "current_l3")
# The highest available current an installation takes is its MaxCurrent; this only catches
# typing errors before the installation is known.
_MAX_AMPERES: Final = 1000

SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        **{
            vol.Required(phase): vol.All(vol.Coerce(float), vol.Range(min=0, max=_MAX_AMPERES))
            for phase in ATTR_PHASES
        },
    }
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _installation(hass: HomeAssistant, device_id: str) -> tuple[ZaptecConfigEntry, Installation]:
    """The loaded Zaptec entry and installation of an installation device."""
    device = dr.async_get(hass).async_get(device_id)
    identifiers = device.identifiers if device is not None else set()
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        if is_ksem(entry):
            continue
        installations = entry.runtime_data.details.data.installations
        for domain, identifier in identifiers:
            if domain == DOMAIN and identifier in installations:
                return entry, installations[identifier]
    raise _invalid("zaptec_not_an_installation")


async def _set_available_current(call: ServiceCall) -> None:
    hass = call.hass
    entry, installation = _installation(hass, call.data[ATTR_DEVICE_ID])
    if installation_control_blocked(installation) is not None:
        raise _invalid("zaptec_write_forbidden_installation", installation=installation.name)
    limit = installation.max_current
    phases = tuple(float(call.data[phase]) for phase in ATTR_PHASES)
    if limit is not None and max(phases) > limit:
        raise _invalid(
            "zaptec_current_above_max", installation=installation.name, maximum=f"{limit:g}"
        )
    limiter = entry.runtime_data.limiter
    if installation.id in limiter.managed_by_apm:
        raise _invalid("zaptec_not_supported")
    try:
        await limiter.async_set(installation.id, (phases[0], phases[1], phases[2]))
    except ZaptecError as err:
        mapped = map_action_error(err)
        if mapped is None:  # pragma: no cover - every ZaptecError is mapped
            raise
        if mapped.reauth:
            entry.async_start_reauth(hass)
        raise mapped.error from err


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the action (once, when the integration loads)."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_AVAILABLE_CURRENT, _set_available_current, schema=SCHEMA
    )
