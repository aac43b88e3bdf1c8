"""Run the simulated KSEM and Zaptec cloud: `python -m simulator`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from . import server
from .ksem import KsemSimulator
from .zaptec import ZaptecSimulator


async def _main(args: argparse.Namespace) -> None:
    ksem = KsemSimulator()
    broker: Any = None
    if args.push_certs:
        # Imported only here: Qpid Proton is a test/development requirement.
        from .servicebus import ServiceBusBroker, make_certificates  # noqa: PLC0415

        broker = ServiceBusBroker(
            make_certificates(Path(args.push_certs)), port=args.servicebus_port
        )
        await asyncio.to_thread(broker.start)
    # The same topic serves the installations' (older) and the user group's (current) model.
    zaptec = ZaptecSimulator(push=broker, user_group_push=broker)
    if broker is not None:
        for installation in zaptec.installations.values():
            installation.messaging_enabled = True
    ksem_srv = await server.start(ksem.app, args.host, args.ksem_port)
    zaptec_srv = await server.start(zaptec.app, args.host, args.zaptec_port)
    print(f"Simulated KSEM:         {ksem_srv.url}  (web UI password: {ksem.password})", flush=True)
    print(
        f"Simulated Zaptec cloud: {zaptec_srv.url}  (user {zaptec.username} / {zaptec.password})",
        flush=True,
    )
    if broker is not None:
        print(
            f"Simulated Service Bus:  amqps://127.0.0.1:{broker.port} "
            f"(CA {broker.certificates.ca_file}; push on every installation, and for the "
            f"user group {zaptec.user_group_id})",
            flush=True,
        )
    try:
        await asyncio.Event().wait()
    finally:
        if broker is not None:
            await asyncio.to_thread(broker.stop)
        await ksem_srv.stop()
        await zaptec_srv.stop()


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ksem-port", type=int, default=8091)
    parser.add_argument("--zaptec-port", type=int, default=8092)
    parser.add_argument(
        "--push-certs",
        metavar="DIR",
        help="also run the Service Bus broker (Zaptec push), its test CA written to DIR",
    )
    parser.add_argument("--servicebus-port", type=int, default=8093)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
