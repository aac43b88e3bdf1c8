"""Zaptec entities: installation and charger base classes, added as their devices appear."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeassistant.core import callback
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..entity import KsemZaptecEntity
from .api import Charger, ChargerState, Installation
from .coordinator import ZaptecConfigEntry, ZaptecDetailsCoordinator, ZaptecStateCoordinator
from .devices import charger_device_info, installation_device_info


@dataclass(frozen=True, slots=True)
class ChargerView:
    """Everything a charger entity's value function may look at."""

    charger: Charger
    state: ChargerState
    installation: Installation | None


class ZaptecInstallationEntity(KsemZaptecEntity[ZaptecDetailsCoordinator]):
    """An entity of an installation device, fed by the details coordinator."""

    def __init__(
        self,
        coordinator: ZaptecDetailsCoordinator,
        description: EntityDescription,
        installation: Installation,
    ) -> None:
        """Bind to one installation."""
        super().__init__(
            coordinator, description, installation.id, installation_device_info(installation)
        )
        self.installation_id = installation.id

    @property
    def installation(self) -> Installation | None:
        """The installation as last read, None once it is gone."""
        return self.coordinator.data.installations.get(self.installation_id)

    @property
    def available(self) -> bool:
        """Unavailable when the details are no longer fresh or the installation is gone.

        One failed refresh does not count: the details change rarely and are retried on
        their own backoff.
        """
        return self.coordinator.fresh and self.installation is not None


class ZaptecChargerEntity(KsemZaptecEntity[ZaptecStateCoordinator]):
    """An entity of a charger device: live state plus the charger's details."""

    def __init__(
        self,
        coordinator: ZaptecStateCoordinator,
        description: EntityDescription,
        charger: Charger,
    ) -> None:
        """Bind to one charger."""
        super().__init__(
            coordinator,
            description,
            charger.id,
            charger_device_info(charger, coordinator.data.get(charger.id)),
        )
        self.charger_id = charger.id

    async def async_added_to_hass(self) -> None:
        """Also follow the details coordinator (authorization flags, names, list values)."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.details.async_add_listener(self._handle_coordinator_update)
        )

    @property
    def view(self) -> ChargerView | None:
        """The charger, its state and its installation; None once the charger is gone."""
        details = self.coordinator.details.data
        charger = details.chargers.get(self.charger_id)
        if charger is None:
            return None
        state = self.coordinator.data.get(self.charger_id) or ChargerState(self.charger_id)
        installation = details.installations.get(charger.installation_id or "")
        return ChargerView(charger, state, installation)

    @property
    def available(self) -> bool:
        """Unavailable when this charger's state is not fresh, or the charger is gone.

        A failed details refresh does not count: the chargers keep their last details.
        """
        return (
            super().available
            and self.coordinator.is_available(self.charger_id)
            and self.charger_id in self.coordinator.details.data.chargers
        )


@callback
def async_add_device_entities(
    entry: ZaptecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    for_installation: Callable[[Installation], Iterable[Entity]],
    for_charger: Callable[[Charger], Iterable[Entity]],
) -> None:
    """Add entities for every installation and charger, and for new ones as they appear."""
    details = entry.runtime_data.details
    known: set[str] = set()

    @callback
    def _add_new() -> None:
        data = details.data
        new: list[Entity] = []
        for installation in data.installations.values():
            if installation.id not in known:
                known.add(installation.id)
                new.extend(for_installation(installation))
        for charger in data.chargers.values():
            if charger.id not in known:
                known.add(charger.id)
                new.extend(for_charger(charger))
        # Forget removed ones, so a charger that comes back gets its entities again.
        known.intersection_update(data.installations.keys() | data.chargers.keys())
        if new:
            async_add_entities(new)

    _add_new()
    entry.async_on_unload(details.async_add_listener(_add_new))
