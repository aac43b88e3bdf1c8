"""Every numeric sensor shows the decimals a user reads its quantity with, on both sides."""

from __future__ import annotations

from homeassistant.components.sensor import SensorDeviceClass, SensorEntityDescription

from custom_components.ksem_zaptec.ksem.sensor import SENSORS
from custom_components.ksem_zaptec.zaptec.sensor import CHARGER_SENSORS, INSTALLATION_SENSORS

# HA's defaults come from the unit (Hz: 0, so 50.012 Hz read "50 Hz"), not from the quantity.
PRECISION = {
    SensorDeviceClass.FREQUENCY: 2,
    SensorDeviceClass.VOLTAGE: 1,
    SensorDeviceClass.CURRENT: 1,
    SensorDeviceClass.POWER: 0,
    SensorDeviceClass.ENERGY: 2,
    SensorDeviceClass.POWER_FACTOR: 2,
    SensorDeviceClass.BATTERY: 0,
}


def test_precision_per_quantity() -> None:
    descriptions: list[SensorEntityDescription] = [
        *SENSORS,
        *CHARGER_SENSORS,
        *INSTALLATION_SENSORS,
    ]
    numeric = [d for d in descriptions if d.device_class not in {None, SensorDeviceClass.ENUM}]
    assert {d.device_class for d in numeric} <= PRECISION.keys()
    for description in numeric:
        assert description.device_class is not None
        expected = PRECISION[description.device_class]
        assert description.suggested_display_precision == expected, description.key
