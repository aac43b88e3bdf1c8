"""KSEM sensors: grid power and energy, per-phase values, and the energy flow if readable.

Signs follow Home Assistant's energy data model: grid power + = import, battery power + =
discharge (the meter sends + = charging; docs/ksem.md#energy-flow). The energy of the
energy-flow powers is integrated by the coordinator (integrator.py): the meter has no counters.
The home battery's values belong to their own device, linked to the meter.
"""

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
from .device import home_battery_device_info, ksem_device_info

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
    # Energy integrated from the energy flow (a key of FLOW_ENERGY): read from the coordinator's
    # integrator, which sees every pushed sample; restored after a restart.
    integrated: bool = False
    # The home battery's values are on their own device (via the meter).
    home_battery: bool = False


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


def _flow(
    key: str, value_fn: Callable[[EnergyFlow], float | None], *, home_battery: bool = False
) -> KsemSensorEntityDescription:
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
        home_battery=home_battery,
    )


def _flow_energy(key: str, *, home_battery: bool = False) -> KsemSensorEntityDescription:
    """Energy integrated from an energy-flow power (a FLOW_ENERGY key; read from its integrator)."""
    return KsemSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=lambda _: None,
        exists_fn=lambda c: c.has_energy_flow,
        needs_energy_flow=True,
        integrated=True,
        home_battery=home_battery,
    )


def _discharge(power: float | None) -> float | None:
    """Home Assistant's battery sign (+ = discharge) from the meter's (+ = charge)."""
    return None if power is None else 0.0 - power  # 0.0 - 0.0 is 0.0, not -0.0


# Per phase: key and translation stem, device class, unit, display precision, value.
_PHASE_VALUES: tuple[
    tuple[str, SensorDeviceClass, str | None, int, Callable[[PhaseValues], float | None]], ...
] = (
    ("power", SensorDeviceClass.POWER, UnitOfPower.WATT, 0, lambda p: p.power),
    ("current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE, 1, lambda p: p.current),
    ("voltage", SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT, 1, lambda p: p.voltage),
    ("power_factor", SensorDeviceClass.POWER_FACTOR, None, 2, lambda p: p.power_factor),
    (
        "import_energy",
        SensorDeviceClass.ENERGY,
        UnitOfEnergy.KILO_WATT_HOUR,
        2,
        lambda p: p.energy_import,
    ),
    (
        "export_energy",
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
    _energy("import_energy", lambda d: d.meter.energy_import),
    _energy("export_energy", lambda d: d.meter.energy_export),
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
    _flow_energy("pv_energy"),
    _flow("house_power", lambda f: f.house_power),
    _flow_energy("house_energy"),
    _flow("wallbox_power", lambda f: f.wallbox_power),
    _flow_energy("wallbox_energy"),
    _flow("battery_power", lambda f: _discharge(f.battery_power), home_battery=True),
    _flow_energy("battery_charge_energy", home_battery=True),
    _flow_energy("battery_discharge_energy", home_battery=True),
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
        home_battery=True,
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
            (
                home_battery_device_info(coordinator)
                if description.home_battery
                else ksem_device_info(coordinator)
            ),
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
        if self.entity_description.integrated:
            last = await self.async_get_last_sensor_data()
            if last is not None and isinstance(last.native_value, int | float):
                self.coordinator.flow_energy[self.entity_description.key].restore(
                    float(last.native_value)
                )
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
        if self.entity_description.integrated:
            return self.coordinator.flow_energy[self.entity_description.key].total_kwh
        value = self.entity_description.value_fn(self.coordinator.data)
        if self._counter is None:
            return value
        return self._counter.accept(value, dt_util.utcnow().timestamp())

    @callback
    def _handle_coordinator_update(self) -> None:
        self._attr_native_value = self._value()
        super()._handle_coordinator_update()
