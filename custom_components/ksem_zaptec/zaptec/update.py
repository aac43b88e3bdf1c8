"""Zaptec firmware: one update entity per charger.

Installed and latest version come from `/api/chargerFirmware/installation/{id}`, read once a
day (the installed one falls back to the charger state's software version); installing sends
command 200 (UpgradeFirmware). The firmware list is read again 15 minutes after it, and the
entity shows the upgrade in progress until then (or until the new version shows).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.update import (
    UpdateDeviceClass,
    UpdateEntity,
    UpdateEntityDescription,
    UpdateEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..errors import action_errors
from . import const
from .api import ChargerCommand, ChargerFirmware, CommandResult
from .coordinator import ZaptecConfigEntry, ZaptecFirmwareCoordinator, ZaptecStateCoordinator
from .devices import firmware_of
from .entity import ZaptecChargerEntity, async_add_device_entities
from .errors import map_action_error
from .permissions import control_blocked

FIRMWARE = UpdateEntityDescription(key="firmware", device_class=UpdateDeviceClass.FIRMWARE)


class ZaptecFirmwareUpdate(ZaptecChargerEntity, UpdateEntity):
    """The charger's firmware; install = Zaptec's upgrade command."""

    _attr_supported_features = UpdateEntityFeature.INSTALL | UpdateEntityFeature.PROGRESS

    def __init__(
        self,
        coordinator: ZaptecStateCoordinator,
        firmware: ZaptecFirmwareCoordinator,
        charger_id: str,
    ) -> None:
        """Bind to one charger and the account's firmware coordinator."""
        super().__init__(coordinator, FIRMWARE, coordinator.details.data.chargers[charger_id])
        self._firmware = firmware
        self._upgrading_from: str | None = None
        self._upgrading_until: datetime | None = None

    async def async_added_to_hass(self) -> None:
        """Also follow the firmware coordinator."""
        await super().async_added_to_hass()
        self.async_on_remove(self._firmware.async_add_listener(self._handle_coordinator_update))

    @property
    def _item(self) -> ChargerFirmware | None:
        return (self._firmware.data or {}).get(self.charger_id)

    @property
    def available(self) -> bool:
        """With Owner or Service, and once the firmware list has this charger."""
        view = self.view
        return (
            super().available
            and view is not None
            and control_blocked(view.charger, view.installation) is None
            and self._item is not None
        )

    @property
    def installed_version(self) -> str | None:
        """From the firmware list, else from the charger's state."""
        item = self._item
        if item is not None and item.current_version:
            return item.current_version
        return firmware_of(self.coordinator.data.get(self.charger_id))

    @property
    def latest_version(self) -> str | None:
        """The version Zaptec offers (the installed one when it offers none)."""
        item = self._item
        if item is not None and item.available_version:
            return item.available_version
        return self.installed_version

    @property
    def in_progress(self) -> bool:
        """From the upgrade command until the new version shows or the list is read again."""
        return (
            self._upgrading_from is not None
            and self._upgrading_until is not None
            and self.installed_version == self._upgrading_from
            and dt_util.utcnow() < self._upgrading_until
        )

    async def async_install(self, version: str | None, backup: bool, **kwargs: Any) -> None:
        """Send the upgrade command; read the firmware list again later."""
        await self._async_upgrade()

    @action_errors(map_action_error)
    async def _async_upgrade(self) -> None:
        details = self.coordinator.details
        async with details.async_write():
            result = await details.client.send_command(
                self.charger_id, ChargerCommand.UPGRADE_FIRMWARE
            )
        if result is CommandResult.NOTHING_TO_DO:
            # Zaptec has nothing to install: the list is out of date.
            await self._firmware.async_request_refresh()
            return
        delay = const.FIRMWARE_AFTER_UPGRADE
        self._upgrading_from = self.installed_version
        self._upgrading_until = dt_util.utcnow() + delay
        self._firmware.async_read_later(delay)
        self.async_write_ha_state()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ZaptecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A firmware entity for every charger."""
    runtime = entry.runtime_data
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda installation: (),
        lambda charger: (ZaptecFirmwareUpdate(runtime.state, runtime.firmware, charger.id),),
    )
