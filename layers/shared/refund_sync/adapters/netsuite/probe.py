"""Try the RESTlet from a laptop before any AWS stack exists: sign in, read one page, look refunds up.

    python -m refund_sync.adapters.netsuite.probe --account 1234567_SB1 --auth oauth2_m2m \\
        --secret-file netsuite-secret.json [--search customsearch_rs_refunds] [--find CM-1042]

The secret file holds what the stack's NetSuite secret will hold (docs/netsuite-setup.md): for
OAuth 2.0 M2M {"client_id", "certificate_id", "private_key"}, for TBA {"consumer_key",
"consumer_secret", "token_id", "token_secret"}. Nothing is written anywhere, in NetSuite or here: the
probe only calls `page` and `find`. It prints what a person checks first: that the login works, that the
saved search returns refunds, and that each one's figures add up in its own currency.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from refund_sync.adapters.netsuite.auth import build_auth, parse_credentials
from refund_sync.adapters.netsuite.client import NetSuiteClient, RetryPolicy
from refund_sync.adapters.netsuite.errors import NetSuiteError
from refund_sync.config import NetSuiteAuthMethod, Settings
from refund_sync.domain.mapping import MappingRules, check_netsuite_totals
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import RefundProblem

PROBE_PAGE_SIZE = 5


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m refund_sync.adapters.netsuite.probe")
    parser.add_argument("--account", required=True, help="NetSuite account id, e.g. 1234567 or 1234567_SB1")
    parser.add_argument("--auth", choices=[method.value for method in NetSuiteAuthMethod], required=True)
    parser.add_argument("--secret-file", type=Path, required=True, help="the NetSuite secret, as JSON")
    parser.add_argument("--search", default="customsearch_rs_refunds", help="saved search id")
    parser.add_argument("--find", nargs="*", default=[], help="document numbers or internal ids to look up")
    parser.add_argument("--restlet-url", help="overrides the URL built from the account")
    parser.add_argument("--token-url", help="overrides the OAuth 2.0 token URL built from the account")
    return parser.parse_args(argv)


def _describe(refund: NetSuiteRefund) -> str:
    try:
        check_netsuite_totals(refund, MappingRules().netsuite_rounding)  # as the engine checks them
        adds_up = "adds up"
    except RefundProblem as problem:
        adds_up = f"DOES NOT ADD UP: {problem.detail}"
    order = refund.bigcommerce_order_id or "NO BIGCOMMERCE ORDER ID"
    lines = len(refund.lines)
    return f"  {refund.label}: {refund.total} {refund.currency}, order {order}, {lines} line(s), {adds_up}"


def _client(args: argparse.Namespace) -> NetSuiteClient:
    method = NetSuiteAuthMethod(args.auth)
    try:
        raw = json.loads(args.secret_file.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the secret file {args.secret_file}: {error}") from None
    settings = Settings(
        netsuite_account_id=args.account,
        netsuite_auth_method=method,
        netsuite_saved_search_id=args.search,
        netsuite_restlet_url=args.restlet_url,
        netsuite_token_url=args.token_url,
    )
    auth = build_auth(settings, parse_credentials(raw, method, str(args.secret_file)))
    return NetSuiteClient(settings, auth, retry=RetryPolicy(max_attempts=2))


def _probe(client: NetSuiteClient, args: argparse.Namespace, out: TextIO) -> None:
    page = client.page(page_size=PROBE_PAGE_SIZE)
    more = ", more after" if page.paging.has_more else ""
    print(f"Signed in ({args.auth}) to {args.account}: {client.url}", file=out)
    print(f"Saved search {args.search}: {page.paging.count} refund(s) in the first page{more}", file=out)
    for refund in page.refunds:
        print(_describe(refund), file=out)
    if not args.find:
        return
    ids = [value for value in args.find if value.isdigit()]
    found = client.find(ids=ids, tran_ids=[value for value in args.find if value not in ids])
    print(f"Found {len(found.refunds)} refund(s) for {', '.join(args.find)}:", file=out)
    for refund in found.refunds:
        print(_describe(refund), file=out)
    for miss in found.not_found:
        for reason in miss.reasons:
            print(f"  {miss.value}: {reason.code}: {reason.message}", file=out)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """0 when NetSuite answered; 1 when it refused (its words printed); 2 when nothing could be asked."""
    args = _arguments(argv)
    try:
        client = _client(args)
    except (NetSuiteError, ValueError) as error:
        print(f"cannot set up the client: {error}", file=out)
        return 2
    with client:
        try:
            _probe(client, args, out)
        except NetSuiteError as error:
            print(f"NetSuite answered {error.code}: {error.message}", file=out)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
