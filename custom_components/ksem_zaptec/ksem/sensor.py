"""KSEM sensors: grid power and energy, per-phase values, and the energy flow if readable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import LOGGER
from ..entity import KsemZaptecEntity
from .api import EnergyFlow, PhaseValues
from .coordinator import KsemConfigEntry, KsemCoordinator, KsemData
from .entity import ksem_device_info


@dataclass(frozen=True, kw_only=True)
class KsemSensorEntityDescription(SensorEntityDescription):
    """A KSEM sensor: how to read its value and whether this meter has it."""

    value_fn: Callable[[KsemData], float | None]
    exists_fn: Callable[[KsemCoordinator], bool] = lambda _: True


def _power(key: str, value_fn: Callable[[KsemData], float | None]) -> KsemSensorEntityDescription:
    return KsemSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=value_fn,
    )


def _energy(key: str, value_fn: Callable[[KsemData], float | None]) -> KsemSensorEntityDescription:
    return KsemSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=value_fn,
    )


def _flow(key: str, value_fn: Callable[[EnergyFlow], float | None]) -> KsemSensorEntityDescription:
    return KsemSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: None if d.energy_flow is None else value_fn(d.energy_flow),
        exists_fn=lambda c: c.has_energy_flow,
    )


def _phase_sensors(phase: int) -> list[KsemSensorEntityDescription]:
    """Per-phase values: diagnostic and disabled by default."""
    idx = phase - 1
    label = {"phase": f"L{phase}"}

    def get(fn: Callable[[PhaseValues], float | None]) -> Callable[[KsemData], float | None]:
        return lambda d: fn(d.meter.phases[idx])

    common = {
        "entity_category": EntityCategory.DIAGNOSTIC,
        "entity_registry_enabled_default": False,
        "translation_placeholders": label,
    }
    measurement = {**common, "state_class": SensorStateClass.MEASUREMENT}
    energy = {
        **common,
        "device_class": SensorDeviceClass.ENERGY,
        "native_unit_of_measurement": UnitOfEnergy.KILO_WATT_HOUR,
        "state_class": SensorStateClass.TOTAL_INCREASING,
    }
    return [
        KsemSensorEntityDescription(
            key=f"power_l{phase}",
            translation_key="phase_power",
            device_class=SensorDeviceClass.POWER,
            native_unit_of_measurement=UnitOfPower.WATT,
            value_fn=get(lambda p: p.power),
            **measurement,  # type: ignore[arg-type]
        ),
        KsemSensorEntityDescription(
            key=f"current_l{phase}",
            translation_key="phase_current",
            device_class=SensorDeviceClass.CURRENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            value_fn=get(lambda p: p.current),
            **measurement,  # type: ignore[arg-type]
        ),
        KsemSensorEntityDescription(
            key=f"voltage_l{phase}",
            translation_key="phase_voltage",
            device_class=SensorDeviceClass.VOLTAGE,
            native_unit_of_measurement=UnitOfElectricPotential.VOLT,
            value_fn=get(lambda p: p.voltage),
            **measurement,  # type: ignore[arg-type]
        ),
        KsemSensorEntityDescription(
            key=f"power_factor_l{phase}",
            translation_key="phase_power_factor",
            device_class=SensorDeviceClass.POWER_FACTOR,
            value_fn=get(lambda p: p.power_factor),
            **measurement,  # type: ignore[arg-type]
        ),
        KsemSensorEntityDescription(
            key=f"energy_import_l{phase}",
            translation_key="phase_energy_import",
            value_fn=get(lambda p: p.energy_import),
            **energy,  # type: ignore[arg-type]
        ),
        KsemSensorEntityDescription(
            key=f"energy_export_l{phase}",
            translation_key="phase_energy_export",
            value_fn=get(lambda p: p.energy_export),
            **energy,  # type: ignore[arg-type]
        ),
    ]


SENSORS: tuple[KsemSensorEntityDescription, ...] = (
    _power("grid_power", lambda d: d.meter.grid_power),
    _power("import_power", lambda d: d.meter.power_import),
    _power("export_power", lambda d: d.meter.power_export),
    _energy("energy_import", lambda d: d.meter.energy_import),
    _energy("energy_export", lambda d: d.meter.energy_export),
    KsemSensorEntityDescription(
        key="power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: d.meter.power_factor,
    ),
    KsemSensorEntityDescription(
        key="frequency",
        device_class=SensorDeviceClass.FREQUENCY,
        native_unit_of_measurement=UnitOfFrequency.HERTZ,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: d.meter.frequency,
    ),
    *_phase_sensors(1),
    *_phase_sensors(2),
    *_phase_sensors(3),
    _flow("pv_power", lambda f: f.pv_power),
    _flow("house_consumption", lambda f: f.house_power),
    _flow("battery_power", lambda f: f.battery_power),
    _flow("wallbox_power", lambda f: f.wallbox_power),
    KsemSensorEntityDescription(
        key="battery_soc",
        translation_key="battery_soc",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: None if d.energy_flow is None else d.energy_flow.battery_soc,
        exists_fn=lambda c: c.has_energy_flow,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors this meter and token can feed."""
    ksem_entry: KsemConfigEntry = entry
    coordinator = ksem_entry.runtime_data.coordinator
    async_add_entities(
        KsemSensor(coordinator, description)
        for description in SENSORS
        if description.exists_fn(coordinator)
    )


class KsemSensor(KsemZaptecEntity[KsemCoordinator], RestoreSensor):
    """One value of the meter."""

    entity_description: KsemSensorEntityDescription

    def __init__(
        self, coordinator: KsemCoordinator, description: KsemSensorEntityDescription
    ) -> None:
        """Bind a description to the meter's device."""
        super().__init__(
            coordinator,
            description,
            str(coordinator.config_entry.unique_id),
            ksem_device_info(coordinator),
        )
        self._last_good: float | None = None
        self._attr_native_value = self._value()

    async def async_added_to_hass(self) -> None:
        """An energy counter remembers its last good reading across restarts."""
        await super().async_added_to_hass()
        if self.entity_description.state_class is not SensorStateClass.TOTAL_INCREASING:
            return
        last = await self.async_get_last_sensor_data()
        if last is not None and isinstance(last.native_value, int | float):
            self._last_good = max(self._last_good or 0.0, float(last.native_value))
            self._attr_native_value = self._value()

    def _value(self) -> float | None:
        """The description's value; an energy counter never reports 0 or a drop."""
        value = self.entity_description.value_fn(self.coordinator.data)
        if self.entity_description.state_class is not SensorStateClass.TOTAL_INCREASING:
            return value
        if value is None or value <= 0 or (self._last_good is not None and value < self._last_good):
            if value is not None and self._last_good is not None:
                LOGGER.debug(
                    "Ignoring %s reading %s (last good %s)",
                    self.entity_description.key,
                    value,
                    self._last_good,
                )
            return None
        self._last_good = value
        return value

    @callback
    def _handle_coordinator_update(self) -> None:
        self._attr_native_value = self._value()
        super()._handle_coordinator_update()
