"""The reconnect policy both push supervisors share (KSEM WebSocket, Zaptec Service Bus)."""

from __future__ import annotations


class ReconnectBackoff:
    """Waits between reconnects: `base` doubling to `cap`, again from `base` after a stable one.

    A connection that lasted `stable_after` seconds starts over from `base`; one that drops
    right after connecting keeps backing off instead of reconnecting every `base` seconds.
    """

    __slots__ = ("_next", "base", "cap", "stable_after")

    def __init__(self, base: float, cap: float, stable_after: float) -> None:
        """The first wait is `base`."""
        self.base, self.cap, self.stable_after = base, cap, stable_after
        self._next = base

    def wait(self, connected_for: float | None) -> float:
        """Seconds before the next attempt; `connected_for`: how long the last one was up."""
        if connected_for is not None and connected_for >= self.stable_after:
            self._next = self.base
        wait, self._next = self._next, min(self._next * 2, self.cap)
        return wait
