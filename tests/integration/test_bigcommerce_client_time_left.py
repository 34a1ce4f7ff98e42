"""The BigCommerce client never waits past the time an invocation has left: a 429 whose window resets
too late, or a back-off longer than what remains, ends the call with the error instead of a sleep the
function's timeout would cut short (and, for a create, leave uncertain)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from refund_sync.adapters.bigcommerce import BigCommerceClient, BigCommerceError
from refund_sync.domain.bigcommerce import Payment, RefundItem, RefundItemType
from refund_sync_sandbox.bigcommerce import BigCommerceStore, RunningServer, start_bigcommerce_server
from refund_sync_sandbox.scenarios import TEE, address, order

D = Decimal
ITEM = RefundItem(item_type=RefundItemType.PRODUCT, item_id=1, quantity=1)


@pytest.fixture
def server() -> Iterator[RunningServer]:
    store = BigCommerceStore([order(700, [TEE.order_line(1, 2, 70)], [address(70, D("5.00"))])])
    store.set_rate_limit(window_ms=30_000)
    with start_bigcommerce_server(store) as running:
        yield running


def client(server: RunningServer, sleeps: list[float]) -> BigCommerceClient:
    return BigCommerceClient(server.api_url, server.access_token, timeout_seconds=5, sleep=sleeps.append)


def test_with_time_enough_a_throttled_read_waits_out_the_window(server: RunningServer) -> None:
    sleeps: list[float] = []
    bigcommerce = client(server, sleeps)
    server.store.force_rate_limit(1)
    with bigcommerce.time_limit(lambda: 100.0):
        assert bigcommerce.quote(700, [ITEM]).total_refund_amount > 0
    assert sleeps and max(sleeps) > 20, "the window's reset was waited for"


def test_without_time_enough_a_throttled_read_gives_up_at_once(server: RunningServer) -> None:
    sleeps: list[float] = []
    bigcommerce = client(server, sleeps)
    server.store.force_rate_limit(1)
    with bigcommerce.time_limit(lambda: 20.0), pytest.raises(BigCommerceError) as raised:
        bigcommerce.quote(700, [ITEM])
    assert raised.value.status == 429
    assert sleeps == [], "no wait the invocation could not finish"


def test_without_time_enough_a_throttled_create_is_not_sent_again(server: RunningServer) -> None:
    sleeps: list[float] = []
    sends: list[str] = []
    bigcommerce = client(server, sleeps)
    server.store.force_rate_limit(1)
    payment = Payment(provider_id="braintree", amount=D("27.50"), offline=False)
    with bigcommerce.time_limit(lambda: 20.0), pytest.raises(BigCommerceError):
        bigcommerce.create_refund(700, [ITEM], [payment], before_send=lambda: sends.append("sent"))
    assert sends == ["sent"], "one send (refused with a 429), none after it"
    assert server.store.refunds_for_order(700) == []
