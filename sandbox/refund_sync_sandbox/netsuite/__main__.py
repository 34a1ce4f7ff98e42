"""Run the simulated NetSuite account on its own: python -m refund_sync_sandbox.netsuite."""

from __future__ import annotations

import argparse

from refund_sync_sandbox.netsuite.account import NetSuiteAccount
from refund_sync_sandbox.netsuite.credentials import SandboxCredentials
from refund_sync_sandbox.netsuite.generate import generate_refunds
from refund_sync_sandbox.netsuite.server import start_netsuite_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="A local NetSuite account serving the refund-export RESTlet."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--account-id", default="1234567_SB1")
    parser.add_argument("--refunds", type=int, default=25, help="how many refunds to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-tba", action="store_true", help="set up OAuth 2.0 M2M only")
    parser.add_argument("--no-m2m", action="store_true", help="set up TBA only")
    args = parser.parse_args(argv)

    credentials = SandboxCredentials.generate(args.account_id, tba=not args.no_tba, m2m=not args.no_m2m)
    account = NetSuiteAccount(credentials)
    if args.refunds:
        generate_refunds(account, args.refunds, seed=args.seed)
    server = start_netsuite_server(account, host=args.host, port=args.port, log_requests=True)
    for name, value in server.environment().items():
        print(f"{name}={value}")
    print(f"{args.refunds} refunds; credentials and control API: {server.url}/__sandbox/credentials")
    server.run_until_interrupted()


if __name__ == "__main__":
    main()
