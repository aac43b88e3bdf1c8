"""Run the simulated KSEM and Zaptec cloud: `python -m simulator`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from . import server
from .ksem import KsemSimulator
from .zaptec import ZaptecSimulator


async def _main(args: argparse.Namespace) -> None:
    ksem = KsemSimulator()
    zaptec = ZaptecSimulator()
    ksem_srv = await server.start(ksem.app, args.host, args.ksem_port)
    zaptec_srv = await server.start(zaptec.app, args.host, args.zaptec_port)
    print(f"Simulated KSEM:         {ksem_srv.url}  (web UI password: {ksem.password})", flush=True)
    print(
        f"Simulated Zaptec cloud: {zaptec_srv.url}  (user {zaptec.username} / {zaptec.password})",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await ksem_srv.stop()
        await zaptec_srv.stop()


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ksem-port", type=int, default=8091)
    parser.add_argument("--zaptec-port", type=int, default=8092)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
