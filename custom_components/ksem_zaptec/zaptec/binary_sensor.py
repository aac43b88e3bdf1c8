"""Zaptec binary sensors: charger online and "authorization required" (charger, installation)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

# The device class enum lives in binary_sensor.const on newer HA and is re-exported here.
from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Installation, Observation
from .coordinator import ZaptecConfigEntry, ZaptecDetailsCoordinator, ZaptecRuntimeData
from .entity import (
    ChargerView,
    ZaptecChargerEntity,
    ZaptecInstallationEntity,
    async_add_device_entities,
)
from .push import PushSupervisor


def _first_known(*values: bool | None) -> bool | None:
    return next((value for value in values if value is not None), None)


@dataclass(frozen=True, kw_only=True)
class ZaptecChargerBinarySensorDescription(BinarySensorEntityDescription):
    """A charger binary sensor: its value from the charger view."""

    is_on_fn: Callable[[ChargerView], bool | None]


@dataclass(frozen=True, kw_only=True)
class ZaptecInstallationBinarySensorDescription(BinarySensorEntityDescription):
    """An installation binary sensor: its value from the installation."""

    is_on_fn: Callable[[Installation], bool | None]


CHARGER_BINARY_SENSORS = [
    ZaptecChargerBinarySensorDescription(
        key="online",
        translation_key="zaptec_online",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Observation -2 is fresher than the list's IsOnline; use the list until it is read.
        is_on_fn=lambda view: _first_known(
            view.state.flag(Observation.IS_ONLINE), view.charger.is_online
        ),
    ),
    ZaptecChargerBinarySensorDescription(
        key="authorization_required",
        # What the charger enforces right now (observation 120), else the cloud's charger flag;
        # the setting itself is the switch "Require authorization".
        translation_key="zaptec_authorization_enforced",
        is_on_fn=lambda view: _first_known(
            view.state.flag(Observation.AUTHENTICATION_REQUIRED),
            view.charger.is_authorization_required,
        ),
    ),
]

# Whether a Service Bus push connection covering the installation is up (the installation's
# own, or the user group's; only where push is enabled).
PUSH_CONNECTED = BinarySensorEntityDescription(
    key="push_connected",
    translation_key="zaptec_push_connected",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)

INSTALLATION_BINARY_SENSORS = [
    ZaptecInstallationBinarySensorDescription(
        key="authorization_required",
        translation_key="zaptec_authorization_required",
        is_on_fn=lambda installation: installation.is_required_authentication,
    ),
]


class ZaptecChargerBinarySensor(ZaptecChargerEntity, BinarySensorEntity):
    """A yes/no value of a charger."""

    entity_description: ZaptecChargerBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The charger's value."""
        view = self.view
        return None if view is None else self.entity_description.is_on_fn(view)


class ZaptecInstallationBinarySensor(ZaptecInstallationEntity, BinarySensorEntity):
    """A yes/no value of an installation."""

    entity_description: ZaptecInstallationBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The installation's value."""
        installation = self.installation
        return None if installation is None else self.entity_description.is_on_fn(installation)


class ZaptecPushBinarySensor(ZaptecInstallationEntity, BinarySensorEntity):
    """Push connected: the installation's Service Bus receiver is open."""

    def __init__(
        self,
        coordinator: ZaptecDetailsCoordinator,
        installation: Installation,
        push: PushSupervisor,
    ) -> None:
        """Bind to one installation and the entry's push supervisor."""
        super().__init__(coordinator, PUSH_CONNECTED, installation)
        self._push = push

    @property
    def is_on(self) -> bool:
        """True while the push connection is up."""
        return self._push.is_connected(self.installation_id)


def _installation_sensors(
    runtime: ZaptecRuntimeData, installation: Installation
) -> Iterator[BinarySensorEntity]:
    for description in INSTALLATION_BINARY_SENSORS:
        yield ZaptecInstallationBinarySensor(runtime.details, description, installation)
    if runtime.push is not None and installation.id in runtime.push.enabled:
        yield ZaptecPushBinarySensor(runtime.details, installation, runtime.push)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ZaptecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add binary sensors for every installation and charger, and for new ones later."""
    runtime = entry.runtime_data
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda installation: _installation_sensors(runtime, installation),
        lambda charger: (
            ZaptecChargerBinarySensor(runtime.state, description, charger)
            for description in CHARGER_BINARY_SENSORS
        ),
    )
