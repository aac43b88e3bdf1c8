"""The shared error decorators and each side's mapping of client errors."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed

from custom_components.ksem_zaptec.errors import ActionError, action_errors, update_errors
from custom_components.ksem_zaptec.ksem.api import KsemConnectionError, KsemRateLimitError
from custom_components.ksem_zaptec.ksem.errors import map_update_error as ksem_map
from custom_components.ksem_zaptec.zaptec.api import (
    ZaptecAuthenticationError,
    ZaptecConnectionError,
    ZaptecForbiddenError,
    ZaptecProtocolError,
    ZaptecRateLimitError,
    ZaptecWriteNotConfirmedError,
)
from custom_components.ksem_zaptec.zaptec.errors import map_action_error, map_update_error


class _Coordinator:
    """Stands in for a coordinator: its backoff after a failure."""

    def __init__(self, backoff: float | None) -> None:
        self.backoff = backoff

    def failure_backoff(self) -> float | None:
        return self.backoff


def test_unexpected_errors_are_not_mapped() -> None:
    assert ksem_map(_Coordinator(None), RuntimeError()) is None
    assert map_update_error(_Coordinator(None), RuntimeError()) is None
    assert map_action_error(RuntimeError()) is None


def test_ksem_rate_limit_waits_for_the_longer_of_both() -> None:
    mapped = ksem_map(_Coordinator(10.0), KsemRateLimitError(30.0))
    assert isinstance(mapped, UpdateFailed)
    assert mapped.retry_after == 30.0
    mapped = ksem_map(_Coordinator(60.0), KsemRateLimitError(None))
    assert isinstance(mapped, UpdateFailed)
    assert mapped.retry_after == 60.0
    mapped = ksem_map(_Coordinator(None), KsemConnectionError("down"))
    assert isinstance(mapped, UpdateFailed)
    assert mapped.retry_after is None


def test_zaptec_update_mapping() -> None:
    coordinator = _Coordinator(120.0)
    auth = map_update_error(coordinator, ZaptecAuthenticationError("no"))
    assert isinstance(auth, ConfigEntryAuthFailed)
    limited = map_update_error(coordinator, ZaptecRateLimitError("429", retry_after=300.0))
    assert isinstance(limited, UpdateFailed)
    assert limited.retry_after == 300.0
    paused = map_update_error(coordinator, ZaptecConnectionError("503", retry_after=60.0))
    assert isinstance(paused, UpdateFailed)
    assert paused.retry_after == 60.0  # the client's pause, not the coordinator's backoff
    odd = map_update_error(coordinator, ZaptecProtocolError("no Data"))
    assert isinstance(odd, UpdateFailed)
    assert odd.retry_after == 120.0


@pytest.mark.parametrize(
    ("error", "key", "reauth"),
    [
        (ZaptecAuthenticationError("no"), "zaptec_auth_failed", True),
        (ZaptecForbiddenError(403), "zaptec_write_forbidden", False),
        (ZaptecWriteNotConfirmedError("stale"), "zaptec_write_not_confirmed", False),
        (ZaptecConnectionError("503"), "zaptec_write_failed", False),
    ],
)
def test_zaptec_action_mapping(error: Exception, key: str, reauth: bool) -> None:
    mapped = map_action_error(error)
    assert mapped is not None
    assert mapped.error.translation_key == key
    assert mapped.reauth is reauth


async def test_update_decorator_passes_ha_errors_and_surprises_through() -> None:
    raised: list[Exception] = []

    @update_errors(lambda _c, err: UpdateFailed("mapped") if isinstance(err, ValueError) else None)
    async def update(_coordinator: Any) -> None:
        raise raised[-1]

    for error in (UpdateFailed("as is"), ConfigEntryAuthFailed("as is"), KeyError("surprise")):
        raised.append(error)
        with pytest.raises(type(error)) as caught:
            await update(MagicMock())
        assert caught.value is error
    raised.append(ValueError("client"))
    with pytest.raises(UpdateFailed, match="mapped"):
        await update(MagicMock())


async def test_action_decorator_starts_reauth_only_when_asked() -> None:
    def mapping(err: Exception) -> ActionError | None:
        if isinstance(err, PermissionError):
            return ActionError(HomeAssistantError("login"), reauth=True)
        if isinstance(err, ValueError):
            return ActionError(HomeAssistantError("failed"))
        return None

    class Entity:
        def __init__(self) -> None:
            self.hass = MagicMock()
            self.coordinator = MagicMock()

        @action_errors(mapping)
        async def press(self, error: Exception) -> None:
            raise error

    entity = Entity()
    start_reauth = entity.coordinator.config_entry.async_start_reauth
    with pytest.raises(HomeAssistantError, match="failed"):
        await entity.press(ValueError())
    start_reauth.assert_not_called()
    with pytest.raises(HomeAssistantError, match="login"):
        await entity.press(PermissionError())
    start_reauth.assert_called_once_with(entity.hass)
    with pytest.raises(KeyError):
        await entity.press(KeyError())
    already = HomeAssistantError("already translated")
    with pytest.raises(HomeAssistantError) as caught:
        await entity.press(already)
    assert caught.value is already
