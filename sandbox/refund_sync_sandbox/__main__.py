"""python -m refund_sync_sandbox serve: keep the sandbox running for the refund-sync CLI (`make sandbox`)."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType

from refund_sync_sandbox.serve import OUTPUTS_FILE, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m refund_sync_sandbox")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser(
        "serve", help="run AWS on moto and the simulators until Ctrl-C, for `refund-sync --sandbox`"
    )
    serve_command.add_argument(
        "--outputs", type=Path, default=OUTPUTS_FILE, help=f"outputs file (default {OUTPUTS_FILE})"
    )
    serve_command.add_argument(
        "--sync",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the poller and the consumer once after seeding (default: yes)",
    )
    serve_command.add_argument(
        "--demo", action=argparse.BooleanOptionalAction, default=True, help="seed the demo's refunds"
    )
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_terminate(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_terminate)
    serve(args.outputs, demo=args.demo, sync=args.sync, stop=stop)


if __name__ == "__main__":
    main()
