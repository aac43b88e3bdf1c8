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
from homeassistant.util import dt as dt_util

from ..counter import CounterLimits, MonotonicCounter, async_restore_counter
from ..entity import KsemZaptecEntity
from .api import EnergyFlow, PhaseValues
from .coordinator import KsemConfigEntry, KsemCoordinator, KsemData
from .device import ksem_device_info

# A grid meter's counters: 1 MW is far above any house connection a KSEM measures, 1 TWh far
# above any lifetime reading; both only catch readings that cannot be real.
METER_COUNTER = CounterLimits(max_power_kw=1000.0, ceiling_kwh=1e9)


@dataclass(frozen=True, kw_only=True)
class KsemSensorEntityDescription(SensorEntityDescription):
    """A KSEM sensor: how to read its value and whether this meter has it."""

    value_fn: Callable[[KsemData], float | None]
    exists_fn: Callable[[KsemCoordinator], bool] = lambda _: True
    # Energy counters: never down, never a spike (see counter.py).
    counter: CounterLimits | None = None
    # Energy-flow values come from their own stream: unavailable while it is not fresh.
    needs_energy_flow: bool = False


def _power(key: str, value_fn: Callable[[KsemData], float | None]) -> KsemSensorEntityDescription:
    return KsemSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=value_fn,
    )


def _energy(key: str, value_fn: Callable[[KsemData], float | None]) -> KsemSensorEntityDescription:
    return KsemSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=value_fn,
        counter=METER_COUNTER,
    )


def _flow(key: str, value_fn: Callable[[EnergyFlow], float | None]) -> KsemSensorEntityDescription:
    return KsemSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda d: None if d.energy_flow is None else value_fn(d.energy_flow),
        exists_fn=lambda c: c.has_energy_flow,
        needs_energy_flow=True,
    )


# Per phase: key and translation stem, device class, unit, display precision, value.
_PHASE_VALUES: tuple[
    tuple[str, SensorDeviceClass, str | None, int, Callable[[PhaseValues], float | None]], ...
] = (
    ("power", SensorDeviceClass.POWER, UnitOfPower.WATT, 0, lambda p: p.power),
    ("current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE, 1, lambda p: p.current),
    ("voltage", SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT, 1, lambda p: p.voltage),
    ("power_factor", SensorDeviceClass.POWER_FACTOR, None, 2, lambda p: p.power_factor),
    (
        "energy_import",
        SensorDeviceClass.ENERGY,
        UnitOfEnergy.KILO_WATT_HOUR,
        2,
        lambda p: p.energy_import,
    ),
    (
        "energy_export",
        SensorDeviceClass.ENERGY,
        UnitOfEnergy.KILO_WATT_HOUR,
        2,
        lambda p: p.energy_export,
    ),
)


def _phase_sensors(phase: int) -> list[KsemSensorEntityDescription]:
    """Per-phase values (keys `<value>_l<n>`): diagnostic and disabled by default."""

    def of_phase(fn: Callable[[PhaseValues], float | None]) -> Callable[[KsemData], float | None]:
        return lambda d: fn(d.meter.phases[phase - 1])

    descriptions = []
    for name, device_class, unit, precision, value_fn in _PHASE_VALUES:
        energy = device_class is SensorDeviceClass.ENERGY
        descriptions.append(
            KsemSensorEntityDescription(
                key=f"{name}_l{phase}",
                translation_key=f"phase_{name}",
                translation_placeholders={"phase": f"L{phase}"},
                device_class=device_class,
                native_unit_of_measurement=unit,
                suggested_display_precision=precision,
                state_class=(
                    SensorStateClass.TOTAL_INCREASING if energy else SensorStateClass.MEASUREMENT
                ),
                counter=METER_COUNTER if energy else None,
                entity_category=EntityCategory.DIAGNOSTIC,
                entity_registry_enabled_default=False,
                value_fn=of_phase(value_fn),
            )
        )
    return descriptions


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
        suggested_display_precision=2,
        value_fn=lambda d: d.meter.power_factor,
    ),
    KsemSensorEntityDescription(
        key="frequency",
        device_class=SensorDeviceClass.FREQUENCY,
        native_unit_of_measurement=UnitOfFrequency.HERTZ,
        state_class=SensorStateClass.MEASUREMENT,
        # HA's default for Hz is whole numbers: 50.012 Hz would read "50 Hz".
        suggested_display_precision=2,
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
        suggested_display_precision=0,
        value_fn=lambda d: None if d.energy_flow is None else d.energy_flow.battery_soc,
        exists_fn=lambda c: c.has_energy_flow,
        needs_energy_flow=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KsemConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors this meter and token can feed."""
    coordinator = entry.runtime_data.coordinator
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
        self._counter = (
            None
            if description.counter is None
            else MonotonicCounter(description.counter, f"KSEM {description.key}")
        )

    async def async_added_to_hass(self) -> None:
        """Restore an energy counter's floor first, then take the current reading."""
        await super().async_added_to_hass()
        if self._counter is not None:
            await async_restore_counter(self._counter, self)
        self._attr_native_value = self._value()

    @property
    def available(self) -> bool:
        """Energy-flow sensors also need a fresh energy-flow reading."""
        if not super().available:
            return False
        return not self.entity_description.needs_energy_flow or (
            self.coordinator.data.energy_flow is not None
        )

    def _value(self) -> float | None:
        """The description's value; an energy counter only takes plausible readings."""
        value = self.entity_description.value_fn(self.coordinator.data)
        if self._counter is None:
            return value
        return self._counter.accept(value, dt_util.utcnow().timestamp())

    @callback
    def _handle_coordinator_update(self) -> None:
        self._attr_native_value = self._value()
        super()._handle_coordinator_update()
