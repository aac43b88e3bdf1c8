"""Device info of a KSEM (the entity base class is the shared `KsemZaptecEntity`)."""

from __future__ import annotations

import re

from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo, format_mac

from ..const import DOMAIN
from .const import MANUFACTURER, MODEL
from .coordinator import KsemCoordinator

_MAC = re.compile(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}")  # as format_mac writes it


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
