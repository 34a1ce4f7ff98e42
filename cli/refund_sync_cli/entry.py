"""The `refund-sync` console script."""

from __future__ import annotations


def main() -> None:
    from refund_sync_cli.main import app  # noqa: PLC0415 - the console script's one import

    app()


if __name__ == "__main__":
    main()
