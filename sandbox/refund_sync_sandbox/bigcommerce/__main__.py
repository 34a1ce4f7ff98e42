"""Run the simulated BigCommerce store on its own: python -m refund_sync_sandbox.bigcommerce."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from refund_sync_sandbox.bigcommerce.models import Order
from refund_sync_sandbox.bigcommerce.samples import sample_orders
from refund_sync_sandbox.bigcommerce.server import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_STORE_HASH,
    start_bigcommerce_server,
)
from refund_sync_sandbox.bigcommerce.store import BigCommerceStore


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local, stateful BigCommerce store for refund rehearsals.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--access-token", default=DEFAULT_ACCESS_TOKEN)
    parser.add_argument("--store-hash", default=DEFAULT_STORE_HASH)
    parser.add_argument(
        "--orders", type=Path, help="JSON file with a list of orders (default: the sample orders)"
    )
    args = parser.parse_args(argv)

    orders = (
        [Order.model_validate(entry) for entry in json.loads(args.orders.read_text())]
        if args.orders
        else sample_orders()
    )
    server = start_bigcommerce_server(
        BigCommerceStore(orders),
        host=args.host,
        port=args.port,
        access_token=args.access_token,
        store_hash=args.store_hash,
        log_requests=True,
    )
    print(f"BigCommerce simulator: {server.api_url}  (X-Auth-Token: {server.access_token})")
    print(f"Orders: {', '.join(str(order.id) for order in orders)}; control API: {server.url}/__sandbox/")
    server.run_until_interrupted()


if __name__ == "__main__":
    main()
