"""Zaptec switches: "Authorization required" per installation and per Pro/Home charger.

They write through the undocumented portal calls of `api/portal_writes.py`. A switch shows a
new state only after the write succeeded and was read back, and the cloud's state after the
re-reads ~2 s and ~7 s later; a failed write raises and leaves the real state shown.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import const
from .api import Charger
from .coordinator import ZaptecConfigEntry, ZaptecStateCoordinator
from .entity import ZaptecChargerEntity, ZaptecInstallationEntity, async_add_device_entities
from .errors import ZaptecReauthRequiredError, command_errors
from .permissions import charger_blocked, has_charger_switch, installation_blocked

AUTHORIZATION_REQUIRED = SwitchEntityDescription(
    key="authorization_required",
    translation_key="zaptec_authorization_required",
    entity_category=EntityCategory.CONFIG,
)


class ZaptecInstallationAuthorizationSwitch(ZaptecInstallationEntity, SwitchEntity):
    """Whether the installation's chargers require authorization (app or RFID)."""

    @property
    def available(self) -> bool:
        """Only when the account may change it (Owner/Service, native authorization)."""
        installation = self.installation
        return (
            super().available
            and installation is not None
            and installation_blocked(installation) is None
        )

    @property
    def is_on(self) -> bool | None:
        """The installation's IsRequiredAuthentication."""
        installation = self.installation
        return None if installation is None else installation.is_required_authentication

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Require authorization."""
        await self._async_write(required=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Let anyone charge."""
        await self._async_write(required=False)

    async def _async_write(self, *, required: bool) -> None:
        entry = self.coordinator.config_entry
        try:
            with command_errors():
                async with self.coordinator.async_write():
                    installation = (
                        await entry.runtime_data.client.set_installation_authorization_required(
                            self.installation_id, required
                        )
                    )
        except ZaptecReauthRequiredError:
            entry.async_start_reauth(self.hass)
            raise
        self.coordinator.async_set_installation(installation)
        self.coordinator.async_schedule_rereads(
            lambda: self.coordinator.async_reread_installation(self.installation_id)
        )
        # Observation 120 of its chargers follows, once the 15 s state cache has expired.
        chargers = self.coordinator.data.chargers.values()
        entry.runtime_data.state.async_read_soon(
            [c.id for c in chargers if c.installation_id == self.installation_id],
            const.STATE_AFTER_WRITE,
        )


class ZaptecChargerAuthorizationSwitch(ZaptecChargerEntity, SwitchEntity):
    """Whether this charger requires authorization (the inverse of "authentication disabled")."""

    def __init__(
        self,
        coordinator: ZaptecStateCoordinator,
        description: SwitchEntityDescription,
        charger: Charger,
    ) -> None:
        """Bind to one charger."""
        super().__init__(coordinator, description, charger)
        self.details = coordinator.details

    @property
    def available(self) -> bool:
        """Only when the account may change it (Owner/Service, native authorization)."""
        view = self.view
        return (
            super().available
            and view is not None
            and charger_blocked(view.charger, view.installation) is None
        )

    @property
    def is_on(self) -> bool | None:
        """Not PropertyAuthenticationDisabled; unknown when the detail could not be read."""
        view = self.view
        if view is None or view.charger.authentication_disabled is None:
            return None
        return not view.charger.authentication_disabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Require authorization on this charger."""
        await self._async_write(required=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Let anyone charge on this charger."""
        await self._async_write(required=False)

    async def _async_write(self, *, required: bool) -> None:
        entry = self.coordinator.config_entry
        try:
            with command_errors():
                async with self.details.async_write():
                    charger = await entry.runtime_data.client.set_charger_authorization_required(
                        self.charger_id, required
                    )
        except ZaptecReauthRequiredError:
            entry.async_start_reauth(self.hass)
            raise
        self.details.async_set_charger(charger)
        self.details.async_schedule_rereads(
            lambda: self.details.async_reread_charger(self.charger_id)
        )
        self.coordinator.async_read_soon([self.charger_id], const.STATE_AFTER_WRITE)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A switch per installation and per Pro/Home charger (Go: installation level only)."""
    zaptec_entry: ZaptecConfigEntry = entry
    runtime = zaptec_entry.runtime_data
    async_add_device_entities(
        zaptec_entry,
        async_add_entities,
        lambda installation: [
            ZaptecInstallationAuthorizationSwitch(
                runtime.details, AUTHORIZATION_REQUIRED, installation
            )
        ],
        lambda charger: (
            [ZaptecChargerAuthorizationSwitch(runtime.state, AUTHORIZATION_REQUIRED, charger)]
            if has_charger_switch(charger)
            else []
        ),
    )
