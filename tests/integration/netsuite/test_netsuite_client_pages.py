"""The client pages the saved search through the simulated RESTlet, signed either way, and hands back
contract models with exact Decimal money."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from refund_sync.adapters.netsuite.client import NetSuiteClient
from refund_sync.config import NetSuiteAuthMethod
from refund_sync_sandbox.netsuite import NetSuiteAccount, generate_refunds

ClientFactory = Callable[..., NetSuiteClient]


@pytest.mark.parametrize("method", list(NetSuiteAuthMethod))
def test_the_client_walks_every_page_of_the_saved_search(
    account: NetSuiteAccount,
    make_client: ClientFactory,
    metric_count: Callable[[str], int],
    method: NetSuiteAuthMethod,
) -> None:
    # Given 23 refunds, two of them outside the saved search's criteria
    created = generate_refunds(account, 23, outside_saved_search_every=10)
    client = make_client(method)

    # When the poller pages 5 at a time
    seen: list[str] = []
    after_id = "0"
    while True:
        page = client.page(after_id=after_id, page_size=5)
        seen += [refund.id for refund in page.refunds]
        if not page.paging.has_more or page.paging.last_id is None:
            break
        after_id = page.paging.last_id

    # Then it gets the 21 refunds in the search, in id order, in 5 calls, each one counted
    expected = [refund.id for index, refund in enumerate(created) if (index + 1) % 10 != 0]
    assert seen == expected
    page_calls = [call for call in account.calls if call.action == "page"]
    assert len(page_calls) == 5
    assert {call.auth for call in page_calls} == {method.value}
    assert metric_count("NetSuiteCalls") == 5
    assert metric_count("NetSuiteRetries") == 0


def test_money_arrives_as_the_exact_decimals_netsuite_sent(
    account: NetSuiteAccount, make_client: ClientFactory
) -> None:
    created = generate_refunds(account, 6, seed=3)
    page = make_client().page(page_size=10)
    for sent, received in zip(created, page.refunds, strict=True):
        assert received == sent
        assert isinstance(received.total, Decimal)
        parts = sum((line.amount + line.tax_amount for line in received.lines), Decimal(0))
        assert received.total == parts + received.shipping_amount + received.shipping_tax


def test_modified_since_narrows_the_pages(account: NetSuiteAccount, make_client: ClientFactory) -> None:
    start = datetime(2025, 5, 1, tzinfo=UTC)
    created = generate_refunds(account, 8, start=start, step=timedelta(hours=1))
    page = make_client().page(modified_since=start + timedelta(hours=6), page_size=5)
    assert [refund.id for refund in page.refunds] == [created[6].id, created[7].id]
    assert page.paging.has_more is False


def test_the_configured_page_size_is_the_default(
    account: NetSuiteAccount, make_client: ClientFactory
) -> None:
    generate_refunds(account, 9)
    page = make_client(netsuite_page_size=7).page()
    assert (page.paging.page_size, page.paging.count, page.paging.has_more) == (7, 7, True)
    assert account.calls[-1].page_size == 7
