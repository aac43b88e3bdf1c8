"""Device info of a KSEM and of the home battery it reports (entities: `KsemZaptecEntity`)."""

from __future__ import annotations

import re
from typing import Any, cast

from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo, format_mac

from ..const import DOMAIN
from .const import MANUFACTURER, MODEL
from .coordinator import KsemCoordinator

_MAC = re.compile(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}")  # as format_mac writes it

# HA 2026.8 replaced `via_device` (identifier) by `via_device_id` (registry id); the minimum
# supported HA (2026.3) only knows the first one (as in zaptec/devices.py).
_HAS_VIA_DEVICE_ID = "via_device_id" in DeviceInfo.__annotations__


def ksem_device_info(coordinator: KsemCoordinator) -> DeviceInfo:
    """KOSTAL Smart Energy Meter: serial, firmware, MAC connection, link to its web UI."""
    entry = coordinator.config_entry
    serial = str(entry.unique_id)
    info = DeviceInfo(
        identifiers={(DOMAIN, serial)},
        manufacturer=MANUFACTURER,
        model=MODEL,
        name=entry.title,
        configuration_url=coordinator.client.web_ui_url,
    )
    # An entry keyed by the DHCP MAC address (no serial was readable) shows no serial number.
    if not _MAC.fullmatch(serial):
        info["serial_number"] = serial
    if (device := coordinator.device) is not None:
        info["sw_version"] = device.firmware_version
        info["hw_version"] = device.device_type
        if device.mac:
            info["connections"] = {(CONNECTION_NETWORK_MAC, format_mac(device.mac))}
    return info


def home_battery_device_info(coordinator: KsemCoordinator) -> DeviceInfo:
    """The home battery of the meter's energy flow, as its own device linked to the meter.

    Its state of charge would otherwise show in the meter's device header as the meter's own
    battery. The meter does not say which battery it is: no manufacturer or model. The meter's
    device is registered before the sensors (entry.py), so the link can name it.
    """
    serial = str(coordinator.config_entry.unique_id)
    info: dict[str, Any] = {
        "identifiers": {(DOMAIN, f"{serial}_home_battery")},
        "translation_key": "home_battery",
    }
    registry = dr.async_get(coordinator.hass)
    for device in dr.async_entries_for_config_entry(registry, coordinator.config_entry.entry_id):
        if (DOMAIN, serial) in device.identifiers:
            info.update(_via(device))
    return cast("DeviceInfo", info)


def _via(parent: dr.DeviceEntry) -> dict[str, Any]:
    if _HAS_VIA_DEVICE_ID:
        return {"via_device_id": parent.id}
    return {"via_device": next(iter(parent.identifiers))}  # pragma: no cover - HA < 2026.8
