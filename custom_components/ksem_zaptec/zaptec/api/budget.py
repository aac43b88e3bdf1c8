"""A per-account request budget: a sliding one-second window plus a cap on requests in flight."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

# A little more than one second, so that network jitter between our start time and Zaptec's
# arrival time cannot squeeze `rate + 1` requests into one of Zaptec's one-second windows.
WINDOW = 1.05


class RequestBudget:
    """At most `rate` requests start in any `WINDOW`, at most `max_in_flight` run at once.

    Zaptec allows 10 requests per second per account; with the default rate of 5 the
    integration uses at most half of it in any second, leaving room for the Zaptec app and
    the portal, which share the account's limit. A sliding window (not a token bucket with a
    burst on top of its rate) is what makes "never more than 5 in one second" hold.
    """

    def __init__(
        self,
        rate: float,
        max_in_flight: int,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """No request has started yet."""
        self._rate = max(1, int(rate))
        self._starts: deque[float] = deque()
        self._clock = clock or (lambda: time.monotonic())  # noqa: PLW0108 - late lookup
        self._lock = asyncio.Lock()
        self._in_flight = asyncio.Semaphore(max_in_flight)

    async def _take(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._starts and now - self._starts[0] >= WINDOW:
                    self._starts.popleft()
                if len(self._starts) < self._rate:
                    self._starts.append(now)
                    return
                await asyncio.sleep(WINDOW - (now - self._starts[0]))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot and room in the window, then hold the slot while it runs."""
        async with self._in_flight:
            await self._take()
            yield
