"""Zaptec switches, one description each: "Require authorization" per installation and charger.

A description says how to read the switch (`is_on_fn`), how to write it (`set_fn`, a client
method that confirms the write by reading the object back) and when the account may write it
(`blocked_fn`). A press costs the write, its read-back, and (16 s later, after Zaptec's state
cache) the charger state that shows the effect. A failed write raises a translated error and
leaves the real state shown; a refused login starts reauth.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..errors import action_errors
from . import const
from .api import Charger, Installation, ZaptecClient
from .coordinator import ZaptecConfigEntry
from .entity import (
    ChargerView,
    ZaptecChargerEntity,
    ZaptecInstallationEntity,
    async_add_device_entities,
)
from .errors import map_action_error
from .permissions import Blocked, charger_blocked, has_charger_switch, installation_blocked


@dataclass(frozen=True, kw_only=True)
class ZaptecInstallationSwitchDescription(SwitchEntityDescription):
    """An installation setting: read, write (confirmed), and whether the account may write."""

    is_on_fn: Callable[[Installation], bool | None]
    set_fn: Callable[[ZaptecClient, str, bool], Awaitable[Installation]]
    blocked_fn: Callable[[Installation], Blocked | None]


@dataclass(frozen=True, kw_only=True)
class ZaptecChargerSwitchDescription(SwitchEntityDescription):
    """A charger setting: read, write (confirmed), whether it exists and may be written."""

    is_on_fn: Callable[[ChargerView], bool | None]
    set_fn: Callable[[ZaptecClient, str, bool], Awaitable[Charger]]
    blocked_fn: Callable[[ChargerView], Blocked | None]
    exists_fn: Callable[[Charger], bool] = lambda _: True


def _charger_requires_authorization(view: ChargerView) -> bool | None:
    """Not PropertyAuthenticationDisabled; unknown when the detail could not be read."""
    disabled = view.charger.authentication_disabled
    return None if disabled is None else not disabled


INSTALLATION_SWITCHES = (
    ZaptecInstallationSwitchDescription(
        key="authorization_required",
        translation_key="zaptec_authorization_required",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda installation: installation.is_required_authentication,
        set_fn=lambda client, object_id, on: client.set_installation_authorization_required(
            object_id, on
        ),
        blocked_fn=installation_blocked,
    ),
)

CHARGER_SWITCHES = (
    ZaptecChargerSwitchDescription(
        key="authorization_required",
        translation_key="zaptec_authorization_required",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=_charger_requires_authorization,
        set_fn=lambda client, object_id, on: client.set_charger_authorization_required(
            object_id, on
        ),
        blocked_fn=lambda view: charger_blocked(view.charger, view.installation),
        # Only Pro/Home chargers have their own setting; a Go follows its installation.
        exists_fn=has_charger_switch,
    ),
)


class ZaptecInstallationSwitch(ZaptecInstallationEntity, SwitchEntity):
    """A setting of an installation."""

    entity_description: ZaptecInstallationSwitchDescription

    @property
    def available(self) -> bool:
        """Only when the account may change it (Owner/Service, native authorization)."""
        installation = self.installation
        return (
            super().available
            and installation is not None
            and self.entity_description.blocked_fn(installation) is None
        )

    @property
    def is_on(self) -> bool | None:
        """The installation's value."""
        installation = self.installation
        return None if installation is None else self.entity_description.is_on_fn(installation)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the setting on."""
        await self._async_set(on=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the setting off."""
        await self._async_set(on=False)

    @action_errors(map_action_error)
    async def _async_set(self, *, on: bool) -> None:
        details = self.coordinator
        async with details.async_write():
            installation = await self.entity_description.set_fn(
                details.client, self.installation_id, on
            )
        details.async_set_installation(installation)
        # Its chargers' effective value (observation 120) follows once the state cache expired.
        details.config_entry.runtime_data.state.async_read_soon(
            [c.id for c in details.data.chargers.values() if c.installation_id == installation.id],
            const.STATE_AFTER_WRITE,
        )


class ZaptecChargerSwitch(ZaptecChargerEntity, SwitchEntity):
    """A setting of a charger."""

    entity_description: ZaptecChargerSwitchDescription

    @property
    def available(self) -> bool:
        """Only when the account may change it (Owner/Service, native authorization)."""
        view = self.view
        return (
            super().available
            and view is not None
            and self.entity_description.blocked_fn(view) is None
        )

    @property
    def is_on(self) -> bool | None:
        """The charger's value."""
        view = self.view
        return None if view is None else self.entity_description.is_on_fn(view)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the setting on."""
        await self._async_set(on=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the setting off."""
        await self._async_set(on=False)

    @action_errors(map_action_error)
    async def _async_set(self, *, on: bool) -> None:
        details = self.coordinator.details
        async with details.async_write():
            charger = await self.entity_description.set_fn(details.client, self.charger_id, on)
        details.async_set_charger(charger)
        # What the charger then enforces (observation 120) follows after the state cache.
        self.coordinator.async_read_soon([self.charger_id], const.STATE_AFTER_WRITE)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ZaptecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Switches for every installation and charger (a Go has none of its own)."""
    runtime = entry.runtime_data
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda installation: (
            ZaptecInstallationSwitch(runtime.details, description, installation)
            for description in INSTALLATION_SWITCHES
        ),
        lambda charger: (
            ZaptecChargerSwitch(runtime.state, description, charger)
            for description in CHARGER_SWITCHES
            if description.exists_fn(charger)
        ),
    )
