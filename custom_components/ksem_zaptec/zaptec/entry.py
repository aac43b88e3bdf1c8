"""Set up and unload a Zaptec account entry."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .coordinator import (
    ZaptecConfigEntry,
    ZaptecDetailsCoordinator,
    ZaptecFirmwareCoordinator,
    ZaptecRuntimeData,
    ZaptecStateCoordinator,
    entry_client,
    forget_entry_client,
)
from .current_limit import AvailableCurrentLimiter
from .devices import DeviceSync
from .permissions import PermissionMonitor
from .push import PushSupervisor

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.UPDATE,
]


async def async_setup_entry(hass: HomeAssistant, entry: ZaptecConfigEntry) -> bool:
    """Log in, read the account, start both coordinators, add the platforms."""
    client = entry_client(hass, entry)
    details = ZaptecDetailsCoordinator(hass, entry, client)
    await details.async_config_entry_first_refresh()
    state = ZaptecStateCoordinator(hass, entry, client, details)
    await state.async_config_entry_first_refresh()
    firmware = ZaptecFirmwareCoordinator(hass, entry, client, details)
    limiter = AvailableCurrentLimiter(hass, entry)
    push = PushSupervisor(hass, entry, client, details, state)
    entry.runtime_data = ZaptecRuntimeData(
        client=client,
        details=details,
        state=state,
        push=push,
        firmware=firmware,
        limiter=limiter,
    )
    entry.async_on_unload(limiter.async_shutdown)
    # A large account (chargers the first state refresh left unread): every charger's state
    # comes first, the firmware list after it (see async_catch_up below).
    firmware_later = state.unread > 0
    if not firmware_later:
        # Firmware versions are no reason to fail the set-up: an error only leaves them unknown.
        await firmware.async_refresh()

    _follow_details(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # A large account: the chargers the first refresh left unread are read now, not a batch
    # per tick (all values within a minute at 250 chargers).
    entry.async_create_background_task(
        hass,
        _catch_up(state, firmware if firmware_later else None),
        f"Zaptec first reads {entry.title}",
    )
    # Push (installations with a message subscription) follows the details too.
    push.async_sync()
    entry.async_on_unload(details.async_add_listener(push.async_sync))
    entry.async_on_unload(push.async_stop)
    return True


def _follow_details(hass: HomeAssistant, entry: ZaptecConfigEntry) -> None:
    """The device registry and the permission repairs follow every details refresh."""
    runtime = entry.runtime_data
    devices = DeviceSync(hass, entry)
    permissions = PermissionMonitor(hass, entry)

    @callback
    def _details_updated() -> None:
        devices.async_sync()
        permissions.async_check()

    _details_updated()
    entry.async_on_unload(runtime.details.async_add_listener(_details_updated))
    entry.async_on_unload(runtime.state.async_add_listener(devices.async_sync_firmware))
    entry.async_on_unload(permissions.async_clear)


async def _catch_up(
    state: ZaptecStateCoordinator, firmware: ZaptecFirmwareCoordinator | None
) -> None:
    """Right after set-up: the chargers not read yet, then (large account) the firmware."""
    await state.async_catch_up()
    if firmware is not None:
        await firmware.async_refresh()


async def async_unload_entry(hass: HomeAssistant, entry: ZaptecConfigEntry) -> bool:
    """Let writes in flight end first, then unload; the coordinators stop with the entry."""
    await entry.runtime_data.details.async_finish_writes()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: ZaptecConfigEntry) -> None:
    """The entry is deleted: its client (token, pause) goes too."""
    forget_entry_client(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: ZaptecConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow removing a device only when the account no longer reports it."""
    return not DeviceSync(hass, entry).is_current(device)
