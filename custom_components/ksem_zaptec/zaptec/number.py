"""Zaptec numbers: installation and charger currents.

- *Available current* (all phases) goes through the rate guard of `current_limit.py`: one
  write per 15 minutes, the last value wins, the entity shows the pending value. Per-phase
  values are set with the `set_available_current` action (one call, three values).
- *3-to-1-phase switch current* exists where the installation reports the field (Pro, Go 2).
- *Min/Max charge current* of a charger are disabled by default: they override Zaptec's load
  balancing, which Zaptec advises against (docs/zaptec.md#control). After a write the charger
  state is read once (and once more after Zaptec's 15 s state cache if it is still old).

Every number is available only with the Owner or Service role; the installation ones also
not once Zaptec said that Sense/APM manages the installation (code 527).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import LOGGER
from ..errors import action_errors
from . import const
from .api import (
    ChargerState,
    Installation,
    Observation,
    ZaptecAuthenticationError,
    ZaptecClient,
    ZaptecError,
)
from .coordinator import ZaptecConfigEntry, ZaptecDetailsCoordinator
from .current_limit import AvailableCurrentLimiter
from .entity import (
    ZaptecChargerEntity,
    ZaptecInstallationEntity,
    async_add_device_entities,
)
from .errors import map_action_error
from .permissions import control_blocked, installation_control_blocked

# The highest current a Zaptec charger or phase switch setting takes (A).
CHARGER_MAX_AMPERES = 32.0
# Without a MaxCurrent the installation's available current is offered up to this (A).
DEFAULT_INSTALLATION_AMPERES = 32.0


def _available_current(installation: Installation) -> float | None:
    """All phases' value: the lowest phase (what every phase may at least draw)."""
    phases = [
        value
        for value in (
            installation.available_current_phase1,
            installation.available_current_phase2,
            installation.available_current_phase3,
        )
        if value is not None
    ]
    return min(phases) if phases else None


@dataclass(frozen=True, kw_only=True)
class ZaptecInstallationNumberDescription(NumberEntityDescription):
    """An installation current: read, write (confirmed), whether it exists."""

    value_fn: Callable[[Installation], float | None]
    set_fn: Callable[[AvailableCurrentLimiter, str, float], Awaitable[None]]
    exists_fn: Callable[[Installation], bool] = lambda _: True
    max_fn: Callable[[Installation], float] = lambda _: CHARGER_MAX_AMPERES
    rate_guarded: bool = False  # goes through the limiter: show a pending value first


@dataclass(frozen=True, kw_only=True)
class ZaptecChargerNumberDescription(NumberEntityDescription):
    """A charger current: read from the state, write, how the write shows."""

    observation: Observation
    set_fn: Callable[[ZaptecClient, str, float], Awaitable[None]]


INSTALLATION_NUMBERS = (
    ZaptecInstallationNumberDescription(
        key="available_current",
        translation_key="zaptec_available_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=0,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=_available_current,
        set_fn=lambda limiter, installation_id, value: limiter.async_set(
            installation_id, (value, value, value)
        ),
        max_fn=lambda installation: installation.max_current or DEFAULT_INSTALLATION_AMPERES,
        rate_guarded=True,
    ),
    ZaptecInstallationNumberDescription(
        key="three_to_one_phase_switch_current",
        translation_key="zaptec_three_to_one_phase_switch_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda installation: installation.three_to_one_phase_switch_current,
        set_fn=lambda limiter, installation_id, value: limiter.async_set_phase_switch_current(
            installation_id, value
        ),
        exists_fn=lambda installation: installation.three_to_one_phase_switch_current is not None,
    ),
)

CHARGER_NUMBERS = (
    ZaptecChargerNumberDescription(
        key="max_charge_current",
        translation_key="zaptec_max_charge_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        native_min_value=0,
        native_max_value=CHARGER_MAX_AMPERES,
        native_step=1,
        mode=NumberMode.BOX,
        observation=Observation.CHARGER_MAX_CURRENT,
        set_fn=lambda client, charger_id, value: client.set_charger_currents(
            charger_id, maximum=value
        ),
    ),
    ZaptecChargerNumberDescription(
        key="min_charge_current",
        translation_key="zaptec_min_charge_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        native_min_value=0,
        native_max_value=CHARGER_MAX_AMPERES,
        native_step=1,
        mode=NumberMode.BOX,
        observation=Observation.CHARGER_MIN_CURRENT,
        set_fn=lambda client, charger_id, value: client.set_charger_currents(
            charger_id, minimum=value
        ),
    ),
)


