"""Fixtures of the benchmark scenarios (collected only by `python -m bench.scenarios`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from simulator import server


@pytest.fixture(autouse=True)
def _custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from this checkout."""


@pytest.fixture
async def serve(
    socket_enabled: None,
) -> AsyncIterator[Callable[[web.Application], Awaitable[server.RunningServer]]]:
    """Start a simulator's application on a loopback port; stopped after the scenario."""
    running: list[server.RunningServer] = []

    async def start(app: web.Application) -> server.RunningServer:
        running.append(await server.start(app))
        return running[-1]

    yield start
    for item in running:
        await item.stop()
