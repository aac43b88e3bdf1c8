"""A per-account request budget: a token bucket plus a cap on requests in flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class RequestBudget:
    """At most `rate` requests per second on average, bursts of `burst`, `max_in_flight` at once.

    Zaptec allows 10 requests per second per account. In any one-second window this lets
    through at most `burst + rate` requests (3 + 5 = 8 with the defaults), leaving room for the
    Zaptec app and the portal, which share the account's limit.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        max_in_flight: int,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Start with a full bucket."""
        self._rate = rate
        self._capacity = float(burst)
        self._tokens = float(burst)
        self._clock = clock or (lambda: time.monotonic())  # noqa: PLW0108 - late lookup
        self._updated = self._clock()
        self._lock = asyncio.Lock()
        self._in_flight = asyncio.Semaphore(max_in_flight)

    async def _take(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(
                    self._capacity, self._tokens + (now - self._updated) * self._rate
                )
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot and a token, then hold the slot while the request runs."""
        async with self._in_flight:
            await self._take()
            yield