class ZaptecInstallationNumber(ZaptecInstallationEntity, NumberEntity):
    """A current of an installation."""

    entity_description: ZaptecInstallationNumberDescription

    def __init__(
        self,
        coordinator: ZaptecDetailsCoordinator,
        description: ZaptecInstallationNumberDescription,
        installation: Installation,
        limiter: AvailableCurrentLimiter,
    ) -> None:
        """Bind to one installation and the account's rate guard."""
        super().__init__(coordinator, description, installation)
        self._limiter = limiter

    @property
    def available(self) -> bool:
        """With Owner or Service, and unless Sense/APM manages the installation."""
        installation = self.installation
        return (
            super().available
            and installation is not None
            and installation_control_blocked(installation) is None
            and self.installation_id not in self._limiter.managed_by_apm
        )

    @property
    def native_max_value(self) -> float:
        """The installation's limit."""
        installation = self.installation
        if installation is None:
            return CHARGER_MAX_AMPERES
        return self.entity_description.max_fn(installation)

    @property
    def native_value(self) -> float | None:
        """A pending available current first (it is what will apply), else the cloud's value."""
        if self.entity_description.rate_guarded:
            pending = self._limiter.pending.get(self.installation_id)
            if pending is not None:
                return min(pending)
        installation = self.installation
        return None if installation is None else self.entity_description.value_fn(installation)

    @action_errors(map_action_error)
    async def async_set_native_value(self, value: float) -> None:
        """Write it (the available current through the rate guard)."""
        await self.entity_description.set_fn(self._limiter, self.installation_id, value)
        self.async_write_ha_state()


class ZaptecChargerNumber(ZaptecChargerEntity, NumberEntity):
    """A charge current limit of a charger (overrides the load balancer)."""

    entity_description: ZaptecChargerNumberDescription

    @property
    def available(self) -> bool:
        """With Owner or Service on the charger or its installation."""
        view = self.view
        return (
            super().available
            and view is not None
            and control_blocked(view.charger, view.installation) is None
        )

    @property
    def native_value(self) -> float | None:
        """The charger's value (observation 510 or 511)."""
        view = self.view
        return None if view is None else view.state.number(self.entity_description.observation)

    @action_errors(map_action_error)
    async def async_set_native_value(self, value: float) -> None:
        """Write it, read the state once; again after the state cache if it is still old."""
        description = self.entity_description
        state_coordinator = self.coordinator
        details = state_coordinator.details
        LOGGER.info(
            "Zaptec: %s of charger %s set to %g A; it overrides Zaptec's load balancing",
            description.key,
            self.charger_id,
            value,
        )
        async with details.async_write():
            await description.set_fn(details.client, self.charger_id, value)
            state = await self._read_state()
        if state is not None:
            state_coordinator.async_set_charger_state(state)
        if state is None or state.number(description.observation) != value:
            state_coordinator.async_read_soon([self.charger_id], const.STATE_AFTER_WRITE)

    async def _read_state(self) -> ChargerState | None:
        try:
            return await self.coordinator.client.get_charger_state(self.charger_id)
        except ZaptecAuthenticationError:
            raise
        except ZaptecError as err:
            LOGGER.debug("Zaptec: state after a current change not readable now: %s", err)
            return None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ZaptecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Current numbers for every installation and charger."""
    runtime = entry.runtime_data
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda installation: (
            ZaptecInstallationNumber(runtime.details, description, installation, runtime.limiter)
            for description in INSTALLATION_NUMBERS
            if description.exists_fn(installation)
        ),
        lambda charger: (
            ZaptecChargerNumber(runtime.state, description, charger)
            for description in CHARGER_NUMBERS
        ),
    )
