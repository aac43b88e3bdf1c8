"""The one base entity of the integration, for both the KSEM and the Zaptec side."""

from __future__ import annotations

from typing import Any

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import (
    CoordinatorEntity,
    DataUpdateCoordinator,
)


class KsemZaptecEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """Coordinator entity with a translated name, a stable unique id and its device.

    The unique id is `<device id>_<description key>`: the device id is the meter serial or
    the Zaptec installation/charger id, never a host name or an IP address.
    """

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: CoordinatorT,
        description: EntityDescription,
        device_id: str,
        device_info: DeviceInfo,
    ) -> None:
        """Bind the description to one device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{device_id}_{description.key}"
        self._attr_device_info = device_info
