"""Zaptec devices: their device info, and the registry kept in line with the account."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from ..const import DOMAIN
from .api import Charger, ChargerState, Installation, Observation
from .coordinator import ZaptecConfigEntry

# HA 2026.8 replaced `via_device` (identifier) by `via_device_id` (registry id); the minimum
# supported HA (2026.3) only knows the first one.
_HAS_VIA_DEVICE_ID = "via_device_id" in dr.DeviceInfo.__annotations__


MANUFACTURER = "Zaptec"


def installation_device_info(installation: Installation) -> DeviceInfo:
    """The device of an installation (the chargers hang below it)."""
    return DeviceInfo(
        identifiers={(DOMAIN, installation.id)},
        name=installation.name,
        manufacturer=MANUFACTURER,
        model="Installation",
    )


def firmware_of(state: ChargerState | None) -> str | None:
    """Firmware version from the charger's state, if it was read."""
    if state is None:
        return None
    return state.text(Observation.COMPUTER_SOFTWARE_VERSION) or state.text(
        Observation.MAINBOARD_SOFTWARE_VERSION
    )


def charger_device_info(charger: Charger, state: ChargerState | None) -> DeviceInfo:
    """The device of a charger: model from the serial prefix, firmware from its state.

    The link to its installation is made when the devices are registered (devices.py).
    """
    return DeviceInfo(
        identifiers={(DOMAIN, charger.id)},
        name=charger.name,
        manufacturer=MANUFACTURER,
        model=charger.model,
        serial_number=charger.serial,
        sw_version=firmware_of(state),
    )


def _via(parent: dr.DeviceEntry) -> dict[str, Any]:
    if _HAS_VIA_DEVICE_ID:
        return {"via_device_id": parent.id}
    return {"via_device": next(iter(parent.identifiers))}  # pragma: no cover - HA < 2026.8


def _our_ids(device: dr.DeviceEntry) -> set[str]:
    return {identifier for domain, identifier in device.identifiers if domain == DOMAIN}


class DeviceSync:
    """Registers installations first, then chargers linked to them; removes vanished ones."""

    def __init__(self, hass: HomeAssistant, entry: ZaptecConfigEntry) -> None:
        """Follow one account."""
        self._hass = hass
        self._entry = entry

    @callback
    def async_sync(self) -> None:
        """After a details update: register what is there, remove what is gone."""
        details = self._entry.runtime_data.details
        if not details.last_update_success:
            return  # only a complete, successful listing may remove devices
        states = self._entry.runtime_data.state.data or {}
        registry = dr.async_get(self._hass)
        entry_id = self._entry.entry_id
        parents = {
            installation.id: registry.async_get_or_create(
                config_entry_id=entry_id, **installation_device_info(installation)
            )
            for installation in details.data.installations.values()
        }
        for charger in details.data.chargers.values():
            parent = parents.get(charger.installation_id or "")
            registry.async_get_or_create(
                config_entry_id=entry_id,
                **charger_device_info(charger, states.get(charger.id)),
                **(_via(parent) if parent else {}),
            )
        current = details.data.installations.keys() | details.data.chargers.keys()
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            ours = _our_ids(device)
            if ours and not ours & current:
                registry.async_update_device(device.id, remove_config_entry_id=entry_id)

    @callback
    def async_sync_firmware(self) -> None:
        """After a state update: firmware versions read from the chargers."""
        registry = dr.async_get(self._hass)
        devices = {
            identifier: device
            for device in dr.async_entries_for_config_entry(registry, self._entry.entry_id)
            for identifier in _our_ids(device)
        }
        for charger_id, state in (self._entry.runtime_data.state.data or {}).items():
            firmware = firmware_of(state)
            device = devices.get(charger_id)
            if firmware and device and device.sw_version != firmware:
                registry.async_update_device(device.id, sw_version=firmware)

    def is_current(self, device: dr.DeviceEntry) -> bool:
        """Whether the account still reports this device."""
        data = self._entry.runtime_data.details.data
        return bool(_our_ids(device) & (data.installations.keys() | data.chargers.keys()))
