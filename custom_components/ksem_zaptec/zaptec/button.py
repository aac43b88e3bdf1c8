"""Zaptec charger buttons: stop (pause), resume, deauthorize and stop, restart.

Buttons, not a "charging" switch: a charger has more than two modes (waiting for the car,
charging, finished, paused), a command is refused when it would change nothing (code 528),
and deauthorize or restart are actions without a state. Each button is available only when
Zaptec's command validation would accept its command in the charger's present state (resume
only when paused, stop only when charging or waiting), with the Owner or Service role.

A press costs the command, one state read right after it, and when that read does not yet
show the effect (Zaptec caches the state for 15 s), one more read 16 s later: at most three
requests. A 528 ("nothing to change") is no error: the state read shows why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The device class enum lives in button.const on newer HA and is re-exported here.
from homeassistant.components.button import (  # type: ignore[attr-defined]
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import DOMAIN, LOGGER
from ..errors import action_errors
from . import const
from .api import (
    ChargerCommand,
    ChargerState,
    CommandResult,
    Observation,
    OperatingMode,
    ZaptecAuthenticationError,
    ZaptecError,
)
from .coordinator import ZaptecConfigEntry
from .entity import ChargerView, ZaptecChargerEntity, async_add_device_entities
from .errors import map_action_error
from .permissions import Blocked, control_blocked, deauthorize_blocked


@dataclass(frozen=True, kw_only=True)
class ZaptecCommandButtonDescription(ButtonEntityDescription):
    """A charger command: what it is, when it may be sent, how its effect shows."""

    command: ChargerCommand
    # None: the command has no effect to wait for in the state (restart).
    shows_fn: Callable[[ChargerState], bool] | None
    blocked_fn: Callable[[ChargerView], Blocked | None] = lambda view: control_blocked(
        view.charger, view.installation
    )


def _deauthorized(state: ChargerState) -> bool:
    """No session runs and nobody is authorized any more."""
    return (
        state.operating_mode != OperatingMode.CONNECTED_CHARGING
        and not state.paused
        and state.text(Observation.CHARGER_CURRENT_USER_UUID) is None
    )


COMMAND_BUTTONS = (
    ZaptecCommandButtonDescription(
        key="stop_charging",
        translation_key="zaptec_stop_charging",
        command=ChargerCommand.STOP_CHARGING_FINAL,
        shows_fn=lambda state: state.paused,
    ),
    ZaptecCommandButtonDescription(
        key="resume_charging",
        translation_key="zaptec_resume_charging",
        command=ChargerCommand.RESUME_CHARGING,
        shows_fn=lambda state: not state.paused,
    ),
    ZaptecCommandButtonDescription(
        key="deauthorize_and_stop",
        translation_key="zaptec_deauthorize_and_stop",
        command=ChargerCommand.DEAUTHORIZE_AND_STOP,
        shows_fn=_deauthorized,
        # Zaptec's own or its OCPP cloud authorization: a payment operator manages the others.
        blocked_fn=lambda view: deauthorize_blocked(view.charger, view.installation),
    ),
    ZaptecCommandButtonDescription(
        key="restart",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        command=ChargerCommand.RESTART_CHARGER,
        shows_fn=None,
    ),
)


class ZaptecCommandButton(ZaptecChargerEntity, ButtonEntity):
    """Send one command to a charger."""

    entity_description: ZaptecCommandButtonDescription

    @property
    def available(self) -> bool:
        """With the role to send it, and only when Zaptec would accept it now."""
        view = self.view
        return (
            super().available
            and view is not None
            and self.entity_description.blocked_fn(view) is None
            and view.state.flag(Observation.IS_ONLINE) is not False
            and view.state.accepts(self.entity_description.command)
        )

    @action_errors(map_action_error)
    async def async_press(self) -> None:
        """Send the command, then read the state once so its effect shows."""
        description = self.entity_description
        state_coordinator = self.coordinator
        details = state_coordinator.details
        async with details.async_write():
            result = await details.client.send_command(self.charger_id, description.command)
            if result is CommandResult.NOTHING_TO_DO:
                LOGGER.debug(
                    "Zaptec: %s on charger %s changes nothing now (528)",
                    description.command.name,
                    self.charger_id,
                )
            state = None
            if description.shows_fn is not None:
                state = await self._read_state()
        if state is not None:
            state_coordinator.async_set_charger_state(state)
        shows = description.shows_fn
        if state is None or shows is None or not shows(state):
            # The 15 s state cache may still answer the old state: read once more after it.
            state_coordinator.async_read_soon([self.charger_id], const.STATE_AFTER_WRITE)
            if result is CommandResult.UNCONFIRMED:
                raise HomeAssistantError(
                    translation_domain=DOMAIN, translation_key="zaptec_command_unconfirmed"
                )

    async def _read_state(self) -> ChargerState | None:
        """The state after the command; None when it cannot be read now (read later)."""
        try:
            return await self.coordinator.client.get_charger_state(self.charger_id)
        except ZaptecAuthenticationError:
            raise
        except ZaptecError as err:
            LOGGER.debug("Zaptec: state after a command not readable now: %s", err)
            return None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ZaptecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Command buttons for every charger."""
    state = entry.runtime_data.state
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda installation: (),
        lambda charger: (ZaptecCommandButton(state, d, charger) for d in COMMAND_BUTTONS),
    )
