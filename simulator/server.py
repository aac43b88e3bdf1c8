"""Start an aiohttp application on a loopback port and stop it again."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from aiohttp import web


@dataclass(slots=True)
class RunningServer:
    """An application served on `url` until `stop()`."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL of the server, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Close connections and free the port."""
        await self.runner.cleanup()


async def start(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> RunningServer:
    """Serve `app` on `host:port` (port 0 picks a free one), over TLS with `ssl_context`."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    # aiohttp exposes the port it bound (port 0 = any free one) only through its addresses.
    bound = runner.addresses[0][1] if runner.addresses else port
    return RunningServer(runner=runner, host=host, port=int(bound))
