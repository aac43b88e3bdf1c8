"""Fixtures of the benchmark scenarios (collected only by `python -m bench.scenarios`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from custom_components.ksem_zaptec.zaptec.api import ClientTuning, ZaptecClient
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


@pytest.fixture
def unlimited_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real sleeps on a frozen clock: lift the Zaptec client's rate limit and read-back wait.

    Everything else the integration sets (the schedule, the pauses) stays as it is.
    """
    real_init = ZaptecClient.__init__

    def init(self: ZaptecClient, *args: Any, **kwargs: Any) -> None:
        tuning = replace(kwargs.get("tuning") or ClientTuning(), rate=1e6, confirm_delay=0)
        real_init(self, *args, **{**kwargs, "tuning": tuning})

    monkeypatch.setattr(ZaptecClient, "__init__", init)
