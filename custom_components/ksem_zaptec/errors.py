"""The two decorators that turn client errors into Home Assistant errors, for both sides.

- `update_errors` wraps a coordinator's `_async_update_data`: a client error becomes what the
  side's mapper says (`ConfigEntryAuthFailed` starts reauth, `UpdateFailed` with a translated
  message and, where the client asked for it, `retry_after`).
- `action_errors` wraps an entity action (a switch press): a client error becomes a translated
  `HomeAssistantError`; when the mapper says the credentials no longer work, reauth starts too.
Each side keeps its mapping in one function (`ksem/errors.py`, `zaptec/errors.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate, TypeVar

from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import (
    CoordinatorEntity,
    DataUpdateCoordinator,
    UpdateFailed,
)

# Old-style type variables: the decorator that update_errors returns is itself generic.
_C = TypeVar("_C", bound=DataUpdateCoordinator[Any])
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ActionError:
    """What a failed action shows the user, and whether the login must be renewed."""

    error: HomeAssistantError
    reauth: bool = False


def update_errors(
    map_error: Callable[[Any, Exception], Exception | None],
) -> Callable[
    [Callable[[_C], Awaitable[_T]]],
    Callable[[_C], Coroutine[Any, Any, _T]],
]:
    """Map what `_async_update_data` raises with `map_error(coordinator, error)`.

    `map_error` returns the Home Assistant exception to raise, or None to let the error pass
    (an unexpected one, which the coordinator then logs with its traceback).
    """

    def decorator[C: DataUpdateCoordinator[Any], T](
        func: Callable[[C], Awaitable[T]],
    ) -> Callable[[C], Coroutine[Any, Any, T]]:
        @wraps(func)
        async def wrapper(coordinator: C) -> T:
            try:
                return await func(coordinator)
            except UpdateFailed, ConfigEntryAuthFailed:
                raise
            except Exception as err:
                mapped = map_error(coordinator, err)
                if mapped is None:
                    raise
                raise mapped from err

        return wrapper

    return decorator


def action_errors[E: CoordinatorEntity[Any], **P, T](
    map_error: Callable[[Exception], ActionError | None],
) -> Callable[
    [Callable[Concatenate[E, P], Awaitable[T]]],
    Callable[Concatenate[E, P], Coroutine[Any, Any, T]],
]:
    """Map what an entity action raises; start reauth when the mapper asks for it."""

    def decorator(
        func: Callable[Concatenate[E, P], Awaitable[T]],
    ) -> Callable[Concatenate[E, P], Coroutine[Any, Any, T]]:
        @wraps(func)
        async def wrapper(entity: E, /, *args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return await func(entity, *args, **kwargs)
            except HomeAssistantError:
                raise
            except Exception as err:
                mapped = map_error(err)
                if mapped is None:
                    raise
                if mapped.reauth:
                    entity.coordinator.config_entry.async_start_reauth(entity.hass)
                raise mapped.error from err

        return wrapper

    return decorator
