"""Zaptec sensors: charger live values and installation currents/settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..counter import CounterLimits, MonotonicCounter, async_restore_counter
from .api import Charger, Installation, Observation, OperatingMode
from .coordinator import ZaptecConfigEntry, ZaptecStateCoordinator
from .entity import (
    ChargerView,
    ZaptecChargerEntity,
    ZaptecInstallationEntity,
    async_add_device_entities,
)

# A charger's meter: 100 kW is far above any AC charger Zaptec makes (22 kW), 10 GWh far above
# any lifetime reading; both only catch readings that cannot be real.
CHARGER_COUNTER = CounterLimits(max_power_kw=100.0, ceiling_kwh=1e7)

CHARGER_MODES = {
    OperatingMode.UNKNOWN: "unknown",
    OperatingMode.DISCONNECTED: "disconnected",
    OperatingMode.CONNECTED_REQUESTING: "connected_requesting",
    OperatingMode.CONNECTED_CHARGING: "connected_charging",
    OperatingMode.CONNECTED_FINISHED: "connected_finished",
}
AUTHENTICATION_TYPES = {0: "native", 1: "webhooks", 2: "ocpp", 3: "ocpp_native"}
AUTHORIZATION_METHODS = ["not_authorized", "rfid", "app", "other"]


def _charger_mode(view: ChargerView) -> str | None:
    mode = view.state.operating_mode
    if mode is None:
        mode = view.charger.operating_mode  # the list value until the state was read
    return CHARGER_MODES.get(OperatingMode(mode)) if mode in CHARGER_MODES else None


def _authentication_type(value: int | None) -> str | None:
    return None if value is None else AUTHENTICATION_TYPES.get(value)


def _charger_authentication_type(view: ChargerView) -> str | None:
    value = view.charger.authentication_type
    if value is None and view.installation is not None:
        value = view.installation.authentication_type
    return _authentication_type(value)


def _authorization_token(view: ChargerView) -> str | None:
    """Observation 722: `nfc-<tag>` (RFID), `ble-<user id>` (app), empty when none."""
    if Observation.CHARGER_CURRENT_USER_UUID not in view.state.values:
        return None
    return view.state.text(Observation.CHARGER_CURRENT_USER_UUID) or ""


def _authorization_method(view: ChargerView) -> str | None:
    token = _authorization_token(view)
    if token is None:
        return None
    if not token:
        return "not_authorized"
    return {"nfc": "rfid", "ble": "app"}.get(token.split("-", 1)[0].lower(), "other")


def _authorized_user(view: ChargerView) -> str | None:
    """Name of the app user who authorized the session, when the installation lists them."""
    token = _authorization_token(view) or ""
    if not token.lower().startswith("ble-") or view.installation is None:
        return None
    user_id = token[4:].lower()
    return next(
        (u.full_name for u in view.installation.users if u.user_id.lower() == user_id), None
    )


def _lifetime_energy(view: ChargerView) -> float | None:
    reading = view.state.meter_reading_kwh
    return reading if reading is not None else view.charger.signed_meter_value_kwh


@dataclass(frozen=True, kw_only=True)
class ZaptecChargerSensorDescription(SensorEntityDescription):
    """A charger sensor: its value from the charger view."""

    value_fn: Callable[[ChargerView], StateType]
    # A lifetime counter: never down, never a spike (see counter.py).
    counter: CounterLimits | None = None


@dataclass(frozen=True, kw_only=True)
class ZaptecInstallationSensorDescription(SensorEntityDescription):
    """An installation sensor: its value from the installation."""

    value_fn: Callable[[Installation], StateType]


def _observation(observation: Observation) -> Callable[[ChargerView], float | None]:
    return lambda view: view.state.number(observation)


def _phase_sensors(
    key: str, observations: tuple[Observation, ...], **kwargs: object
) -> list[ZaptecChargerSensorDescription]:
    return [
        ZaptecChargerSensorDescription(
            key=f"{key}_{phase}",
            translation_key=f"zaptec_{key}",
            translation_placeholders={"phase": f"L{phase}"},
            state_class=SensorStateClass.MEASUREMENT,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
            value_fn=_observation(observation),
            **kwargs,  # type: ignore[arg-type]
        )
        for phase, observation in enumerate(observations, start=1)
    ]


CHARGER_SENSORS: list[ZaptecChargerSensorDescription] = [
    ZaptecChargerSensorDescription(
        key="charger_mode",
        translation_key="zaptec_charger_mode",
        device_class=SensorDeviceClass.ENUM,
        options=list(CHARGER_MODES.values()),
        value_fn=_charger_mode,
    ),
    ZaptecChargerSensorDescription(
        key="charge_power",
        translation_key="zaptec_charge_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda view: view.state.number(Observation.TOTAL_CHARGE_POWER),
    ),
    ZaptecChargerSensorDescription(
        key="session_energy",
        translation_key="zaptec_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        # No state class: no long-term statistics, so the Energy dashboard does not offer this
        # per-session counter next to "Lifetime energy" (counting both would double the energy).
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: view.state.number(Observation.TOTAL_CHARGE_POWER_SESSION),
    ),
    ZaptecChargerSensorDescription(
        key="completed_session_energy",
        translation_key="zaptec_completed_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        # No state class, like the session energy: the lifetime energy carries the statistics.
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: view.state.completed_session_kwh,
    ),
    ZaptecChargerSensorDescription(
        key="lifetime_energy",
        translation_key="zaptec_lifetime_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        counter=CHARGER_COUNTER,
        value_fn=_lifetime_energy,
    ),
    ZaptecChargerSensorDescription(
        key="allocated_current",
        translation_key="zaptec_allocated_current",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        value_fn=lambda view: view.state.number(Observation.CHARGE_CURRENT_SET),
    ),
    ZaptecChargerSensorDescription(
        key="authorization_method",
        translation_key="zaptec_authorization_method",
        device_class=SensorDeviceClass.ENUM,
        options=AUTHORIZATION_METHODS,
        value_fn=_authorization_method,
    ),
    ZaptecChargerSensorDescription(
        key="authorized_user",
        translation_key="zaptec_authorized_user",
        entity_registry_enabled_default=False,
        value_fn=_authorized_user,
    ),
    ZaptecChargerSensorDescription(
        key="authentication_type",
        translation_key="zaptec_authentication_type",
        device_class=SensorDeviceClass.ENUM,
        options=list(AUTHENTICATION_TYPES.values()),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_charger_authentication_type,
    ),
    *_phase_sensors(
        "current_phase",
        (Observation.CURRENT_PHASE1, Observation.CURRENT_PHASE2, Observation.CURRENT_PHASE3),
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
    ),
    *_phase_sensors(
        "voltage_phase",
        (Observation.VOLTAGE_PHASE1, Observation.VOLTAGE_PHASE2, Observation.VOLTAGE_PHASE3),
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        suggested_display_precision=1,
    ),
]

INSTALLATION_SENSORS: list[ZaptecInstallationSensorDescription] = [
    ZaptecInstallationSensorDescription(
        key="authentication_type",
        translation_key="zaptec_authentication_type",
        device_class=SensorDeviceClass.ENUM,
        options=list(AUTHENTICATION_TYPES.values()),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda installation: _authentication_type(installation.authentication_type),
    ),
    *(
        ZaptecInstallationSensorDescription(
            key=f"available_current_phase_{phase}",
            translation_key="zaptec_available_current_phase",
            translation_placeholders={"phase": f"L{phase}"},
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            suggested_display_precision=1,
            value_fn=value_fn,
        )
        for phase, value_fn in (
            (1, lambda installation: installation.available_current_phase1),
            (2, lambda installation: installation.available_current_phase2),
            (3, lambda installation: installation.available_current_phase3),
        )
    ),
    ZaptecInstallationSensorDescription(
        key="max_current",
        translation_key="zaptec_max_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda installation: installation.max_current,
    ),
]


class ZaptecChargerSensor(ZaptecChargerEntity, RestoreSensor):
    """A live value of a charger."""

    entity_description: ZaptecChargerSensorDescription

    def __init__(
        self,
        coordinator: ZaptecStateCoordinator,
        description: ZaptecChargerSensorDescription,
        charger: Charger,
    ) -> None:
        """Bind to one charger; a lifetime counter gets its plausibility guard."""
        super().__init__(coordinator, description, charger)
        self._counter = (
            None
            if description.counter is None
            else MonotonicCounter(description.counter, f"Zaptec {charger.name} {description.key}")
        )

    async def async_added_to_hass(self) -> None:
        """Restore a lifetime counter's floor first, then take the current reading."""
        await super().async_added_to_hass()
        if self._counter is not None:
            await async_restore_counter(self._counter, self)
        self._attr_native_value = self._value()

    def _value(self) -> StateType:
        view = self.view
        value = None if view is None else self.entity_description.value_fn(view)
        if self._counter is None:
            return value
        reading = value if isinstance(value, int | float) else None
        return self._counter.accept(reading, dt_util.utcnow().timestamp())

    @callback
    def _handle_coordinator_update(self) -> None:
        """Either coordinator updated: compute the value once, here, not in a property."""
        self._attr_native_value = self._value()
        super()._handle_coordinator_update()


class ZaptecInstallationSensor(ZaptecInstallationEntity, SensorEntity):
    """A value of an installation."""

    entity_description: ZaptecInstallationSensorDescription

    @property
    def native_value(self) -> StateType:
        """The installation's value."""
        installation = self.installation
        return None if installation is None else self.entity_description.value_fn(installation)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ZaptecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for every installation and charger, and for new ones later."""
    runtime = entry.runtime_data
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda installation: (
            ZaptecInstallationSensor(runtime.details, description, installation)
            for description in INSTALLATION_SENSORS
        ),
        lambda charger: (
            ZaptecChargerSensor(runtime.state, description, charger)
            for description in CHARGER_SENSORS
        ),
    )
