"""The sandbox's command line, stopped cleanly by Ctrl-C at any moment (imports included):

    python -m refund_sync_sandbox demo     # `make demo`: the pipeline end to end, then exit
    python -m refund_sync_sandbox serve    # `make sandbox`: keep it running for the refund-sync CLI

Only the standard library is imported before the Ctrl-C handler is in place; the sandbox itself after.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from types import FrameType


def interruptible(main: Callable[[], int]) -> int:
    """Run `main` so that Ctrl-C stops it cleanly: what it started is stopped on the way out (a second
    Ctrl-C cannot cut that short), and it exits 130 with one line instead of a traceback."""

    def first_interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        warnings.simplefilter("ignore")  # handlers cut short warn of their unflushed metrics
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, first_interrupt)
    try:
        return main()
    except KeyboardInterrupt:
        print("\nInterrupted: the sandbox stopped everything it had started.", file=sys.stderr, flush=True)
        return 130


def _demo() -> int:
    from refund_sync_sandbox import demo  # noqa: PLC0415 - after the Ctrl-C handler is in place

    return demo.main()


def _serve(outputs: Path | None, *, demo: bool, sync: bool) -> int:
    from refund_sync_sandbox.serve import OUTPUTS_FILE, serve  # noqa: PLC0415 - as above

    stop = threading.Event()

    def on_terminate(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_terminate)
    serve(outputs or OUTPUTS_FILE, demo=demo, sync=sync, stop=stop)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m refund_sync_sandbox")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "demo", help="sync the sample refunds end to end on the sandbox, then exit (`make demo`)"
    )
    serve_command = commands.add_parser(
        "serve", help="run AWS on moto and the simulators until Ctrl-C, for `refund-sync --sandbox`"
    )
    serve_command.add_argument(
        "--outputs", type=Path, default=None, help="outputs file (default .sandbox/outputs.json)"
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
    if args.command == "demo":
        return interruptible(_demo)
    return interruptible(lambda: _serve(args.outputs, demo=args.demo, sync=args.sync))


if __name__ == "__main__":
    sys.exit(main())
